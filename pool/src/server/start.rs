//! [`Pool::start`] and [`PoolStarter`]: the node path (RPC client, node and payout check,
//! block store, pending blocks, submitter and template pollers) or the demo path (synthetic
//! templates), then the job manager and the accept loop common to both. The shared state
//! exists before the node answers, so `/status` can be served while it is unreachable
//! (issue 11 hole 9).

use std::future::Future;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bitcoin::ScriptBuf;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span, info_span};

use super::shared::{EXTRANONCE1_SIZE, FoundBlock, Shared};
use super::tasks::{check_node, job_manager, submitter, tag_push};
use super::{Pool, PoolError, StatusSource, accept_loop};
use crate::blocks::BlockStore;
use crate::config::{Backend, PoolConfig};
use crate::job::{JobBook, JobConfig};
use crate::rpc::{RpcAuth, RpcClient};
use crate::source;
use crate::stats::NodeHealth;
use crate::template::Template;

/// The pool's tasks and the token that stops them all.
struct Spawner {
    tasks: JoinSet<()>,
    stop: CancellationToken,
}

impl Spawner {
    fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static, span: Span) {
        self.tasks.spawn(task.instrument(span));
    }
}

/// The channels between the template sources, the job manager and the block submitter.
struct Channels {
    templates_tx: mpsc::Sender<Template>,
    blocks_tx: mpsc::UnboundedSender<FoundBlock>,
    blocks_rx: mpsc::UnboundedReceiver<FoundBlock>,
}

impl Pool {
    /// Starts the pool on `listener`. Returns once the node answered and the payout address
    /// is checked (retrying while the node is unreachable or not ready). To serve `/status`
    /// during that wait, use [`PoolStarter`].
    pub async fn start(listener: TcpListener, config: PoolConfig) -> Result<Pool, PoolError> {
        PoolStarter::new(config).start(listener).await
    }
}

/// A pool before [`PoolStarter::start`]: its [`StatusSource`] already answers (node
/// `connecting`, or `error: …` while the node is unreachable), so a host can serve
/// `/status` while the pool waits for the node.
pub struct PoolStarter {
    config: PoolConfig,
    shared: Arc<Shared>,
}

impl PoolStarter {
    /// The pool's shared state for `config`; nothing runs yet.
    pub fn new(config: PoolConfig) -> Self {
        let shared = new_shared(&config);
        PoolStarter { config, shared }
    }

    /// The status of this pool, now and once it runs.
    pub fn status_source(&self) -> StatusSource {
        StatusSource(self.shared.clone())
    }

    /// As [`Pool::start`].
    pub async fn start(self, listener: TcpListener) -> Result<Pool, PoolError> {
        let PoolStarter { config, shared } = self;
        let addr = listener.local_addr()?;
        let script_prefix = tag_push(&config.pool_tag)?;
        let (templates_tx, templates_rx) = mpsc::channel::<Template>(16);
        let (blocks_tx, blocks_rx) = mpsc::unbounded_channel();
        let channels = Channels {
            templates_tx,
            blocks_tx,
            blocks_rx,
        };
        let mut run = Spawner {
            tasks: JoinSet::new(),
            stop: CancellationToken::new(),
        };
        let payout_script = match &config.backend {
            Backend::Demo => start_demo(&config, &shared, channels, &mut run),
            Backend::Node { url, auth } => {
                start_node(url, auth, &config, &shared, channels, &mut run).await?
            }
        };
        let job_config = JobConfig {
            payout_script,
            script_prefix,
            extranonce1_len: EXTRANONCE1_SIZE,
            extranonce2_len: config.session.extranonce2_size,
        };
        let jobs = job_manager(
            shared.clone(),
            job_config,
            config.job_refresh,
            templates_rx,
            run.stop.clone(),
        );
        run.spawn(jobs, info_span!("job_manager"));
        let accept = accept_loop(listener, shared.clone(), config, run.stop.clone());
        run.spawn(accept, info_span!("accept", listen = %addr));
        Ok(Pool {
            addr,
            shared,
            stop: run.stop,
            tasks: run.tasks,
        })
    }
}

/// The state every connection shares; the block store is set once opened (never in demo
/// mode), the block channel's sender once the pool starts.
fn new_shared(config: &PoolConfig) -> Arc<Shared> {
    let demo = matches!(config.backend, Backend::Demo);
    Arc::new(Shared {
        extranonces: Default::default(),
        // Twice what a session remembers, so the session decides staleness (21).
        jobs: Mutex::new(JobBook::new(
            config.session.max_jobs.max(16) * 2,
            rand::random(),
        )),
        stats: Default::default(),
        job_tx: watch::channel(None).0,
        blocks_tx: OnceLock::new(),
        store: OnceLock::new(),
        last_template: Mutex::new(None),
        connections: AtomicUsize::new(0),
        per_ip: Default::default(),
        demo,
        node: Arc::new(Mutex::new(if demo {
            NodeHealth::Demo
        } else {
            NodeHealth::Connecting
        })),
    })
}

/// No node: synthetic templates paid to `OP_TRUE`; found blocks are only logged.
fn start_demo(
    config: &PoolConfig,
    shared: &Shared,
    channels: Channels,
    run: &mut Spawner,
) -> ScriptBuf {
    tracing::warn!(
        "DEMO MODE: no bitcoind; jobs are synthetic and no block found here can be valid"
    );
    let _ = shared.blocks_tx.set(channels.blocks_tx);
    let new_block = Duration::from_secs(600);
    let demo = source::demo(
        config.job_refresh,
        new_block,
        channels.templates_tx,
        run.stop.clone(),
    );
    run.spawn(demo, info_span!("demo_source"));
    ScriptBuf::from_bytes(vec![0x51])
}

/// A node: checks it and the payout address, opens the block store, queues the blocks an
/// earlier run left pending, and runs the submitter and both template pollers.
async fn start_node(
    url: &str,
    auth: &RpcAuth,
    config: &PoolConfig,
    shared: &Arc<Shared>,
    channels: Channels,
    run: &mut Spawner,
) -> Result<ScriptBuf, PoolError> {
    let rpc = Arc::new(RpcClient::new(url, auth.clone(), config.rpc_timeout)?);
    let script = check_node(&rpc, config.payout_address.as_deref(), &shared.node).await?;
    let store = BlockStore::open(&config.data_dir)?;
    let _ = shared.store.set(store.clone());
    for pending in store.pending()? {
        tracing::info!(hash = %pending.hash, "resubmitting block left pending in data dir");
        // The receiver is still in `channels`: the send cannot fail.
        let _ = channels.blocks_tx.send(FoundBlock::Pending(pending));
    }
    let _ = shared.blocks_tx.set(channels.blocks_tx);
    let wake = Arc::new(Notify::new());
    let stop = &run.stop;
    let submit = submitter(
        rpc.clone(),
        store,
        shared.clone(),
        channels.blocks_rx,
        wake.clone(),
        stop.clone(),
    );
    let poll = source::poll_node(
        rpc.clone(),
        config.poll_interval,
        wake,
        channels.templates_tx.clone(),
        shared.node.clone(),
        stop.clone(),
    );
    let long_poll = source::long_poll_node(
        rpc,
        config.longpoll_wait,
        channels.templates_tx,
        stop.clone(),
    );
    run.spawn(submit, info_span!("submitter"));
    run.spawn(poll, info_span!("poll_node"));
    run.spawn(long_poll, info_span!("long_poll_node"));
    Ok(script)
}
