//! The pool server: a tokio driver around the `stratum` server session. [`Pool::start`] binds
//! nothing itself (the listener is passed in, so tests use `127.0.0.1:0`), checks the node and
//! the payout address, resubmits blocks left pending in the data dir, then runs the template
//! sources, the job manager, the block submitter and the accept loop until shut down.

mod conn;
mod shared;
mod tasks;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bitcoin::ScriptBuf;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, info_span};

use crate::blocks::BlockStore;
use crate::config::{Backend, PoolConfig};
use crate::job::{JobBook, JobConfig};
use crate::rpc::{RpcClient, RpcError};
use crate::source;
use crate::stats::{NodeHealth, PoolStatus};
use crate::template::Template;
pub use conn::ConnLimits;
pub use shared::EXTRANONCE1_SIZE;
use shared::{FoundBlock, Shared, lock};
use tasks::{check_node, job_manager, submitter, tag_push};

/// Why the pool could not start.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Rpc(#[from] RpcError),
    #[error("data dir: {0}")]
    Io(#[from] std::io::Error),
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
    /// Starts the pool on `listener`. Returns once the node answered and the payout address
    /// is checked (retrying while the node is unreachable or not ready, unless `stop` fires).
    pub async fn start(listener: TcpListener, config: PoolConfig) -> Result<Pool, PoolError> {
        let addr = listener.local_addr()?;
        let stop = CancellationToken::new();
        let (job_tx, _) = watch::channel(None);
        let (blocks_tx, blocks_rx) = mpsc::unbounded_channel();
        let (templates_tx, templates_rx) = mpsc::channel::<Template>(16);
        let mut tasks = JoinSet::new();
        let (payout_script, store, rpc) = match &config.backend {
            Backend::Demo => (ScriptBuf::from_bytes(vec![0x51]), None, None),
            Backend::Node { url, auth } => {
                let rpc = Arc::new(RpcClient::new(url, auth.clone(), config.rpc_timeout)?);
                let script = check_node(&rpc, config.payout_address.as_deref()).await?;
                let store = BlockStore::open(&config.data_dir)?;
                (script, Some(store), Some(rpc))
            }
        };
        let job_config = JobConfig {
            payout_script,
            script_prefix: tag_push(&config.pool_tag)?,
            extranonce1_len: EXTRANONCE1_SIZE,
            extranonce2_len: config.session.extranonce2_size,
        };
        let shared = Arc::new(Shared {
            extranonces: Default::default(),
            // Twice what a session remembers, so the session decides staleness (21).
            jobs: Mutex::new(JobBook::new(
                config.session.max_jobs.max(16) * 2,
                rand::random(),
            )),
            stats: Default::default(),
            job_tx,
            blocks_tx,
            store: store.clone(),
            connections: AtomicUsize::new(0),
            demo: matches!(config.backend, Backend::Demo),
            node: Arc::new(Mutex::new(match config.backend {
                Backend::Demo => NodeHealth::Demo,
                Backend::Node { .. } => NodeHealth::Connecting,
            })),
        });
        match (rpc, store) {
            (Some(rpc), Some(store)) => {
                let wake = Arc::new(Notify::new());
                for pending in store.pending()? {
                    tracing::info!(hash = %pending.hash, "resubmitting block left pending in data dir");
                    let _ = shared.blocks_tx.send(FoundBlock {
                        worker: String::new(),
                        block: pending,
                    });
                }
                let submit = submitter(
                    rpc.clone(),
                    store,
                    shared.clone(),
                    blocks_rx,
                    wake.clone(),
                    stop.clone(),
                );
                tasks.spawn(submit.instrument(info_span!("submitter")));
                let poll = source::poll_node(
                    rpc.clone(),
                    config.poll_interval,
                    wake,
                    templates_tx.clone(),
                    shared.node.clone(),
                    stop.clone(),
                );
                tasks.spawn(poll.instrument(info_span!("poll_node")));
                let long_poll =
                    source::long_poll_node(rpc, config.longpoll_wait, templates_tx, stop.clone());
                tasks.spawn(long_poll.instrument(info_span!("long_poll_node")));
            }
            _ => {
                tracing::warn!(
                    "DEMO MODE: no bitcoind; jobs are synthetic and no block found here can be valid"
                );
                let new_block = Duration::from_secs(600);
                let demo = source::demo(config.job_refresh, new_block, templates_tx, stop.clone());
                tasks.spawn(demo.instrument(info_span!("demo_source")));
            }
        }
        let jobs = job_manager(
            shared.clone(),
            job_config,
            config.job_refresh,
            templates_rx,
            stop.clone(),
        );
        tasks.spawn(jobs.instrument(info_span!("job_manager")));
        let accept = accept_loop(listener, shared.clone(), config, stop.clone());
        tasks.spawn(accept.instrument(info_span!("accept", listen = %addr)));
        Ok(Pool {
            addr,
            shared,
            stop,
            tasks,
        })
    }

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
        if shared.connections.load(Ordering::Relaxed) >= config.max_connections {
            tracing::warn!(%peer, "connection limit reached; refusing");
            drop(stream);
            continue;
        }
        shared.connections.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let span = info_span!("conn", %peer, extranonce1 = tracing::field::Empty);
        span.in_scope(|| tracing::info!("stratum connection"));
        let serve = conn::serve(
            stream,
            shared.clone(),
            config.session.clone(),
            config.limits.clone(),
            stop.clone(),
        );
        conns.spawn(serve.instrument(span));
    }
    conns.close();
    conns.wait().await;
}
