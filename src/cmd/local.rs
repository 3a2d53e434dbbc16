//! `mesos-miner local`: the embedded default. A Mesos-compatible master and agents on
//! 127.0.0.1 (the `local-cluster` crate), the scheduler on it in this process, and through
//! Mesos the builtin pool server (demo jobs unless `--bitcoind-url` is given) and one worker
//! per agent on our custom executor, which the agents fetch from the scheduler. Prints the
//! master and web URLs and, every few seconds, the tasks and the cluster hashrate; Ctrl-C
//! tears the framework down, then stops the cluster, killing every executor it started.
//! `--cluster-only` runs just the cluster, for other frameworks and tests.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use local_cluster::{ClusterConfig, LocalCluster};
use scheduler::{SchedulerConfig, StateView};
use tokio_util::sync::CancellationToken;

use crate::UsageError;
use crate::cmd::scheduler::TaskArgs;
use crate::signals::{LogTo, init_tracing, shutdown_signal};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Number of agents.
    #[arg(long, default_value_t = 1)]
    pub agents: usize,
    /// CPUs offered by each agent (default: this host's CPUs shared among the agents).
    #[arg(long)]
    pub cpus: Option<f64>,
    /// Memory offered by each agent, in MB.
    #[arg(long, default_value_t = 2048.0)]
    pub mem: f64,
    /// Disk offered by each agent, in MB.
    #[arg(long, default_value_t = 10240.0)]
    pub disk: f64,
    /// Master port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 5050)]
    pub port: u16,
    /// Seconds between HEARTBEAT events on scheduler streams.
    #[arg(long, default_value_t = 15.0)]
    pub heartbeat: f64,
    /// Root of the executors' sandboxes (default: a fresh directory under the temp dir).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Mesos credentials file (`{"credentials":[{"principal":"p","secret":"s"}]}`): enables
    /// HTTP Basic authentication of frameworks. Secrets stay out of the process listing.
    #[arg(long, env = "MESOS_MINER_CREDENTIALS")]
    pub credentials: Option<PathBuf>,
    /// Run only the cluster (no scheduler, no tasks): for other frameworks and for tests.
    #[arg(long)]
    pub cluster_only: bool,
    /// The scheduler's web UI, /api/state and /metrics (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub web_bind: SocketAddr,
    /// The scheduler's state directory (default: under the work dir).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Seconds between the task tables printed (0: none).
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub status_interval: f64,
    #[command(flatten)]
    pub tasks: TaskArgs,
}

fn credentials(path: &PathBuf) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("--credentials {}: {e}", path.display())))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| UsageError(format!("--credentials: not JSON ({e})")))?;
    let list = json["credentials"]
        .as_array()
        .ok_or_else(|| UsageError("--credentials: expected {\"credentials\": [...]}".into()))?;
    let mut out = Vec::new();
    for c in list {
        match (c["principal"].as_str(), c["secret"].as_str()) {
            (Some(p), Some(s)) => out.push((p.to_string(), s.to_string())),
            _ => {
                return Err(UsageError(
                    "--credentials: each entry needs principal and secret".into(),
                )
                .into());
            }
        }
    }
    Ok(out)
}

fn config(args: &Args) -> anyhow::Result<ClusterConfig> {
    if args.agents == 0 || args.agents > 64 {
        return Err(UsageError("--agents must be between 1 and 64".into()).into());
    }
    let host_cpus = std::thread::available_parallelism()
        .map(|n| n.get() as f64)
        .unwrap_or(1.0);
    // Several agents share this host's cpus rather than each pretending to own them all.
    let cpus = args
        .cpus
        .unwrap_or_else(|| (host_cpus / args.agents as f64).max(1.0));
    for (name, v) in [("--cpus", cpus), ("--mem", args.mem), ("--disk", args.disk)] {
        if !v.is_finite() || v <= 0.0 || v > 1e9 {
            return Err(UsageError(format!("{name} must be a positive number")).into());
        }
    }
    if !args.heartbeat.is_finite() || args.heartbeat <= 0.0 || args.heartbeat > 86400.0 {
        return Err(UsageError("--heartbeat must be between 0 and 86400 seconds".into()).into());
    }
    let mut cfg = ClusterConfig {
        agents: args.agents,
        cpus,
        mem: args.mem,
        disk: args.disk,
        ..ClusterConfig::default()
    };
    cfg.master.port = args.port;
    cfg.master.heartbeat = Duration::from_secs_f64(args.heartbeat);
    if let Some(path) = &args.credentials {
        cfg.master.credentials = credentials(path)?;
    }
    if let Some(dir) = &args.work_dir {
        cfg.work_dir = dir.clone();
        cfg.remove_work_dir = false;
    }
    Ok(cfg)
}

/// The scheduler's configuration: on this cluster, its state under the work dir, the
/// task options of the flags (a builtin server runs demo jobs unless given a node).
fn scheduler_config(
    args: &Args,
    cluster: &LocalCluster,
    work_dir: &std::path::Path,
) -> Result<SchedulerConfig, UsageError> {
    let mut cfg = SchedulerConfig {
        masters: cluster.master_urls(),
        state_dir: args
            .state_dir
            .clone()
            .unwrap_or_else(|| work_dir.join("scheduler-state")),
        web_bind: args.web_bind,
        ..SchedulerConfig::default()
    };
    cfg.framework.name = "mesos-miner (local)".into();
    args.tasks.apply(&mut cfg, true)?;
    Ok(cfg)
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    init_tracing(LogTo::Stdout);
    let cfg = config(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let work_dir = cfg.work_dir.clone();
        let cluster = LocalCluster::start(cfg).await?;
        println!("master: {}", cluster.master_url());
        for id in cluster.agent_ids() {
            println!("agent {id}: {}", cluster.agent_url(&id).unwrap_or_default());
        }
        println!("sandboxes: {}", work_dir.display());
        let result = if args.cluster_only {
            shutdown_signal().await;
            Ok(())
        } else {
            run_framework(&args, &cluster, &work_dir).await
        };
        cluster.shutdown().await;
        result
    })
}

/// Runs the scheduler until Ctrl-C, printing the task table; then tears the framework
/// down (bounded), so no executor outlives `local`.
async fn run_framework(
    args: &Args,
    cluster: &LocalCluster,
    work_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let cfg = scheduler_config(args, cluster, work_dir)?;
    let stop = CancellationToken::new();
    let handle = scheduler::start(cfg, stop.clone()).await?;
    println!("web: http://{}", handle.web_addr());
    let every = Duration::try_from_secs_f64(args.status_interval).unwrap_or(Duration::ZERO);
    let mut ticker = tokio::time::interval(every.max(Duration::from_millis(100)));
    ticker.tick().await;
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            _ = &mut signal => break,
            _ = ticker.tick(), if !every.is_zero() => print!("{}", table(&handle.state())),
        }
    }
    println!("stopping: tearing the framework down");
    match tokio::time::timeout(Duration::from_secs(20), handle.teardown()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("mesos-miner local: teardown: {e}"),
        Err(_) => eprintln!("mesos-miner local: teardown took over 20 s; stopping anyway"),
    }
    stop.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), handle.join()).await;
    Ok(())
}

/// The periodic status: the cluster line, then one line per task.
fn table(state: &StateView) -> String {
    use std::fmt::Write;
    let c = &state.cluster;
    let mut out = format!(
        "cluster {} (10 s), {} (1 min); shares {} accepted, {} rejected; {} worker{}; {}\n",
        miner_core::meter::human_rate(c.hashrate_10s),
        miner_core::meter::human_rate(c.hashrate_1m),
        c.shares_accepted,
        c.shares_rejected,
        c.workers,
        if c.workers == 1 { "" } else { "s" },
        if state.subscribed {
            "subscribed"
        } else {
            "not subscribed"
        },
    );
    for t in &state.tasks {
        let worker = t.kind == proto::framework::TaskKind::Worker;
        let threads = t
            .threads
            .filter(|_| worker)
            .map_or("-".into(), |n| n.to_string());
        let kernel = t.kernel.as_deref().filter(|k| worker && !k.is_empty());
        let _ = writeln!(
            out,
            "  {:<44} {:<15} {:>7} threads {:<8} {:>12} {:>6} accepted",
            t.task_id,
            t.state.trim_start_matches("TASK_"),
            threads,
            kernel.unwrap_or("-"),
            miner_core::meter::human_rate(t.hashrate_10s),
            t.shares_accepted,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_cluster_line_and_a_row_per_task() {
        let mut state = StateView::default();
        state.cluster.hashrate_10s = 2.5e6;
        state.cluster.workers = 1;
        state.subscribed = true;
        let text = table(&state);
        assert!(text.starts_with("cluster 2.50 MH/s (10 s)"), "{text}");
        assert!(text.contains("1 worker; subscribed"), "{text}");
        assert_eq!(text.lines().count(), 1);
    }
}
