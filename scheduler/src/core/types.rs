//! The reducer's vocabulary: its inputs, its actions, what the state dir holds, and its
//! fixed configuration.

use std::time::{Duration, Instant};

use proto::scheduler::{Call, Event};
use proto::v1::{CommandInfo, ContainerInfo, FrameworkInfo};

use super::offers::{ServerSize, Sizes};
use super::task::TaskRecord;
use crate::config::{SchedulerConfig, ServerConfig, Timing, WorkerConfig};

/// What the reducer is told. Events are big and moved once, so they are not boxed.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Input {
    /// An event from the subscription stream.
    Event(Event),
    /// The subscription ended (EOF, chunk terminator, watchdog, error).
    Disconnected,
    /// Remove the framework and its tasks.
    Teardown,
}

/// What the driver must do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Write this to the state dir (fsync'd) before anything after it.
    Persist(StoreOp),
    /// POST this call with the current stream id.
    Call(Box<Call>),
    /// POST TEARDOWN; on success clear the state dir and stop.
    Teardown,
    /// Stop the scheduler.
    Stop(StopReason),
}

/// A change to the state dir.
#[derive(Clone, Debug, PartialEq)]
pub enum StoreOp {
    /// The framework id Mesos assigned.
    FrameworkId(String),
    /// Create or replace a task record.
    PutTask(TaskRecord),
    /// The task is terminal: forget it.
    RemoveTask(String),
}

/// Why the scheduler stops.
#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    /// ERROR "Framework failed over": another instance took over.
    FailedOver,
    /// ERROR "Framework has been removed": this framework id can never subscribe again.
    Removed(String),
    /// TEARDOWN done.
    TornDown,
}

/// What the state dir held at start.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Persisted {
    /// The framework id, after the first SUBSCRIBED.
    pub framework_id: Option<String>,
    /// Every task launched and not seen terminal.
    pub tasks: Vec<TaskRecord>,
}

/// The reducer's fixed settings.
#[derive(Clone, Debug)]
pub struct CoreConfig {
    /// FrameworkInfo without the id.
    pub framework_info: FrameworkInfo,
    /// Role of our resources when an offer names none.
    pub role: String,
    /// The server task kind.
    pub server: ServerConfig,
    /// Worker settings.
    pub worker: WorkerConfig,
    /// Resource sizes for offer matching.
    pub sizes: Sizes,
    /// The executor's CommandInfo (fetch URI, `./mesos-miner executor`).
    pub executor_command: CommandInfo,
    /// The executor's container (`--docker-image`); `None` = the agent's default.
    pub executor_container: Option<ContainerInfo>,
    /// Report interval put into every task spec, ms.
    pub report_interval_ms: u64,
    /// Timers.
    pub timing: Timing,
}

impl CoreConfig {
    /// From the scheduler configuration, the FrameworkInfo and the executor command; with
    /// a Docker image the image's own executor replaces `executor_command`.
    pub fn new(
        cfg: &SchedulerConfig,
        framework_info: FrameworkInfo,
        executor_command: CommandInfo,
    ) -> CoreConfig {
        let server = match &cfg.server {
            ServerConfig::Builtin(b) => Some(ServerSize {
                cpus: b.cpus,
                mem: b.mem,
                ports: 1,
                in_executor: true,
            }),
            ServerConfig::P2pool(p) => Some(ServerSize {
                cpus: p.cpus,
                mem: p.mem,
                ports: 2,
                in_executor: false,
            }),
            ServerConfig::External { .. } => None,
        };
        CoreConfig {
            role: framework_info
                .roles
                .first()
                .cloned()
                .unwrap_or_else(|| "*".into()),
            framework_info,
            server: cfg.server.clone(),
            worker: cfg.worker.clone(),
            sizes: Sizes {
                executor: (cfg.executor.cpus, cfg.executor.mem),
                server,
                worker_mem: cfg.worker.mem,
                worker_cpus: cfg.worker.cpus,
                worker_min_cpus: cfg.worker.min_cpus,
            },
            // As `executor_command` in lib.rs: an explicit command wins, then the image's.
            executor_command: match (&cfg.executor.command, &cfg.executor.docker_image) {
                (None, Some(_)) => super::launch::docker_executor_command(),
                _ => executor_command,
            },
            executor_container: cfg
                .executor
                .docker_image
                .as_deref()
                .map(super::launch::docker_container),
            report_interval_ms: u64::try_from(cfg.report_interval.as_millis()).unwrap_or(5_000),
            timing: cfg.timing.clone(),
        }
    }
}

/// A kill we keep sending until the task is seen terminal.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingKill {
    /// Where the task runs, if known.
    pub agent_id: Option<String>,
    /// Next retry.
    pub next_at: Instant,
    /// Current retry gap.
    pub delay: Duration,
}

/// Counters for `/metrics`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Offers used in an ACCEPT.
    pub offers_accepted: u64,
    /// Offers declined.
    pub offers_declined: u64,
    /// Offers rescinded by the master.
    pub offers_rescinded: u64,
    /// SUBSCRIBED events (first subscription and every re-subscription).
    pub subscriptions: u64,
    /// UPDATE events.
    pub updates: u64,
    /// UPDATEs whose uuid was already applied.
    pub duplicate_updates: u64,
    /// Framework messages received.
    pub messages: u64,
    /// Messages that were not a report we could use.
    pub bad_messages: u64,
    /// Tasks launched, by kind (server, worker).
    pub launched: [u64; 2],
    /// Tasks that ended TASK_ERROR.
    pub task_errors: u64,
}

/// Totals of tasks that are gone, so cluster counters never go down.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Retired {
    /// Shares accepted, rejected, stale.
    pub shares: [u64; 3],
    /// Blocks found and accepted by servers that ended.
    pub blocks: [u64; 2],
}
