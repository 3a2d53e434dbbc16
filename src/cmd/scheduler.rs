//! `mesos-miner scheduler`: the Mesos framework against real masters. Flags become a
//! [`scheduler::SchedulerConfig`]; the server and worker options are one reusable group
//! ([`TaskArgs`]) that `mesos-miner local` flattens too. Secrets come from files, never
//! from the command line: `--secret-file` (framework), `--rpc-password-file` (bitcoind;
//! carried to the pool in TaskInfo.data, which Mesos's /state does not show — except for
//! `--server p2pool`, whose image takes the password as an argument, as the original did).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use proto::framework::NodeSpec;
use scheduler::{BuiltinServer, P2poolServer, SchedulerConfig, Secret, ServerConfig};

use crate::UsageError;
use crate::signals::{LogTo, init_tracing, shutdown_token};

/// Which pool the workers mine on.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ServerKind {
    /// The built-in Stratum pool server, as a task on our executor.
    Builtin,
    /// The original framework's Docker p2pool task.
    P2pool,
    /// No server task: `--pool-url`.
    External,
}

/// Server and worker options, shared by `scheduler` and `local`.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct TaskArgs {
    /// Server task kind.
    #[arg(
        long,
        value_enum,
        default_value = "builtin",
        env = "MESOS_MINER_SERVER"
    )]
    pub server: ServerKind,
    /// Builtin server without a node: synthetic jobs (no block found can be valid).
    #[arg(long)]
    pub demo: bool,
    /// bitcoind JSON-RPC URL, as the agents reach it.
    #[arg(long, env = "MESOS_MINER_BITCOIND_URL")]
    pub bitcoind_url: Option<String>,
    /// RPC user (with --rpc-password-file).
    #[arg(long, env = "MESOS_MINER_RPC_USER")]
    pub rpc_user: Option<String>,
    /// File holding the RPC password (first line), read here.
    #[arg(long, env = "MESOS_MINER_RPC_PASSWORD_FILE", value_name = "FILE")]
    pub rpc_password_file: Option<PathBuf>,
    /// The node's .cookie file, a path on the agents (builtin only).
    #[arg(long, env = "MESOS_MINER_RPC_COOKIE_FILE", value_name = "FILE")]
    pub rpc_cookie_file: Option<String>,
    /// Address the block reward is paid to (also the default worker user).
    #[arg(long, env = "MESOS_MINER_PAYOUT_ADDRESS")]
    pub payout_address: Option<String>,
    /// Starting share difficulty of the builtin server.
    #[arg(long)]
    pub difficulty: Option<f64>,
    /// Builtin server task cpus.
    #[arg(long, default_value_t = 0.1)]
    pub server_cpus: f64,
    /// Builtin server task memory, MB.
    #[arg(long, default_value_t = 256.0)]
    pub server_mem: f64,
    /// Docker image of `--server p2pool`.
    #[arg(long, default_value = scheduler::P2POOL_IMAGE)]
    pub p2pool_image: String,
    /// Run the executor in this Docker image (its entrypoint `mesos-miner`; see the
    /// Dockerfile) instead of fetching the binary: ExecutorInfo.container DOCKER, network
    /// host. The agents need the Docker containerizer and the image.
    #[arg(long, env = "MESOS_MINER_DOCKER_IMAGE", value_name = "IMAGE")]
    pub docker_image: Option<String>,
    /// Pool of `--server external` (stratum+tcp:// or stratum+ssl://).
    #[arg(long, env = "MESOS_MINER_POOL_URL")]
    pub pool_url: Option<String>,
    /// Worker task memory, MB.
    #[arg(long, default_value_t = 128.0)]
    pub worker_mem: f64,
    /// Worker task cpus (default: all the agent has left).
    #[arg(long)]
    pub worker_cpus: Option<f64>,
    /// Most workers in all (default: one set per agent).
    #[arg(long)]
    pub max_workers: Option<usize>,
    /// Most workers on one agent.
    #[arg(long, default_value_t = 1)]
    pub max_workers_per_agent: usize,
    /// Stratum user of the workers (default: the payout address, else "mesos-miner").
    #[arg(long)]
    pub worker_user: Option<String>,
    /// Stratum password of the workers.
    #[arg(long, default_value = "x")]
    pub worker_password: String,
    /// Hashing kernel of the workers.
    #[arg(long, default_value = "auto")]
    pub kernel: String,
    /// Seconds between executor reports.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub report_interval: f64,
    /// Seconds between two points of the web page's hashrate history (/api/history).
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub history_interval: f64,
    /// Refuse filter of declined offers.
    #[arg(long, default_value_t = 120.0, value_name = "SECONDS")]
    pub refuse_seconds: f64,
    /// An UNREACHABLE task is replaced after this.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub unreachable_grace: f64,
}

/// `mesos-miner scheduler` flags.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Mesos masters, comma separated (tried in turn; 307s are followed).
    #[arg(
        long,
        env = "MESOS_MINER_MASTER",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:5050"
    )]
    pub master: Vec<String>,
    /// State directory (framework id, task records); locked while running.
    #[arg(
        long,
        env = "MESOS_MINER_STATE_DIR",
        default_value = "mesos-miner-state"
    )]
    pub state_dir: PathBuf,
    /// Web UI, /api/state, /metrics and the executor download.
    #[arg(long, env = "MESOS_MINER_WEB_BIND", default_value = "127.0.0.1:8080")]
    pub web_bind: SocketAddr,
    /// Base URL agents use to reach --web-bind (127.0.0.1 is wrong on a real cluster).
    #[arg(long, env = "MESOS_MINER_ADVERTISE_URL")]
    pub advertise_url: Option<String>,
    /// Fetch the executor from here instead of from this scheduler.
    #[arg(
        long,
        env = "MESOS_MINER_EXECUTOR_URI",
        conflicts_with = "docker_image"
    )]
    pub executor_uri: Option<String>,
    /// FrameworkInfo.name.
    #[arg(long, default_value = "mesos-miner")]
    pub name: String,
    /// FrameworkInfo.user (default: the user running the scheduler).
    #[arg(long, env = "MESOS_MINER_USER")]
    pub user: Option<String>,
    /// Role(s) to subscribe with.
    #[arg(long, default_value = "*", value_delimiter = ',')]
    pub role: Vec<String>,
    /// FrameworkInfo.principal, and the HTTP Basic user with --secret-file.
    #[arg(long, env = "MESOS_MINER_PRINCIPAL")]
    pub principal: Option<String>,
    /// File holding the HTTP Basic secret (first line).
    #[arg(long, env = "MESOS_MINER_SECRET_FILE", value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
    /// FrameworkInfo.failover_timeout.
    #[arg(long, default_value_t = 604_800.0, value_name = "SECONDS")]
    pub failover_timeout: f64,
    /// Remove the framework and all its tasks, clear the state dir, and exit.
    #[arg(long)]
    pub teardown: bool,
    #[command(flatten)]
    pub tasks: TaskArgs,
}

fn seconds(what: &str, value: f64) -> Result<Duration, UsageError> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| UsageError(format!("--{what}: must be a positive number of seconds")))
}

/// The first line of a secret file.
pub(crate) fn read_secret(what: &str, path: &Path) -> Result<Secret, UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("--{what} {}: {e}", path.display())))?;
    let line = text.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return Err(UsageError(format!("--{what} {} is empty", path.display())));
    }
    Ok(Secret::new(line))
}

impl TaskArgs {
    /// Fills the server, worker and timing parts of `cfg`. With `demo_default` (`local`), a
    /// builtin server without `--bitcoind-url` runs demo jobs.
    pub(crate) fn apply(
        &self,
        cfg: &mut SchedulerConfig,
        demo_default: bool,
    ) -> Result<(), UsageError> {
        cfg.server = self.server_config(demo_default)?;
        cfg.executor.docker_image = match self.docker_image.as_deref() {
            Some(image) if image.is_empty() || image.contains(char::is_whitespace) => {
                return Err(UsageError(format!(
                    "--docker-image {image:?}: not an image name"
                )));
            }
            image => image.map(str::to_owned),
        };
        let w = &mut cfg.worker;
        w.mem = self.worker_mem;
        w.cpus = self.worker_cpus;
        w.max_workers = self.max_workers;
        if self.max_workers_per_agent == 0 {
            return Err(UsageError(
                "--max-workers-per-agent must be at least 1".into(),
            ));
        }
        w.max_per_agent = self.max_workers_per_agent;
        w.user = self
            .worker_user
            .clone()
            .or_else(|| self.payout_address.clone())
            .unwrap_or_else(|| "mesos-miner".into());
        w.password = self.worker_password.clone();
        w.kernel = self.kernel.clone();
        cfg.report_interval = seconds("report-interval", self.report_interval)?;
        cfg.history_interval = seconds("history-interval", self.history_interval)?;
        cfg.timing.refuse = seconds("refuse-seconds", self.refuse_seconds)?;
        cfg.timing.unreachable_grace = seconds("unreachable-grace", self.unreachable_grace)?;
        Ok(())
    }

    fn server_config(&self, demo_default: bool) -> Result<ServerConfig, UsageError> {
        match self.server {
            ServerKind::External => {
                let url = self
                    .pool_url
                    .clone()
                    .ok_or_else(|| UsageError("--server external needs --pool-url".into()))?;
                if !(url.starts_with("stratum+tcp://") || url.starts_with("stratum+ssl://")) {
                    return Err(UsageError(format!(
                        "--pool-url {url}: not stratum+tcp:// or stratum+ssl://"
                    )));
                }
                Ok(ServerConfig::External { pool_url: url })
            }
            ServerKind::P2pool => {
                let user = self.rpc_user.clone().ok_or_else(|| {
                    UsageError("--server p2pool needs --rpc-user and --rpc-password-file".into())
                })?;
                let file = self.rpc_password_file.as_deref().ok_or_else(|| {
                    UsageError("--server p2pool needs --rpc-password-file".into())
                })?;
                let address = match &self.bitcoind_url {
                    Some(url) => host_of(url)?,
                    None => "127.0.0.1".into(),
                };
                Ok(ServerConfig::P2pool(P2poolServer {
                    image: self.p2pool_image.clone(),
                    bitcoind_address: address,
                    rpc_user: user,
                    rpc_password: read_secret("rpc-password-file", file)?,
                    cpus: 1.0,
                    mem: 256.0,
                }))
            }
            ServerKind::Builtin => Ok(ServerConfig::Builtin(self.builtin(demo_default)?)),
        }
    }

    fn builtin(&self, demo_default: bool) -> Result<BuiltinServer, UsageError> {
        let demo = self.demo || (demo_default && self.bitcoind_url.is_none());
        let bitcoind = match (&self.bitcoind_url, demo) {
            (_, true) => None,
            (None, false) => {
                return Err(UsageError(
                    "the builtin server needs --bitcoind-url (or --demo)".into(),
                ));
            }
            (Some(url), false) => Some(self.node(url)?),
        };
        Ok(BuiltinServer {
            demo,
            bitcoind,
            difficulty: self.difficulty,
            cpus: self.server_cpus,
            mem: self.server_mem,
        })
    }

    fn node(&self, url: &str) -> Result<NodeSpec, UsageError> {
        let payout_address = self
            .payout_address
            .clone()
            .ok_or_else(|| UsageError("--payout-address is required with --bitcoind-url".into()))?;
        let mut node = NodeSpec {
            url: url.to_owned(),
            user: None,
            password: None,
            password_file: None,
            cookie_file: None,
            payout_address,
        };
        match (
            &self.rpc_cookie_file,
            &self.rpc_user,
            &self.rpc_password_file,
        ) {
            (Some(cookie), None, None) => node.cookie_file = Some(cookie.clone()),
            (None, Some(user), Some(file)) => {
                node.user = Some(user.clone());
                node.password = Some(read_secret("rpc-password-file", file)?.expose().to_owned());
            }
            _ => {
                return Err(UsageError(
                    "give either --rpc-cookie-file, or --rpc-user with --rpc-password-file".into(),
                ));
            }
        }
        Ok(node)
    }
}

/// The host of `http://host:port/`.
fn host_of(url: &str) -> Result<String, UsageError> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(UsageError(format!("--bitcoind-url {url}: no host")));
    }
    Ok(host.to_owned())
}

/// The library configuration from the flags.
pub(crate) fn config(args: &Args) -> Result<SchedulerConfig, UsageError> {
    let mut cfg = SchedulerConfig {
        masters: args.master.clone(),
        state_dir: args.state_dir.clone(),
        web_bind: args.web_bind,
        advertise_url: args.advertise_url.clone(),
        ..SchedulerConfig::default()
    };
    cfg.executor.uri = args.executor_uri.clone();
    let f = &mut cfg.framework;
    f.name = args.name.clone();
    f.user = args.user.clone();
    f.roles = args.role.clone();
    f.principal = args.principal.clone();
    f.failover_timeout = seconds("failover-timeout", args.failover_timeout)?;
    if let Some(file) = &args.secret_file {
        if args.principal.is_none() {
            return Err(UsageError("--secret-file needs --principal".into()));
        }
        f.secret = Some(read_secret("secret-file", file)?);
    }
    args.tasks.apply(&mut cfg, false)?;
    Ok(cfg)
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    init_tracing(LogTo::Stdout);
    let cfg = config(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        // SIGINT/SIGTERM stop the scheduler without teardown: the tasks keep mining and a
        // restart on the same state dir fails over to them.
        let shutdown = shutdown_token();
        let handle = scheduler::start(cfg, shutdown.clone()).await?;
        println!("web UI on http://{}", handle.web_addr());
        if args.teardown {
            if handle.framework_id().is_none() {
                println!(
                    "no framework id in {}: nothing to tear down",
                    args.state_dir.display()
                );
                handle.stop();
            } else {
                handle.teardown().await?;
                println!("framework torn down");
            }
        }
        let exit = handle.join().await?;
        if exit == scheduler::Exit::FailedOver {
            eprintln!("mesos-miner scheduler: another scheduler took this framework over");
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(argv: &[&str]) -> Result<SchedulerConfig, UsageError> {
        let cli = Cli::try_parse_from(std::iter::once("scheduler").chain(argv.iter().copied()))
            .map_err(|e| UsageError(e.to_string()))?;
        config(&cli.args)
    }

    #[test]
    fn defaults_are_the_issues() {
        let cfg = parse(&["--demo", "--master", "http://m1:5050,http://m2:5050"]).unwrap();
        assert_eq!(cfg.masters, vec!["http://m1:5050", "http://m2:5050"]);
        assert_eq!(cfg.web_bind.to_string(), "127.0.0.1:8080");
        assert_eq!(cfg.timing.refuse, Duration::from_secs(120));
        assert_eq!(cfg.timing.unreachable_grace, Duration::from_secs(60));
        assert_eq!(cfg.worker.max_per_agent, 1);
        assert_eq!(cfg.worker.mem, 128.0);
        assert_eq!(cfg.framework.failover_timeout, Duration::from_secs(604_800));
        let ServerConfig::Builtin(b) = &cfg.server else {
            panic!("builtin")
        };
        assert_eq!((b.cpus, b.mem, b.demo), (0.1, 256.0, true));
    }

    #[test]
    fn bad_combinations_are_usage_errors() {
        assert!(parse(&[]).is_err(), "builtin needs a node or --demo");
        assert!(parse(&["--server", "external"]).is_err());
        assert!(parse(&["--server", "external", "--pool-url", "http://x"]).is_err());
        assert!(parse(&["--server", "p2pool"]).is_err());
        assert!(parse(&["--demo", "--secret-file", "/nonexistent"]).is_err());
        assert!(
            parse(&[
                "--bitcoind-url",
                "http://n:8332/",
                "--payout-address",
                "bcrt1q"
            ])
            .is_err()
        );
        let ext = parse(&["--server", "external", "--pool-url", "stratum+tcp://p:3333"]).unwrap();
        assert!(matches!(ext.server, ServerConfig::External { .. }));
    }

    #[test]
    fn p2pool_and_node_secrets_come_from_files() {
        let dir = std::env::temp_dir().join(format!("sched-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pw = dir.join("pw");
        std::fs::write(&pw, "hunter2\n").unwrap();
        let pw = pw.to_str().unwrap();
        let p2 = parse(&[
            "--server",
            "p2pool",
            "--bitcoind-url",
            "http://10.0.0.5:8332/",
            "--rpc-user",
            "u",
            "--rpc-password-file",
            pw,
        ])
        .unwrap();
        let ServerConfig::P2pool(p) = &p2.server else {
            panic!("p2pool")
        };
        assert_eq!(
            (p.bitcoind_address.as_str(), p.rpc_password.expose()),
            ("10.0.0.5", "hunter2")
        );
        assert_eq!(p.image, "derekchiang/p2pool");
        assert!(!format!("{p2:?}").contains("hunter2"));
        let node = parse(&[
            "--bitcoind-url",
            "http://n:8332/",
            "--payout-address",
            "bcrt1q",
            "--rpc-user",
            "u",
            "--rpc-password-file",
            pw,
        ])
        .unwrap();
        let ServerConfig::Builtin(b) = &node.server else {
            panic!("builtin")
        };
        assert_eq!(
            b.bitcoind.as_ref().unwrap().password.as_deref(),
            Some("hunter2")
        );
        assert_eq!(node.worker.user, "bcrt1q");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn docker_image_goes_to_the_executor_config_and_excludes_executor_uri() {
        let cfg = parse(&["--demo", "--docker-image", "localhost/mesos-miner:dev"]).unwrap();
        assert_eq!(
            cfg.executor.docker_image.as_deref(),
            Some("localhost/mesos-miner:dev")
        );
        assert_eq!(parse(&["--demo"]).unwrap().executor.docker_image, None);
        let both = parse(&[
            "--demo",
            "--docker-image",
            "img",
            "--executor-uri",
            "http://x/mesos-miner",
        ]);
        assert!(both.is_err());
        assert!(parse(&["--demo", "--docker-image", "a b"]).is_err());
        assert!(parse(&["--demo", "--docker-image", ""]).is_err());
    }
}
