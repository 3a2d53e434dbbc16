//! The Mesos framework of mesos-miner (being built).
