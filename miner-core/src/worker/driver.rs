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
use super::redirect::Redirected;
use super::session::{self, SessionContext, SessionEnd, SessionReport};
use super::stats::{SharedStatus, lock, printable};
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
    /// The `-o` list, as configured (a redirect never replaces it).
    pools: Vec<PoolUrl>,
    failover: Failover,
    /// Per pool: what its last session left to resume.
    resume: Vec<ResumeInfo>,
    /// A followed `client.reconnect`, dialled instead of its slot's URL.
    redirect: Option<Redirected>,
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
    let mining = Mining::new(miner, config.min_difficulty);
    let mut worker = Worker {
        failover: Failover::new(pools.len()),
        resume: vec![ResumeInfo::default(); pools.len()],
        redirect: None,
        pools,
        config,
        mining,
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
                self.redirect = None;
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
        let (url, resume) = match self.redirect.as_ref().filter(|r| r.slot == pool) {
            Some(r) => (r.url.clone(), ResumeInfo::default()),
            None => (self.pools[pool].clone(), self.resume[pool].clone()),
        };
        info!("connecting to {url}");
        lock(&self.status).last_url = Some(url.to_string());
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
            configured: &self.pools[pool],
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
        let ended = report.ended()?;
        let redirected = self.redirect.take().filter(|r| r.slot == pool);
        let url = match &redirected {
            Some(r) => r.url.clone(),
            None => {
                self.resume[pool] = report.resume.clone();
                self.pools[pool].clone()
            }
        };
        if redirected.is_some() && !matches!(report.end, SessionEnd::Redirect { .. }) {
            // The redirect held for this session only: what comes next is the -o list's.
            info!(
                "leaving redirected pool {url}: back to {}",
                self.pools[pool]
            );
        }
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
                let to_text = printable(&to.to_string());
                info!(
                    "pool {url} asks to reconnect to {to_text} in {}s",
                    wait.as_secs()
                );
                self.redirect = Some(Redirected {
                    slot: pool,
                    url: to,
                });
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
