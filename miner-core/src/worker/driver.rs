//! The worker's outer loop: dial the pool the failover policy picks, run one session on it,
//! and decide what next (same pool, next pool, back to a better pool, give up). Between
//! sessions the search threads are stopped, so nothing of a lost connection is hashed or sent.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use stratum::client::ResumeInfo;
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::api::SharedStatus;
use super::conn::{self, Stream};
use super::jobs::JobBook;
use super::policy::{Failover, Next, RetryPolicy};
use super::stats::Status;
use super::url::PoolUrl;
use crate::search::{Found, Miner};

/// Everything the worker needs to know, as `mesos-miner mine` flags set it. Its `Debug`
/// hides the password.
#[derive(Clone)]
pub struct WorkerConfig {
    /// `-o` URLs in priority order (at least one).
    pub pools: Vec<PoolUrl>,
    pub username: String,
    pub password: String,
    /// Sent in `mining.subscribe` and as the `client.get_version` answer.
    pub user_agent: String,
    pub retry: RetryPolicy,
    /// `-T`: no line from the pool for this long ends the connection; also the connect,
    /// handshake and submit-answer timeout.
    pub timeout: Duration,
    /// Ask for BIP310 version rolling (BIP320 bits) with `mining.configure`.
    pub version_rolling: bool,
    /// `--suggest-diff`.
    pub suggest_difficulty: Option<f64>,
    /// TLS settings for `stratum+ssl://` pools.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// How often a better (earlier) pool is probed while mining on a backup one.
    pub failback_interval: Duration,
    /// How often the hashrate line is printed (unless `quiet`).
    pub report_interval: Duration,
    /// `-q`: no periodic hashrate lines.
    pub quiet: bool,
}

impl WorkerConfig {
    /// Defaults as cpuminer has them (retry forever, 30 s pause cap, 120 s timeout).
    pub fn new(pools: Vec<PoolUrl>, username: &str, password: &str) -> Self {
        WorkerConfig {
            pools,
            username: username.to_owned(),
            password: password.to_owned(),
            user_agent: concat!("mesos-miner/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(120),
            version_rolling: true,
            suggest_difficulty: None,
            tls: None,
            failback_interval: Duration::from_secs(30),
            report_interval: Duration::from_secs(30),
            quiet: false,
        }
    }
}

impl std::fmt::Debug for WorkerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerConfig")
            .field("pools", &self.pools)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Why [`run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The shutdown future resolved.
    Shutdown,
    /// `-r` consecutive failures: no pool could be mined.
    GaveUp,
}

/// How one session ended.
#[derive(Debug)]
pub(super) enum SessionEnd {
    Shutdown,
    /// The connection ended; `worked` if it had got to authorized.
    Lost {
        worked: bool,
        reason: String,
    },
    /// `client.reconnect`: dial `url` after `wait`.
    Redirect {
        url: PoolUrl,
        wait: Duration,
    },
    /// A better pool answered a probe.
    Failback(usize),
}

/// The longest wait a `client.reconnect` may ask for.
const MAX_REDIRECT_WAIT: Duration = Duration::from_secs(600);

/// A shutdown signal that can be polled repeatedly.
pub(super) type Shutdown<'a> = Pin<&'a mut (dyn Future<Output = ()> + Send)>;

/// The worker state shared by the outer loop and the sessions.
pub(super) struct Worker {
    pub(super) config: WorkerConfig,
    pub(super) pools: Vec<PoolUrl>,
    pub(super) miner: Arc<Miner>,
    pub(super) status: SharedStatus,
    pub(super) failover: Failover,
    pub(super) resume: Vec<ResumeInfo>,
    pub(super) jobs: JobBook,
    pub(super) found_tx: std::sync::mpsc::Sender<Found>,
    pub(super) found_rx: mpsc::UnboundedReceiver<Found>,
}

/// Mines on the configured pools until `shutdown` resolves or `-r` is exhausted.
/// Progress and results go to `status` and to `tracing` at info level.
pub async fn run(
    config: WorkerConfig,
    miner: Arc<Miner>,
    status: SharedStatus,
    shutdown: impl Future<Output = ()> + Send,
) -> Stopped {
    let (found_tx, found_rx) = forward_found();
    let pools = config.pools.clone();
    let mut worker = Worker {
        failover: Failover::new(pools.len()),
        resume: vec![ResumeInfo::default(); pools.len()],
        pools,
        config,
        miner,
        status,
        jobs: JobBook::default(),
        found_tx,
        found_rx,
    };
    let mut shutdown = std::pin::pin!(shutdown);
    let stopped = worker.run_loop(shutdown.as_mut()).await;
    worker.stop_miner().await;
    stopped
}

/// Found shares come from the rayon threads on a std channel; one plain thread moves them
/// onto a tokio channel so the driver can `select!` on them. It ends when every sender
/// (the worker's and the running job's) is gone.
fn forward_found() -> (
    std::sync::mpsc::Sender<Found>,
    mpsc::UnboundedReceiver<Found>,
) {
    let (std_tx, std_rx) = std::sync::mpsc::channel::<Found>();
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("found-shares".into())
        .spawn(move || {
            for found in std_rx {
                if tx.send(found).is_err() {
                    break;
                }
            }
        })
        .ok();
    (std_tx, rx)
}

impl Worker {
    async fn run_loop(&mut self, mut shutdown: Shutdown<'_>) -> Stopped {
        loop {
            let pool = self.failover.current();
            let url = self.pools[pool].clone();
            info!("connecting to {url}");
            lock(&self.status).last_url = Some(url.to_string());
            let dialled = tokio::select! {
                _ = shutdown.as_mut() => return Stopped::Shutdown,
                d = conn::dial(&url, self.config.tls.as_ref(), self.config.timeout) => d,
            };
            let skipped_configure = self.resume[pool].skip_configure;
            let end = match dialled {
                Ok(stream) => self.session(stream, pool, shutdown.as_mut()).await,
                Err(e) => SessionEnd::Lost {
                    worked: false,
                    reason: e.to_string(),
                },
            };
            self.stop_miner().await;
            self.jobs.void_all();
            lock(&self.status).pool_lost(std::time::Instant::now());
            let jitter = rand::random::<f64>();
            let next = match end {
                SessionEnd::Shutdown => return Stopped::Shutdown,
                SessionEnd::Lost { worked, reason } => {
                    warn!("pool {url}: {reason}");
                    if worked {
                        self.failover.dropped(&self.config.retry, jitter)
                    } else if !skipped_configure && self.resume[pool].skip_configure {
                        // It closed on mining.configure: at once again, without it.
                        info!(
                            "pool {url} closed the connection on mining.configure; retrying without it"
                        );
                        Next::Connect {
                            pool,
                            after: Duration::ZERO,
                        }
                    } else {
                        self.failover.failed(&self.config.retry, jitter)
                    }
                }
                SessionEnd::Redirect { url: to, wait } => {
                    info!(
                        "pool {url} asks to reconnect to {to} in {}s",
                        wait.as_secs()
                    );
                    self.pools[pool] = to;
                    self.resume[pool] = ResumeInfo::default();
                    Next::Connect {
                        pool,
                        after: wait.min(MAX_REDIRECT_WAIT),
                    }
                }
                SessionEnd::Failback(better) => {
                    info!(
                        "pool {} answers again: switching back to it",
                        self.pools[better]
                    );
                    self.failover.switch_to(better);
                    Next::Connect {
                        pool: better,
                        after: Duration::ZERO,
                    }
                }
            };
            let Next::Connect { pool: next, after } = next else {
                warn!("giving up after too many failed attempts");
                return Stopped::GaveUp;
            };
            if next != pool {
                info!("switching to pool {}", self.pools[next]);
            }
            if !after.is_zero() {
                info!("retry after {:.1} seconds", after.as_secs_f64());
                tokio::select! {
                    _ = shutdown.as_mut() => return Stopped::Shutdown,
                    _ = tokio::time::sleep(after) => {}
                }
            }
        }
    }

    /// Stops the search threads (off the runtime: it waits for their current chunk).
    pub(super) async fn stop_miner(&self) {
        let miner = self.miner.clone();
        let _ = tokio::task::spawn_blocking(move || miner.stop()).await;
    }

    /// Runs one session on `stream` (see `session.rs`).
    async fn session(&mut self, stream: Stream, pool: usize, shutdown: Shutdown<'_>) -> SessionEnd {
        super::session::run(self, stream, pool, shutdown).await
    }
}

pub(super) fn lock(status: &SharedStatus) -> std::sync::MutexGuard<'_, Status> {
    status.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A fresh shared status.
pub fn shared_status(kernel: &str, threads: usize) -> SharedStatus {
    Arc::new(Mutex::new(Status::new(
        std::time::Instant::now(),
        kernel,
        threads,
    )))
}
