//! The custom Mesos executor of mesos-miner (being built).
