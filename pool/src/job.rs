//! Jobs: a template plus its coinbase split and merkle branch, as sent in `mining.notify`, and
//! the pool's proof-of-work check of a submitted share (spec/stratum.md "Turning a share into
//! a block"). The notify is the `stratum` crate's type; the header, coinbase and merkle
//! arithmetic are `miner-core`'s, the same code the miner hashes with.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use bitcoin::ScriptBuf;
use miner_core::Target;
use miner_core::kernels::sha256d;
use miner_core::work::{self, HeaderFields, merkle};
use stratum::methods::Notify;
use stratum::{JobId, PrevHash, WireError};

use crate::coinbase::{self, CoinbaseError, CoinbaseSpec, with_reserved_witness};
use crate::template::{Template, Tx};

/// What every job's coinbase shares.
#[derive(Debug, Clone)]
pub struct JobConfig {
    /// The scriptPubKey the block reward goes to.
    pub payout_script: ScriptBuf,
    /// Script bytes after the BIP34 height (a push of the pool tag).
    pub script_prefix: Vec<u8>,
    /// Bytes of the per-connection extranonce1.
    pub extranonce1_len: usize,
    /// Bytes of the miner-chosen extranonce2.
    pub extranonce2_len: usize,
}

/// Why a job could not be built.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The coinbase could not be built.
    #[error(transparent)]
    Coinbase(#[from] CoinbaseError),
    /// The template's nbits (given) is negative or overflows.
    #[error("template nbits {0:#010x} is not a valid target")]
    Bits(u32),
    /// The template's nbits (given) is a target no chain has: zero (no hash meets it, so
    /// miners would work for nothing) or easier than regtest's proof-of-work limit
    /// (`0x207fffff`, the easiest of all chains). A node does not send it; the template is
    /// refused and miners keep the previous job.
    #[error(
        "template nbits {0:#010x} is a target no chain allows (zero, or easier than 0x207fffff); template refused"
    )]
    ImpossibleBits(u32),
    /// The generated job id is not a valid wire job id.
    #[error("job id: {0}")]
    Id(#[from] WireError),
}

/// Regtest's `powLimit` in compact form: no chain accepts an easier target.
const EASIEST_BITS: u32 = 0x207f_ffff;

/// One unit of work built from a block template: the `mining.notify` miners get, and what
/// the pool needs besides to check shares and assemble the block.
#[derive(Debug)]
pub struct TemplateJob {
    /// The job as sent (its coinb1/coinb2 are the coinbase split at the extranonce slot).
    pub notify: Notify,
    /// Earliest ntime the node accepts (median time past + 1).
    pub mintime: u32,
    /// Height of the block this job would make.
    pub height: u64,
    /// The block must carry the coinbase in witness form (segwit template).
    pub segwit: bool,
    /// The template's transactions after the coinbase, in block order.
    pub txs: Arc<Vec<Tx>>,
    /// The target a hash must meet to be a block (from the template's nbits).
    pub network_target: Target,
    /// Shares accepted for this job on any connection (issue 11 hole 2).
    pub seen: SeenShares,
}

/// Most shares remembered per job: at 30 s per job that is over 30,000 shares a second, far
/// beyond what vardiff lets miners send; about 16 MB when full.
pub const MAX_SEEN_PER_JOB: usize = 1 << 20;

/// The accepted shares of one job, pool-wide, for as long as the job is in the book: a share
/// replayed on another connection (a resumed session gets the same extranonce1) or under
/// another worker name is a duplicate. Keyed by the share's header hash, which covers the
/// extranonce1 (in the coinbase), extranonce2, ntime, nonce and version; 64 of its low bits
/// are kept (the high bits are the zeros every share has).
#[derive(Debug, Default)]
pub struct SeenShares(Mutex<HashSet<u64>>);

/// Why a share cannot be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SeenError {
    /// The same header was accepted before (on any connection).
    #[error("duplicate share")]
    Duplicate,
    /// [`MAX_SEEN_PER_JOB`] shares were recorded for this job; the next job has room.
    #[error("too many shares for this job")]
    Full,
}

impl SeenShares {
    /// Records the share whose header hashes to `hash` (internal byte order).
    pub fn record(&self, hash: &[u8; 32]) -> Result<(), SeenError> {
        let mut low = [0u8; 8];
        low.copy_from_slice(&hash[..8]);
        let key = u64::from_le_bytes(low);
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if seen.contains(&key) {
            return Err(SeenError::Duplicate);
        }
        if seen.len() >= MAX_SEEN_PER_JOB {
            return Err(SeenError::Full);
        }
        seen.insert(key);
        Ok(())
    }

    /// Shares recorded so far.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// No share recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A share rebuilt into a header.
#[derive(Debug, Clone)]
pub struct Solved {
    /// The 80-byte header with the share's ntime, nonce and version.
    pub header: [u8; 80],
    /// sha256d of the header, internal order.
    pub hash: [u8; 32],
    /// The coinbase in non-witness form.
    pub coinbase: Vec<u8>,
}

impl TemplateJob {
    /// Builds job `id` from `template`; `clean_jobs` goes into its `mining.notify`.
    pub fn new(
        id: String,
        template: &Template,
        config: &JobConfig,
        clean_jobs: bool,
    ) -> Result<TemplateJob, JobError> {
        let network_target =
            Target::from_compact(template.bits).map_err(|_| JobError::Bits(template.bits))?;
        let easiest =
            Target::from_compact(EASIEST_BITS).map_err(|_| JobError::Bits(EASIEST_BITS))?;
        if network_target == Target::ZERO || network_target > easiest {
            return Err(JobError::ImpossibleBits(template.bits));
        }
        let coinbase = coinbase::build(&CoinbaseSpec {
            height: template.height,
            value: template.coinbase_value,
            payout_script: config.payout_script.clone(),
            witness_commitment: template.witness_commitment.clone(),
            script_prefix: config.script_prefix.clone(),
            extranonce_len: config.extranonce1_len + config.extranonce2_len,
            tx_version: 1,
        })?;
        let txids: Vec<[u8; 32]> = template.txs.iter().map(|tx| tx.txid).collect();
        let notify = Notify {
            job_id: JobId::new(id)?,
            prevhash: PrevHash::from_internal(template.prevhash),
            coinb1: coinbase.coinb1,
            coinb2: coinbase.coinb2,
            merkle_branch: merkle::branch(&txids),
            version: template.version,
            nbits: template.bits,
            ntime: template.curtime.max(template.mintime),
            clean_jobs,
        };
        Ok(TemplateJob {
            notify,
            mintime: template.mintime,
            height: template.height,
            segwit: coinbase.segwit,
            txs: Arc::new(template.txs.clone()),
            network_target,
            seen: SeenShares::default(),
        })
    }

    /// The job id.
    pub fn id(&self) -> &str {
        self.notify.job_id.as_str()
    }

    /// Rebuilds the header of a share with miner-core's assembly (Part A.1 "Header").
    pub fn solve(
        &self,
        extranonce1: &[u8],
        extranonce2: &[u8],
        ntime: u32,
        nonce: u32,
        version: u32,
    ) -> Solved {
        let coinbase = work::coinbase(&self.notify, extranonce1, extranonce2);
        let root = merkle::merkle_root(&coinbase, &self.notify.merkle_branch);
        let fields = HeaderFields {
            version,
            merkle_root: &root,
            ntime,
            nonce,
        };
        let header = work::header(&self.notify, fields);
        Solved {
            hash: sha256d(&header),
            header,
            coinbase,
        }
    }

    /// header ‖ varint(1 + n) ‖ coinbase (witness form on segwit, BIP141) ‖ each template tx.
    pub fn block(&self, solved: &Solved) -> Vec<u8> {
        let coinbase = if self.segwit {
            with_reserved_witness(&solved.coinbase)
        } else {
            solved.coinbase.clone()
        };
        let size = 80 + 9 + coinbase.len() + self.txs.iter().map(|t| t.data.len()).sum::<usize>();
        let mut block = Vec::with_capacity(size);
        block.extend_from_slice(&solved.header);
        write_varint(&mut block, 1 + self.txs.len() as u64);
        block.extend_from_slice(&coinbase);
        for tx in self.txs.iter() {
            block.extend_from_slice(&tx.data);
        }
        block
    }
}

/// Bitcoin's CompactSize (Part A.1 "varint").
pub fn write_varint(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// The jobs miners may still submit to. A new prevhash voids every earlier job.
#[derive(Debug)]
pub struct JobBook {
    jobs: VecDeque<Arc<TemplateJob>>,
    next_id: u64,
    max_jobs: usize,
    /// Random per pool start, so job ids of a restarted pool never match old ones.
    prefix: u32,
}

impl JobBook {
    /// An empty book keeping at most `max_jobs` (at least 1); ids start with `prefix` in hex.
    pub fn new(max_jobs: usize, prefix: u32) -> Self {
        JobBook {
            jobs: VecDeque::new(),
            next_id: 1,
            max_jobs: max_jobs.max(1),
            prefix,
        }
    }

    /// Makes the job for `template`; `clean_jobs` is set when its prevhash differs from the
    /// current job's, and then every older job is dropped (its shares become stale, code 21).
    pub fn push(
        &mut self,
        template: &Template,
        config: &JobConfig,
    ) -> Result<Arc<TemplateJob>, JobError> {
        let clean = self
            .current()
            .is_none_or(|current| current.notify.prevhash.header_bytes() != template.prevhash);
        let id = format!("{:08x}{:08x}", self.prefix, self.next_id);
        let job = Arc::new(TemplateJob::new(id, template, config, clean)?);
        self.next_id += 1;
        if clean {
            self.jobs.clear();
        }
        self.jobs.push_back(job.clone());
        while self.jobs.len() > self.max_jobs {
            self.jobs.pop_front();
        }
        Ok(job)
    }

    /// The newest job (the one miners are told about).
    pub fn current(&self) -> Option<&Arc<TemplateJob>> {
        self.jobs.back()
    }

    /// The job with wire id `id`, if still in the book.
    pub fn get(&self, id: &str) -> Option<Arc<TemplateJob>> {
        self.jobs.iter().rev().find(|j| j.id() == id).cloned()
    }
}

#[cfg(test)]
#[path = "job_tests.rs"]
mod tests;
