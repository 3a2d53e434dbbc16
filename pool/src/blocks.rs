//! Found blocks on disk, so none is lost: each block is written and fsynced under
//! `<data-dir>/blocks/` BEFORE `submitblock` (issue 3), renamed once the node has answered,
//! and every block still pending is submitted again when the pool starts.
//!
//! File states: `<hash>.pending` (not yet answered), `<hash>.accepted` (node said null or
//! `duplicate`), `<hash>.stale` (`inconclusive`: valid, but another block at that height won
//! the race), `<hash>.rejected` (node refused it; kept for the operator).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::rpc::{RpcClient, RpcError};

/// A block file larger than this is not ours (the BSV regtest sizelimit is 128 MB; we never
/// build more than the template's transactions, and refuse to load absurd files).
pub const MAX_BLOCK_FILE: u64 = 512 * 1024 * 1024;

/// A block waiting for the node's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingBlock {
    /// Display-order block hash.
    pub hash: String,
    /// The serialized block in hex, as `submitblock` takes it.
    pub hex: String,
    /// The `.pending` file it is saved in.
    pub path: PathBuf,
}

/// What the node finally said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `submitblock` returned null: the block is the node's new tip.
    Accepted,
    /// `inconclusive`: the node did not make it its tip (a sibling at the same height came
    /// first, or the parent is unknown). Not an error of ours; nothing to retry.
    Stale,
    /// `submitblock` returned this reason, or a non-retryable RPC error.
    Rejected(String),
}

/// The `blocks/` directory of the pool's data dir.
#[derive(Debug, Clone)]
pub struct BlockStore {
    dir: PathBuf,
}

impl BlockStore {
    /// Creates `<data_dir>/blocks` if needed.
    pub fn open(data_dir: &Path) -> io::Result<BlockStore> {
        let dir = data_dir.join("blocks");
        fs::create_dir_all(&dir)?;
        Ok(BlockStore { dir })
    }

    /// The `blocks/` directory itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes the block durably: temp file, fsync, rename to `.pending`, fsync the directory.
    pub fn save(&self, hash: &str, hex: &str) -> io::Result<PendingBlock> {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bad block hash",
            ));
        }
        let tmp = self.dir.join(format!("{hash}.tmp"));
        let path = self.dir.join(format!("{hash}.pending"));
        let mut file = File::create(&tmp)?;
        file.write_all(hex.as_bytes())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, &path)?;
        File::open(&self.dir)?.sync_all()?;
        Ok(PendingBlock {
            hash: hash.to_string(),
            hex: hex.to_string(),
            path,
        })
    }

    /// Every `.pending` block, oldest file first.
    pub fn pending(&self) -> io::Result<Vec<PendingBlock>> {
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path.extension().is_none_or(|e| e != "pending") {
                continue;
            }
            let meta = fs::metadata(&path)?;
            if meta.len() > MAX_BLOCK_FILE {
                tracing::warn!(path = %path.display(), "ignoring oversized block file");
                continue;
            }
            let hex = fs::read_to_string(&path)?.trim().to_string();
            let hash = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            found.push((meta.modified().ok(), PendingBlock { hash, hex, path }));
        }
        found.sort_by_key(|a| a.0);
        Ok(found.into_iter().map(|(_, b)| b).collect())
    }

    /// Records the node's answer by renaming the file.
    pub fn finish(&self, block: &PendingBlock, outcome: &Outcome) -> io::Result<()> {
        let ext = match outcome {
            Outcome::Accepted => "accepted",
            Outcome::Stale => "stale",
            Outcome::Rejected(_) => "rejected",
        };
        fs::rename(&block.path, self.dir.join(format!("{}.{ext}", block.hash)))?;
        File::open(&self.dir)?.sync_all()
    }
}

/// Maps one `submitblock` answer to an outcome; `None` means "try again later".
pub fn classify(answer: Result<Option<String>, RpcError>) -> Option<Outcome> {
    match answer {
        Ok(None) => Some(Outcome::Accepted),
        // Already in the chain (e.g. a resubmission after a restart): nothing is lost.
        Ok(Some(reason)) if reason == "duplicate" => Some(Outcome::Accepted),
        Ok(Some(reason)) if reason == "inconclusive" => Some(Outcome::Stale),
        Ok(Some(reason)) => Some(Outcome::Rejected(reason)),
        // Bad credentials may be fixed by the operator; keep the block pending.
        Err(RpcError::Auth(_)) => None,
        Err(err) if err.is_retryable() => None,
        Err(err) => Some(Outcome::Rejected(err.to_string())),
    }
}

/// Backoff between submit attempts: 0.25 s doubling to at most 5 s. A block loses value
/// by the second (another miner may extend the chain first), so the cap stays short.
pub fn backoff(attempt: u32) -> Duration {
    let ms = 250u64.saturating_mul(1u64 << attempt.min(7));
    Duration::from_millis(ms.min(5_000))
}

/// Submits `block` until the node gives a final answer (or `max_attempts` runs out, leaving
/// the file pending for the next start), then records it.
pub async fn submit_until_answered(
    rpc: &RpcClient,
    store: &BlockStore,
    block: &PendingBlock,
    max_attempts: u32,
) -> Option<Outcome> {
    for attempt in 0..max_attempts {
        let answer = rpc.submit_block(&block.hex).await;
        if let Err(err) = &answer {
            tracing::warn!(hash = %block.hash, attempt, error = %err, "submitblock failed");
        }
        if let Some(outcome) = classify(answer) {
            if let Err(err) = store.finish(block, &outcome) {
                tracing::error!(hash = %block.hash, error = %err, "cannot record block outcome");
            }
            return Some(outcome);
        }
        tokio::time::sleep(backoff(attempt)).await;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "pool-blocks-{name}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn save_pending_finish_round_trip() {
        let dir = temp_dir("rt");
        let store = BlockStore::open(&dir).unwrap();
        let hash_a = "aa".repeat(32);
        let hash_b = "bb".repeat(32);
        let a = store.save(&hash_a, "00ff").unwrap();
        store.save(&hash_b, "0102").unwrap();
        let pending = store.pending().unwrap();
        assert_eq!(pending.len(), 2);
        assert!(pending.iter().any(|p| p.hash == hash_a && p.hex == "00ff"));
        store.finish(&a, &Outcome::Accepted).unwrap();
        let reopened = BlockStore::open(&dir).unwrap();
        let pending = reopened.pending().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].hash, hash_b);
        assert!(
            dir.join("blocks")
                .join(format!("{hash_a}.accepted"))
                .exists()
        );
        assert!(store.save("../../etc", "00").is_err());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn classification_of_answers() {
        assert_eq!(classify(Ok(None)), Some(Outcome::Accepted));
        assert_eq!(
            classify(Ok(Some("duplicate".into()))),
            Some(Outcome::Accepted)
        );
        assert_eq!(
            classify(Ok(Some("high-hash".into()))),
            Some(Outcome::Rejected("high-hash".into()))
        );
        assert_eq!(
            classify(Ok(Some("inconclusive".into()))),
            Some(Outcome::Stale)
        );
        assert_eq!(classify(Err(RpcError::Transport("refused".into()))), None);
        assert_eq!(classify(Err(RpcError::Auth(401))), None);
        let decode = RpcError::Rpc {
            code: -22,
            message: "Block decode failed".into(),
        };
        assert!(matches!(classify(Err(decode)), Some(Outcome::Rejected(_))));
        assert_eq!(backoff(0), Duration::from_millis(250));
        assert_eq!(backoff(50), Duration::from_secs(5));
    }
}
