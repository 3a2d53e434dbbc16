//! Process lifecycle on an agent: started and exited containers, the command executor's
//! updates ("Command exited with status N", as recorded), executor-exit updates with their
//! reason, kill and registration deadlines, and agent restarts (spec §3.2, §3.4).

use std::time::Instant;

use super::{Agent, AgentOut, Executor, Kind, Phase, Termination};
use crate::keys::ExecutorKey;
use crate::msg::ToMaster;
use crate::pb::v1::{self, TaskState, task_status::Reason};
use crate::status::agent_status;

impl Agent {
    /// The driver started `container`'s process; command tasks report STARTING, RUNNING.
    pub(crate) fn process_started(&mut self, container: &str, now: Instant) {
        let Some((key, e)) = self
            .executors
            .iter_mut()
            .find(|(_, e)| e.container == container)
        else {
            return;
        };
        e.started = true;
        if e.kind != Kind::Command {
            return;
        }
        let key = key.clone();
        for state in [TaskState::TaskStarting, TaskState::TaskRunning] {
            let st = command_status(&key.executor_id, &self.cfg.id, state, None);
            self.enqueue_own(&key.framework_id, st, now);
        }
    }

    /// `container` could not be started (fetch or spawn failed).
    pub(crate) fn launch_failed(&mut self, container: &str, message: &str, now: Instant) {
        if let Some(e) = self
            .executors
            .values_mut()
            .find(|e| e.container == container)
        {
            e.termination = Some(Termination {
                state: TaskState::TaskFailed,
                reason: Reason::ContainerLaunchFailed,
                message: message.into(),
            });
        }
        self.process_exited(container, 1 << 8, now);
    }

    /// `container`'s process ended with raw wait `status`.
    pub(crate) fn process_exited(&mut self, container: &str, status: i32, now: Instant) {
        let Some(key) = self
            .executors
            .iter()
            .find(|(_, e)| e.container == container)
            .map(|(k, _)| k.clone())
        else {
            return;
        };
        let Some(e) = self.executors.remove(&key) else {
            return;
        };
        if let Some(conn) = e.conn {
            self.push(AgentOut::Close { conn });
        }
        let framework_alive = self.frameworks.contains_key(&key.framework_id)
            && e.termination
                .as_ref()
                .is_none_or(|t| t.reason != Reason::FrameworkRemoved);
        if framework_alive {
            self.terminal_updates(&key, &e, status, now);
        }
        let generated = e.kind == Kind::Command;
        if self.phase == Phase::Running {
            self.push(AgentOut::ToMaster(ToMaster::ExecutorExited {
                framework_id: key.framework_id,
                executor_id: key.executor_id,
                status,
                generated,
            }));
        }
    }

    fn terminal_updates(&mut self, key: &ExecutorKey, e: &Executor, status: i32, now: Instant) {
        let live: Vec<String> = e
            .tasks
            .iter()
            .filter(|(_, (_, s))| !s.is_terminal())
            .map(|(id, _)| id.clone())
            .collect();
        if e.kind == Kind::Command && e.termination.is_none() {
            let (code, signal) = (status >> 8 & 0xff, status & 0x7f);
            let message = if signal == 0 {
                format!("Command exited with status {code}")
            } else {
                format!("Command terminated with signal {signal}")
            };
            let state = if e.killed {
                TaskState::TaskKilled
            } else if signal == 0 && code == 0 {
                TaskState::TaskFinished
            } else {
                TaskState::TaskFailed
            };
            for id in live {
                let st = command_status(&id, &self.cfg.id, state, Some(&message));
                self.enqueue_own(&key.framework_id, st, now);
            }
            return;
        }
        let t = e.termination.clone().unwrap_or(Termination {
            state: TaskState::TaskFailed,
            reason: Reason::ExecutorTerminated,
            message: "Executor terminated".into(),
        });
        for id in live {
            let st = agent_status(
                &id,
                &self.cfg.id,
                Some(&key.executor_id),
                t.state,
                t.reason,
                &t.message,
            );
            self.enqueue_own(&key.framework_id, st, now);
        }
    }

    /// Kill and registration deadlines.
    pub(crate) fn deadlines(&mut self, now: Instant) {
        let mut kills = Vec::new();
        for e in self.executors.values_mut() {
            if e.kill_deadline.is_some_and(|d| d <= now) {
                e.kill_deadline = None;
                kills.push(e.container.clone());
            }
            if e.registration_deadline.is_some_and(|d| d <= now) {
                e.registration_deadline = None;
                e.termination = Some(Termination {
                    state: TaskState::TaskFailed,
                    reason: Reason::ExecutorRegistrationTimeout,
                    message: "Executor did not register in time".into(),
                });
                kills.push(e.container.clone());
            }
        }
        for container in kills {
            self.push(AgentOut::Signal {
                container,
                kill: true,
            });
        }
    }

    /// After a restart: executors that did not re-subscribe in time are destroyed; their
    /// tasks become TASK_GONE (PARTITION_AWARE) or TASK_LOST.
    pub(crate) fn destroy_unregistered(&mut self) {
        let timeout = proto::duration::format(self.cfg.reregistration_timeout);
        let mut kills = Vec::new();
        for e in self
            .executors
            .values_mut()
            .filter(|e| e.kind == Kind::Custom && e.conn.is_none())
        {
            let pa = self.frameworks.get(&e.framework_id).is_some_and(|f| {
                f.capabilities.iter().any(|c| {
                    c.r#type == Some(v1::framework_info::capability::Type::PartitionAware as i32)
                })
            });
            e.termination = Some(Termination {
                state: if pa {
                    TaskState::TaskGone
                } else {
                    TaskState::TaskLost
                },
                reason: Reason::ExecutorReregistrationTimeout,
                message: format!("Executor did not reregister within {timeout}"),
            });
            kills.push(e.container.clone());
        }
        for container in kills {
            self.push(AgentOut::Signal {
                container,
                kill: true,
            });
        }
    }

    /// Fault injection: the agent process stops. Executor streams break (the driver aborts
    /// them); executors of frameworks that do not checkpoint are killed (they cannot recover).
    pub(crate) fn go_down(&mut self) {
        self.phase = Phase::Down;
        let mut kills = Vec::new();
        for e in self.executors.values_mut() {
            e.conn = None;
            let checkpoint = self
                .frameworks
                .get(&e.framework_id)
                .and_then(|f| f.checkpoint)
                .unwrap_or(false);
            if !checkpoint {
                e.termination = Some(Termination {
                    state: TaskState::TaskFailed,
                    reason: Reason::AgentRestarted,
                    message: "Agent restarted".into(),
                });
                kills.push(e.container.clone());
            }
        }
        for container in kills {
            self.push(AgentOut::Signal {
                container,
                kill: true,
            });
        }
    }

    /// Fault injection: the agent is back; it recovers for a short phase (503s), then runs.
    pub(crate) fn come_up(&mut self, now: Instant) {
        self.phase = Phase::Recovering(now + self.cfg.recovery_phase);
    }

    /// Called once registered with a master: every pending update goes out again.
    pub(crate) fn registered(&mut self, now: Instant) {
        self.resend_all(now);
    }
}

/// An update as the command executor sends it (`SOURCE_EXECUTOR`, executor id = task id);
/// stamped by `Agent::enqueue_own`.
pub(crate) fn command_status(
    task_id: &str,
    agent_id: &str,
    state: TaskState,
    message: Option<&str>,
) -> v1::TaskStatus {
    v1::TaskStatus {
        task_id: v1::TaskId {
            value: task_id.into(),
        },
        state: state as i32,
        message: message.map(String::from),
        source: Some(v1::task_status::Source::Executor as i32),
        agent_id: Some(v1::AgentId {
            value: agent_id.into(),
        }),
        executor_id: Some(v1::ExecutorId {
            value: task_id.into(),
        }),
        ..Default::default()
    }
}
