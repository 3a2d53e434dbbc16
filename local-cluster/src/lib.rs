//! A single-host Mesos-v1-compatible master and agents on real HTTP, for tests and `mesos-miner local`
