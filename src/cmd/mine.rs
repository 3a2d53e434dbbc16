//! `mesos-miner mine`: the standalone Stratum miner, with cpuminer's flags (spec/stratum.md
//! Part A.3): `-o URL` (repeat for failover), `-u`, `-p`, `-t`, `-r`, `-R`, `-T`, `-q`, `-c`,
//! `--benchmark`, plus `--kernel`, `--suggest-diff`, `--cert` and `--api-bind`.

mod config;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use miner_core::Miner;
use miner_core::kernels::Kernel;
use miner_core::meter::human_rate;
use miner_core::worker::{self, Stopped, WorkerConfig, WorkerOptions, api};

use crate::UsageError;
use crate::signals::{LogTo, init_tracing, shutdown_token};

#[derive(clap::Args, Debug, Default)]
pub(crate) struct Args {
    /// Pool URL: stratum+tcp://HOST:PORT, stratum+ssl://HOST:PORT or HOST:PORT. Repeat for
    /// failover pools, best first.
    #[arg(short = 'o', long = "url", value_name = "URL")]
    url: Vec<String>,
    /// Username for mining.authorize (often ADDRESS.WORKER).
    #[arg(short = 'u', long)]
    user: Option<String>,
    /// Password for mining.authorize.
    #[arg(short = 'p', long, env = "MESOS_MINER_PASS", hide_env_values = true)]
    pass: Option<String>,
    /// Search threads [default: the number of cores].
    #[arg(short = 't', long)]
    threads: Option<usize>,
    /// Failed connection attempts in a row before giving up (-1 = forever) [default: -1].
    #[arg(short = 'r', long, allow_negative_numbers = true)]
    retries: Option<i64>,
    /// Longest pause between reconnect rounds, seconds (backoff cap) [default: 30].
    #[arg(short = 'R', long = "retry-pause", value_name = "SECONDS")]
    retry_pause: Option<f64>,
    /// Reconnect when the pool sends nothing for this long; also the connect and answer
    /// timeout, seconds [default: 120].
    #[arg(short = 'T', long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// No periodic hashrate lines.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// JSON file of options (keys = long flag names); the command line wins.
    #[arg(short = 'c', long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Mine a fixed synthetic job offline and print the hashrate.
    #[arg(long)]
    benchmark: bool,
    /// Kernel: auto, avx512, avx2, sha-ni or portable [default: auto].
    #[arg(long)]
    kernel: Option<String>,
    /// Ask the pool for this share difficulty (mining.suggest_difficulty).
    #[arg(long = "suggest-diff", value_name = "DIFF")]
    suggest_diff: Option<f64>,
    /// PEM certificate(s) to trust for stratum+ssl:// pools instead of the system roots.
    #[arg(long, value_name = "FILE")]
    cert: Option<PathBuf>,
    /// Serve GET /summary (JSON) on this address, e.g. 127.0.0.1:4048.
    #[arg(long = "api-bind", value_name = "HOST:PORT")]
    api_bind: Option<String>,
    /// While on a backup pool, probe the better ones this often, seconds [default: 30].
    #[arg(long = "failback-interval", value_name = "SECONDS")]
    failback_interval: Option<f64>,
    /// Print the hashrate line this often, seconds [default: 30].
    #[arg(long = "report-interval", value_name = "SECONDS")]
    report_interval: Option<f64>,
    /// Do not ask for BIP310 version rolling.
    #[arg(long = "no-version-rolling")]
    no_version_rolling: bool,
}

impl Args {
    /// The worker options the flags (and the `-c` file) gave.
    fn worker_options(&self) -> WorkerOptions {
        WorkerOptions {
            urls: self.url.clone(),
            user: self.user.clone(),
            pass: self.pass.clone(),
            retries: self.retries,
            retry_pause: self.retry_pause,
            timeout: self.timeout,
            failback_interval: self.failback_interval,
            report_interval: self.report_interval,
            quiet: self.quiet,
            no_version_rolling: self.no_version_rolling,
            suggest_diff: self.suggest_diff,
            cert: self.cert.clone(),
        }
    }
}

fn usage(e: impl std::fmt::Display) -> UsageError {
    UsageError(e.to_string())
}

/// What one run mines.
enum Work {
    /// Pools, with the checked worker config.
    Pool(WorkerConfig),
    /// The fixed offline job, reporting at this interval.
    Benchmark(Duration),
}

pub(crate) fn run(mut args: Args) -> anyhow::Result<()> {
    if let Some(path) = args.config.clone() {
        config::merge_file(&mut args, &path)?;
    }
    init_tracing(LogTo::Stdout);
    let threads = thread_count(args.threads)?;
    let kernel = pick_kernel(args.kernel.as_deref().unwrap_or("auto"))?;
    let options = args.worker_options();
    let work = if args.benchmark {
        Work::Benchmark(options.benchmark_report_interval().map_err(usage)?)
    } else {
        Work::Pool(options.build().map_err(usage)?)
    };
    let api_addr = api_addr(args.api_bind.as_deref())?;
    let miner = Arc::new(Miner::new(threads, kernel)?);
    let status = worker::shared_status(kernel.name(), threads);
    tracing::info!("{threads} threads, kernel {}", kernel.name());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let run = mine(work, api_addr, miner.clone(), status.clone(), args.quiet);
    let stopped = runtime.block_on(run)?;
    // One last sample, so the summary counts every hash done.
    if let Ok(mut s) = status.lock() {
        s.record_hashes(std::time::Instant::now(), &miner.hashes_per_thread());
    }
    print_summary(&status);
    runtime.shutdown_timeout(Duration::from_millis(200));
    match stopped {
        Stopped::Shutdown => Ok(()),
        Stopped::GaveUp => anyhow::bail!("no pool could be mined (retries exhausted)"),
    }
}

fn api_addr(api_bind: Option<&str>) -> Result<Option<SocketAddr>, UsageError> {
    api_bind
        .map(|a| {
            a.parse()
                .map_err(|_| UsageError(format!("api-bind: {a:?} is not HOST:PORT")))
        })
        .transpose()
}

/// Serves the API (if asked) and mines until shutdown or, on pools, until giving up.
async fn mine(
    work: Work,
    api_addr: Option<SocketAddr>,
    miner: Arc<Miner>,
    status: api::SharedStatus,
    quiet: bool,
) -> anyhow::Result<Stopped> {
    let shutdown = shutdown_token();
    if let Some(addr) = api_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| UsageError(format!("api-bind {addr}: {e}")))?;
        tracing::info!("API on http://{addr}/summary");
        tokio::spawn(api::serve(listener, status.clone(), shutdown.clone()));
    }
    match work {
        Work::Benchmark(report) => {
            worker::benchmark(miner, status, report, quiet, shutdown).await?;
            Ok(Stopped::Shutdown)
        }
        Work::Pool(c) => Ok(worker::run(c, miner, status, shutdown).await),
    }
}

fn thread_count(threads: Option<usize>) -> Result<usize, UsageError> {
    worker::thread_count(threads).map_err(usage)
}

fn pick_kernel(name: &str) -> Result<&'static dyn Kernel, UsageError> {
    worker::pick_kernel(name).map_err(usage)
}

fn print_summary(status: &api::SharedStatus) {
    let s = api::snapshot(status);
    let rate = |r: Option<f64>| r.map_or_else(|| "-".to_owned(), human_rate);
    tracing::info!(
        "summary: accepted {}, rejected {}, stale {}; {} hashes; hashrate {} (10 s) {} (60 s) {} (15 min); up {:.0} s",
        s.accepted,
        s.rejected,
        s.stale,
        s.hashes,
        rate(s.hashrate_10s),
        rate(s.hashrate_60s),
        rate(s.hashrate_15m),
        s.uptime_seconds
    );
}
