//! The search threads as a Stratum session drives them: the [`Miner`], the [`ScanBook`] of
//! its jobs, and the channel found shares come back on. Starting a job, restarting it for a
//! new version mask, turning a found hash into a share and stopping all go through here.
//!
//! The channel is bounded ([`FOUND_QUEUE`]): when the session cannot keep up (a pool asking
//! for an absurdly low difficulty, a pool that stops reading), found shares beyond it are
//! dropped and counted ([`Mining::take_dropped`]) instead of piling up in memory (issue 11:
//! 140 MB/s of growth at `set_difficulty [1e-300]`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use stratum::client::{Job as ClientJob, Share};
use tokio::sync::mpsc;

use super::jobs::{NotSubmitted, ScanBook};
use crate::search::{Found, Miner, SearchError};
use crate::work::WorkError;

/// Why a job is not being mined.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StartError {
    /// The job cannot be turned into headers.
    #[error("job cannot be mined: {0}")]
    Work(#[from] WorkError),
    /// The search threads refused it.
    #[error("could not start the job: {0}")]
    Search(#[from] SearchError),
}

/// Found shares waiting for the session; more are dropped.
pub(super) const FOUND_QUEUE: usize = 256;

/// The miner, its jobs and its found shares.
pub(super) struct Mining {
    miner: Arc<Miner>,
    book: ScanBook,
    found_tx: std::sync::mpsc::Sender<Found>,
    found_rx: mpsc::Receiver<Found>,
    /// Found shares dropped because the queue was full, not yet taken.
    dropped: Arc<AtomicU64>,
}

impl Mining {
    /// Mining on `miner`, no job yet; pool difficulties under `min_difficulty` are mined
    /// at it (see [`ScanBook::with_min_difficulty`]).
    pub(super) fn new(miner: Arc<Miner>, min_difficulty: f64) -> Self {
        let dropped = Arc::new(AtomicU64::new(0));
        let (found_tx, found_rx) = forward_found(dropped.clone());
        Mining {
            miner,
            book: ScanBook::with_min_difficulty(min_difficulty),
            found_tx,
            found_rx,
            dropped,
        }
    }

    /// Found shares dropped for a full queue since the last call.
    pub(super) fn take_dropped(&self) -> u64 {
        self.dropped.swap(0, Ordering::Relaxed)
    }

    /// The miner (for its hash counters).
    pub(super) fn miner(&self) -> &Miner {
        &self.miner
    }

    /// Starts mining `job` (a clean job voids the earlier ones first).
    pub(super) fn start(&mut self, job: &ClientJob) -> Result<(), StartError> {
        let scan = self.book.start(job)?;
        self.miner.start_job(scan, self.found_tx.clone())?;
        Ok(())
    }

    /// Restarts the newest job with a new version mask; `Ok(false)` if there is none.
    pub(super) fn restart_with_mask(&mut self, mask: u32) -> Result<bool, StartError> {
        let Some(scan) = self.book.restart_with_mask(mask) else {
            return Ok(false);
        };
        self.miner.start_job(scan, self.found_tx.clone())?;
        Ok(true)
    }

    /// The next found hash (`None` only if the forwarding thread died).
    pub(super) async fn found(&mut self) -> Option<Found> {
        self.found_rx.recv().await
    }

    /// The difficulty `job` is mined at (the floor when the pool asks for less).
    pub(super) fn mined_difficulty(&self, job: &ClientJob) -> stratum::Difficulty {
        self.book.mined_difficulty(job)
    }

    /// The share to submit for `found`, or why there is none.
    pub(super) fn share(&self, found: &Found) -> Result<Share, NotSubmitted> {
        self.book.share(found)
    }

    /// Stops the search threads (off the runtime: it waits for their current chunk) and
    /// voids every job, so nothing of a lost connection is hashed or sent.
    pub(super) async fn stop(&mut self) {
        let miner = self.miner.clone();
        let _ = tokio::task::spawn_blocking(move || miner.stop()).await;
        self.book.void_all();
    }
}

/// Found shares come from the rayon threads on a std channel (the search's interface);
/// one plain thread moves them at once onto a bounded tokio channel so the session can
/// `select!` on them, dropping (and counting in `dropped`) what does not fit. The std
/// channel stays short: this thread only moves values, far faster than the threads find
/// shares at any difficulty above the floor. It ends when every sender (ours and the
/// running job's) is gone, or the session's receiver is.
fn forward_found(
    dropped: Arc<AtomicU64>,
) -> (std::sync::mpsc::Sender<Found>, mpsc::Receiver<Found>) {
    let (std_tx, std_rx) = std::sync::mpsc::channel::<Found>();
    let (tx, rx) = mpsc::channel(FOUND_QUEUE);
    std::thread::Builder::new()
        .name("found-shares".into())
        .spawn(move || {
            for found in std_rx {
                match tx.try_send(found) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => break,
                }
            }
        })
        .ok();
    (std_tx, rx)
}
