//! Typed configuration of the scheduler, with the defaults the issue fixes (and Marathon's
//! where it is silent). The CLI (`mesos-miner scheduler`) and `mesos-miner local` build a
//! [`SchedulerConfig`]; nothing here parses flags or reads files.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use proto::v1::CommandInfo;

/// A secret (framework secret, bitcoind RPC password). `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Everything the scheduler needs. `Default` is a builtin demo pool against
/// `http://127.0.0.1:5050` with state in `./mesos-miner-state`.
#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    /// Master base URLs (`http://m1:5050`), tried in turn.
    pub masters: Vec<String>,
    /// What goes into FrameworkInfo, and HTTP Basic credentials.
    pub framework: FrameworkConfig,
    /// Directory for the framework id and the task records (locked while running).
    pub state_dir: PathBuf,
    /// Where the web UI, `/api/state`, `/metrics` and the executor binary are served.
    pub web_bind: SocketAddr,
    /// Base URL agents use to reach `web_bind` (default `http://<bound address>`).
    pub advertise_url: Option<String>,
    /// How executors are shipped and sized.
    pub executor: ExecutorConfig,
    /// The pool server task.
    pub server: ServerConfig,
    /// The worker tasks.
    pub worker: WorkerConfig,
    /// Milliseconds between executor reports, put into every task spec.
    pub report_interval: Duration,
    /// Between two points of the hashrate history (`/api/history`, 10 s).
    pub history_interval: Duration,
    /// Timers and limits.
    pub timing: Timing,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            masters: vec!["http://127.0.0.1:5050".into()],
            framework: FrameworkConfig::default(),
            state_dir: PathBuf::from("mesos-miner-state"),
            web_bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            advertise_url: None,
            executor: ExecutorConfig::default(),
            server: ServerConfig::default(),
            worker: WorkerConfig::default(),
            report_interval: Duration::from_secs(5),
            history_interval: crate::history::DEFAULT_INTERVAL,
            timing: Timing::default(),
        }
    }
}

/// FrameworkInfo fields and credentials.
#[derive(Clone, Debug)]
pub struct FrameworkConfig {
    /// `FrameworkInfo.name`.
    pub name: String,
    /// `FrameworkInfo.user` (the HTTP API requires one); `None` = the user running us.
    pub user: Option<String>,
    /// `FrameworkInfo.roles` (MULTI_ROLE); offers of the first role are used.
    pub roles: Vec<String>,
    /// `FrameworkInfo.principal`, also the HTTP Basic user when `secret` is set.
    pub principal: Option<String>,
    /// HTTP Basic secret (sent only in the Authorization header, never logged).
    pub secret: Option<Secret>,
    /// `FrameworkInfo.failover_timeout` (one week, as Marathon).
    pub failover_timeout: Duration,
    /// `FrameworkInfo.hostname`; `None` = this host's name.
    pub hostname: Option<String>,
}

impl Default for FrameworkConfig {
    fn default() -> Self {
        FrameworkConfig {
            name: "mesos-miner".into(),
            user: None,
            roles: vec!["*".into()],
            principal: None,
            secret: None,
            failover_timeout: Duration::from_secs(7 * 24 * 3600),
            hostname: None,
        }
    }
}

/// The custom executor: how agents get it and what it costs.
#[derive(Clone, Debug)]
pub struct ExecutorConfig {
    /// The file served at `/executor/<sha256>/mesos-miner`; `None` = our own executable.
    pub binary: Option<PathBuf>,
    /// Replaces the fetch URI (`--executor-uri`), e.g. a binary on a web server.
    pub uri: Option<String>,
    /// Replaces the whole CommandInfo (tests run a stand-in executor with it).
    pub command: Option<CommandInfo>,
    /// Runs the executor in this Docker image (`--docker-image`: ExecutorInfo.container
    /// DOCKER, network HOST, `IMAGE executor`) instead of fetching a binary.
    pub docker_image: Option<String>,
    /// The executor's own cpus, taken from the offer besides the task's.
    pub cpus: f64,
    /// The executor's own memory, MB.
    pub mem: f64,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        ExecutorConfig {
            binary: None,
            uri: None,
            command: None,
            docker_image: None,
            cpus: 0.05,
            mem: 32.0,
        }
    }
}

/// Which pool the workers mine on (`--server`).
#[derive(Clone, Debug)]
pub enum ServerConfig {
    /// Our own Stratum pool server, run by the custom executor.
    Builtin(BuiltinServer),
    /// The original framework's Docker p2pool container.
    P2pool(P2poolServer),
    /// No server task: a pool somewhere else.
    External {
        /// `stratum+tcp://host:port` or `stratum+ssl://host:port`.
        pool_url: String,
    },
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig::Builtin(BuiltinServer::default())
    }
}

impl ServerConfig {
    /// `builtin`, `p2pool` or `external`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ServerConfig::Builtin(_) => "builtin",
            ServerConfig::P2pool(_) => "p2pool",
            ServerConfig::External { .. } => "external",
        }
    }
}

/// The builtin pool server task.
#[derive(Clone, Debug)]
pub struct BuiltinServer {
    /// Demo jobs, no node.
    pub demo: bool,
    /// The node (required unless `demo`); its password travels in `TaskInfo.data`.
    pub bitcoind: Option<proto::framework::NodeSpec>,
    /// Starting share difficulty (`None` = the pool's default).
    pub difficulty: Option<f64>,
    /// Task cpus (`--server-cpus`).
    pub cpus: f64,
    /// Task memory, MB (`--server-mem`).
    pub mem: f64,
}

impl Default for BuiltinServer {
    fn default() -> Self {
        BuiltinServer {
            demo: true,
            bitcoind: None,
            difficulty: None,
            cpus: 0.1,
            mem: 256.0,
        }
    }
}

/// The p2pool Docker task, as the original Go framework launched it.
#[derive(Clone, Debug)]
pub struct P2poolServer {
    /// Docker image (`--p2pool-image`).
    pub image: String,
    /// `--bitcoind-address` given to p2pool (a host name or IP).
    pub bitcoind_address: String,
    /// RPC user, an argument of p2pool.
    pub rpc_user: String,
    /// RPC password: p2pool takes it only as an argument, so it is visible in Mesos's
    /// `/state` and on the agent's process list, exactly as with the original framework.
    pub rpc_password: Secret,
    /// Task cpus (the original: 1).
    pub cpus: f64,
    /// Task memory, MB (the original: 256).
    pub mem: f64,
}

/// The original framework's p2pool image.
pub const P2POOL_IMAGE: &str = "derekchiang/p2pool";

/// Worker tasks.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Task memory, MB (`--worker-mem`).
    pub mem: f64,
    /// Task cpus; `None` = everything the agent has left after the executor's share.
    pub cpus: Option<f64>,
    /// The fewest cpus worth launching a worker on.
    pub min_cpus: f64,
    /// At most this many workers on one agent (`--max-workers-per-agent`).
    pub max_per_agent: usize,
    /// At most this many workers in all (`--max-workers`); `None` = one set per agent seen.
    pub max_workers: Option<usize>,
    /// Stratum user of the workers (payout address or account.worker).
    pub user: String,
    /// Stratum password of the workers.
    pub password: String,
    /// Kernel name (`auto`).
    pub kernel: String,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            mem: 128.0,
            cpus: None,
            min_cpus: 0.1,
            max_per_agent: 1,
            max_workers: None,
            user: "mesos-miner".into(),
            password: "x".into(),
            kernel: "auto".into(),
        }
    }
}

/// Timers and limits; the defaults are the (and Marathon's where it is silent).
#[derive(Clone, Debug)]
pub struct Timing {
    /// Refuse filter on declined offers (`--refuse-seconds`, 120 s).
    pub refuse: Duration,
    /// Smallest gap between two REVIVE calls (5 s).
    pub revive_interval: Duration,
    /// An UNREACHABLE task is replaced after this (`--unreachable-grace`, 60 s).
    pub unreachable_grace: Duration,
    /// A task in STAGING/STARTING this long is reconciled, then replaced (5 min).
    pub launch_timeout: Duration,
    /// After the launch-timeout reconciliation, how long to wait for the answer.
    pub launch_reconcile_grace: Duration,
    /// Periodic reconciliation (10 min).
    pub reconcile_interval: Duration,
    /// First retry of an unanswered explicit reconciliation, doubled up to the max.
    pub reconcile_retry: Duration,
    /// Longest gap between explicit reconciliation retries.
    pub reconcile_retry_max: Duration,
    /// First retry of an unanswered KILL, doubled up to the max.
    pub kill_retry: Duration,
    /// Longest gap between KILL retries.
    pub kill_retry_max: Duration,
    /// Relaunch backoff: first delay (1 s), factor (1.15), cap (5 min).
    pub backoff_min: Duration,
    /// See `backoff_min`.
    pub backoff_factor: f64,
    /// See `backoff_min`.
    pub backoff_max: Duration,
    /// A task RUNNING this long ran healthy: its kind's backoff starts over.
    pub healthy_run: Duration,
    /// SUBSCRIBE must answer (headers and SUBSCRIBED) within this.
    pub subscribe_timeout: Duration,
    /// Timeout of every other call (75 s).
    pub call_timeout: Duration,
    /// Missed heartbeats before the stream counts as dead (5).
    pub heartbeat_misses: u32,
    /// Re-subscription backoff: first and longest delay (1 s, 15 s), jittered.
    pub resubscribe_min: Duration,
    /// See `resubscribe_min`.
    pub resubscribe_max: Duration,
    /// Most 307 hops followed before moving to the next master.
    pub max_redirects: usize,
    /// How often the reducer's timers run.
    pub tick: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            refuse: Duration::from_secs(120),
            revive_interval: Duration::from_secs(5),
            unreachable_grace: Duration::from_secs(60),
            launch_timeout: Duration::from_secs(300),
            launch_reconcile_grace: Duration::from_secs(30),
            reconcile_interval: Duration::from_secs(600),
            reconcile_retry: Duration::from_secs(2),
            reconcile_retry_max: Duration::from_secs(60),
            kill_retry: Duration::from_secs(10),
            kill_retry_max: Duration::from_secs(120),
            backoff_min: Duration::from_secs(1),
            backoff_factor: 1.15,
            backoff_max: Duration::from_secs(300),
            healthy_run: Duration::from_secs(60),
            subscribe_timeout: Duration::from_secs(20),
            call_timeout: Duration::from_secs(75),
            heartbeat_misses: 5,
            resubscribe_min: Duration::from_secs(1),
            resubscribe_max: Duration::from_secs(15),
            max_redirects: 4,
            tick: Duration::from_millis(250),
        }
    }
}
