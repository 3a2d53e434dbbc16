//! Tasks and executors on an agent: launching custom executors and command tasks, KILL,
//! SHUTDOWN with a grace period, process exits (spec §3.2 "Executor duties", §3.4), the
//! command executor's updates (recorded: STARTING, RUNNING, then "Command exited with
//! status N"), Docker refusal, and agent restarts.

use std::collections::BTreeMap;
use std::time::Instant;

use super::{Agent, AgentOut, Executor, Kind, LaunchSpec, Phase, Queued, Termination};
use crate::msg::{ToAgent, ToMaster};
use crate::pb::exec::{self, event::Type as EventType};
use crate::pb::v1::{
    self, ExecutorInfo, FrameworkInfo, TaskInfo, TaskState, container_info, task_status::Reason,
};
use crate::status::{agent_status, is_terminal, wall_secs};

const NO_DOCKER: &str = "Docker containers are not supported by the local cluster: there is no Docker engine on this host";

impl Agent {
    /// A command from the master.
    pub fn from_master(&mut self, msg: ToAgent, now: Instant) {
        match msg {
            ToAgent::RunTask { framework, task } => self.run_task(framework, task, now),
            ToAgent::RunTaskGroup {
                framework,
                executor,
                group,
            } => {
                let exec_info = executor.clone();
                let fid = fid_of(&framework);
                self.frameworks.insert(fid.clone(), framework);
                let tasks = group.tasks.clone();
                let is_default = exec_info.r#type == Some(v1::executor_info::Type::Default as i32);
                if is_default || uses_docker(None, Some(&exec_info)) {
                    let msg = if is_default {
                        "The DEFAULT executor is not supported by the local cluster"
                    } else {
                        NO_DOCKER
                    };
                    for t in tasks {
                        self.fail_launch(
                            &fid,
                            &t.task_id.value,
                            Some(&exec_info.executor_id.value),
                            msg,
                            now,
                        );
                    }
                    return;
                }
                self.ensure_executor(&fid, &exec_info, Kind::Custom, now);
                let key = (fid.clone(), exec_info.executor_id.value.clone());
                if let Some(e) = self.executors.get_mut(&key) {
                    for t in &tasks {
                        e.tasks.insert(
                            t.task_id.value.clone(),
                            (t.clone(), TaskState::TaskStaging as i32),
                        );
                    }
                }
                self.deliver(&key, Queued::Group(group));
            }
            ToAgent::KillTask {
                framework_id,
                task_id,
                kill_policy,
            } => self.kill_task(&framework_id, &task_id, kill_policy, now),
            ToAgent::ShutdownExecutor {
                framework_id,
                executor_id,
            } => {
                let t = Termination {
                    state: TaskState::TaskKilled,
                    reason: Reason::ExecutorTerminated,
                    message: "Executor shut down".into(),
                };
                self.shutdown_executor(&(framework_id, executor_id), t, now);
            }
            ToAgent::ShutdownFramework { framework_id } => {
                let keys: Vec<_> = self
                    .executors
                    .keys()
                    .filter(|(f, _)| *f == framework_id)
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
                self.updates.retain(|(f, _), _| *f != framework_id);
            }
            ToAgent::FrameworkMessage {
                framework_id,
                executor_id,
                data,
            } => {
                if let Some(conn) = self
                    .executors
                    .get(&(framework_id, executor_id))
                    .and_then(|e| e.conn)
                {
                    let ev = exec::Event {
                        r#type: Some(EventType::Message as i32),
                        message: Some(exec::event::Message { data }),
                        ..Default::default()
                    };
                    self.send(conn, ev);
                }
            }
            ToAgent::Acknowledge {
                framework_id,
                task_id,
                uuid,
            } => self.acknowledge(&framework_id, &task_id, &uuid, now),
            ToAgent::ResendUpdates { framework_id } => self.resend(&framework_id, now),
            ToAgent::UpdateFramework { framework } => {
                let fid = fid_of(&framework);
                if self.frameworks.contains_key(&fid) {
                    self.frameworks.insert(fid, framework);
                }
            }
        }
    }

    fn run_task(&mut self, framework: FrameworkInfo, task: TaskInfo, now: Instant) {
        let fid = fid_of(&framework);
        self.frameworks.insert(fid.clone(), framework);
        if uses_docker(Some(&task), task.executor.as_ref()) {
            let eid = task.executor.as_ref().map(|e| e.executor_id.value.clone());
            self.fail_launch(&fid, &task.task_id.value, eid.as_deref(), NO_DOCKER, now);
            return;
        }
        let (exec_info, kind) = match &task.executor {
            Some(e) => (e.clone(), Kind::Custom),
            None => (command_executor(&task), Kind::Command),
        };
        self.ensure_executor(&fid, &exec_info, kind.clone(), now);
        let key = (fid, exec_info.executor_id.value.clone());
        if let Some(e) = self.executors.get_mut(&key) {
            e.tasks.insert(
                task.task_id.value.clone(),
                (task.clone(), TaskState::TaskStaging as i32),
            );
        }
        if kind == Kind::Custom {
            self.deliver(&key, Queued::Task(task));
        }
    }

    /// Creates the executor (sandbox, process launch) unless it already runs.
    fn ensure_executor(&mut self, fid: &str, info: &ExecutorInfo, kind: Kind, now: Instant) {
        let key = (fid.to_string(), info.executor_id.value.clone());
        if self.executors.contains_key(&key) {
            return;
        }
        let container = uuid::Uuid::new_v4().to_string();
        let sandbox = self
            .cfg
            .work_dir
            .join("slaves")
            .join(&self.cfg.id)
            .join("frameworks")
            .join(fid)
            .join("executors")
            .join(&info.executor_id.value)
            .join("runs")
            .join(&container);
        let framework = self.frameworks.get(fid).cloned().unwrap_or_default();
        let command = info.command.clone().unwrap_or_default();
        let grace = info
            .shutdown_grace_period
            .as_ref()
            .map(|d| std::time::Duration::from_nanos(d.nanoseconds.max(0) as u64))
            .unwrap_or(self.cfg.shutdown_grace);
        let env = self.executor_env(
            &framework,
            &info.executor_id.value,
            &sandbox,
            &command,
            grace,
        );
        let spec = LaunchSpec {
            sandbox: sandbox.clone(),
            command,
            env,
        };
        let registration_deadline =
            (kind == Kind::Custom).then(|| now + self.cfg.registration_timeout);
        self.executors.insert(
            key,
            Executor {
                framework_id: fid.into(),
                info: info.clone(),
                container: container.clone(),
                kind,
                conn: None,
                queued: Vec::new(),
                tasks: BTreeMap::new(),
                registration_deadline,
                kill_deadline: None,
                termination: None,
                killed: false,
                started: false,
            },
        );
        self.push(AgentOut::Launch { container, spec });
    }

    /// Sends a LAUNCH / LAUNCH_GROUP now if the executor is subscribed, else queues it.
    fn deliver(&mut self, key: &(String, String), q: Queued) {
        let Some(e) = self.executors.get_mut(key) else {
            return;
        };
        match e.conn {
            Some(conn) => {
                let ev = match q {
                    Queued::Task(task) => exec::Event {
                        r#type: Some(EventType::Launch as i32),
                        launch: Some(exec::event::Launch { task }),
                        ..Default::default()
                    },
                    Queued::Group(task_group) => exec::Event {
                        r#type: Some(EventType::LaunchGroup as i32),
                        launch_group: Some(exec::event::LaunchGroup { task_group }),
                        ..Default::default()
                    },
                };
                self.send(conn, ev);
            }
            None => e.queued.push(q),
        }
    }

    fn fail_launch(
        &mut self,
        fid: &str,
        task_id: &str,
        eid: Option<&str>,
        message: &str,
        now: Instant,
    ) {
        let st = agent_status(
            task_id,
            &self.cfg.id,
            eid,
            TaskState::TaskFailed,
            Reason::ContainerLaunchFailed,
            message,
        );
        self.enqueue_update(fid, st, now);
    }

    fn kill_task(
        &mut self,
        fid: &str,
        task_id: &str,
        policy: Option<v1::KillPolicy>,
        now: Instant,
    ) {
        let Some((key, e)) = self
            .executors
            .iter_mut()
            .find(|((f, _), e)| f == fid && e.tasks.contains_key(task_id))
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
                Some(&key.1),
                TaskState::TaskKilled,
                Reason::TaskKilledDuringLaunch,
                "Killed before delivery to the executor",
            );
            self.enqueue_update(fid, st, now);
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

    fn kill_command(
        &mut self,
        key: &(String, String),
        policy: Option<v1::KillPolicy>,
        now: Instant,
    ) {
        let killing_cap = self.frameworks.get(&key.0).is_some_and(|f| {
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
            let st = command_status(&key.1, &self.cfg.id, TaskState::TaskKilling, None);
            self.enqueue_update(&key.0, st, now);
        }
    }

    /// SHUTDOWN of an executor: the SHUTDOWN event, then SIGKILL after the grace period.
    pub(crate) fn shutdown_executor(
        &mut self,
        key: &(String, String),
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

    /// The driver started `container`'s process; command tasks report STARTING, RUNNING.
    pub fn process_started(&mut self, container: &str, now: Instant) {
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
            let st = command_status(&key.1, &self.cfg.id, state, None);
            self.enqueue_update(&key.0, st, now);
        }
    }

    /// `container` could not be started (fetch or spawn failed).
    pub fn launch_failed(&mut self, container: &str, message: &str, now: Instant) {
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
    pub fn process_exited(&mut self, container: &str, status: i32, now: Instant) {
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
        let framework_alive = self.frameworks.contains_key(&key.0)
            && e.termination
                .as_ref()
                .is_none_or(|t| t.reason != Reason::FrameworkRemoved);
        if framework_alive {
            self.terminal_updates(&key, &e, status, now);
        }
        let generated = e.kind == Kind::Command;
        if self.phase == Phase::Running {
            self.push(AgentOut::ToMaster(ToMaster::ExecutorExited {
                framework_id: key.0,
                executor_id: key.1,
                status,
                generated,
            }));
        }
    }

    fn terminal_updates(
        &mut self,
        key: &(String, String),
        e: &Executor,
        status: i32,
        now: Instant,
    ) {
        let live: Vec<String> = e
            .tasks
            .iter()
            .filter(|(_, (_, s))| !is_terminal(*s))
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
                self.enqueue_update(&key.0, st, now);
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
                Some(&key.1),
                t.state,
                t.reason,
                &t.message,
            );
            self.enqueue_update(&key.0, st, now);
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
        let timeout = super::format_duration(self.cfg.reregistration_timeout);
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
    pub fn go_down(&mut self) {
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
    pub fn come_up(&mut self, now: Instant) {
        self.phase = Phase::Recovering(now + self.cfg.recovery_phase);
    }

    /// Called once registered with a master: every pending update goes out again.
    pub fn registered(&mut self, now: Instant) {
        self.resend_all(now);
    }
}

fn fid_of(f: &FrameworkInfo) -> String {
    f.id.as_ref().map(|i| i.value.clone()).unwrap_or_default()
}

fn uses_docker(task: Option<&TaskInfo>, exec: Option<&ExecutorInfo>) -> bool {
    let docker = |c: Option<&v1::ContainerInfo>| {
        c.is_some_and(|c| c.r#type == container_info::Type::Docker as i32)
    };
    docker(task.and_then(|t| t.container.as_ref()))
        || docker(exec.and_then(|e| e.container.as_ref()))
}

/// The executor Mesos generates for a command task: its id is the task id.
fn command_executor(task: &TaskInfo) -> ExecutorInfo {
    ExecutorInfo {
        executor_id: v1::ExecutorId {
            value: task.task_id.value.clone(),
        },
        command: task.command.clone(),
        name: Some(format!("Command Executor (Task: {})", task.task_id.value)),
        ..Default::default()
    }
}

/// An update as the command executor sends it (`SOURCE_EXECUTOR`, executor id = task id).
fn command_status(
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
        timestamp: Some(wall_secs()),
        uuid: Some(uuid::Uuid::new_v4().as_bytes().to_vec()),
        ..Default::default()
    }
}
