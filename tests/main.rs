//! End-to-end tests of the `mesos-miner` binary: one test binary (links once), one module
//! per area.

mod browser;
mod cli_engine;
mod cluster_memory;
mod e2e_stratum;
mod framework;
mod fuzz_corpus;
mod mine_cli;
mod mine_executor;
mod mine_solo;
mod pool_cli;
mod secrets;
mod support;
