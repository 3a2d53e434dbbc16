//! `mesos-miner bench`: hash as fast as possible for a while, like `cpuminer --benchmark`,
//! printing the hashrate per thread and in total every few seconds; with `--json`, a last
//! line with one JSON object for scripts. `--kernel all` runs every kernel this CPU has in
//! turn and ends with one table (and one JSON line per kernel). Ctrl-C (or SIGTERM) ends
//! the run early and still prints what was measured.

use std::io::Write;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use miner_core::kernels::{self, Kernel};
use miner_core::meter::human_rate;
use miner_core::search::NONCE_SPACE;
use miner_core::{DIFF1, Miner, ScanJob, WorkSource};

use crate::UsageError;
use crate::signals::{LogTo, init_tracing};

/// Longest run accepted: a day.
const MAX_SECONDS: f64 = 86_400.0;
/// Progress lines at most this often.
const REPORT_EVERY: Duration = Duration::from_secs(2);

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Search threads [default: the number of cores].
    #[arg(long)]
    threads: Option<usize>,
    /// Kernel: auto, avx512, avx2, sha-ni, portable, or all (each available one in turn,
    /// then one table).
    #[arg(long, default_value = "auto")]
    kernel: String,
    /// How long to hash, in seconds (per kernel with --kernel all); --time-limit is
    /// cpuminer's name for it.
    #[arg(long, visible_alias = "time-limit", default_value_t = 10.0)]
    seconds: f64,
    /// End with one line of JSON per kernel: kernel, threads, seconds, hashes, hashrate,
    /// interrupted, version_rolling.
    #[arg(long)]
    json: bool,
    /// Hash one header at a time, as mining on a pool without version rolling does (and as
    /// cpuminer's --benchmark does); by default headers come eight versions at a time
    /// (BIP 320), as on a pool that grants version rolling (most do).
    #[arg(long = "no-version-rolling")]
    no_version_rolling: bool,
}

/// The genesis header with ntime + index / group and, in each group, the version bits
/// 13.. set to index % group: an endless supply of distinct headers, so the bench exercises
/// moving on to new header variants like a real worker does, and with `group` 8 the
/// headers a pool's version rolling gives.
struct BenchHeaders {
    header: [u8; 80],
    group: u64,
}

impl WorkSource for BenchHeaders {
    fn header(&self, index: u64) -> Option<[u8; 80]> {
        let mut header = self.header;
        let (step, roll) = (index / self.group, index % self.group);
        let version = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        header[0..4].copy_from_slice(&(version | (roll as u32) << 13).to_le_bytes());
        let time = u32::from_le_bytes([header[68], header[69], header[70], header[71]]);
        header[68..72].copy_from_slice(&time.wrapping_add(step as u32).to_le_bytes());
        Some(header)
    }

    fn version_group(&self) -> u64 {
        self.group
    }
}

const GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

/// What one kernel's run measured.
struct Outcome {
    kernel: &'static str,
    threads: usize,
    seconds: f64,
    hashes: u64,
    shares: usize,
    /// Ended by a signal before its time was up.
    interrupted: bool,
    /// Headers hashed eight versions at a time.
    version_rolling: bool,
}

impl Outcome {
    fn hashrate(&self) -> f64 {
        self.hashes as f64 / self.seconds
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "kernel": self.kernel,
            "threads": self.threads,
            "seconds": self.seconds,
            "hashes": self.hashes,
            "hashrate": self.hashrate(),
            "interrupted": self.interrupted,
            "version_rolling": self.version_rolling,
        })
    }
}

/// "1 thread", "2 threads".
fn threads_phrase(n: usize) -> String {
    format!("{n} thread{}", if n == 1 { "" } else { "s" })
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    if !(args.seconds > 0.0 && args.seconds <= MAX_SECONDS) {
        return Err(UsageError(format!(
            "seconds: must be above 0 and at most {MAX_SECONDS}, got {}",
            args.seconds
        ))
        .into());
    }
    let threads = super::scan::thread_count(args.threads)?;
    // Kernel warnings (one that failed its self-test under `auto`) go to stderr.
    init_tracing(LogTo::PlainStderr);
    let length = Duration::from_secs_f64(args.seconds);
    let stop = stop_on_signal();
    let mut out = std::io::stdout().lock();
    let run = Run {
        threads,
        length,
        version_rolling: !args.no_version_rolling,
    };
    if args.kernel == "all" {
        return run_all(&run, args.json, &stop, &mut out);
    }
    let kernel = super::scan::pick_kernel(&args.kernel)?;
    let outcome = run_one(kernel, &run, &stop, &mut out)?;
    if args.json {
        writeln!(out, "{}", outcome.json())?;
    }
    Ok(())
}

/// What every kernel of one invocation runs with.
struct Run {
    threads: usize,
    length: Duration,
    version_rolling: bool,
}

/// Every available kernel in turn, then one table; a kernel that fails its self-test gets
/// a row saying so instead of a rate.
fn run_all(run: &Run, json: bool, stop: &Receiver<()>, out: &mut impl Write) -> anyhow::Result<()> {
    let mut rows: Vec<Row> = Vec::new();
    for kind in kernels::available() {
        match kernels::select(kind) {
            Ok(kernel) => {
                let outcome = run_one(kernel, run, stop, out)?;
                let interrupted = outcome.interrupted;
                rows.push(Ok(outcome));
                if interrupted {
                    break;
                }
            }
            Err(e) => rows.push(Err((kind.as_str(), e.to_string()))),
        }
    }
    print_table(&rows, run.threads, json, out)
}

/// A kernel's outcome, or its name and why it was not run.
type Row = Result<Outcome, (&'static str, String)>;

/// The `--kernel all` table, then (with `--json`) one JSON object per kernel.
fn print_table(
    rows: &[Row],
    threads: usize,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let rate_head = format!("hashrate ({})", threads_phrase(threads));
    let width = rate_head.len();
    writeln!(out, "kernel    {rate_head}  hashes")?;
    for row in rows {
        match row {
            Ok(o) => writeln!(
                out,
                "{:<8}  {:>width$}  {}{}",
                o.kernel,
                human_rate(o.hashrate()),
                o.hashes,
                if o.interrupted { " (interrupted)" } else { "" }
            )?,
            Err((name, why)) => writeln!(out, "{name:<8}  {:>width$}  {why}", "not used")?,
        }
    }
    if json {
        for row in rows {
            match row {
                Ok(o) => writeln!(out, "{}", o.json())?,
                Err((name, why)) => {
                    writeln!(out, "{}", serde_json::json!({"kernel": name, "error": why}))?
                }
            }
        }
    }
    Ok(())
}

/// One kernel for `length` or until a signal: progress lines, then the total line.
fn run_one(
    kernel: &'static dyn Kernel,
    run: &Run,
    stop: &Receiver<()>,
    out: &mut impl Write,
) -> anyhow::Result<Outcome> {
    let Run {
        threads,
        length,
        version_rolling,
    } = *run;
    let miner = Miner::new(threads, kernel)?;
    writeln!(
        out,
        "bench: kernel {}, {}, {} s, {}",
        kernels::describe(kernel),
        threads_phrase(threads),
        length.as_secs_f64(),
        if version_rolling {
            "headers eight versions at a time (version rolling)"
        } else {
            "one header at a time (no version rolling)"
        }
    )?;
    let (tx, shares) = mpsc::channel();
    let t0 = Instant::now();
    miner.start_job(bench_job(version_rolling), tx)?;
    let interrupted = report_until(&miner, t0, length, stop, out)?;
    miner.stop();
    let outcome = Outcome {
        kernel: kernel.name(),
        threads,
        seconds: t0.elapsed().as_secs_f64(),
        hashes: miner.total_hashes(),
        shares: shares.try_iter().count(),
        interrupted,
        version_rolling,
    };
    writeln!(
        out,
        "total: {} hashes in {:.2} s = {} ({}, kernel {}, {} diff-1 shares){}",
        outcome.hashes,
        outcome.seconds,
        human_rate(outcome.hashrate()),
        threads_phrase(threads),
        outcome.kernel,
        outcome.shares,
        if interrupted { ", interrupted" } else { "" }
    )?;
    Ok(outcome)
}

/// A channel that receives once on the first SIGINT or SIGTERM. The watcher lives on its
/// own thread with a small runtime (the bench itself is not async); this returns once the
/// handlers are installed, so a signal from then on is never the default kill. If the
/// watcher cannot start, the bench simply runs its full time.
fn stop_on_signal() -> Receiver<()> {
    let (tx, rx) = mpsc::sync_channel(1);
    let (ready_tx, ready) = mpsc::sync_channel(1);
    let watcher = move || {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        let _context = runtime.enter();
        // Created here, the handlers are in place before `ready` is sent.
        let handlers = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        );
        let _ = ready_tx.send(());
        if let (Ok(mut int), Ok(mut term)) = handlers {
            runtime.block_on(async {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            });
            let _ = tx.try_send(());
        }
    };
    let spawned = std::thread::Builder::new()
        .name("bench-signal".into())
        .spawn(watcher);
    if spawned.is_ok() {
        // An error only means the watcher gave up before installing anything.
        let _ = ready.recv();
    }
    rx
}

/// Every nonce of an endless run of headers, at difficulty 1: diff-1 shares are real
/// shares, and rare enough to cost nothing.
fn bench_job(version_rolling: bool) -> ScanJob {
    let mut header = [0u8; 80];
    hex::decode_to_slice(GENESIS, &mut header).expect("GENESIS is 160 hex digits");
    let group = if version_rolling {
        kernels::MAX_VERSIONS as u64
    } else {
        1
    };
    ScanJob {
        id: 0,
        source: Arc::new(BenchHeaders { header, group }),
        target: DIFF1,
        nonce_start: 0,
        nonce_count: NONCE_SPACE,
    }
}

/// Waits in steps of [`REPORT_EVERY`] until `length` has passed since `t0` or `stop`
/// receives, printing the hashrate of each thread and the total over each step. Returns
/// whether it was stopped early.
fn report_until(
    miner: &Miner,
    t0: Instant,
    length: Duration,
    stop: &Receiver<()>,
    out: &mut impl Write,
) -> std::io::Result<bool> {
    let mut last = (t0, miner.hashes_per_thread());
    loop {
        let left = length.saturating_sub(t0.elapsed());
        if left.is_zero() {
            return Ok(false);
        }
        match stop.recv_timeout(left.min(REPORT_EVERY)) {
            Ok(()) => return Ok(true),
            // No watcher (it could not start): just the time limit.
            Err(RecvTimeoutError::Disconnected) => std::thread::sleep(left.min(REPORT_EVERY)),
            Err(RecvTimeoutError::Timeout) => {}
        }
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
