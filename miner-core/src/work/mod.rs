//! Stratum job → block headers (spec/stratum.md Part A.1, "mining.notify", "Merkle root from
//! the job", "Header"), for the miner and the pool alike.
//!
//! The job is the `stratum` crate's decoded [`Notify`] (one decoder for the whole
//! workspace); [`header`] lays out its 80 bytes and [`merkle`] builds and folds branches. A
//! [`Work`] is a job plus what this connection was given (extranonce1, extranonce2 size,
//! version-rolling mask) and hands out headers.
//! Each header gets a unique *header index* from one atomic counter, so no two threads ever
//! hash the same header: the index is written into the version bits the pool lets us roll
//! (a few low bits, so runs of headers differ only in their version) and as a
//! little-endian counter into the extranonce2 slot ([`space`]).

pub mod merkle;
pub mod space;

pub use merkle::merkle_root;
pub use space::{Extranonce2, HeaderSpace};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use stratum::methods::Notify;

use crate::search::WorkSource;

/// What can be wrong with a job's connection parameters.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WorkError {
    /// The pool's extranonce2 size cannot be mined.
    #[error("extranonce2 size {0} is not usable (must be 1..=32 bytes)")]
    Extranonce2Size(usize),
}

/// The parts of a header that vary per share; the rest comes from the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderFields<'a> {
    /// nVersion, with any rolled bits.
    pub version: u32,
    /// The merkle root of this share's coinbase.
    pub merkle_root: &'a [u8; 32],
    /// nTime (the job's, or a share's within the pool's limits).
    pub ntime: u32,
    /// The nonce.
    pub nonce: u32,
}

/// Header bytes of `job`: version LE ‖ prevhash ‖ merkle root ‖ ntime LE ‖ nbits LE ‖
/// nonce LE (the `u32`s travel big-endian in the notify; the header holds them
/// little-endian).
pub fn header(job: &Notify, fields: HeaderFields<'_>) -> [u8; 80] {
    let mut h = [0u8; 80];
    h[0..4].copy_from_slice(&fields.version.to_le_bytes());
    h[4..36].copy_from_slice(&job.prevhash.header_bytes());
    h[36..68].copy_from_slice(fields.merkle_root);
    h[68..72].copy_from_slice(&fields.ntime.to_le_bytes());
    h[72..76].copy_from_slice(&job.nbits.to_le_bytes());
    h[76..80].copy_from_slice(&fields.nonce.to_le_bytes());
    h
}

/// The coinbase transaction of `job`: coinb1 ‖ extranonce1 ‖ extranonce2 ‖ coinb2.
pub fn coinbase(job: &Notify, extranonce1: &[u8], extranonce2: &[u8]) -> Vec<u8> {
    let parts = [&job.coinb1[..], extranonce1, extranonce2, &job.coinb2[..]];
    let mut tx = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    parts.iter().for_each(|p| tx.extend_from_slice(p));
    tx
}

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
    job: Arc<Notify>,
    extranonce1: Vec<u8>,
    space: HeaderSpace,
    next_index: AtomicU64,
}

impl Work {
    /// Binds `job` to a connection. `version_mask` is the BIP310 mask the pool granted (0 if
    /// version rolling is off).
    pub fn new(
        job: Arc<Notify>,
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
    pub fn job(&self) -> &Arc<Notify> {
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
        coinbase(&self.job, &self.extranonce1, extranonce2.as_bytes())
    }

    /// The 80-byte header for `extranonce2` and `version`, nonce zero.
    pub fn header_bytes(&self, extranonce2: &Extranonce2, version: u32) -> [u8; 80] {
        let root = merkle_root(&self.coinbase(extranonce2), &self.job.merkle_branch);
        let fields = HeaderFields {
            version,
            merkle_root: &root,
            ntime: self.job.ntime,
            nonce: 0,
        };
        header(&self.job, fields)
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
    /// Headers of `work` not handed out yet, from the next whole version group on (so the
    /// slice's groups are the work's).
    pub fn fresh(work: Arc<Work>) -> Self {
        let group = work.space().version_group();
        let base = work.high_water().div_ceil(group).saturating_mul(group);
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

    fn version_group(&self) -> u64 {
        self.work.space().version_group()
    }
}
