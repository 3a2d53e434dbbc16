//! Where templates come from: bitcoind (BIP22 long-poll plus polling for new mempool
//! transactions), or synthetic ones in `--demo` mode.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::rpc::{RpcClient, RpcError};
use crate::stats::NodeHealth;
use crate::template::Template;

/// nbits of demo jobs: the difficulty-1 target. No real chain has a block at this target on
/// top of a random prevhash, so nothing mined in demo mode can ever be a valid block.
pub const DEMO_BITS: u32 = 0x1d00ffff;

/// Fetches one template, decoding it; RPC and decode errors are returned as text.
async fn fetch(
    rpc: &RpcClient,
    longpollid: Option<&str>,
    wait: Duration,
) -> Result<Template, RpcError> {
    let raw = rpc.get_block_template(longpollid, wait).await?;
    Template::from_rpc(&raw).map_err(|e| RpcError::BadReply(e.to_string()))
}

/// Sleeps `d`; true when `stop` was cancelled first.
async fn sleep_or_stop(d: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = stop.cancelled() => true,
    }
}

/// Polls `getblocktemplate` every `interval` and at once when `wake` fires (after a block
/// submit); sends every template to the job manager, which decides what is new. Each
/// answer sets `health`.
pub async fn poll_node(
    rpc: Arc<RpcClient>,
    interval: Duration,
    wake: Arc<Notify>,
    out: mpsc::Sender<Template>,
    health: Arc<Mutex<NodeHealth>>,
    stop: CancellationToken,
) {
    let mut failures = 0u32;
    loop {
        let result = fetch(&rpc, None, interval).await;
        *health.lock().unwrap_or_else(|e| e.into_inner()) = match &result {
            Ok(_) => NodeHealth::Ok,
            Err(e) => NodeHealth::Error(e.to_string()),
        };
        match result {
            Ok(t) => {
                failures = 0;
                if out.send(t).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                failures += 1;
                // Log the first failure and then every 30th, not every poll.
                if failures == 1 || failures.is_multiple_of(30) {
                    tracing::warn!(error = %e, retryable = e.is_retryable(), "getblocktemplate failed");
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = wake.notified() => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// BIP22 long polling: holds a `getblocktemplate` with the last `longpollid` open so a new
/// block reaches miners at once. Ends quietly when the node does not offer long polling.
pub async fn long_poll_node(
    rpc: Arc<RpcClient>,
    wait: Duration,
    out: mpsc::Sender<Template>,
    stop: CancellationToken,
) {
    let mut longpollid: Option<String> = None;
    loop {
        let result = tokio::select! {
            r = fetch(&rpc, longpollid.as_deref(), wait) => r,
            _ = stop.cancelled() => return,
        };
        match result {
            Ok(t) => {
                let Some(id) = t.longpollid.clone() else {
                    tracing::info!("node offers no long polling; polling only");
                    return;
                };
                longpollid = Some(id);
                if out.send(t).await.is_err() {
                    return;
                }
            }
            // A long-poll that outlived `wait` is normal; anything else gets a pause.
            Err(RpcError::Transport(_)) if longpollid.is_some() => {}
            Err(_) => {
                longpollid = None;
                if sleep_or_stop(Duration::from_secs(1), &stop).await {
                    return;
                }
            }
        }
    }
}

/// A synthetic template for demo mode: random prevhash, a coinbase of 50 BTC, no
/// transactions, [`DEMO_BITS`].
pub fn demo_template(height: u64, prevhash: [u8; 32], now_unix: u32) -> Template {
    Template {
        version: 0x2000_0000,
        prevhash,
        txs: Vec::new(),
        coinbase_value: 5_000_000_000,
        bits: DEMO_BITS,
        height,
        curtime: now_unix,
        mintime: now_unix.saturating_sub(3600),
        witness_commitment: None,
        longpollid: None,
    }
}

fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0)
}

/// Demo mode: a fresh template every `refresh`, and a new synthetic "block" (prevhash, so
/// clean_jobs) every `new_block`.
pub async fn demo(
    refresh: Duration,
    new_block: Duration,
    out: mpsc::Sender<Template>,
    stop: CancellationToken,
) {
    let mut height = 1u64;
    let mut prevhash: [u8; 32] = rand::random();
    let mut since_block = Duration::ZERO;
    loop {
        if out
            .send(demo_template(height, prevhash, unix_now()))
            .await
            .is_err()
        {
            return;
        }
        if sleep_or_stop(refresh, &stop).await {
            return;
        }
        since_block += refresh;
        if since_block >= new_block {
            since_block = Duration::ZERO;
            height += 1;
            prevhash = rand::random();
        }
    }
}
