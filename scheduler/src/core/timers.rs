//! [`State::handle_timeout`]: reconciliation retries and rounds, KILL retries, the
//! UNREACHABLE grace, the launch timeout, and REVIVE once a backoff or rate limit is over.

use std::time::Instant;

use proto::framework::TaskKind;
use proto::v1::TaskState;

use super::reconcile::Due;
use super::{Action, State, StoreOp};

impl State {
    /// Runs every timer that is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.subscribed {
            self.reconcile_timer(now, &mut out);
            self.kill_timer(now, &mut out);
        }
        self.task_timers(now, &mut out);
        self.offer_control(now, &mut out);
        out
    }

    /// An explicit reconciliation round over every task we know, sorted for determinism.
    pub(crate) fn start_reconcile_round(&mut self, now: Instant, out: &mut Vec<Action>) {
        let mut live: Vec<(String, String)> = self
            .tasks
            .values()
            .map(|t| (t.rec.task_id.clone(), t.rec.agent_id.clone()))
            .collect();
        live.sort();
        let ask = self.reconciler.start(live, now);
        self.push_reconcile(ask, out);
    }

    fn reconcile_timer(&mut self, now: Instant, out: &mut Vec<Action>) {
        match self.reconciler.on_timeout(now) {
            Some(Due::Retry(ask)) => self.push_reconcile(ask, out),
            Some(Due::Periodic) => self.start_reconcile_round(now, out),
            None => {}
        }
    }

    fn kill_timer(&mut self, now: Instant, out: &mut Vec<Action>) {
        let max = self.cfg.timing.kill_retry_max;
        let mut due: Vec<(String, Option<String>)> = Vec::new();
        for (id, kill) in &mut self.kills {
            if now >= kill.next_at {
                kill.delay = (kill.delay * 2).min(max);
                kill.next_at = now + kill.delay;
                due.push((id.clone(), kill.agent_id.clone()));
            }
        }
        due.sort();
        for (id, agent) in due {
            self.push_kill_call(&id, agent, out);
        }
    }

    /// UNREACHABLE past the grace → replaced (and killed if it comes back); STAGING or
    /// STARTING past the launch timeout → reconciled, then replaced under a new id.
    fn task_timers(&mut self, now: Instant, out: &mut Vec<Action>) {
        let t = &self.cfg.timing;
        let mut replace: Vec<String> = Vec::new();
        let mut check: Vec<(String, String)> = Vec::new();
        let mut give_up: Vec<String> = Vec::new();
        for task in self.tasks.values_mut() {
            if !task.active() {
                // A replaced task last seen UNREACHABLE may be running again behind a healed
                // partition; Mesos says so only when asked (spec §5 "Agent failure"), so ask
                // now and then, and a RUNNING answer kills the duplicate.
                let stale = task
                    .timeout_reconciled
                    .is_none_or(|at| now.saturating_duration_since(at) >= t.reconcile_retry_max);
                if task.rec.replaced && task.unreachable_since.is_some() && stale {
                    task.timeout_reconciled = Some(now);
                    check.push((task.rec.task_id.clone(), task.rec.agent_id.clone()));
                }
                continue;
            }
            if let Some(since) = task.unreachable_since {
                if now.saturating_duration_since(since) >= t.unreachable_grace {
                    replace.push(task.rec.task_id.clone());
                }
                continue;
            }
            let launching = matches!(task.state, TaskState::TaskStaging | TaskState::TaskStarting);
            if !launching || now.saturating_duration_since(task.launched_at) < t.launch_timeout {
                continue;
            }
            match task.timeout_reconciled {
                None => {
                    task.timeout_reconciled = Some(now);
                    check.push((task.rec.task_id.clone(), task.rec.agent_id.clone()));
                }
                Some(at) if now.saturating_duration_since(at) >= t.launch_reconcile_grace => {
                    give_up.push(task.rec.task_id.clone());
                }
                Some(_) => {}
            }
        }
        replace.sort();
        check.sort();
        give_up.sort();
        if self.subscribed {
            for (task, agent) in check {
                let ask = self.reconciler.add(task, agent, now);
                self.push_reconcile(ask, out);
            }
        }
        for id in replace {
            self.replace(&id, now, out);
        }
        for id in give_up {
            self.kill(&id, now, out);
            self.on_replaced(&id, now, out);
        }
    }

    /// Stops counting an unreachable task; it is killed if it ever reports RUNNING again.
    fn replace(&mut self, id: &str, now: Instant, out: &mut Vec<Action>) {
        if !self.deactivate(id) {
            return;
        }
        if let Some(task) = self.tasks.get_mut(id) {
            task.rec.replaced = true;
            out.push(Action::Persist(StoreOp::PutTask(task.rec.clone())));
        }
        self.on_replaced(id, now, out);
    }

    fn on_replaced(&mut self, id: &str, now: Instant, out: &mut Vec<Action>) {
        let is_server = self
            .tasks
            .get(id)
            .is_some_and(|t| t.rec.kind == TaskKind::Server);
        if is_server {
            self.server_lost(now, out);
        }
        self.need_revive = true;
    }
}
