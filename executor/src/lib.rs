//! The custom Mesos executor of mesos-miner: what an agent launches as
//! `./mesos-miner executor` to run one task, a Stratum worker (miner-core) or the built-in
//! pool server (the `pool` crate), reporting its hashrate to the scheduler in framework
//! MESSAGEs.
//!
//! It owns the executor side of the Mesos v1 executor HTTP API (spec §3): the `MESOS_*`
//! environment ([`env`](mod@env)), a sans-IO protocol core ([`core`]), what a `TaskInfo` runs
//! ([`plan`]), the reports ([`report`]) and a thin tokio driver ([`run`]). It does not own
//! the Mesos messages (the `proto` crate), hashing and the Stratum worker (`miner-core`),
//! or the pool (`pool`).

pub mod core;
pub mod env;
pub mod plan;
pub mod report;
pub mod runner;

mod driver;

pub use crate::core::{ExitReason, SystemEntropy};
pub use driver::{ExecutorError, MAX_RECORD, Options, run, run_with};
pub use env::{Config, EnvError, from_env};
pub use tokio_util::sync::CancellationToken;
