//! Tasks and executors on an agent: launching custom executors and command tasks, KILL,
//! SHUTDOWN with a grace period, process exits (spec §3.2 "Executor duties", §3.4), the
//! command executor's updates (recorded: STARTING, RUNNING, then "Command exited with
//! status N"), DOCKER containers (run by `docker`, refused where no CLI works), and agent
//! restarts.

use std::collections::BTreeMap;
use std::time::Instant;

use super::docker::{self, DockerRun, NO_DOCKER};
use super::{Agent, AgentOut, Executor, Kind, LaunchSpec, Queued, Termination};
use crate::keys::ExecutorKey;
use crate::msg::ToAgent;
use crate::pb::exec::{self, event::Type as EventType};
use crate::pb::v1::{
    self, ExecutorInfo, FrameworkInfo, TaskInfo, TaskState, container_info, task_status::Reason,
};
use crate::status::agent_status;

impl Agent {
    /// A command from the master.
    pub(crate) fn handle_master_message(&mut self, msg: ToAgent, now: Instant) {
        match msg {
            ToAgent::RunTask { framework, task } => self.run_task(framework, task, now),
            ToAgent::RunTaskGroup {
                framework,
                executor,
                group,
            } => self.run_task_group(framework, executor, group, now),
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
                self.shutdown_executor(&ExecutorKey::new(framework_id, executor_id), t, now);
            }
            ToAgent::ShutdownFramework { framework_id } => {
                self.shutdown_framework(&framework_id, now)
            }
            ToAgent::FrameworkMessage {
                framework_id,
                executor_id,
                data,
            } => self.framework_message(framework_id, executor_id, data),
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

    /// A task group for a custom executor (the DEFAULT executor is refused, and Docker where
    /// no CLI works).
    fn run_task_group(
        &mut self,
        framework: FrameworkInfo,
        exec_info: ExecutorInfo,
        group: v1::TaskGroupInfo,
        now: Instant,
    ) {
        let fid = fid_of(&framework);
        self.frameworks.insert(fid.clone(), framework);
        let is_default = exec_info.r#type == Some(v1::executor_info::Type::Default as i32);
        if is_default || (uses_docker(None, Some(&exec_info)) && docker::cli().is_none()) {
            let msg = if is_default {
                "The DEFAULT executor is not supported by the local cluster"
            } else {
                NO_DOCKER
            };
            let eid = Some(exec_info.executor_id.value.as_str());
            for t in &group.tasks {
                self.fail_launch(&fid, &t.task_id.value, eid, msg, now);
            }
            return;
        }
        self.ensure_executor(&fid, &exec_info, Kind::Custom, now);
        let key = ExecutorKey::new(fid, exec_info.executor_id.value.clone());
        if let Some(e) = self.executors.get_mut(&key) {
            for t in &group.tasks {
                e.tasks
                    .insert(t.task_id.value.clone(), (t.clone(), TaskState::TaskStaging));
            }
        }
        self.deliver(&key, Queued::Group(group));
    }

    /// A scheduler MESSAGE, as a MESSAGE event if the executor is subscribed.
    fn framework_message(&mut self, framework_id: String, executor_id: String, data: Vec<u8>) {
        let key = ExecutorKey::new(framework_id, executor_id);
        if let Some(conn) = self.executors.get(&key).and_then(|e| e.conn) {
            let ev = exec::Event {
                r#type: Some(EventType::Message as i32),
                message: Some(exec::event::Message { data }),
                ..Default::default()
            };
            self.send(conn, ev);
        }
    }

    fn run_task(&mut self, framework: FrameworkInfo, task: TaskInfo, now: Instant) {
        let fid = fid_of(&framework);
        self.frameworks.insert(fid.clone(), framework);
        if uses_docker(Some(&task), task.executor.as_ref()) && docker::cli().is_none() {
            let eid = task.executor.as_ref().map(|e| e.executor_id.value.clone());
            self.fail_launch(&fid, &task.task_id.value, eid.as_deref(), NO_DOCKER, now);
            return;
        }
        let (exec_info, kind) = match &task.executor {
            Some(e) => (e.clone(), Kind::Custom),
            None => (command_executor(&task), Kind::Command),
        };
        self.ensure_executor(&fid, &exec_info, kind.clone(), now);
        let key = ExecutorKey::new(fid, exec_info.executor_id.value.clone());
        if let Some(e) = self.executors.get_mut(&key) {
            e.tasks.insert(
                task.task_id.value.clone(),
                (task.clone(), TaskState::TaskStaging),
            );
        }
        if kind == Kind::Custom {
            self.deliver(&key, Queued::Task(task));
        }
    }

    /// Creates the executor (sandbox, process launch) unless it already runs.
    fn ensure_executor(&mut self, fid: &str, info: &ExecutorInfo, kind: Kind, now: Instant) {
        let key = ExecutorKey::new(fid, info.executor_id.value.clone());
        if self.executors.contains_key(&key) {
            return;
        }
        let container = self.ids.uuid().to_string();
        let spec = self.launch_spec(fid, info, &container);
        let registration_deadline =
            (kind == Kind::Custom).then(|| now + self.cfg.registration_timeout);
        let executor = Executor {
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
        };
        self.executors.insert(key, executor);
        self.push(AgentOut::Launch { container, spec });
    }

    /// Sandbox (`<work_dir>/slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/<container>`),
    /// command and environment of a new container.
    fn launch_spec(&self, fid: &str, info: &ExecutorInfo, container: &str) -> LaunchSpec {
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
            .join(container);
        let framework = self.frameworks.get(fid).cloned().unwrap_or_default();
        let command = info.command.clone().unwrap_or_default();
        let grace = info
            .shutdown_grace_period
            .as_ref()
            .map(|d| std::time::Duration::from_nanos(d.nanoseconds.max(0) as u64))
            .unwrap_or(self.cfg.shutdown_grace);
        let eid = &info.executor_id.value;
        let env = self.executor_env(&framework, eid, &sandbox, &command, grace);
        let docker = DockerRun::of(info.container.as_ref(), container);
        let env = match &docker {
            Some(Ok(run)) => docker::container_env(env, &run.name),
            _ => env,
        };
        LaunchSpec {
            sandbox,
            command,
            env,
            docker,
        }
    }

    /// Sends a LAUNCH / LAUNCH_GROUP now if the executor is subscribed, else queues it.
    fn deliver(&mut self, key: &ExecutorKey, q: Queued) {
        let Some(e) = self.executors.get_mut(key) else {
            return;
        };
        match e.conn {
            Some(conn) => self.send(conn, launch_event(q)),
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
        self.enqueue_own(fid, st, now);
    }
}

/// The LAUNCH or LAUNCH_GROUP event of queued work.
pub(crate) fn launch_event(q: Queued) -> exec::Event {
    match q {
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
    }
}

pub(crate) fn fid_of(f: &FrameworkInfo) -> String {
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
        // A DOCKER command task runs its command in the task's container.
        container: task.container.clone(),
        name: Some(format!("Command Executor (Task: {})", task.task_id.value)),
        ..Default::default()
    }
}
