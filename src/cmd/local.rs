//! `mesos-miner local`: a Mesos-compatible master and agents on 127.0.0.1 (the
//! `local-cluster` crate) for other programs to use; prints the master URL and runs until
//! SIGINT / SIGTERM, then kills every executor it started.

use std::path::PathBuf;
use std::time::Duration;

use local_cluster::{ClusterConfig, LocalCluster};

use crate::UsageError;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Number of agents.
    #[arg(long, default_value_t = 1)]
    pub agents: usize,
    /// CPUs offered by each agent (default: this host's CPU count).
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
    let cpus = args.cpus.unwrap_or(host_cpus);
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

pub fn run(args: Args) -> anyhow::Result<()> {
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
        wait_for_signal().await;
        cluster.shutdown().await;
        anyhow::Ok(())
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
