//! An agent as a sans-IO state machine: executor API requests, master commands, process
//! events and `now` go in; executor stream events, process launches/signals and messages for
//! the master come out ([`AgentOut`]).
//!
//! Module map: `http` (the `/api/v1/executor` endpoint: checks, SUBSCRIBE, UPDATE, MESSAGE),
//! `launch` (tasks and executors: launch, the command executor, DOCKER containers), `docker`
//! (the Docker containerizer's CLI probe and `run` line), `kill`
//! (KILL, SHUTDOWN), `lifecycle` (process starts and exits, deadlines, agent restarts),
//! `updates` (the status-update manager: ordered per task, retried 10 s doubling, spec §3.5),
//! `env` (the `MESOS_*` environment of spec §3.3).

pub(crate) mod docker;
mod env;
mod http;
mod kill;
mod launch;
mod lifecycle;
mod updates;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::ids::{Ids, Wall};
use crate::keys::{ExecutorKey, TaskKey};
use crate::msg::{Registration, ToMaster};
use crate::pb::exec;
use crate::pb::v1::{
    self, CommandInfo, ExecutorInfo, FrameworkInfo, TaskGroupInfo, TaskInfo, TaskStatus,
};
use crate::resources::Res;

/// Settings of one agent.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// The agent id the master knows it by (`AgentInfo.id`, the sandbox path's `slaves/<id>`).
    pub id: String,
    /// Host name reported in `AgentInfo` and to executors.
    pub hostname: String,
    /// Port of this agent's executor API (`MESOS_AGENT_ENDPOINT`).
    pub port: u16,
    /// Resources the agent offers: cpus, mem, disk and port ranges.
    pub total: Res,
    /// Root of the sandboxes (`<work_dir>/slaves/<id>/frameworks/...`).
    pub work_dir: PathBuf,
    /// `--executor_shutdown_grace_period` (5 s).
    pub shutdown_grace: Duration,
    /// `--recovery_timeout` (15 min), given to checkpointing executors.
    pub recovery_timeout: Duration,
    /// `--executor_reregistration_timeout` (2 s).
    pub reregistration_timeout: Duration,
    /// `--executor_registration_timeout` (1 min).
    pub registration_timeout: Duration,
    /// First status-update retry interval (10 s), doubled up to `update_retry_max` (10 min).
    pub update_retry_min: Duration,
    /// Longest status-update retry interval (10 min).
    pub update_retry_max: Duration,
    /// How long a restarted agent answers 503 "Agent has not finished recovery".
    pub recovery_phase: Duration,
}

impl AgentConfig {
    /// Defaults of a Mesos agent for the given id, port and resources.
    pub fn new(id: String, port: u16, total: Res, work_dir: PathBuf) -> AgentConfig {
        AgentConfig {
            id,
            hostname: "127.0.0.1".into(),
            port,
            total,
            work_dir,
            shutdown_grace: Duration::from_secs(5),
            recovery_timeout: Duration::from_secs(15 * 60),
            reregistration_timeout: Duration::from_secs(2),
            registration_timeout: Duration::from_secs(60),
            update_retry_min: Duration::from_secs(10),
            update_retry_max: Duration::from_secs(600),
            recovery_phase: Duration::from_millis(500),
        }
    }
}

/// What the driver must do to start a container's process.
#[derive(Clone, Debug)]
pub(crate) struct LaunchSpec {
    pub sandbox: PathBuf,
    pub command: CommandInfo,
    /// The complete environment (the child inherits nothing else, as recorded).
    pub env: Vec<(String, String)>,
    /// Run in this DOCKER container (or fail the launch with the message).
    pub docker: Option<Result<docker::DockerRun, String>>,
}

/// Output of the agent core.
#[derive(Clone, Debug)]
pub(crate) enum AgentOut {
    /// Send `event` on executor stream `conn`.
    Event { conn: u64, event: exec::Event },
    /// End executor stream `conn` (chunk terminator).
    Close { conn: u64 },
    /// Fetch the URIs and start the process of `container`.
    Launch { container: String, spec: LaunchSpec },
    /// Signal `container`'s process: SIGTERM, or SIGKILL when `kill`.
    Signal { container: String, kill: bool },
    /// A message for the leading master.
    ToMaster(ToMaster),
}

/// Agent lifecycle, for fault injection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Running,
    /// Restarting: listener closed, nothing reaches the master.
    Down,
    /// Back up but still recovering until the instant: every executor call gets 503.
    Recovering(Instant),
}

/// What the agent runs for an executor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A framework's custom executor, speaking the executor API.
    Custom,
    /// A command task run directly, as the Mesos command executor would.
    Command,
}

/// Work sent before the executor subscribed.
#[derive(Clone, Debug)]
pub(crate) enum Queued {
    Task(TaskInfo),
    Group(TaskGroupInfo),
}

/// How the tasks of an executor end when its process ends without terminal updates.
#[derive(Clone, Debug)]
pub(crate) struct Termination {
    pub state: v1::TaskState,
    pub reason: v1::task_status::Reason,
    pub message: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Executor {
    pub framework_id: String,
    pub info: ExecutorInfo,
    pub container: String,
    pub kind: Kind,
    pub conn: Option<u64>,
    pub queued: Vec<Queued>,
    /// Task id → (task, latest state).
    pub tasks: BTreeMap<String, (TaskInfo, v1::TaskState)>,
    pub registration_deadline: Option<Instant>,
    pub kill_deadline: Option<Instant>,
    pub termination: Option<Termination>,
    /// Command tasks: a kill was requested (the exit becomes TASK_KILLED).
    pub killed: bool,
    pub started: bool,
}

/// Per-task stream of status updates (only the head is in flight).
#[derive(Clone, Debug, Default)]
pub(crate) struct UpdateStream {
    pub pending: VecDeque<TaskStatus>,
    pub next_retry: Option<Instant>,
    pub backoff: Duration,
}

/// The agent state machine.
pub(crate) struct Agent {
    pub(crate) cfg: AgentConfig,
    pub(crate) phase: Phase,
    /// Executors that must re-subscribe before this instant after a restart.
    pub(crate) reregister_deadline: Option<Instant>,
    pub(crate) frameworks: BTreeMap<String, FrameworkInfo>,
    pub(crate) executors: BTreeMap<ExecutorKey, Executor>,
    /// Each task's pending updates.
    pub(crate) updates: BTreeMap<TaskKey, UpdateStream>,
    next_conn: u64,
    /// Container ids and status uuids.
    pub(crate) ids: Ids,
    /// Status timestamps.
    pub(crate) wall: Wall,
    out: Vec<AgentOut>,
}

impl Agent {
    /// A running agent; `conn_base` keeps its stream numbers apart from other agents'.
    pub(crate) fn new(cfg: AgentConfig, conn_base: u64, wall: Wall, ids: Ids) -> Agent {
        Agent {
            cfg,
            phase: Phase::Running,
            reregister_deadline: None,
            frameworks: BTreeMap::new(),
            executors: BTreeMap::new(),
            updates: BTreeMap::new(),
            next_conn: conn_base,
            ids,
            wall,
            out: Vec::new(),
        }
    }

    pub(crate) fn id(&self) -> &str {
        &self.cfg.id
    }

    pub(crate) fn phase(&self) -> Phase {
        self.phase
    }

    /// Outputs produced since the last call.
    pub(crate) fn take_outputs(&mut self) -> Vec<AgentOut> {
        std::mem::take(&mut self.out)
    }

    pub(crate) fn push(&mut self, out: AgentOut) {
        self.out.push(out);
    }

    pub(crate) fn send(&mut self, conn: u64, event: exec::Event) {
        self.out.push(AgentOut::Event { conn, event });
    }

    pub(crate) fn new_conn(&mut self) -> u64 {
        self.next_conn += 1;
        self.next_conn
    }

    /// Whether `container` belongs to this agent.
    pub(crate) fn has_container(&self, container: &str) -> bool {
        self.executors.values().any(|e| e.container == container)
    }

    /// Every container of this agent.
    pub(crate) fn containers(&self) -> Vec<String> {
        self.executors
            .values()
            .map(|e| e.container.clone())
            .collect()
    }

    /// Open executor streams (for the driver to abort when the agent goes down).
    pub(crate) fn open_conns(&self) -> Vec<u64> {
        self.executors.values().filter_map(|e| e.conn).collect()
    }

    /// What this agent tells a master when registering.
    pub(crate) fn registration(&self) -> Registration {
        let mut tasks = Vec::new();
        let mut executors = Vec::new();
        for (key, e) in &self.executors {
            let fid = &key.framework_id;
            for (task, state) in e.tasks.values() {
                let latest = self
                    .updates
                    .get(&TaskKey::new(fid, task.task_id.value.clone()))
                    .and_then(|s| s.pending.back().cloned());
                tasks.push((fid.clone(), task.clone(), *state, latest));
            }
            if e.kind == Kind::Custom {
                let res = Res::from_pb(&e.info.resources).unwrap_or_default();
                executors.push((key.clone(), res));
            }
        }
        Registration {
            agent_id: self.cfg.id.clone(),
            hostname: self.cfg.hostname.clone(),
            port: self.cfg.port,
            total: self.cfg.total.clone(),
            tasks,
            executors,
            frameworks: self.frameworks.values().cloned().collect(),
        }
    }

    /// `AgentInfo` as sent in an executor's SUBSCRIBED.
    pub(crate) fn agent_info(&self) -> v1::AgentInfo {
        v1::AgentInfo {
            hostname: self.cfg.hostname.clone(),
            port: Some(i32::from(self.cfg.port)),
            resources: self.cfg.total.to_pb(None),
            id: Some(v1::AgentId {
                value: self.cfg.id.clone(),
            }),
            ..Default::default()
        }
    }

    /// Drives time: update retries, kill and registration deadlines, recovery.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if let Phase::Recovering(until) = self.phase
            && now >= until
        {
            self.phase = Phase::Running;
            self.reregister_deadline = Some(now + self.cfg.reregistration_timeout);
        }
        if self.phase != Phase::Running {
            self.deadlines(now);
            return;
        }
        self.retry_updates(now);
        self.deadlines(now);
        if self.reregister_deadline.is_some_and(|d| d <= now) {
            self.reregister_deadline = None;
            self.destroy_unregistered();
        }
    }
}
