//! The executor's protocol core, sans IO (STYLE.md habit 2, quinn's method families):
//! `handle_*` take an input and `now` and return [`Action`]s; [`Core::poll_timeout`] says
//! when [`Core::handle_timeout`] is due. The driver only moves bytes and timers.
//!
//! It owns: the subscription state (SUBSCRIBE at start, re-SUBSCRIBE after a lost stream
//! when checkpointing, at once then with jittered backoff capped at
//! `MESOS_SUBSCRIPTION_BACKOFF_MAX`, until `MESOS_RECOVERY_TIMEOUT`: spec §3.4); the tasks and
//! their status updates (STARTING → RUNNING → FINISHED/FAILED/KILLED, each with a fresh
//! 16-byte uuid, SOURCE_EXECUTOR: spec §3.5); what the agent has not ACKNOWLEDGED, resent in
//! every SUBSCRIBE; KILL with the task's own kill policy unless the event overrides it
//! (recorded: `recovery/exec-kill-exec-*.log.txt`); SHUTDOWN; and when to exit (only after
//! the terminal updates are acknowledged, within a bounded wait).
//!
//! It does not own: HTTP, the miners and the pool (the driver starts them on
//! [`Action::Start`] and reports back with [`Core::handle_task_started`] and
//! [`Core::handle_task_ended`]).

mod conn;
mod tasks;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proto::executor::{Call, Event, event::Type as EventType};
use proto::v1::{AgentId, ExecutorId, FrameworkId, TaskId, TaskInfo, TaskStatus};
use tracing::{debug, info, warn};

use crate::plan::TaskPlan;

/// Randomness and the wall clock, injected so tests are deterministic.
pub trait Entropy: Send {
    /// A fresh RFC 4122 v4 uuid, as 16 raw bytes.
    fn uuid(&mut self) -> [u8; 16];
    /// A uniform value in [0, 1) for backoff jitter.
    fn jitter(&mut self) -> f64;
    /// Seconds since the Unix epoch, for `TaskStatus.timestamp`.
    fn unix_time(&mut self) -> f64;
}

/// The real [`Entropy`]: `uuid` v4, `rand`, `SystemTime`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemEntropy;

impl Entropy for SystemEntropy {
    fn uuid(&mut self) -> [u8; 16] {
        *uuid::Uuid::new_v4().as_bytes()
    }

    fn jitter(&mut self) -> f64 {
        rand::random::<f64>()
    }

    fn unix_time(&mut self) -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }
}

/// The core's settings (from the environment, see [`crate::env::Config`]).
#[derive(Clone, Debug)]
pub struct CoreConfig {
    /// Our executor id.
    pub executor_id: ExecutorId,
    /// Our framework id.
    pub framework_id: FrameworkId,
    /// Re-subscribe after a lost stream (else: stop the tasks and exit).
    pub checkpoint: bool,
    /// How long to keep re-subscribing after the first disconnection.
    pub recovery_timeout: Duration,
    /// The cap of the re-subscription backoff.
    pub backoff_max: Duration,
    /// What a SHUTDOWN allows (and the bound on waiting for acknowledgements).
    pub shutdown_grace: Duration,
    /// Kill grace when neither the KILL nor the TaskInfo has a kill policy.
    pub default_kill_grace: Duration,
}

/// Why the executor exits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// Every task ended and the agent acknowledged every update.
    Done,
    /// Same, but the acknowledgements did not all come within the bounded wait.
    AckTimeout,
    /// The stream ended and the framework does not checkpoint (spec §3.4).
    Disconnected,
    /// The agent did not come back within `MESOS_RECOVERY_TIMEOUT`.
    RecoveryTimeout,
}

/// What the driver must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Open a new subscription with this SUBSCRIBE call (any earlier one is over).
    Subscribe(Box<Call>),
    /// POST this call (UPDATE or MESSAGE) on the call connection; 202 expected.
    Post(Box<Call>),
    /// Start running a task.
    Start {
        /// The task.
        task_id: TaskId,
        /// What it runs.
        plan: Box<TaskPlan>,
        /// The whole TaskInfo (resources, name).
        info: Box<TaskInfo>,
    },
    /// Ask a task to stop (it answers with [`Core::handle_task_ended`]).
    Stop(TaskId),
    /// The kill grace is over: drop the task without waiting any longer.
    Abort(TaskId),
    /// Exit the process (after stopping whatever still runs).
    Exit(ExitReason),
}

/// How a task's run ended, as the driver saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskOutcome {
    /// It ended normally (only after a stop, for our tasks).
    Finished(String),
    /// It failed: the pool died, the worker gave up, the spec could not be started.
    Failed(String),
}

/// Where the subscription stands.
#[derive(Clone, Debug, PartialEq)]
enum Conn {
    /// A SUBSCRIBE is in flight; `sent` = the update uuids it carried, `attempt` = failed
    /// SUBSCRIBEs before it.
    Subscribing { sent: Vec<Vec<u8>>, attempt: u32 },
    /// SUBSCRIBED arrived on the current stream.
    Subscribed,
    /// No stream; the next SUBSCRIBE is due at `at` (`attempt` counts failures in a row).
    Waiting { at: Instant, attempt: u32 },
}

/// The executor's state.
pub struct Core {
    config: CoreConfig,
    entropy: Box<dyn Entropy>,
    conn: Conn,
    ever_subscribed: bool,
    /// Set at the first disconnection of a recovery; cleared by SUBSCRIBED.
    recovery_deadline: Option<Instant>,
    agent_id: Option<AgentId>,
    agent_hostname: Option<String>,
    /// The framework has TASK_KILLING_STATE (SUBSCRIBED's framework_info).
    killing_state: bool,
    tasks: BTreeMap<String, tasks::Task>,
    /// Updates the agent has not acknowledged, oldest first.
    unacked_updates: Vec<TaskStatus>,
    /// TaskInfos of tasks with no acknowledged update yet.
    unacked_tasks: BTreeMap<String, TaskInfo>,
    /// Set once the executor is on its way out: exit by then at the latest.
    exit_deadline: Option<Instant>,
    shutting_down: bool,
    exited: bool,
}

impl Core {
    /// A core that subscribes at once (`start`).
    pub fn new(config: CoreConfig, entropy: Box<dyn Entropy>, agent_id: Option<AgentId>) -> Core {
        Core {
            config,
            entropy,
            conn: Conn::Waiting {
                at: Instant::now(),
                attempt: 0,
            },
            ever_subscribed: false,
            recovery_deadline: None,
            agent_id,
            agent_hostname: None,
            killing_state: false,
            tasks: BTreeMap::new(),
            unacked_updates: Vec::new(),
            unacked_tasks: BTreeMap::new(),
            exit_deadline: None,
            shutting_down: false,
            exited: false,
        }
    }

    /// The first SUBSCRIBE.
    pub fn start(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        self.subscribe(now, &mut out);
        out
    }

    /// True while a SUBSCRIBED stream is open (MESSAGEs are only sent then).
    pub fn is_subscribed(&self) -> bool {
        self.conn == Conn::Subscribed
    }

    /// The agent we run on (SUBSCRIBED's agent_info, else the environment's).
    pub fn agent_id(&self) -> Option<&AgentId> {
        self.agent_id.as_ref()
    }

    /// The agent's hostname, once SUBSCRIBED told it.
    pub fn agent_hostname(&self) -> Option<&str> {
        self.agent_hostname.as_deref()
    }

    /// Updates the agent has not acknowledged yet.
    pub fn unacknowledged_updates(&self) -> &[TaskStatus] {
        &self.unacked_updates
    }

    /// An event from the subscription stream.
    pub fn handle_event(&mut self, event: Event, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.exited {
            return out;
        }
        let kind = event.r#type.and_then(|t| EventType::try_from(t).ok());
        match kind {
            Some(EventType::Subscribed) => self.on_subscribed(event.subscribed, now, &mut out),
            Some(EventType::Launch) => match event.launch {
                Some(l) => self.on_launch(l.task, now, &mut out),
                None => warn!("LAUNCH without a task: ignored"),
            },
            Some(EventType::LaunchGroup) => {
                let tasks = event.launch_group.map(|g| g.task_group.tasks);
                for task in tasks.unwrap_or_default() {
                    self.refuse(
                        task,
                        "task groups are not supported: one task per executor",
                        &mut out,
                    );
                }
            }
            Some(EventType::Kill) => match event.kill {
                Some(k) => self.on_kill(&k.task_id, k.kill_policy, now, &mut out),
                None => warn!("KILL without a task id: ignored"),
            },
            Some(EventType::Acknowledged) => {
                if let Some(a) = event.acknowledged {
                    self.on_acknowledged(&a.task_id, &a.uuid);
                }
            }
            Some(EventType::Shutdown) => self.begin_shutdown(now, &mut out),
            Some(EventType::Error) => {
                let message = event.error.map(|e| e.message).unwrap_or_default();
                // The docs' advice (spec §3.2): close and subscribe again.
                warn!(%message, "ERROR event from the agent: re-subscribing");
                self.lost(now, &mut out);
            }
            Some(EventType::Message) => debug!("MESSAGE from the scheduler (ignored)"),
            // Never relied on: a real agent sent none in 75 s (8-executor-heartbeats.txt).
            Some(EventType::Heartbeat) => {}
            Some(EventType::Unknown) | None => debug!(?event.r#type, "unknown event ignored"),
        }
        self.check_exit(now, &mut out);
        out
    }

    /// The stream ended (chunk terminator, TCP EOF, error) or SUBSCRIBE failed (refused,
    /// 503 while the agent recovers, any non-200).
    pub fn handle_disconnected(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if !self.exited {
            self.lost(now, &mut out);
            self.check_exit(now, &mut out);
        }
        out
    }

    /// SIGTERM/SIGINT: like SHUTDOWN.
    pub fn handle_shutdown_signal(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if !self.exited {
            self.begin_shutdown(now, &mut out);
            self.check_exit(now, &mut out);
        }
        out
    }

    /// A framework MESSAGE to send (a report): only while subscribed, best effort.
    pub fn message(&mut self, data: Vec<u8>) -> Vec<Action> {
        if !self.is_subscribed() || self.exited {
            return Vec::new();
        }
        let call = proto::calls::executor::message(
            &self.config.executor_id,
            &self.config.framework_id,
            data,
        );
        vec![Action::Post(Box::new(call))]
    }

    /// The next instant [`Core::handle_timeout`] must run at, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.exited {
            return None;
        }
        let waiting = match self.conn {
            Conn::Waiting { at, .. } => Some(at),
            _ => None,
        };
        let kills = self.tasks.values().filter_map(|t| t.kill_deadline);
        waiting
            .into_iter()
            .chain(kills)
            .chain(self.exit_deadline)
            .chain(self.recovery_deadline.filter(|_| !self.is_subscribed()))
            .min()
    }

    /// Runs whatever is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.exited {
            return out;
        }
        self.kill_timeouts(now, &mut out);
        if matches!(self.conn, Conn::Waiting { at, .. } if at <= now) {
            self.subscribe(now, &mut out);
        }
        if let Some(deadline) = self.recovery_deadline
            && now >= deadline
            && !self.is_subscribed()
        {
            warn!("the agent did not come back within MESOS_RECOVERY_TIMEOUT");
            self.exit(ExitReason::RecoveryTimeout, &mut out);
        }
        self.check_exit(now, &mut out);
        out
    }

    fn exit(&mut self, reason: ExitReason, out: &mut Vec<Action>) {
        if self.exited {
            return;
        }
        for (id, task) in &self.tasks {
            if !task.is_done() {
                out.push(Action::Stop(TaskId::new(id.clone())));
            }
        }
        info!(?reason, "executor exiting");
        self.exited = true;
        out.push(Action::Exit(reason));
    }
}
