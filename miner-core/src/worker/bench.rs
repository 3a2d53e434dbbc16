//! `mine --benchmark`: mine a fixed synthetic job offline, as cpuminer's `--benchmark` does,
//! through the same job → header path as pool work (so it measures what mining costs).

use std::sync::Arc;
use std::time::{Duration, Instant};

use stratum::methods::Notify;
use stratum::{JobId, PrevHash, VersionMask};
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::stats::{SharedStatus, lock};
use crate::search::{self, Miner, NONCE_SPACE};
use crate::target::DIFF1;
use crate::work::{Slice, Work};

/// How often the hash counters are sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// The synthetic job: a plausible coinbase and one branch entry; no pool, no shares sent.
/// With `version_rolling`, the BIP 320 mask is granted, as most pools grant it (headers are
/// then hashed eight versions at a time); without, one header at a time.
pub fn synthetic_work(version_rolling: bool) -> Arc<Work> {
    let job = Notify {
        job_id: JobId::new("benchmark").expect("a fixed, valid job id"),
        prevhash: PrevHash::from_internal([0x11; 32]),
        coinb1: vec![0x01, 0, 0, 0, 0x01, 0x42],
        coinb2: vec![0xff, 0xff, 0xff, 0xff, 0x00, 0, 0, 0, 0],
        merkle_branch: vec![[0x22; 32]],
        version: 0x2000_0000,
        nbits: 0x1d00_ffff,
        ntime: 0x6500_0000,
        clean_jobs: true,
    };
    let mask = if version_rolling {
        VersionMask::BIP320.0
    } else {
        0
    };
    // A 1-byte extranonce1 and an 8-byte extranonce2 never run out.
    Arc::new(Work::new(Arc::new(job), vec![0], 8, mask).expect("fixed, valid sizes"))
}

/// Hashes the synthetic job until `shutdown` is cancelled, printing the hashrate every `report`
/// (unless `quiet`) and keeping `status` up to date.
pub async fn benchmark(
    miner: Arc<Miner>,
    version_rolling: bool,
    status: SharedStatus,
    report: Duration,
    quiet: bool,
    shutdown: CancellationToken,
) -> Result<(), search::SearchError> {
    let job = search::ScanJob {
        id: 0,
        source: Arc::new(Slice::fresh(synthetic_work(version_rolling))),
        // Diff-1 hits are rare enough to cost nothing; they are only counted.
        target: DIFF1,
        nonce_start: 0,
        nonce_count: NONCE_SPACE,
    };
    let (tx, _found) = std::sync::mpsc::channel();
    miner.start_job(job, tx)?;
    info!(
        "benchmark: a synthetic job, {}",
        if version_rolling {
            "headers eight versions at a time (version rolling)"
        } else {
            "one header at a time (no version rolling)"
        }
    );
    lock(&status).pool = Some("benchmark".to_owned());
    let mut sample = tokio::time::interval(SAMPLE_EVERY);
    let mut lines = tokio::time::interval(report);
    lines.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = sample.tick() => {
                let per_thread = miner.hashes_per_thread();
                lock(&status).record_hashes(Instant::now(), &per_thread);
            }
            _ = lines.tick() => if !quiet {
                info!("{}", lock(&status).hashrate_line());
            },
        }
    }
    let stopper = miner.clone();
    let _ = tokio::task::spawn_blocking(move || stopper.stop()).await;
    Ok(())
}
