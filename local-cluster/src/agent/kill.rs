//! Stopping work on an agent: KILL of one task (the KILL event for a custom executor; for a
//! command task SIGTERM, TASK_KILLING when the framework has the capability, SIGKILL after
//! the kill policy's grace period), SHUTDOWN of an executor and of a removed framework
//! (spec §3.2 "Executor duties", "Killing tasks").

use std::time::Instant;

use super::lifecycle::command_status;
use super::{Agent, AgentOut, Kind, Queued, Termination};
use crate::keys::ExecutorKey;
use crate::pb::exec::{self, event::Type as EventType};
use crate::pb::v1::{self, TaskState, task_status::Reason};
use crate::status::agent_status;

impl Agent {
    /// KILL of one task.
    pub(crate) fn kill_task(
        &mut self,
        fid: &str,
        task_id: &str,
        policy: Option<v1::KillPolicy>,
        now: Instant,
    ) {
        let Some((key, e)) = self
            .executors
            .iter_mut()
            .find(|(k, e)| k.framework_id == fid && e.tasks.contains_key(task_id))
        else {
            return;
        };
        let key = key.clone();
        let queued_before = e.queued.len();
        e.queued
            .retain(|q| !matches!(q, Queued::Task(t) if t.task_id.value == task_id));
        if e.queued.len() != queued_before {
            // Killed before the executor ever saw it.
            let st = agent_status(
                task_id,
                &self.cfg.id,
                Some(&key.executor_id),
                TaskState::TaskKilled,
                Reason::TaskKilledDuringLaunch,
                "Killed before delivery to the executor",
            );
            self.enqueue_own(fid, st, now);
            return;
        }
        match (e.kind.clone(), e.conn) {
            (Kind::Custom, Some(conn)) => {
                // Recorded: kill_policy is only in the event when the KILL call overrode it.
                let ev = exec::Event {
                    r#type: Some(EventType::Kill as i32),
                    kill: Some(exec::event::Kill {
                        task_id: v1::TaskId {
                            value: task_id.into(),
                        },
                        kill_policy: policy,
                    }),
                    ..Default::default()
                };
                self.send(conn, ev);
            }
            (Kind::Custom, None) => {}
            (Kind::Command, _) => self.kill_command(&key, policy, now),
        }
    }

    fn kill_command(&mut self, key: &ExecutorKey, policy: Option<v1::KillPolicy>, now: Instant) {
        let killing_cap = self.frameworks.get(&key.framework_id).is_some_and(|f| {
            f.capabilities.iter().any(|c| {
                c.r#type == Some(v1::framework_info::capability::Type::TaskKillingState as i32)
            })
        });
        let Some(e) = self.executors.get_mut(key) else {
            return;
        };
        if e.killed {
            return;
        }
        e.killed = true;
        let grace = policy
            .or_else(|| e.tasks.values().next().and_then(|(t, _)| t.kill_policy))
            .and_then(|p| p.grace_period)
            .map(|d| std::time::Duration::from_nanos(d.nanoseconds.max(0) as u64))
            .unwrap_or(std::time::Duration::from_secs(3));
        e.kill_deadline = Some(now + grace);
        let container = e.container.clone();
        self.push(AgentOut::Signal {
            container,
            kill: false,
        });
        if killing_cap {
            let st = command_status(&key.executor_id, &self.cfg.id, TaskState::TaskKilling, None);
            self.enqueue_own(&key.framework_id, st, now);
        }
    }

    /// SHUTDOWN of an executor: the SHUTDOWN event, then SIGKILL after the grace period.
    pub(crate) fn shutdown_executor(
        &mut self,
        key: &ExecutorKey,
        termination: Termination,
        now: Instant,
    ) {
        let grace = self.cfg.shutdown_grace;
        let Some(e) = self.executors.get_mut(key) else {
            return;
        };
        e.termination.get_or_insert(termination);
        e.kill_deadline.get_or_insert(now + grace);
        let container = e.container.clone();
        match (e.kind.clone(), e.conn) {
            (Kind::Custom, Some(conn)) => {
                let ev = exec::Event {
                    r#type: Some(EventType::Shutdown as i32),
                    ..Default::default()
                };
                self.send(conn, ev);
            }
            (Kind::Command, _) => {
                e.killed = true;
                self.push(AgentOut::Signal {
                    container,
                    kill: false,
                });
            }
            (Kind::Custom, None) => self.push(AgentOut::Signal {
                container,
                kill: true,
            }),
        }
    }

    /// The framework was removed: every executor of it shuts down; its updates are dropped.
    pub(crate) fn shutdown_framework(&mut self, framework_id: &str, now: Instant) {
        let keys: Vec<_> = self
            .executors
            .keys()
            .filter(|k| k.framework_id == framework_id)
            .cloned()
            .collect();
        for key in keys {
            let t = Termination {
                state: TaskState::TaskKilled,
                reason: Reason::FrameworkRemoved,
                message: "Framework removed".into(),
            };
            self.shutdown_executor(&key, t, now);
        }
        self.updates.retain(|k, _| k.framework_id != framework_id);
    }
}
