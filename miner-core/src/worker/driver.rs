//! The worker's outer loop: dial the pool the failover policy picks, run one session on it,
//! and ask the policy what next (same pool, next pool, back to a better pool, give up).
//! Between sessions the search threads are stopped, so nothing of a lost connection is
//! hashed or sent.

use std::sync::Arc;

use stratum::client::ResumeInfo;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::config::WorkerConfig;
use super::conn;
use super::mining::Mining;
use super::policy::{Failover, Next};
use super::session::{self, SessionContext, SessionEnd, SessionReport};
use super::stats::{SharedStatus, lock};
use super::url::PoolUrl;
use crate::search::Miner;

/// Why [`run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The shutdown token was cancelled.
    Shutdown,
    /// `-r` consecutive failures: no pool could be mined.
    GaveUp,
}

/// What the driver keeps between sessions.
struct Worker {
    config: WorkerConfig,
    /// The `-o` list, with `client.reconnect` redirects applied.
    pools: Vec<PoolUrl>,
    failover: Failover,
    /// Per pool: what its last session left to resume.
    resume: Vec<ResumeInfo>,
    mining: Mining,
    status: SharedStatus,
}

/// Mines on the configured pools until `shutdown` is cancelled or `-r` is exhausted.
/// Progress and results go to `status` and to `tracing` at info level.
pub async fn run(
    config: WorkerConfig,
    miner: Arc<Miner>,
    status: SharedStatus,
    shutdown: CancellationToken,
) -> Stopped {
    let pools = config.pools.clone();
    let mut worker = Worker {
        failover: Failover::new(pools.len()),
        resume: vec![ResumeInfo::default(); pools.len()],
        pools,
        config,
        mining: Mining::new(miner),
        status,
    };
    let stopped = worker.run_loop(&shutdown).await;
    worker.mining.stop().await;
    stopped
}

impl Worker {
    async fn run_loop(&mut self, shutdown: &CancellationToken) -> Stopped {
        loop {
            let pool = self.failover.current();
            let Some(report) = self.attempt(pool, shutdown).await else {
                return Stopped::Shutdown;
            };
            self.mining.stop().await;
            lock(&self.status).pool_lost(std::time::Instant::now());
            let (next, after) = match self.after_session(pool, report) {
                None => return Stopped::Shutdown,
                Some(Next::GiveUp) => return Stopped::GaveUp,
                Some(Next::Connect { pool, after }) => (pool, after),
            };
            if next != pool {
                info!("switching to pool {}", self.pools[next]);
            }
            if !after.is_zero() {
                info!("retry after {:.1} seconds", after.as_secs_f64());
                tokio::select! {
                    _ = shutdown.cancelled() => return Stopped::Shutdown,
                    _ = tokio::time::sleep(after) => {}
                }
            }
        }
    }

    /// Dials pool `pool` and runs a session on it; `None` on shutdown while dialling.
    async fn attempt(
        &mut self,
        pool: usize,
        shutdown: &CancellationToken,
    ) -> Option<SessionReport> {
        let url = self.pools[pool].clone();
        info!("connecting to {url}");
        lock(&self.status).last_url = Some(url.to_string());
        let resume = self.resume[pool].clone();
        let dialled = tokio::select! {
            _ = shutdown.cancelled() => return None,
            d = conn::dial(&url, self.config.tls.as_ref(), self.config.timeout) => d,
        };
        let stream = match dialled {
            Ok(stream) => stream,
            Err(e) => return Some(SessionReport::not_connected(e.to_string(), resume)),
        };
        let ctx = SessionContext {
            config: &self.config,
            url: &url,
            resume,
            better: self
                .failover
                .better_pools()
                .map(|i| (i, self.pools[i].clone()))
                .collect(),
            mining: &mut self.mining,
            status: &self.status,
            shutdown,
        };
        Some(session::run(ctx, stream).await)
    }

    /// Books a session's report (resume info, redirect) and asks the policy what next;
    /// `None` after a shutdown.
    fn after_session(&mut self, pool: usize, report: SessionReport) -> Option<Next> {
        let url = self.pools[pool].clone();
        let ended = report.ended()?;
        self.resume[pool] = report.resume;
        match report.end {
            SessionEnd::Shutdown => return None,
            SessionEnd::Lost(reason) => {
                warn!("pool {url}: {reason}");
                if report.configure_refused && !report.worked {
                    info!(
                        "pool {url} closed the connection on mining.configure; retrying without it"
                    );
                }
            }
            SessionEnd::Redirect { url: to, wait } => {
                info!(
                    "pool {url} asks to reconnect to {to} in {}s",
                    wait.as_secs()
                );
                self.pools[pool] = to;
                self.resume[pool] = ResumeInfo::default();
            }
            SessionEnd::Failback(better) => {
                info!(
                    "pool {} answers again: switching back to it",
                    self.pools[better]
                );
            }
        }
        let jitter = rand::random::<f64>();
        let next = self
            .failover
            .what_next(report.worked, ended, &self.config.retry, jitter);
        if next == Next::GiveUp {
            warn!("giving up after too many failed attempts");
        }
        Some(next)
    }
}
