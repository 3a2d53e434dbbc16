//! The subscription side of the reducer: SUBSCRIBED (persist the id, reconcile, resend
//! kills), ERROR and FAILURE events, teardown, and offer control — SUPPRESS when nothing is
//! wanted, REVIVE (rate limited) when something is (spec §5 "Offers").

use std::time::Instant;

use proto::calls::scheduler as calls;
use proto::scheduler::event;
use proto::v1::{AgentId, FrameworkId, TaskId, TaskState};

use super::reconcile::Ask;
use super::task;
use super::{Action, State, StopReason, StoreOp};
use crate::config::ServerConfig;

impl State {
    pub(crate) fn on_teardown(&mut self, out: &mut Vec<Action>) {
        self.tearing_down = true;
        if self.framework_id.is_none() {
            out.push(Action::Stop(StopReason::TornDown));
        } else if self.subscribed {
            out.push(Action::Teardown);
        }
    }

    pub(crate) fn on_subscribed(&mut self, fid: FrameworkId, now: Instant, out: &mut Vec<Action>) {
        if self.framework_id.as_ref() != Some(&fid) {
            // Stored durably before acting on anything else (spec §5).
            out.push(Action::Persist(StoreOp::FrameworkId(fid.value.clone())));
            self.framework_id = Some(fid);
        }
        self.subscribed = true;
        self.stats.subscriptions += 1;
        // A (re-)subscription clears suppression and filters (recovery/3-scheduler-failover).
        self.suppressed = false;
        self.need_revive = false;
        self.last_error = None;
        if self.tearing_down {
            out.push(Action::Teardown);
            return;
        }
        self.start_reconcile_round(now, out);
        let mut kills: Vec<(String, Option<String>)> = Vec::new();
        for (id, kill) in &mut self.kills {
            kill.next_at = now + kill.delay;
            kills.push((id.clone(), kill.agent_id.clone()));
        }
        kills.sort();
        for (id, agent) in kills {
            self.push_kill_call(&id, agent, out);
        }
    }

    pub(crate) fn on_error(&mut self, message: String, out: &mut Vec<Action>) {
        let text = task::truncate(&message, 512).to_owned();
        if message.contains("Framework failed over") {
            out.push(Action::Stop(StopReason::FailedOver));
        } else if message.contains("Framework has been removed") {
            out.push(Action::Stop(StopReason::Removed(text.clone())));
        }
        self.last_error = Some(text);
    }

    pub(crate) fn on_failure(
        &mut self,
        failure: event::Failure,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        // Not ordered with the task's own updates: ask the master about what it affects.
        let affected: Vec<(String, String)> = match (&failure.executor_id, &failure.agent_id) {
            (Some(exec), _) => exec
                .value
                .strip_prefix("exec-")
                .and_then(|id| self.tasks.get(id))
                .map(|t| vec![(t.rec.task_id.clone(), t.rec.agent_id.clone())])
                .unwrap_or_default(),
            (None, Some(agent)) => self
                .tasks
                .values()
                .filter(|t| t.rec.agent_id == agent.value)
                .map(|t| (t.rec.task_id.clone(), t.rec.agent_id.clone()))
                .collect(),
            (None, None) => Vec::new(),
        };
        for (task, agent) in affected {
            let ask = self.reconciler.add(task, agent, now);
            self.push_reconcile(ask, out);
        }
    }

    pub(crate) fn push_reconcile(&self, ask: Ask, out: &mut Vec<Action>) {
        let (Some(fid), true) = (&self.framework_id, self.subscribed) else {
            return;
        };
        let tasks = match ask {
            Ask::Implicit => Vec::new(),
            Ask::Explicit(list) => list
                .into_iter()
                .map(|(t, a)| (TaskId::new(t), Some(AgentId::new(a))))
                .collect(),
        };
        out.push(Action::Call(Box::new(calls::reconcile(fid, tasks))));
    }

    /// SUPPRESS when nothing is wanted; REVIVE (at most every `revive_interval`) when
    /// something is wanted again or a task we want replaced ended.
    pub(crate) fn offer_control(&mut self, now: Instant, out: &mut Vec<Action>) {
        let (Some(fid), true, false) = (&self.framework_id, self.subscribed, self.tearing_down)
        else {
            return;
        };
        if self.wanted(now) {
            if self.suppressed || self.need_revive {
                let allowed = self
                    .last_revive
                    .is_none_or(|t| now >= t + self.cfg.timing.revive_interval);
                if allowed {
                    out.push(Action::Call(Box::new(calls::revive(fid, Vec::new()))));
                    self.suppressed = false;
                    self.need_revive = false;
                    self.last_revive = Some(now);
                }
            }
        } else {
            self.need_revive = false;
            if !self.suppressed {
                out.push(Action::Call(Box::new(calls::suppress(fid, Vec::new()))));
                self.suppressed = true;
            }
        }
    }

    /// Whether an offer could be used now.
    pub fn wanted(&self, now: Instant) -> bool {
        self.server_launchable(now) || self.workers_launchable(now)
    }

    pub(crate) fn server_launchable(&self, now: Instant) -> bool {
        self.cfg.sizes.server.is_some()
            && self.server.is_none()
            && self.blocked[0].is_none()
            && self.backoff[0].ready(now)
    }

    pub(crate) fn workers_launchable(&self, now: Instant) -> bool {
        self.pool_url().is_some()
            && self.blocked[1].is_none()
            && self.backoff[1].ready(now)
            && self
                .cfg
                .worker
                .max_workers
                .is_none_or(|max| self.active_workers < max)
    }

    /// The pool workers should mine on now: the external URL, or the RUNNING server's.
    pub fn pool_url(&self) -> Option<&str> {
        if let ServerConfig::External { pool_url } = &self.cfg.server {
            return Some(pool_url);
        }
        let task = self.tasks.get(self.server.as_deref()?)?;
        (task.state == TaskState::TaskRunning).then_some(task.rec.pool_url.as_str())
    }
}
