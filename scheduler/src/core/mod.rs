//! The scheduler's decisions as a pure reducer (STYLE.md habit 5): [`State::handle`] takes
//! one [`Input`] (a Mesos event, the end of the stream, a teardown request) and `now`, and
//! returns [`Action`]s in the order they must happen — a [`StoreOp`] before the call that
//! depends on it (a task is persisted before the ACCEPT that launches it, an update before
//! its ACKNOWLEDGE). [`State::handle_timeout`] runs the timers. No I/O, no clock reads.
//!
//! Module map: `offers` (pure offer matching), `launch` (TaskInfos), `offering` (OFFERS),
//! `updates` (UPDATE, kills), `reports` (framework MESSAGEs), `timers`, `reconcile`,
//! `backoff`, `task` (records).

mod backoff;
pub mod launch;
mod offering;
pub mod offers;
pub mod reconcile;
mod reports;
mod session;
pub mod task;
mod timers;
mod types;
mod updates;

use std::collections::HashMap;
use std::time::Instant;

use proto::calls::scheduler as calls;
use proto::framework::TaskKind;
use proto::scheduler::{Call, Event, event};
use proto::v1::{FrameworkId, TaskState};

pub use backoff::Backoff;
use reconcile::Reconciler;
use task::{Task, TaskRecord};
pub use types::{
    Action, CoreConfig, Input, PendingKill, Persisted, Retired, Stats, StopReason, StoreOp,
};

/// Index of a kind in per-kind arrays (server 0, worker 1).
pub(crate) fn index_of(kind: TaskKind) -> usize {
    match kind {
        TaskKind::Server => 0,
        TaskKind::Worker => 1,
    }
}

/// Everything the scheduler knows; see the module doc.
#[derive(Debug)]
pub struct State {
    pub(crate) cfg: CoreConfig,
    pub(crate) framework_id: Option<FrameworkId>,
    pub(crate) subscribed: bool,
    pub(crate) master: Option<String>,
    /// Boxed: a task is a few hundred bytes, and the map moves its values when it grows.
    pub(crate) tasks: HashMap<String, Box<Task>>,
    /// The active server task.
    pub(crate) server: Option<String>,
    /// The latest server task that ended, and how.
    pub(crate) last_server: Option<(String, TaskState)>,
    pub(crate) active_workers: usize,
    pub(crate) workers_on: HashMap<String, usize>,
    pub(crate) kills: HashMap<String, PendingKill>,
    pub(crate) backoff: [Backoff; 2],
    /// TASK_ERROR per kind: the spec is wrong, launch no more of it.
    pub(crate) blocked: [Option<String>; 2],
    pub(crate) reconciler: Reconciler,
    /// `TaskInfo.data` of workers for the pool URL it was built for (the same for all).
    pub(crate) worker_spec: Option<(String, Vec<u8>)>,
    /// Task id randomness (a fast generator, not a system call per launch).
    pub(crate) rng: rand::rngs::SmallRng,
    pub(crate) suppressed: bool,
    pub(crate) need_revive: bool,
    pub(crate) last_revive: Option<Instant>,
    pub(crate) tearing_down: bool,
    pub(crate) last_error: Option<String>,
    pub(crate) stats: Stats,
    pub(crate) retired: Retired,
    /// The last state changes, for the page.
    pub(crate) changes: crate::history::changes::Changes,
}

impl State {
    /// A reducer starting from what the state dir held.
    pub fn new(cfg: CoreConfig, persisted: Persisted, now: Instant) -> State {
        let t = &cfg.timing;
        let backoff = Backoff::new(t.backoff_min, t.backoff_factor, t.backoff_max);
        let reconciler = Reconciler::new(
            t.reconcile_retry,
            t.reconcile_retry_max,
            t.reconcile_interval,
        );
        let mut state = State {
            framework_id: persisted.framework_id.map(FrameworkId::new),
            cfg,
            subscribed: false,
            master: None,
            tasks: HashMap::new(),
            server: None,
            last_server: None,
            active_workers: 0,
            workers_on: HashMap::new(),
            kills: HashMap::new(),
            backoff: [backoff.clone(), backoff],
            blocked: [None, None],
            reconciler,
            worker_spec: None,
            rng: rand::SeedableRng::from_os_rng(),
            suppressed: false,
            need_revive: false,
            last_revive: None,
            tearing_down: false,
            last_error: None,
            stats: Stats::default(),
            retired: Retired::default(),
            changes: Default::default(),
        };
        for rec in persisted.tasks {
            state.recover(rec, now);
        }
        state
    }

    fn recover(&mut self, mut rec: TaskRecord, now: Instant) {
        let second_server = rec.kind == TaskKind::Server && self.server.is_some();
        if second_server && !rec.replaced && !rec.kill {
            rec.replaced = true;
        }
        let id = rec.task_id.clone();
        let agent = rec.agent_id.clone();
        let doomed = rec.replaced || rec.kill;
        self.insert_task(Task::new(rec, now));
        if doomed {
            let delay = self.cfg.timing.kill_retry;
            self.kills.insert(
                id,
                PendingKill {
                    agent_id: Some(agent),
                    next_at: now + delay,
                    delay,
                },
            );
        }
    }

    /// The framework id, once known.
    pub fn framework_id(&self) -> Option<&str> {
        self.framework_id.as_ref().map(|f| f.value.as_str())
    }

    /// Whether a subscription is live.
    pub fn subscribed(&self) -> bool {
        self.subscribed
    }

    /// Records the master that holds the subscription (for the views).
    pub fn set_master(&mut self, master: Option<String>) {
        self.master = master;
    }

    /// The SUBSCRIBE call: our FrameworkInfo with the stored id, if any (spec §5).
    pub fn subscribe_call(&self) -> Call {
        let mut info = self.cfg.framework_info.clone();
        info.id = self.framework_id.clone();
        calls::subscribe(info)
    }

    /// Number of tasks tracked.
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Applies one input.
    pub fn handle(&mut self, input: Input, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        match input {
            Input::Event(event) => self.on_event(event, now, &mut out),
            Input::Disconnected => {
                self.subscribed = false;
                self.reconciler.cancel();
            }
            Input::Teardown => self.on_teardown(&mut out),
        }
        self.offer_control(now, &mut out);
        out
    }

    fn on_event(&mut self, event: Event, now: Instant, out: &mut Vec<Action>) {
        use event::Type;
        match event.r#type.and_then(|t| Type::try_from(t).ok()) {
            Some(Type::Subscribed) => {
                if let Some(s) = event.subscribed {
                    self.on_subscribed(s.framework_id, now, out);
                }
            }
            Some(Type::Offers) => {
                let offers = event.offers.map(|o| o.offers).unwrap_or_default();
                self.on_offers(offers, now, out);
            }
            Some(Type::Rescind) => self.stats.offers_rescinded += 1,
            Some(Type::Update) => {
                if let Some(u) = event.update {
                    self.on_update(u.status, now, out);
                }
            }
            Some(Type::Message) => {
                if let Some(m) = event.message {
                    self.on_message(&m, now);
                }
            }
            Some(Type::Failure) => {
                if let Some(f) = event.failure {
                    self.on_failure(f, now, out);
                }
            }
            Some(Type::Error) => {
                let message = event.error.map(|e| e.message).unwrap_or_default();
                self.on_error(message, out);
            }
            // HEARTBEAT feeds the driver's watchdog; inverse offers (maintenance) and
            // operation updates do not concern us; unknown types are ignored (spec §2.2).
            _ => {}
        }
    }

    pub(crate) fn insert_task(&mut self, task: Task) {
        if task.active() {
            match task.rec.kind {
                TaskKind::Server => self.server = Some(task.rec.task_id.clone()),
                TaskKind::Worker => {
                    self.active_workers += 1;
                    *self
                        .workers_on
                        .entry(task.rec.agent_id.clone())
                        .or_default() += 1;
                }
            }
        }
        self.tasks.insert(task.rec.task_id.clone(), Box::new(task));
    }

    /// Stops counting a task toward what is wanted; true if it was counted.
    pub(crate) fn deactivate(&mut self, id: &str) -> bool {
        let Some(task) = self.tasks.get(id) else {
            return false;
        };
        if !task.active() {
            return false;
        }
        match task.rec.kind {
            TaskKind::Server => {
                if self.server.as_deref() == Some(id) {
                    self.server = None;
                }
            }
            TaskKind::Worker => {
                self.active_workers = self.active_workers.saturating_sub(1);
                let agent = task.rec.agent_id.clone();
                if let Some(n) = self.workers_on.get_mut(&agent) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.workers_on.remove(&agent);
                    }
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests;
