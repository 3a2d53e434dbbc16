//! `mesos-miner mine`: the standalone Stratum miner, with cpuminer's flags (spec/stratum.md
//! Part A.3): `-o URL` (repeat for failover), `-u`, `-p`, `-O USER:PASS`, `-a sha256d`, `-t`,
//! `-r`, `-R`, `-T`, `-q`, `-c`, `--benchmark`, `--cpu-affinity`, `--cpu-priority`,
//! `--no-color`, plus `--kernel`, `--suggest-diff`, `--cert` and `--api-bind`. With `-o
//! http://NODE:8332 --coinbase-addr ADDR` it mines solo against the node ([`solo`]). The
//! hashing threads run at nice 19 and `SCHED_IDLE` unless `--cpu-priority` says otherwise
//! ([`cpu`]).

mod argv;
mod config;
mod cpu;
mod solo;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use miner_core::Miner;
use miner_core::kernels::Kernel;
use miner_core::meter::human_rate;
use miner_core::worker::{self, Stopped, WorkerConfig, WorkerOptions, api};

use crate::UsageError;
use crate::signals::{LogTo, init_tracing_coloured, shutdown_token, stdout_colour};

/// The one algorithm mined (cpuminer's `-a` name for Bitcoin's double SHA-256).
const ALGO: &str = "sha256d";

#[derive(clap::Args, Debug, Default)]
pub(crate) struct Args {
    /// Pool URL: stratum+tcp://HOST:PORT, stratum+ssl://HOST:PORT or HOST:PORT. Repeat for
    /// failover pools, best first.
    #[arg(short = 'o', long = "url", value_name = "URL")]
    url: Vec<String>,
    /// Username for mining.authorize (often ADDRESS.WORKER).
    #[arg(short = 'u', long)]
    user: Option<String>,
    /// Password for mining.authorize (solo: the node's RPC password).
    #[arg(short = 'p', long, env = "MESOS_MINER_PASS", hide_env_values = true)]
    pass: Option<String>,
    /// USER:PASS in one (cpuminer's -O); the user may not also be given with -u, the
    /// password wins over -p.
    #[arg(short = 'O', long, value_name = "USER:PASS")]
    userpass: Option<String>,
    /// Algorithm; sha256d is the only one mined [default: sha256d].
    #[arg(short = 'a', long, value_name = "ALGO")]
    algo: Option<String>,
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
    /// Do not ask for BIP310 version rolling (which lets the kernels hash eight versions of
    /// a header together); with --benchmark, hash one header at a time.
    #[arg(long = "no-version-rolling")]
    no_version_rolling: bool,
    /// Follow client.reconnect to any host (by default only to the -o URL's host).
    #[arg(long = "allow-redirect")]
    allow_redirect: bool,
    /// Pin the hashing threads round-robin to the CPUs of this bitmask (hex 0x… or
    /// decimal), as cpuminer.
    #[arg(long = "cpu-affinity", value_name = "MASK")]
    cpu_affinity: Option<String>,
    /// cpuminer's priority scale: 0 = nice 19 and SCHED_IDLE, 1..5 = nice 5, 0, -5, -10,
    /// -15 [default: 0].
    #[arg(long = "cpu-priority", value_name = "N")]
    cpu_priority: Option<u8>,
    /// No ANSI colour in the log (there is none anyway when stdout is not a terminal or
    /// NO_COLOR is set).
    #[arg(long = "no-color")]
    no_color: bool,
    /// Solo mining (-o http://NODE:8332): the address the block reward pays.
    #[arg(long = "coinbase-addr", value_name = "ADDRESS")]
    coinbase_addr: Option<String>,
    /// Solo mining: the node's .cookie file, instead of -u/-p.
    #[arg(long = "rpc-cookie-file", value_name = "FILE")]
    rpc_cookie_file: Option<PathBuf>,
    /// Solo mining: where found blocks are written before submitblock [default: solo-data].
    #[arg(long = "data-dir", value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl Args {
    /// The worker options the flags (and the `-c` file) gave; the others at their defaults.
    // The struct update is for options the worker gains before `mine` has a flag for them.
    #[allow(clippy::needless_update)]
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
            allow_redirect: self.allow_redirect,
            ..WorkerOptions::default()
        }
    }
}

fn usage(e: impl std::fmt::Display) -> UsageError {
    UsageError(e.to_string())
}

/// `-a`: sha256d or nothing (cpuminer spells it so; case does not matter).
fn check_algo(algo: Option<&str>) -> Result<(), UsageError> {
    match algo {
        Some(a) if !a.trim().eq_ignore_ascii_case(ALGO) => Err(UsageError(format!(
            "algo {a:?} is not mined here: mesos-miner mines {ALGO} (Bitcoin) only"
        ))),
        _ => Ok(()),
    }
}

impl Args {
    /// Splits `-O USER:PASS` into the user and password.
    fn take_userpass(&mut self) -> Result<(), UsageError> {
        let Some(up) = self.userpass.take() else {
            return Ok(());
        };
        let (user, pass) = up
            .split_once(':')
            .ok_or_else(|| UsageError("userpass: expected USER:PASS (-O)".into()))?;
        if self.user.as_deref().is_some_and(|u| u != user) {
            return Err(UsageError(
                "userpass: -O USER:PASS and -u both name the user; give one".into(),
            ));
        }
        self.user = Some(user.to_owned());
        self.pass = Some(pass.to_owned());
        Ok(())
    }

    /// What to mine: the benchmark, a node (solo) or Stratum pools.
    fn work(&self) -> Result<Work, UsageError> {
        let options = self.worker_options();
        if self.benchmark {
            return Ok(Work::Benchmark(
                options.benchmark_report_interval().map_err(usage)?,
                !self.no_version_rolling,
            ));
        }
        if !self.url.iter().any(|u| solo::is_node_url(u)) {
            if self.coinbase_addr.is_some() || self.rpc_cookie_file.is_some() {
                return Err(UsageError(
                    "coinbase-addr and rpc-cookie-file are for solo mining on a node \
                     (-o http://NODE:8332)"
                        .into(),
                ));
            }
            return Ok(Work::Pool(options.build().map_err(usage)?));
        }
        let [url] = self.url.as_slice() else {
            return Err(UsageError(format!(
                "solo mining takes one node URL (-o http://NODE:8332), got {} URLs",
                self.url.len()
            )));
        };
        let data_dir = self.data_dir.clone().unwrap_or_else(|| "solo-data".into());
        let solo = solo::Solo::new(solo::SoloFlags {
            url,
            user: self.user.as_deref(),
            pass: self.pass.as_deref(),
            cookie: self.rpc_cookie_file.as_deref(),
            address: self.coinbase_addr.as_deref(),
            data_dir: &data_dir,
        })?;
        // The worker's other options are checked now; its pool (the in-process one) is
        // known once that pool listens. It authorizes without the RPC credentials.
        let local = WorkerOptions {
            urls: vec!["127.0.0.1:1".into()],
            user: Some("solo".into()),
            pass: Some("x".into()),
            ..options
        };
        Ok(Work::Solo(Box::new(solo), local.build().map_err(usage)?))
    }
}

/// What one run mines.
enum Work {
    /// Pools, with the checked worker config.
    Pool(WorkerConfig),
    /// A node, through the in-process pool; the config's pool is replaced by that one.
    Solo(Box<solo::Solo>, WorkerConfig),
    /// The fixed offline job, reporting at this interval; whether its headers roll their
    /// version (as on a pool that grants it).
    Benchmark(Duration, bool),
}

pub(crate) fn run(mut args: Args) -> anyhow::Result<()> {
    argv::hide_passwords();
    if let Some(path) = args.config.clone() {
        config::merge_file(&mut args, &path)?;
    }
    init_tracing_coloured(LogTo::Stdout, stdout_colour(args.no_color));
    check_algo(args.algo.as_deref())?;
    args.take_userpass()?;
    let threads = thread_count(args.threads)?;
    let kernel = pick_kernel(args.kernel.as_deref().unwrap_or("auto"))?;
    let allowed = cpu::allowed_cpus();
    let plan = cpu::CpuPlan::new(args.cpu_priority, args.cpu_affinity.as_deref(), &allowed)?;
    let work = args.work()?;
    let api_addr = api_addr(args.api_bind.as_deref())?;
    let miner = start_miner(threads, kernel, plan)?;
    let status = worker::shared_status(kernel.name(), threads);
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

/// The search threads, each set up by `plan` before it hashes (warnings logged once).
fn start_miner(
    threads: usize,
    kernel: &'static dyn Kernel,
    plan: cpu::CpuPlan,
) -> anyhow::Result<Arc<Miner>> {
    let described = plan.describe();
    let (handler, applied) = plan.start_handler(threads);
    let miner = Miner::with_thread_start(threads, kernel, handler)?;
    for warning in applied.warnings() {
        tracing::warn!("{warning}");
    }
    let plural = if threads == 1 { "thread" } else { "threads" };
    tracing::info!(
        "{threads} {plural}, kernel {}",
        miner_core::kernels::describe(kernel)
    );
    tracing::info!("hashing threads: {described}");
    Ok(Arc::new(miner))
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
        Work::Benchmark(report, rolling) => {
            worker::benchmark(miner, rolling, status, report, quiet, shutdown).await?;
            Ok(Stopped::Shutdown)
        }
        Work::Pool(c) => Ok(worker::run(c, miner, status, shutdown).await),
        Work::Solo(solo, c) => mine_solo(&solo, c, miner, status, shutdown).await,
    }
}

/// Starts the in-process pool on the node, mines on it, and stops it at the end (found
/// blocks not yet accepted stay in the data dir and are resubmitted at the next start).
async fn mine_solo(
    solo: &solo::Solo,
    mut config: WorkerConfig,
    miner: Arc<Miner>,
    status: api::SharedStatus,
    shutdown: tokio_util::sync::CancellationToken,
) -> anyhow::Result<Stopped> {
    tracing::info!("solo mining on {} (getblocktemplate)", solo.url());
    let (mut pool, url) = tokio::select! {
        started = solo.start() => started?,
        _ = shutdown.cancelled() => return Ok(Stopped::Shutdown),
    };
    config.pools = vec![url];
    let stop = shutdown.child_token();
    let run = worker::run(config, miner, status, stop.clone());
    tokio::pin!(run);
    let outcome = tokio::select! {
        stopped = &mut run => Ok(stopped),
        closed = pool.closed() => {
            stop.cancel();
            run.await;
            Err(anyhow::anyhow!("solo mining stopped: {}", closed.0))
        }
    };
    let s = pool.status();
    tracing::info!(
        "solo: {} blocks found, {} accepted by the node",
        s.blocks_found,
        s.blocks_accepted
    );
    pool.shutdown().await;
    outcome
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
        "summary: accepted {}, rejected {}, stale {}, dropped {}; {} hashes; hashrate {} (10 s) {} (60 s) {} (15 min); up {:.0} s",
        s.accepted,
        s.rejected,
        s.stale,
        s.dropped,
        s.hashes,
        rate(s.hashrate_10s),
        rate(s.hashrate_60s),
        rate(s.hashrate_15m),
        s.uptime_seconds
    );
}
