//! The search threads as a Stratum session drives them: the [`Miner`], the [`ScanBook`] of
//! its jobs, and the channel found shares come back on. Starting a job, restarting it for a
//! new version mask, turning a found hash into a share and stopping all go through here.

use std::sync::Arc;

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

/// The miner, its jobs and its found shares.
pub(super) struct Mining {
    miner: Arc<Miner>,
    book: ScanBook,
    found_tx: std::sync::mpsc::Sender<Found>,
    found_rx: mpsc::UnboundedReceiver<Found>,
}

impl Mining {
    /// Mining on `miner`, no job yet.
    pub(super) fn new(miner: Arc<Miner>) -> Self {
        let (found_tx, found_rx) = forward_found();
        Mining {
            miner,
            book: ScanBook::default(),
            found_tx,
            found_rx,
        }
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

/// Found shares come from the rayon threads on a std channel; one plain thread moves them
/// onto a tokio channel so the session can `select!` on them. It ends when every sender
/// (ours and the running job's) is gone.
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
