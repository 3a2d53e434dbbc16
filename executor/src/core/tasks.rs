//! The task half of the core: LAUNCH (one task per executor; a bad `TaskInfo.data` is a
//! TASK_FAILED, not a crash), the task's updates, health flips, KILL within the kill grace
//! period, and SHUTDOWN.

use std::time::{Duration, Instant};

use proto::v1::{KillPolicy, TaskId, TaskInfo, TaskState, TaskStatus, task_status::Reason};
use tracing::{info, warn};

use super::{Action, Core, TaskOutcome};
use crate::plan;

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// TASK_STARTING sent; the driver is starting it.
    Starting,
    /// TASK_RUNNING sent.
    Running,
    /// Asked to stop; `during_launch` if it never got to RUNNING.
    Killing { during_launch: bool },
    /// A terminal update was made.
    Done,
}

/// One task of this executor.
#[derive(Debug)]
pub(super) struct Task {
    phase: Phase,
    /// `TaskInfo.kill_policy.grace_period`, remembered from LAUNCH: a KILL event carries a
    /// policy only when the KILL call overrode it (recorded, exec-kill-exec-nocap.log.txt).
    kill_grace: Option<Duration>,
    /// Set while killing: abort by then.
    pub(super) kill_deadline: Option<Instant>,
    healthy: Option<bool>,
}

impl Task {
    pub(super) fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }
}

fn grace_of(policy: Option<&KillPolicy>) -> Option<Duration> {
    let nanos = policy?.grace_period.as_ref()?.nanoseconds;
    Some(Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)))
}

impl Core {
    pub(super) fn on_launch(&mut self, task: TaskInfo, now: Instant, out: &mut Vec<Action>) {
        let id = task.task_id.value.clone();
        if self.tasks.contains_key(&id) {
            warn!(task = %id, "LAUNCH of a task this executor already has: ignored");
            return;
        }
        if self.shutting_down {
            return self.refuse(task, "the executor is shutting down", out);
        }
        if let Some(other) = self.tasks.keys().next() {
            let why = format!("one task per executor: {other} already runs in this executor");
            return self.refuse(task, &why, out);
        }
        let plan = match plan::plan(&task) {
            Ok(plan) => plan,
            Err(why) => return self.refuse(task, &why, out),
        };
        info!(task = %id, ?plan, "launching");
        self.tasks.insert(
            id.clone(),
            Task {
                phase: Phase::Starting,
                kill_grace: grace_of(task.kill_policy.as_ref()),
                kill_deadline: None,
                healthy: None,
            },
        );
        self.unacked_tasks.insert(id.clone(), task.clone());
        let status = self.status(&id, TaskState::TaskStarting, None, None);
        self.send_update(status, out);
        out.push(Action::Start {
            task_id: task.task_id.clone(),
            plan: Box::new(plan),
            info: Box::new(task),
        });
        let _ = now;
    }

    /// TASK_FAILED for a task that will not run.
    pub(super) fn refuse(&mut self, task: TaskInfo, why: &str, out: &mut Vec<Action>) {
        let id = task.task_id.value.clone();
        if self.tasks.contains_key(&id) {
            return;
        }
        warn!(task = %id, %why, "task refused");
        self.tasks.insert(
            id.clone(),
            Task {
                phase: Phase::Done,
                kill_grace: None,
                kill_deadline: None,
                healthy: None,
            },
        );
        self.unacked_tasks.insert(id.clone(), task);
        let status = self.status(
            &id,
            TaskState::TaskFailed,
            Some(why),
            Some(Reason::TaskInvalid),
        );
        self.send_update(status, out);
    }

    pub(super) fn on_kill(
        &mut self,
        task_id: &TaskId,
        policy: Option<KillPolicy>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let Some(task) = self.tasks.get(&task_id.value) else {
            warn!(task = %task_id, "KILL for a task this executor does not have: ignored");
            return;
        };
        let grace = grace_of(policy.as_ref())
            .or(task.kill_grace)
            .unwrap_or(self.config.default_kill_grace);
        self.kill(&task_id.value, grace, now, out);
    }

    /// Stops a live task within `grace` (a shorter new grace wins over a running one).
    fn kill(&mut self, id: &str, grace: Duration, now: Instant, out: &mut Vec<Action>) {
        let killing_state = self.killing_state;
        let Some(task) = self.tasks.get_mut(id) else {
            return;
        };
        let deadline = now + grace;
        match task.phase {
            Phase::Done => return,
            Phase::Killing { .. } => {
                task.kill_deadline = task.kill_deadline.min(Some(deadline)).or(Some(deadline));
                return;
            }
            Phase::Starting | Phase::Running => {}
        }
        info!(task = %id, grace_ms = grace.as_millis() as u64, "killing");
        task.phase = Phase::Killing {
            during_launch: task.phase == Phase::Starting,
        };
        task.kill_deadline = Some(deadline);
        // TASK_KILLING only for frameworks that asked for it (spec §3.2).
        if killing_state {
            let status = self.status(id, TaskState::TaskKilling, None, None);
            self.send_update(status, out);
        }
        out.push(Action::Stop(TaskId::new(id)));
    }

    /// Tasks whose kill grace is over: aborted, TASK_KILLED.
    pub(super) fn kill_timeouts(&mut self, now: Instant, out: &mut Vec<Action>) {
        let due: Vec<String> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.kill_deadline.is_some_and(|d| d <= now) && !t.is_done())
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            warn!(task = %id, "task did not stop within its kill grace period: aborted");
            out.push(Action::Abort(TaskId::new(id.clone())));
            let why = "killed (did not stop within the kill grace period)";
            self.finish(&id, TaskState::TaskKilled, why, None, out);
        }
    }

    /// SHUTDOWN (or a signal): kill everything, then exit once acknowledged, within the
    /// grace period the agent allows (not all of it is granted: spec §3.2).
    pub(super) fn begin_shutdown(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.shutting_down {
            return;
        }
        info!("shutting down");
        self.shutting_down = true;
        let grace = self.config.shutdown_grace;
        self.exit_deadline = Some(now + grace.mul_f64(0.8));
        let ids: Vec<String> = self.tasks.keys().cloned().collect();
        for id in ids {
            let own = self.tasks.get(&id).and_then(|t| t.kill_grace);
            let kill_grace = own.unwrap_or(grace).min(grace / 2);
            self.kill(&id, kill_grace, now, out);
        }
    }

    /// The driver started the task: TASK_RUNNING with `message`.
    pub fn handle_task_started(
        &mut self,
        task_id: &TaskId,
        message: &str,
        now: Instant,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        let Some(task) = self.tasks.get_mut(&task_id.value) else {
            return out;
        };
        if task.phase == Phase::Starting && !self.exited {
            task.phase = Phase::Running;
            let status = self.status(&task_id.value, TaskState::TaskRunning, Some(message), None);
            self.send_update(status, &mut out);
        }
        self.check_exit(now, &mut out);
        out
    }

    /// The task's run ended: TASK_KILLED if it was being killed, else FINISHED or FAILED.
    pub fn handle_task_ended(
        &mut self,
        task_id: &TaskId,
        outcome: TaskOutcome,
        now: Instant,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        let id = &task_id.value;
        let Some(phase) = self.tasks.get(id).map(|t| t.phase) else {
            return out;
        };
        match (phase, outcome) {
            (Phase::Done, _) => {}
            (Phase::Killing { during_launch }, _) => {
                let reason = during_launch.then_some(Reason::TaskKilledDuringLaunch);
                self.finish(id, TaskState::TaskKilled, "killed", reason, &mut out);
            }
            (_, TaskOutcome::Finished(why)) => {
                self.finish(id, TaskState::TaskFinished, &why, None, &mut out)
            }
            (_, TaskOutcome::Failed(why)) => {
                warn!(task = %id, %why, "task failed");
                self.finish(id, TaskState::TaskFailed, &why, None, &mut out)
            }
        }
        self.check_exit(now, &mut out);
        out
    }

    /// A worker's pool health: TASK_RUNNING with `healthy` when it flips to false, and back
    /// to true after that (spec §4.3: REASON_TASK_HEALTH_CHECK_STATUS_UPDATED).
    pub fn handle_health(
        &mut self,
        task_id: &TaskId,
        healthy: bool,
        message: &str,
        now: Instant,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        let Some(task) = self.tasks.get_mut(&task_id.value) else {
            return out;
        };
        let flips = if healthy {
            task.healthy == Some(false)
        } else {
            task.healthy != Some(false)
        };
        if task.phase != Phase::Running || !flips || self.exited {
            return out;
        }
        task.healthy = Some(healthy);
        let reason = Some(Reason::TaskHealthCheckStatusUpdated);
        let mut status = self.status(
            &task_id.value,
            TaskState::TaskRunning,
            Some(message),
            reason,
        );
        status.healthy = Some(healthy);
        self.send_update(status, &mut out);
        self.check_exit(now, &mut out);
        out
    }

    fn finish(
        &mut self,
        id: &str,
        state: TaskState,
        why: &str,
        reason: Option<Reason>,
        out: &mut Vec<Action>,
    ) {
        if let Some(task) = self.tasks.get_mut(id) {
            task.phase = Phase::Done;
            task.kill_deadline = None;
        }
        info!(task = %id, state = state.as_str_name(), %why, "task ended");
        let status = self.status(id, state, Some(why), reason);
        self.send_update(status, out);
    }

    /// A fresh status of task `id` (new uuid, now, SOURCE_EXECUTOR, our ids).
    fn status(
        &mut self,
        id: &str,
        state: TaskState,
        message: Option<&str>,
        reason: Option<Reason>,
    ) -> TaskStatus {
        let mut status = proto::calls::executor::status(
            &self.config.executor_id,
            TaskId::new(id),
            state,
            self.entropy.uuid(),
            self.entropy.unix_time(),
        );
        status.message = message.map(str::to_owned);
        status.reason = reason.map(|r| r as i32);
        status.agent_id = self.agent_id.clone();
        status
    }
}
