//! The Stratum worker: a thin tokio driver that joins a `stratum` client session to the
//! search threads ([`crate::search::Miner`]), plus the pure pieces it is built from: the
//! operator's options checked into a config ([`WorkerOptions`]), pool URLs, TLS, the
//! reconnect/failover policy, share accounting and output lines, and the `/summary` API.
//! [`spawn`] runs a worker as a library (the Mesos executor does) and gives a
//! [`WorkerHandle`] with status snapshots.
//!
//! Hashing never runs on the tokio runtime: the driver only moves lines, starts jobs on the
//! miner's own rayon pool and forwards found shares (STYLE.md habit 10).

pub mod api;
mod bench;
mod config;
pub mod conn;
mod driver;
mod handle;
pub mod jobs;
mod mining;
pub mod options;
pub mod policy;
mod redirect;
mod session;
pub mod stats;
mod throttle;
pub mod tls;
pub mod url;

pub use bench::{benchmark, synthetic_work};
pub use config::{MAX_SUBMITS_PER_SECOND, MIN_DIFFICULTY, WorkerConfig};
pub use driver::{Stopped, run};
pub use handle::{
    MAX_THREADS, MinerConfig, PoolConnState, SpawnError, WorkerHandle, WorkerProbe, WorkerStatus,
    pick_kernel, spawn, thread_count,
};
pub use options::{ConfigError, WorkerOptions};
pub use policy::{Failover, Next, RetryPolicy, backoff};
pub use stats::{ShareCounts, SharedStatus, Status, Summary, shared_status};
pub use url::{PoolUrl, UrlError};
