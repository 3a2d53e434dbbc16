//! Errors of the scheduler library, grouped by what the caller does about them.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::store::StoreError;

/// Why the scheduler could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// The configuration is unusable (fix the flags).
    #[error("configuration: {0}")]
    Config(String),
    /// The state dir is locked by another scheduler, unreadable, or a write failed (a write
    /// failure stops the scheduler: nothing is launched or acknowledged unpersisted).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The web address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The executable to serve to agents could not be read.
    #[error("cannot read the executor binary {path}: {source}")]
    ExecutorBinary {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Mesos removed this framework (its failover timeout ran out or it was torn down): its
    /// id can never subscribe again.
    #[error(
        "Mesos removed framework {framework_id} ({message}); its tasks are gone and the id \
         cannot be reused: remove {state_dir}/framework_id to register a new framework"
    )]
    FrameworkRemoved {
        /// The removed id.
        framework_id: String,
        /// The master's ERROR text.
        message: String,
        /// Where the id is stored.
        state_dir: PathBuf,
    },
    /// TEARDOWN did not complete (the scheduler stopped first).
    #[error("teardown did not complete: {0}")]
    Teardown(String),
    /// The scheduler's task ended abnormally.
    #[error("scheduler task failed: {0}")]
    Internal(String),
}
