//! UPDATE events (spec §3.5, §5): dedupe by uuid, apply, persist, then ACKNOWLEDGE; what a
//! state means for us (server lost → workers killed, UNREACHABLE kept for a grace period,
//! TASK_ERROR blocks its kind); and kills, retried until a terminal update.

use std::time::Instant;

use proto::calls::scheduler as calls;
use proto::framework::TaskKind;
use proto::v1::{AgentId, TaskId, TaskState, TaskStatus};

use super::task::{Task, truncate};
use super::{Action, PendingKill, State, StoreOp, index_of};

fn uuid_of(status: &TaskStatus) -> Option<[u8; 16]> {
    status
        .uuid
        .as_deref()
        .and_then(|u| <[u8; 16]>::try_from(u).ok())
}

impl State {
    pub(crate) fn on_update(&mut self, status: TaskStatus, now: Instant, out: &mut Vec<Action>) {
        self.stats.updates += 1;
        let id = status.task_id.value.clone();
        if let Some(ask) = self.reconciler.answered(&id, now) {
            self.push_reconcile(ask, out);
        }
        let ack = match (&self.framework_id, self.subscribed) {
            (Some(fid), true) => calls::acknowledge_status(fid, &status).map(Box::new),
            _ => None,
        };
        // An unknown enum value: acknowledge it and change nothing.
        let state = TaskState::try_from(status.state).ok();
        let uuid = uuid_of(&status);
        match (self.tasks.get_mut(&id), state) {
            (Some(task), Some(state)) => {
                if uuid.is_some_and(|u| task.seen(&u)) {
                    self.stats.duplicate_updates += 1;
                } else {
                    if let Some(u) = uuid {
                        task.remember(u);
                    }
                    if task.state != state {
                        self.changes.record(task, state, &status, now);
                    }
                    self.apply(&id, state, &status, now, out);
                }
            }
            (None, Some(state)) => self.on_unknown(&id, state, &status, now, out),
            (_, None) => {}
        }
        if let Some(ack) = ack {
            out.push(Action::Call(ack));
        }
    }

    /// Not one of ours (or already forgotten): if it may be running, kill it (Marathon).
    fn on_unknown(
        &mut self,
        id: &str,
        state: TaskState,
        status: &TaskStatus,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if state.is_terminal() {
            self.kills.remove(id);
        } else if !self.kills.contains_key(id) {
            let agent = status.agent_id.as_ref().map(|a| a.value.clone());
            self.start_kill(id, agent, now, out);
        }
    }

    fn apply(
        &mut self,
        id: &str,
        state: TaskState,
        status: &TaskStatus,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if state.is_terminal() {
            self.task_ended(id, state, status, now, out);
            return;
        }
        let Some(task) = self.tasks.get_mut(id) else {
            return;
        };
        let previous = task.state;
        task.state = state;
        if let Some(healthy) = status.healthy {
            task.healthy = Some(healthy);
        }
        let mut must_die = false;
        match state {
            TaskState::TaskRunning => {
                task.running_since.get_or_insert(now);
                task.unreachable_since = None;
                must_die = !task.active();
            }
            TaskState::TaskUnreachable | TaskState::TaskUnknown => {
                task.unreachable_since.get_or_insert(now);
            }
            _ => {}
        }
        if previous != state {
            task.rec.state = state.as_str_name().to_owned();
            out.push(Action::Persist(StoreOp::PutTask(task.rec.clone())));
        }
        let kind = task.rec.kind;
        if must_die {
            // A replaced task came back: it is a duplicate now.
            self.kill(id, now, out);
        } else if kind == TaskKind::Server
            && state == TaskState::TaskRunning
            && previous != state
            && self.server.as_deref() == Some(id)
        {
            // Workers can start now; earlier declines filtered their agents.
            self.need_revive = true;
        }
    }

    /// A terminal update: forget the task; if we still wanted it, back off and replace it.
    fn task_ended(
        &mut self,
        id: &str,
        state: TaskState,
        status: &TaskStatus,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let was_active = self.deactivate(id);
        self.kills.remove(id);
        let Some(task) = self.tasks.remove(id) else {
            return;
        };
        out.push(Action::Persist(StoreOp::RemoveTask(id.to_owned())));
        self.retire(&task);
        let kind = task.rec.kind;
        if kind == TaskKind::Server {
            self.last_server = Some((id.to_owned(), state));
        }
        if state == TaskState::TaskError {
            let message = status.message.as_deref().unwrap_or("TASK_ERROR");
            self.stats.task_errors += 1;
            self.blocked[index_of(kind)] = Some(truncate(message, 512).to_owned());
        }
        if !was_active {
            // We asked for this end (kill, replacement); a relaunch may be due.
            self.need_revive = true;
            return;
        }
        let healthy_run = task
            .running_since
            .is_some_and(|t| now.saturating_duration_since(t) >= self.cfg.timing.healthy_run);
        self.backoff[index_of(kind)].failed(now, healthy_run);
        if kind == TaskKind::Server {
            self.server_lost(now, out);
        }
        self.need_revive = true;
    }

    fn retire(&mut self, task: &Task) {
        let Some(sample) = &task.sample else {
            return;
        };
        for (total, n) in self.retired.shares.iter_mut().zip(sample.shares) {
            *total += n;
        }
        if let Some(server) = &sample.server {
            self.retired.blocks[0] += server.blocks_found;
            self.retired.blocks[1] += server.blocks_accepted;
        }
    }

    /// The server is gone: every worker mines on a dead pool, so kill them all; new ones
    /// follow the new server once it runs (the original framework did the same).
    pub(crate) fn server_lost(&mut self, now: Instant, out: &mut Vec<Action>) {
        let mut workers: Vec<String> = self
            .tasks
            .values()
            .filter(|t| t.rec.kind == TaskKind::Worker && t.active())
            .map(|t| t.rec.task_id.clone())
            .collect();
        workers.sort();
        for id in workers {
            self.kill(&id, now, out);
        }
    }

    /// Kills a known task: it stops counting, the record says so, and the KILL is retried
    /// until a terminal update arrives.
    pub(crate) fn kill(&mut self, id: &str, now: Instant, out: &mut Vec<Action>) {
        self.deactivate(id);
        let Some(task) = self.tasks.get_mut(id) else {
            return;
        };
        if !task.rec.kill {
            task.rec.kill = true;
            out.push(Action::Persist(StoreOp::PutTask(task.rec.clone())));
        }
        let agent = Some(task.rec.agent_id.clone());
        self.start_kill(id, agent, now, out);
    }

    /// Puts `id` in the pending-kill set (retried with backoff until a terminal update) and
    /// sends the first KILL.
    fn start_kill(&mut self, id: &str, agent: Option<String>, now: Instant, out: &mut Vec<Action>) {
        let delay = self.cfg.timing.kill_retry;
        self.kills.insert(
            id.to_owned(),
            PendingKill {
                agent_id: agent.clone(),
                next_at: now + delay,
                delay,
            },
        );
        self.push_kill_call(id, agent, out);
    }

    pub(crate) fn push_kill_call(&self, id: &str, agent: Option<String>, out: &mut Vec<Action>) {
        if let (Some(fid), true) = (&self.framework_id, self.subscribed) {
            let call = calls::kill(fid, TaskId::new(id), agent.map(AgentId::new), None);
            out.push(Action::Call(Box::new(call)));
        }
    }
}
