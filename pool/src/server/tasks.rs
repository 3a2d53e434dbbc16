//! The pool's background tasks: node check at start, templates → jobs, found blocks → disk
//! (on a blocking thread) → `submitblock`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bitcoin::ScriptBuf;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::PoolError;
use super::shared::{FoundBlock, Shared, lock};
use crate::blocks::{self, BlockStore, Outcome, PendingBlock};
use crate::coinbase::{self, network_from_chain};
use crate::job::JobConfig;
use crate::rpc::RpcClient;
use crate::stats::NodeHealth;
use crate::template::Template;

/// A push of the pool tag for the coinbase scriptSig (empty tag: nothing).
pub(super) fn tag_push(tag: &str) -> Result<Vec<u8>, PoolError> {
    if tag.is_empty() {
        return Ok(Vec::new());
    }
    if tag.len() > 40 {
        return Err(PoolError::Config("pool tag longer than 40 bytes".into()));
    }
    let mut push = vec![tag.len() as u8];
    push.extend_from_slice(tag.as_bytes());
    Ok(push)
}

/// Asks the node for its chain (retrying while it starts; `health` tells `/status` how it
/// goes) and checks the payout address.
pub(super) async fn check_node(
    rpc: &RpcClient,
    payout: Option<&str>,
    health: &Mutex<NodeHealth>,
) -> Result<ScriptBuf, PoolError> {
    let payout = payout.ok_or_else(|| PoolError::Config("--payout-address is required".into()))?;
    let mut attempt = 0;
    let info = loop {
        match rpc.get_blockchain_info().await {
            Ok(info) => break info,
            Err(e) if e.is_retryable() && attempt < 60 => {
                *lock(health) = NodeHealth::Error(e.to_string());
                let wait = blocks::backoff(attempt.min(3));
                // The URL without credentials, and the cause down to the OS error.
                tracing::warn!(url = %rpc.url_for_logs(), error = %e, retry_in = ?wait,
                    "bitcoind unreachable or not ready; retrying");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => {
                *lock(health) = NodeHealth::Error(e.to_string());
                return Err(e.into());
            }
        }
    };
    let network = network_from_chain(&info.chain).ok_or_else(|| {
        PoolError::Config(format!("unknown chain {:?} from the node", info.chain))
    })?;
    tracing::info!(chain = %info.chain, height = info.blocks, "connected to bitcoind");
    coinbase::payout_script(payout, network).map_err(|e| PoolError::Config(e.to_string()))
}

/// Turns templates into jobs: a new one when the work changed (new prevhash → clean_jobs)
/// or the current job is older than `refresh`.
pub(super) async fn job_manager(
    shared: Arc<Shared>,
    config: JobConfig,
    refresh: Duration,
    mut templates: mpsc::Receiver<Template>,
    stop: CancellationToken,
) {
    let mut last: Option<(Template, Instant)> = None;
    loop {
        let template = tokio::select! {
            t = templates.recv() => match t { Some(t) => t, None => return },
            _ = stop.cancelled() => return,
        };
        let fresh = last
            .as_ref()
            .is_none_or(|(prev, at)| prev.differs_in_work(&template) || at.elapsed() >= refresh);
        // A template for an older tip (a slow poll racing a long-poll) must not go back.
        let older = last
            .as_ref()
            .is_some_and(|(prev, _)| template.height < prev.height);
        if !fresh || older {
            continue;
        }
        *lock(&shared.last_template) = Some(Instant::now());
        let job = lock(&shared.jobs).push(&template, &config);
        match job {
            Ok(job) => {
                tracing::info!(
                    job = job.id(),
                    height = job.height,
                    txs = job.txs.len(),
                    clean = job.notify.clean_jobs,
                    "new job"
                );
                shared.job_tx.send_replace(Some(job));
                last = Some((template, Instant::now()));
            }
            Err(e) => tracing::error!(error = %e, "cannot build a job from the template"),
        }
    }
}

/// Writes each found block to disk (off the runtime), then submits it until the node
/// answers and wakes the template poller. On shutdown, blocks still queued are written
/// (not submitted), so the next start submits them.
pub(super) async fn submitter(
    rpc: Arc<RpcClient>,
    store: BlockStore,
    shared: Arc<Shared>,
    mut found: mpsc::UnboundedReceiver<FoundBlock>,
    wake: Arc<Notify>,
    stop: CancellationToken,
) {
    loop {
        let next = tokio::select! {
            b = found.recv() => match b { Some(b) => b, None => return },
            _ = stop.cancelled() => break,
        };
        let (worker, block) = match next {
            FoundBlock::New { worker, hash, hex } => (worker, save(&store, hash, hex).await),
            FoundBlock::Pending(block) => (String::new(), block),
        };
        let outcome = tokio::select! {
            o = blocks::submit_until_answered(&rpc, &store, &block, u32::MAX) => o,
            _ = stop.cancelled() => return,
        };
        record(&shared, &block.hash, &worker, outcome);
        wake.notify_one();
    }
    // Later sends fail, and the share hook writes those blocks itself.
    found.close();
    while let Ok(next) = found.try_recv() {
        if let FoundBlock::New { hash, hex, .. } = next {
            save(&store, hash, hex).await;
        }
    }
}

/// Writes the block durably on a blocking thread (issue 3: on disk before `submitblock`,
/// so a crash loses nothing). A full or broken disk must not cost the block: it is then
/// submitted from memory.
async fn save(store: &BlockStore, hash: String, hex: String) -> PendingBlock {
    let writer = store.clone();
    let (h, x) = (hash.clone(), hex.clone());
    let saved = tokio::task::spawn_blocking(move || writer.save(&h, &x)).await;
    let err = match saved {
        Ok(Ok(block)) => return block,
        Ok(Err(err)) => err.to_string(),
        Err(join) => join.to_string(),
    };
    tracing::error!(%hash, error = %err, "cannot write block to data dir; submitting it from memory");
    PendingBlock {
        path: store.dir().join(format!("{hash}.pending")),
        hash,
        hex,
    }
}

/// Logs and counts the node's final answer.
fn record(shared: &Shared, hash: &str, worker: &str, outcome: Option<Outcome>) {
    match outcome {
        Some(Outcome::Accepted) => {
            tracing::info!(%hash, %worker, "block accepted by the node");
            lock(&shared.stats).blocks_accepted += 1;
        }
        Some(Outcome::Stale) => {
            tracing::warn!(%hash, "block not made the tip (inconclusive): another block at this height came first");
            lock(&shared.stats).blocks_stale += 1;
        }
        Some(Outcome::Rejected(reason)) => {
            tracing::error!(%hash, %reason, "node rejected block");
            lock(&shared.stats).blocks_rejected += 1;
        }
        None => {}
    }
}
