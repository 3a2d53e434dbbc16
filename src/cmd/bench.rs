//! `mesos-miner bench`: hash as fast as possible for a while, like `cpuminer --benchmark`,
//! printing the hashrate per thread and in total every few seconds; with `--json`, a last
//! line with one JSON object for scripts.

use std::io::Write;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use miner_core::meter::human_rate;
use miner_core::search::NONCE_SPACE;
use miner_core::{DIFF1, Miner, ScanJob, WorkSource};

use crate::UsageError;

/// Longest run accepted: a day.
const MAX_SECONDS: f64 = 86_400.0;
/// Progress lines at most this often.
const REPORT_EVERY: Duration = Duration::from_secs(2);

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Search threads [default: the number of cores].
    #[arg(long)]
    threads: Option<usize>,
    /// Kernel: auto, avx512, avx2, sha-ni or portable.
    #[arg(long, default_value = "auto")]
    kernel: String,
    /// How long to hash, in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// End with one line of JSON: kernel, threads, seconds, hashes, hashrate.
    #[arg(long)]
    json: bool,
}

/// The genesis header with ntime + index: an endless supply of distinct headers, so the
/// bench exercises moving on to new header variants like a real worker does.
struct BenchHeaders([u8; 80]);

impl WorkSource for BenchHeaders {
    fn header(&self, index: u64) -> Option<[u8; 80]> {
        let mut header = self.0;
        let time = u32::from_le_bytes([header[68], header[69], header[70], header[71]]);
        header[68..72].copy_from_slice(&time.wrapping_add(index as u32).to_le_bytes());
        Some(header)
    }
}

const GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    if !(args.seconds > 0.0 && args.seconds <= MAX_SECONDS) {
        return Err(UsageError(format!(
            "seconds: must be above 0 and at most {MAX_SECONDS}, got {}",
            args.seconds
        ))
        .into());
    }
    let threads = super::scan::thread_count(args.threads)?;
    let kernel = super::scan::pick_kernel(&args.kernel)?;
    let miner = Miner::new(threads, kernel)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "bench: kernel {}, {threads} threads, {} s",
        kernel.name(),
        args.seconds
    )?;
    let (tx, shares) = mpsc::channel();
    let t0 = Instant::now();
    miner.start_job(bench_job(), tx)?;
    report_until(&miner, t0, Duration::from_secs_f64(args.seconds), &mut out)?;
    miner.stop();
    let elapsed = t0.elapsed().as_secs_f64();
    let hashes = miner.total_hashes();
    let hashrate = hashes as f64 / elapsed;
    writeln!(
        out,
        "total: {hashes} hashes in {elapsed:.2} s = {} ({threads} threads, kernel {}, {} diff-1 shares)",
        human_rate(hashrate),
        kernel.name(),
        shares.try_iter().count()
    )?;
    if args.json {
        let summary = serde_json::json!({
            "kernel": kernel.name(),
            "threads": threads,
            "seconds": elapsed,
            "hashes": hashes,
            "hashrate": hashrate,
        });
        writeln!(out, "{summary}")?;
    }
    Ok(())
}

/// Every nonce of an endless run of headers, at difficulty 1: diff-1 shares are real
/// shares, and rare enough to cost nothing.
fn bench_job() -> ScanJob {
    let mut header = [0u8; 80];
    hex::decode_to_slice(GENESIS, &mut header).expect("GENESIS is 160 hex digits");
    ScanJob {
        id: 0,
        source: Arc::new(BenchHeaders(header)),
        target: DIFF1,
        nonce_start: 0,
        nonce_count: NONCE_SPACE,
    }
}

/// Sleeps in steps of [`REPORT_EVERY`] until `length` has passed since `t0`, printing the
/// hashrate of each thread and the total over each step.
fn report_until(
    miner: &Miner,
    t0: Instant,
    length: Duration,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut last = (t0, miner.hashes_per_thread());
    loop {
        let now = Instant::now();
        let left = length.saturating_sub(now - t0);
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(REPORT_EVERY));
        let now = Instant::now();
        let counts = miner.hashes_per_thread();
        let span = (now - last.0).as_secs_f64();
        let rates: Vec<f64> = counts
            .iter()
            .zip(&last.1)
            .map(|(c, l)| c.saturating_sub(*l) as f64 / span)
            .collect();
        let per_thread: Vec<String> = rates
            .iter()
            .enumerate()
            .map(|(i, r)| format!("thread {i} {}", human_rate(*r)))
            .collect();
        writeln!(
            out,
            "[{:6.1}s] {}, total {} (kernel {})",
            (now - t0).as_secs_f64(),
            per_thread.join(", "),
            human_rate(rates.iter().sum()),
            miner.kernel().name()
        )?;
        last = (now, counts);
    }
}
