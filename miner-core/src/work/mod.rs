//! Stratum job → block headers (spec/stratum.md Part A.1, "mining.notify", "Merkle root from
//! the job", "Header").
//!
//! A [`Job`] is a decoded `mining.notify`; a [`Work`] is a job plus what this connection
//! was given (extranonce1, extranonce2 size, version-rolling mask) and hands out headers.
//! Each header gets a unique *header index* from one atomic counter, so no two threads ever
//! hash the same header: the index is written as a little-endian counter into the
//! extranonce2 slot and, once that space is used up, into the version bits the pool lets us
//! roll ([`space`]).

mod job;
pub mod space;

pub use job::{Job, NotifyHex, WorkError, be_u32, merkle_root};
pub use space::{Extranonce2, HeaderSpace};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::search::WorkSource;

/// One header to scan: the 80 bytes (nonce field zero) and what a share of it must carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Serialized header; bytes 76..80 (the nonce) are zero.
    pub bytes: [u8; 80],
    /// The extranonce2 placed in the coinbase, as it goes into `mining.submit`.
    pub extranonce2: Extranonce2,
    /// The header's nVersion (already combined with the rolled bits).
    pub version: u32,
}

/// A job bound to one connection's extranonce1 and extranonce2 size: the source of headers.
#[derive(Debug)]
pub struct Work {
    job: Arc<Job>,
    extranonce1: Vec<u8>,
    space: HeaderSpace,
    next_index: AtomicU64,
}

impl Work {
    /// Binds `job` to a connection. `version_mask` is the BIP310 mask the pool granted (0 if
    /// version rolling is off).
    pub fn new(
        job: Arc<Job>,
        extranonce1: Vec<u8>,
        extranonce2_size: usize,
        version_mask: u32,
    ) -> Result<Self, WorkError> {
        let space = HeaderSpace::new(extranonce2_size, version_mask)?;
        Ok(Work {
            job,
            extranonce1,
            space,
            next_index: AtomicU64::new(0),
        })
    }

    /// The same work with its first `index` headers marked as handed out.
    pub fn starting_at(self, index: u64) -> Self {
        self.next_index.store(index, Ordering::Relaxed);
        self
    }

    /// This connection's extranonce1.
    pub fn extranonce1(&self) -> &[u8] {
        &self.extranonce1
    }

    /// The job this work was built from.
    pub fn job(&self) -> &Arc<Job> {
        &self.job
    }

    /// The BIP310 mask in force for this work (0 = no rolling).
    pub fn version_mask(&self) -> u32 {
        self.space.version_mask()
    }

    /// One past the highest header index handed out so far: where a restart of this job
    /// (e.g. after a reconnect that resumed the same session) must begin to hash nothing twice.
    pub fn high_water(&self) -> u64 {
        self.next_index.load(Ordering::Relaxed)
    }

    /// The extranonce2 space, to map a found share's header index back to its values.
    pub fn space(&self) -> &HeaderSpace {
        &self.space
    }

    /// The next header nobody has been given yet, or `None` when the whole extranonce2
    /// (and rollable version) space of this job is used up. Safe to call from any thread.
    pub fn next_header(&self) -> Option<Header> {
        let index = self.next_index.fetch_add(1, Ordering::Relaxed);
        self.header_at(index)
    }

    /// The header with the given index (see [`HeaderSpace::split`]).
    pub fn header_at(&self, index: u64) -> Option<Header> {
        let (extranonce2, rolled) = self.space.split(index)?;
        let version = self.space.roll(self.job.version, rolled);
        let bytes = self.header_bytes(&extranonce2, version);
        Some(Header {
            bytes,
            extranonce2,
            version,
        })
    }

    /// The coinbase transaction for `extranonce2`: coinb1 ‖ extranonce1 ‖ extranonce2 ‖ coinb2.
    pub fn coinbase(&self, extranonce2: &Extranonce2) -> Vec<u8> {
        let job = &self.job;
        let mut tx = Vec::with_capacity(
            job.coinb1.len() + self.extranonce1.len() + extranonce2.len() + job.coinb2.len(),
        );
        tx.extend_from_slice(&job.coinb1);
        tx.extend_from_slice(&self.extranonce1);
        tx.extend_from_slice(extranonce2.as_bytes());
        tx.extend_from_slice(&job.coinb2);
        tx
    }

    /// The 80-byte header for `extranonce2` and `version`, nonce zero.
    pub fn header_bytes(&self, extranonce2: &Extranonce2, version: u32) -> [u8; 80] {
        let root = merkle_root(&self.coinbase(extranonce2), &self.job.merkle_branch);
        self.job.header(version, &root, 0)
    }
}

/// The headers of a [`Work`] from index `base` on, as the search threads see them: their
/// index 0 is the work's `base`. A job restarted on the miner gets a new slice beginning at
/// the work's [`Work::high_water`], so no header is ever hashed twice.
#[derive(Debug, Clone)]
pub struct Slice {
    work: Arc<Work>,
    base: u64,
}

impl Slice {
    /// Headers of `work` not handed out yet.
    pub fn fresh(work: Arc<Work>) -> Self {
        let base = work.high_water();
        Slice { work, base }
    }

    /// The work it views.
    pub fn work(&self) -> &Arc<Work> {
        &self.work
    }

    /// The work's header index of this slice's `index`.
    pub fn work_index(&self, index: u64) -> Option<u64> {
        self.base.checked_add(index)
    }
}

impl WorkSource for Slice {
    fn header(&self, index: u64) -> Option<[u8; 80]> {
        let i = self.work_index(index)?;
        self.work
            .next_index
            .fetch_max(i.saturating_add(1), Ordering::Relaxed);
        self.work.header_at(i).map(|h| h.bytes)
    }
}
