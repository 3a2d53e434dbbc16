//! The pool server: a tokio driver around the `stratum` server session. [`Pool::start`] binds
//! nothing itself (the listener is passed in, so tests use `127.0.0.1:0`), checks the node and
//! the payout address, resubmits blocks left pending in the data dir, then runs the template
//! sources, the job manager, the block submitter and the accept loop until shut down.

mod admit;
mod conn;
mod shared;
mod start;
mod tasks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, info_span};

use crate::config::PoolConfig;
use crate::rpc::RpcError;
use crate::stats::PoolStatus;
pub use conn::ConnLimits;
pub use shared::EXTRANONCE1_SIZE;
use shared::{Shared, lock};
pub use start::PoolStarter;

/// Why the pool could not start.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The settings or the node's chain do not allow a pool (what is wrong is given).
    #[error("configuration: {0}")]
    Config(String),
    /// A call to the node failed for good.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The data directory or the block store could not be used.
    #[error("data dir: {0}")]
    Io(#[from] std::io::Error),
    /// Shutdown was requested while waiting for the node.
    #[error("stopped before the node was ready")]
    Stopped,
}

/// A running pool.
pub struct Pool {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// Cancelled by [`Pool::shutdown`] and on drop: every task and connection ends.
    stop: CancellationToken,
    tasks: JoinSet<()>,
}

impl Pool {
    /// The Stratum address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `/status` document now.
    pub fn status(&self) -> PoolStatus {
        status_of(&self.shared)
    }

    /// A handle for the `/status` HTTP route.
    pub fn status_source(&self) -> StatusSource {
        StatusSource(self.shared.clone())
    }

    /// Resolves when the pool stopped working on its own: one of its tasks (accept loop, job
    /// manager, template source, block submitter) ended or panicked although
    /// [`Pool::shutdown`] was not called. A pool with no task left resolves at once. Cancel
    /// safe, so it can sit in a `select!` beside the shutdown signal.
    pub async fn closed(&mut self) -> PoolClosed {
        match self.tasks.join_next().await {
            Some(Ok(())) => PoolClosed("a pool task ended".into()),
            Some(Err(e)) if e.is_panic() => PoolClosed(format!("a pool task panicked: {e}")),
            Some(Err(e)) => PoolClosed(format!("a pool task was cancelled: {e}")),
            None => PoolClosed("the pool has no task left".into()),
        }
    }

    /// Stops accepting, closes every connection and waits for the tasks.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

impl Drop for Pool {
    /// A pool dropped without [`Pool::shutdown`] still closes its connections (its own
    /// tasks are aborted with the `JoinSet`).
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Why a pool stopped on its own (see [`Pool::closed`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the pool stopped: {0}")]
pub struct PoolClosed(pub String);

/// Read access to the pool's status, for the HTTP API.
#[derive(Clone)]
pub struct StatusSource(Arc<Shared>);

impl StatusSource {
    /// The `/status` document now.
    pub fn status(&self) -> PoolStatus {
        status_of(&self.0)
    }
}

fn status_of(shared: &Shared) -> PoolStatus {
    let mut status = lock(&shared.stats).status(Instant::now());
    status.demo = shared.demo;
    status.node = lock(&shared.node).to_string();
    status.template_age_secs = lock(&shared.last_template).map(|t| t.elapsed().as_secs_f64());
    status.connections = shared.connections.load(Ordering::Relaxed);
    status.height = lock(&shared.jobs).current().map(|j| j.height);
    status
}

/// Runs the pool until `shutdown` is cancelled (the `run(listener, config, shutdown)` shape).
pub async fn run(
    listener: TcpListener,
    config: PoolConfig,
    shutdown: CancellationToken,
) -> Result<(), PoolError> {
    let pool = tokio::select! {
        pool = Pool::start(listener, config) => pool?,
        _ = shutdown.cancelled() => return Err(PoolError::Stopped),
    };
    shutdown.cancelled().await;
    pool.shutdown().await;
    Ok(())
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    config: PoolConfig,
    stop: CancellationToken,
) {
    let conns = TaskTracker::new();
    let caps = admit::Caps {
        max: config.max_connections,
        per_ip: config.max_connections_per_ip,
        loopback_unlimited: config.loopback_unlimited,
    };
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // EMFILE and friends: wait instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let slot = match admit::admit(&shared, peer.ip(), caps) {
            Ok(slot) => slot,
            Err(why) => {
                refused(peer, why, caps);
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let span = info_span!("conn", %peer, extranonce1 = tracing::field::Empty);
        span.in_scope(|| tracing::info!("stratum connection"));
        let serve = conn::serve(
            stream,
            slot,
            config.session.clone(),
            config.limits.clone(),
            stop.clone(),
        );
        conns.spawn(serve.instrument(span));
    }
    conns.close();
    conns.wait().await;
}

/// A refusal is logged at most once a second per kind: a flood must not flood the log.
fn refused(peer: SocketAddr, why: admit::Refused, caps: admit::Caps) {
    use std::sync::atomic::AtomicU64;
    static LAST: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
    static SKIPPED: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
    let kind = why as usize;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if LAST[kind].swap(now, Ordering::Relaxed) == now {
        SKIPPED[kind].fetch_add(1, Ordering::Relaxed);
        return;
    }
    let skipped = SKIPPED[kind].swap(0, Ordering::Relaxed);
    match why {
        admit::Refused::Full => tracing::warn!(
            %peer, limit = caps.max, refused_since_last = skipped,
            "connection limit reached (--max-connections); refusing"
        ),
        admit::Refused::PerIp => tracing::warn!(
            %peer, limit = caps.per_ip, refused_since_last = skipped,
            "too many connections from this address (--max-connections-per-ip); refusing"
        ),
    }
}
