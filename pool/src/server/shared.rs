//! State shared by every connection: extranonce1 allocation, the job book, the block
//! pipeline and the statistics; and the pool's [`ServerHooks`] (PoW check of shares; a
//! block is handed to the submitter, which writes it to disk off the runtime).

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use miner_core::Target;
use stratum::server::{ServerHooks, ShareCheck, SubscribeGrant};
use stratum::{ErrorCode, Extranonce1, RpcError};
use tokio::sync::{mpsc, watch};

use crate::blocks::{BlockStore, PendingBlock};
use crate::job::{JobBook, SeenError, Solved, TemplateJob};
use crate::stats::Stats;

/// Bytes of extranonce1 per connection (ckpool's `nonce1length` default).
pub const EXTRANONCE1_SIZE: usize = 4;
/// Released extranonce1 values remembered for `mining.subscribe` resumption.
const MAX_RESUMABLE: usize = 4096;

/// Locks a mutex, recovering the data if a thread panicked while holding it (our critical
/// sections leave the data consistent at every step).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Live and recently released extranonce1 values.
#[derive(Debug, Default)]
pub(crate) struct Extranonces {
    live: HashSet<u32>,
    released: VecDeque<u32>,
}

impl Extranonces {
    /// A value no live connection has: `resume` if it was released recently, else random.
    pub(crate) fn allocate(&mut self, resume: Option<u32>) -> (u32, bool) {
        if let Some(id) = resume
            && let Some(pos) = self.released.iter().position(|&r| r == id)
        {
            self.released.remove(pos);
            self.live.insert(id);
            return (id, true);
        }
        loop {
            let id = rand::random::<u32>();
            if !self.live.contains(&id) && !self.released.contains(&id) {
                self.live.insert(id);
                return (id, false);
            }
        }
    }

    pub(crate) fn release(&mut self, id: u32) {
        if self.live.remove(&id) {
            self.released.push_back(id);
            while self.released.len() > MAX_RESUMABLE {
                self.released.pop_front();
            }
        }
    }
}

/// A block for the submitter.
#[derive(Debug)]
pub(crate) enum FoundBlock {
    /// A share that met the network target, not on disk yet: the submitter writes it
    /// (off the runtime) before it calls `submitblock`.
    New {
        /// The authorized worker that found it.
        worker: String,
        /// Display-order block hash.
        hash: String,
        /// The serialized block.
        hex: String,
    },
    /// A block an earlier run left pending in the data dir.
    Pending(PendingBlock),
}

/// Everything connections share.
pub(crate) struct Shared {
    pub extranonces: Mutex<Extranonces>,
    pub jobs: Mutex<JobBook>,
    pub stats: Mutex<Stats>,
    pub job_tx: watch::Sender<Option<Arc<TemplateJob>>>,
    /// To the block submitter; set when the pool starts (before the first job).
    pub blocks_tx: OnceLock<mpsc::UnboundedSender<FoundBlock>>,
    /// The block store, for a block found after the submitter stopped; set once the node
    /// answered, never in demo mode (there a network-target hit is only logged).
    pub store: OnceLock<BlockStore>,
    /// When the job manager last received a template.
    pub last_template: Mutex<Option<Instant>>,
    pub connections: std::sync::atomic::AtomicUsize,
    /// Open connections per peer address.
    pub per_ip: Mutex<super::admit::PerIp>,
    pub demo: bool,
    /// What the template poller last saw of the node.
    pub node: Arc<Mutex<crate::stats::NodeHealth>>,
}

/// The pool's answers to one connection's session.
pub(crate) struct Hooks<'a> {
    pub shared: &'a Shared,
    /// The extranonce1 granted to this connection.
    pub extranonce1: Option<u32>,
}

impl ServerHooks for Hooks<'_> {
    fn subscribe(
        &mut self,
        resume: Option<&str>,
        _user_agent: Option<&str>,
    ) -> Result<SubscribeGrant, RpcError> {
        let resume = resume
            .filter(|s| s.len() == 2 * EXTRANONCE1_SIZE)
            .and_then(|s| u32::from_str_radix(s, 16).ok());
        let (id, _resumed) = lock(&self.shared.extranonces).allocate(resume);
        self.extranonce1 = Some(id);
        let extranonce1 = Extranonce1::from_bytes(id.to_be_bytes().to_vec())
            .map_err(|e| RpcError::new(ErrorCode::Other, e.to_string()))?;
        tracing::Span::current().record("extranonce1", extranonce1.to_hex());
        Ok(SubscribeGrant {
            session_id: extranonce1.to_hex(),
            extranonce1,
        })
    }

    fn authorize(&mut self, username: &str, _password: &str) -> bool {
        // Solo pool: any non-empty worker name mines for the pool's payout address.
        !username.trim().is_empty()
    }

    fn check_share(&mut self, share: &ShareCheck) -> Result<(), RpcError> {
        let job = lock(&self.shared.jobs)
            .get(share.job_id.as_str())
            .ok_or_else(|| RpcError::new(ErrorCode::JobNotFound, "Job not found"))?;
        let solved = job.solve(
            share.extranonce1.as_bytes(),
            share.extranonce2.as_bytes(),
            share.ntime,
            share.nonce,
            share.version,
        );
        let share_target = Target::from_difficulty(share.difficulty);
        let is_block = job.network_target.is_met_by(&solved.hash);
        if !is_block && !share_target.is_met_by(&solved.hash) {
            return Err(RpcError::new(
                ErrorCode::LowDifficulty,
                "Low difficulty share",
            ));
        }
        // Pool-wide, so neither a resumed session (same extranonce1 on a new connection)
        // nor another worker name can replay an accepted share while its job is valid.
        job.seen.record(&solved.hash).map_err(|e| match e {
            SeenError::Duplicate => RpcError::new(ErrorCode::Duplicate, "Duplicate share"),
            SeenError::Full => RpcError::new(ErrorCode::JobNotFound, "Job full; take the next job"),
        })?;
        if is_block {
            self.on_block(share, &job, &solved)?;
        }
        Ok(())
    }
}

impl Hooks<'_> {
    fn on_block(
        &self,
        share: &ShareCheck,
        job: &TemplateJob,
        solved: &Solved,
    ) -> Result<(), RpcError> {
        let mut display = solved.hash;
        display.reverse();
        let hash = hex::encode(display);
        lock(&self.shared.stats).block_found(&share.worker, Instant::now());
        if self.shared.demo {
            tracing::warn!(%hash, "demo mode: share meets the demo target; it is NOT a valid block");
            return Ok(());
        }
        tracing::info!(%hash, height = job.height, worker = %share.worker, "block found");
        let found = FoundBlock::New {
            worker: share.worker.clone(),
            hash,
            hex: hex::encode(job.block(solved)),
        };
        // The submitter writes the block to disk before submitting it; this hook runs on
        // the runtime and only decides.
        let unsent = match self.shared.blocks_tx.get() {
            Some(tx) => tx.send(found).err().map(|e| e.0),
            None => Some(found),
        };
        match (unsent, self.shared.store.get()) {
            (None, _) => {}
            (Some(found), Some(store)) => save_orphan(store.clone(), found),
            // Jobs exist only after the store is open; kept for the log, not lost silently.
            (Some(found), None) => tracing::error!(?found, "block found before the store opened"),
        }
        Ok(())
    }
}

/// The submitter is gone (the pool is stopping): write the block to disk, off the
/// runtime, so the next start submits it.
fn save_orphan(store: BlockStore, found: FoundBlock) {
    let FoundBlock::New { hash, hex, .. } = found else {
        return;
    };
    tracing::error!(%hash, "block submitter stopped; block saved pending for the next start");
    tokio::task::spawn_blocking(move || {
        if let Err(err) = store.save(&hash, &hex) {
            tracing::error!(%hash, error = %err, "cannot write block to data dir; it is lost");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extranonces_unique_and_resumable() {
        let mut e = Extranonces::default();
        let ids: HashSet<u32> = (0..1000).map(|_| e.allocate(None).0).collect();
        assert_eq!(ids.len(), 1000);
        let one = *ids.iter().next().unwrap();
        // Not released yet: resuming a live id gives a fresh one.
        let (other, resumed) = e.allocate(Some(one));
        assert!(!resumed);
        assert_ne!(other, one);
        e.release(one);
        assert_eq!(e.allocate(Some(one)), (one, true));
        // Unknown ids are not granted.
        let (_, resumed) = e.allocate(Some(0xdead_beef));
        assert!(!resumed || ids.contains(&0xdead_beef));
    }
}
