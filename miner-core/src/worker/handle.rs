//! The worker as a library: [`spawn`] starts the search threads and the Stratum driver on
//! the current tokio runtime and returns a [`WorkerHandle`] whose [`WorkerHandle::status`]
//! is a snapshot for reports (the Mesos executor sends one every few seconds) and whose
//! [`WorkerHandle::join`] says why the worker stopped. The checks of `mesos-miner mine`'s
//! thread and kernel options live here too ([`thread_count`], [`pick_kernel`]), so the CLI
//! and the executor refuse the same things.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::config::WorkerConfig;
use super::driver::{self, Stopped};
use super::stats::{ShareCounts, SharedStatus, lock, shared_status};
use super::tls;
use super::url::PoolUrl;
use crate::kernels::{self, Kernel, KernelKind};
use crate::search::{Miner, SearchError};

/// Most search threads accepted.
pub const MAX_THREADS: usize = 1024;

/// Why a worker could not be configured or started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// An option is out of range or unknown (thread count, kernel, URL, certificate).
    #[error("{0}")]
    Config(String),
    /// The search threads could not start.
    #[error("search threads: {0}")]
    Search(#[from] SearchError),
    /// Not called inside a tokio runtime.
    #[error("the worker needs a tokio runtime")]
    NoRuntime,
}

/// The search thread count: `requested`, or one per core; 1..=[`MAX_THREADS`].
pub fn thread_count(requested: Option<usize>) -> Result<usize, SpawnError> {
    match requested {
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        Some(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        Some(n) => Err(SpawnError::Config(format!(
            "threads: must be between 1 and {MAX_THREADS}, got {n}"
        ))),
    }
}

/// The kernel named `name` (`auto`, `avx512`, `avx2`, `sha-ni`, `portable`). `auto` measures
/// the kernels once per process (a fraction of a second of hashing, blocking).
pub fn pick_kernel(name: &str) -> Result<&'static dyn Kernel, SpawnError> {
    let kind: KernelKind = name
        .parse()
        .map_err(|e| SpawnError::Config(format!("kernel: {e}")))?;
    kernels::select(kind).map_err(|e| SpawnError::Config(format!("kernel: {e}")))
}

/// A worker's whole configuration: the Stratum side, the search threads and the kernel.
#[derive(Clone, Debug)]
pub struct MinerConfig {
    /// Pools, credentials, timeouts.
    pub worker: WorkerConfig,
    /// Search threads (at least 1).
    pub threads: usize,
    /// Kernel name (`auto` by default).
    pub kernel: String,
}

impl MinerConfig {
    /// A config for one pool URL (`stratum+tcp://`, `stratum+ssl://` with the system roots,
    /// or `host:port`), with the defaults of `mesos-miner mine` and quiet hashrate lines.
    pub fn new(
        url: &str,
        user: &str,
        password: &str,
        threads: usize,
        kernel: &str,
    ) -> Result<MinerConfig, SpawnError> {
        let pool = PoolUrl::parse(url).map_err(|e| SpawnError::Config(e.to_string()))?;
        let mut worker = WorkerConfig::new(vec![pool], user, password);
        if worker.pools.iter().any(|p| p.tls) {
            let tls = tls::client_config(None).map_err(|e| SpawnError::Config(e.to_string()))?;
            worker.tls = Some(tls);
        }
        worker.quiet = true;
        Ok(MinerConfig {
            worker,
            threads: thread_count(Some(threads))?,
            kernel: kernel.to_owned(),
        })
    }
}

/// Whether the worker is on a pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolConnState {
    /// Authorized and mining.
    Connected,
    /// Dialling or in the handshake (or waiting to retry).
    Connecting,
}

impl PoolConnState {
    /// `connected` or `connecting`, as the executor's reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolConnState::Connected => "connected",
            PoolConnState::Connecting => "connecting",
        }
    }
}

/// A snapshot of a running worker.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerStatus {
    /// Hashes since the start.
    pub hashes: u64,
    /// Hashes per second over 10 s, 1 min and 15 min (`None` until known).
    pub hashrate_10s: Option<f64>,
    /// See `hashrate_10s`.
    pub hashrate_1m: Option<f64>,
    /// See `hashrate_10s`.
    pub hashrate_15m: Option<f64>,
    /// Share results.
    pub shares: ShareCounts,
    /// Share difficulty of the current job.
    pub difficulty: Option<f64>,
    /// The pool in use, or the one last tried.
    pub pool_url: Option<String>,
    /// Connected or not.
    pub pool_state: PoolConnState,
    /// How long the worker has been without a pool (zero while connected).
    pub without_pool: Duration,
    /// Search threads.
    pub threads: usize,
    /// Kernel in use.
    pub kernel: String,
}

/// A cheap, cloneable reader of a running worker's figures.
#[derive(Clone)]
pub struct WorkerProbe {
    status: SharedStatus,
    miner: Arc<Miner>,
}

/// A running worker.
pub struct WorkerHandle {
    probe: WorkerProbe,
    task: tokio::task::JoinHandle<Stopped>,
}

/// Starts a worker: search threads on their own rayon pool, the Stratum driver as a task on
/// the current runtime. It runs until `shutdown` is cancelled or the retry policy gives up.
/// Blocks for a moment when the kernel is `auto` (see [`pick_kernel`]).
pub fn spawn(config: MinerConfig, shutdown: CancellationToken) -> Result<WorkerHandle, SpawnError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| SpawnError::NoRuntime)?;
    let kernel = pick_kernel(&config.kernel)?;
    let threads = thread_count(Some(config.threads))?;
    let miner = Arc::new(Miner::new(threads, kernel)?);
    let status = shared_status(kernel.name(), threads);
    let task = runtime.spawn(driver::run(
        config.worker,
        miner.clone(),
        status.clone(),
        shutdown,
    ));
    Ok(WorkerHandle {
        probe: WorkerProbe { status, miner },
        task,
    })
}

impl WorkerProbe {
    /// The worker's figures now (the hash counters are sampled at this call).
    pub fn status(&self) -> WorkerStatus {
        let now = Instant::now();
        let mut s = lock(&self.status);
        s.record_hashes(now, &self.miner.hashes_per_thread());
        let rates = s.rates();
        WorkerStatus {
            hashes: s.hashes(),
            hashrate_10s: rates.s10,
            hashrate_1m: rates.m1,
            hashrate_15m: rates.m15,
            shares: s.shares,
            difficulty: s.difficulty,
            pool_url: s.pool.clone().or_else(|| s.last_url.clone()),
            pool_state: if s.pool.is_some() {
                PoolConnState::Connected
            } else {
                PoolConnState::Connecting
            },
            without_pool: s.time_without_pool(now),
            threads: s.threads(),
            kernel: s.kernel().to_owned(),
        }
    }
}

impl WorkerHandle {
    /// The worker's figures now.
    pub fn status(&self) -> WorkerStatus {
        self.probe.status()
    }

    /// A reader of the figures that outlives `&self` (for reporting while `join` waits).
    pub fn probe(&self) -> WorkerProbe {
        self.probe.clone()
    }

    /// The status the `/summary` API serves.
    pub fn shared_status(&self) -> SharedStatus {
        self.probe.status.clone()
    }

    /// Waits until the worker stopped (its search threads are stopped by then). A panic in
    /// the driver counts as giving up.
    pub async fn join(self) -> Stopped {
        self.task.await.unwrap_or(Stopped::GaveUp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked() {
        assert_eq!(thread_count(Some(3)).unwrap(), 3);
        assert!(thread_count(None).unwrap() >= 1);
        assert!(thread_count(Some(0)).is_err());
        assert!(thread_count(Some(MAX_THREADS + 1)).is_err());
        assert_eq!(pick_kernel("portable").unwrap().name(), "portable");
        assert!(pick_kernel("quantum").is_err());
        let c = MinerConfig::new("stratum+tcp://127.0.0.1:3333", "u", "s3cret", 2, "auto").unwrap();
        assert_eq!((c.threads, c.kernel.as_str()), (2, "auto"));
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(MinerConfig::new("ftp://x", "u", "p", 1, "auto").is_err());
        assert!(MinerConfig::new("stratum+tcp://h:1", "u", "p", 0, "auto").is_err());
    }

    #[tokio::test]
    async fn a_worker_with_no_pool_reports_connecting_and_stops_on_cancel() {
        // Port 9 on loopback: nothing listens there, so every dial fails at once.
        let c = MinerConfig::new("stratum+tcp://127.0.0.1:9", "u", "p", 1, "portable").unwrap();
        let token = CancellationToken::new();
        let handle = spawn(c, token.clone()).unwrap();
        let s = handle.status();
        assert_eq!(s.pool_state, PoolConnState::Connecting);
        assert_eq!((s.threads, s.kernel.as_str(), s.hashes), (1, "portable", 0));
        token.cancel();
        assert_eq!(handle.join().await, Stopped::Shutdown);
    }
}
