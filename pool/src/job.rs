//! Jobs: a template plus its coinbase split and merkle branch, as sent in `mining.notify`, and
//! the pool's proof-of-work check of a submitted share (spec/stratum.md "Turning a share into
//! a block").

use std::collections::VecDeque;
use std::sync::Arc;

use bitcoin::ScriptBuf;
use miner_core::Target;
use miner_core::kernels::sha256d;

use crate::coinbase::{self, CoinbaseError, CoinbaseParts, CoinbaseSpec};
use crate::merkle;
use crate::template::{Template, Tx};

/// What every job's coinbase shares.
#[derive(Debug, Clone)]
pub struct JobConfig {
    pub payout_script: ScriptBuf,
    /// Script bytes after the BIP34 height (a push of the pool tag).
    pub script_prefix: Vec<u8>,
    pub extranonce1_len: usize,
    pub extranonce2_len: usize,
}

/// Why a job could not be built.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Coinbase(#[from] CoinbaseError),
    #[error("template nbits {0:#010x} is not a valid target")]
    Bits(u32),
}

/// One unit of work as sent to miners.
#[derive(Debug)]
pub struct Job {
    pub id: String,
    pub prevhash: [u8; 32],
    pub version: u32,
    pub bits: u32,
    pub ntime: u32,
    /// Earliest ntime the node accepts (median time past + 1).
    pub mintime: u32,
    pub height: u64,
    pub clean_jobs: bool,
    pub coinbase: CoinbaseParts,
    pub branch: Vec<[u8; 32]>,
    pub txs: Arc<Vec<Tx>>,
    pub network_target: Target,
}

/// A share rebuilt into a header.
#[derive(Debug, Clone)]
pub struct Solved {
    pub header: [u8; 80],
    /// sha256d of the header, internal order.
    pub hash: [u8; 32],
    /// The coinbase in non-witness form.
    pub coinbase: Vec<u8>,
}

impl Job {
    pub fn new(
        id: String,
        template: &Template,
        config: &JobConfig,
        clean_jobs: bool,
    ) -> Result<Job, JobError> {
        let network_target =
            Target::from_compact(template.bits).map_err(|_| JobError::Bits(template.bits))?;
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
        Ok(Job {
            id,
            prevhash: template.prevhash,
            version: template.version,
            bits: template.bits,
            ntime: template.curtime.max(template.mintime),
            mintime: template.mintime,
            height: template.height,
            clean_jobs,
            coinbase,
            branch: merkle::branch(&txids),
            txs: Arc::new(template.txs.clone()),
            network_target,
        })
    }

    /// The prevhash as `mining.notify` carries it: each 4-byte word of the internal bytes
    /// reversed (Part A.1, with the observed regtest example in the tests).
    pub fn prevhash_notify_hex(&self) -> String {
        let mut swapped = self.prevhash;
        for word in swapped.chunks_mut(4) {
            word.reverse();
        }
        hex::encode(swapped)
    }

    /// The nine `mining.notify` params, in order (Part A.1 table).
    pub fn notify_params(&self) -> serde_json::Value {
        serde_json::json!([
            self.id,
            self.prevhash_notify_hex(),
            hex::encode(&self.coinbase.coinb1),
            hex::encode(&self.coinbase.coinb2),
            self.branch.iter().map(hex::encode).collect::<Vec<_>>(),
            format!("{:08x}", self.version),
            format!("{:08x}", self.bits),
            format!("{:08x}", self.ntime),
            self.clean_jobs,
        ])
    }

    /// Rebuilds the header of a share: coinbase from coinb1/en1/en2/coinb2, merkle root from
    /// the branch, then version ‖ prevhash ‖ root ‖ ntime ‖ nbits ‖ nonce (Part A.1 "Header").
    pub fn solve(
        &self,
        extranonce1: &[u8],
        extranonce2: &[u8],
        ntime: u32,
        nonce: u32,
        version: u32,
    ) -> Solved {
        let coinbase = self.coinbase.assemble(extranonce1, extranonce2);
        let root = merkle::root_from_branch(sha256d(&coinbase), &self.branch);
        let mut header = [0u8; 80];
        header[0..4].copy_from_slice(&version.to_le_bytes());
        header[4..36].copy_from_slice(&self.prevhash);
        header[36..68].copy_from_slice(&root);
        header[68..72].copy_from_slice(&ntime.to_le_bytes());
        header[72..76].copy_from_slice(&self.bits.to_le_bytes());
        header[76..80].copy_from_slice(&nonce.to_le_bytes());
        Solved {
            hash: sha256d(&header),
            header,
            coinbase,
        }
    }

    /// header ‖ varint(1 + n) ‖ coinbase (witness form on segwit) ‖ each template tx.
    pub fn block(&self, solved: &Solved) -> Vec<u8> {
        let coinbase = self.coinbase.block_form(&solved.coinbase);
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
    jobs: VecDeque<Arc<Job>>,
    next_id: u64,
    max_jobs: usize,
    /// Random per pool start, so job ids of a restarted pool never match old ones.
    prefix: u32,
}

impl JobBook {
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
    pub fn push(&mut self, template: &Template, config: &JobConfig) -> Result<Arc<Job>, JobError> {
        let clean = self
            .current()
            .is_none_or(|current| current.prevhash != template.prevhash);
        let id = format!("{:08x}{:08x}", self.prefix, self.next_id);
        let job = Arc::new(Job::new(id, template, config, clean)?);
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

    pub fn current(&self) -> Option<&Arc<Job>> {
        self.jobs.back()
    }

    pub fn get(&self, id: &str) -> Option<Arc<Job>> {
        self.jobs.iter().rev().find(|j| j.id == id).cloned()
    }
}

#[cfg(test)]
#[path = "job_tests.rs"]
mod tests;
