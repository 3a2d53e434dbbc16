//! Task-related master behaviour: status updates and messages from agents, ACKNOWLEDGE,
//! KILL, RECONCILE (answers exactly as recorded in `1-proto-stream.events.txt`), executor
//! exits and agent loss (spec §5 "Reconciliation", "Agent failure", "Killing tasks").

use std::time::Instant;

use super::Master;
use super::offers::update_event;
use crate::keys::{ExecutorKey, TaskKey};
use crate::msg::ToAgent;
use crate::msg::ToMaster;
use crate::pb::sched::{self, event::Type as EventType};
use crate::pb::v1::{self, TaskState, task_status::Reason};
use crate::status::master_status;

impl Master {
    /// A message from an agent.
    pub(crate) fn handle_agent_message(&mut self, agent_id: &str, msg: ToMaster) {
        if self.redirect.is_some() {
            return;
        }
        match msg {
            ToMaster::StatusUpdate {
                framework_id,
                status,
            } => self.status_update(&framework_id, status),
            ToMaster::LatestState {
                framework_id,
                task_id,
                state,
            } => {
                if let Some(t) = self.tasks.get_mut(&TaskKey::new(framework_id, task_id)) {
                    t.state = state;
                }
            }
            ToMaster::ExecutorMessage {
                framework_id,
                executor_id,
                data,
            } => self.executor_message(agent_id, &framework_id, executor_id, data),
            ToMaster::ExecutorExited {
                framework_id,
                executor_id,
                status,
                generated,
            } => {
                if let Some(a) = self.agents.get_mut(agent_id) {
                    a.executors
                        .remove(&ExecutorKey::new(&framework_id, &executor_id));
                }
                // The executors made up for command tasks have no FAILURE event.
                if !generated {
                    let ev = failure(Some(agent_id), Some(&executor_id), Some(status));
                    self.send(&framework_id, ev);
                }
            }
        }
    }

    /// A status update from an agent: the task's state, then UPDATE to its framework.
    fn status_update(&mut self, framework_id: &str, status: v1::TaskStatus) {
        let key = TaskKey::new(framework_id, status.task_id.value.clone());
        if let Some(t) = self.tasks.get_mut(&key) {
            t.state = status.state();
            t.latest = Some(status.clone());
        }
        self.send(framework_id, update_event(status));
    }

    /// An executor's MESSAGE, as a MESSAGE event for its framework.
    fn executor_message(&mut self, agent_id: &str, fid: &str, executor_id: String, data: Vec<u8>) {
        let ev = sched::Event {
            r#type: Some(EventType::Message as i32),
            message: Some(sched::event::Message {
                agent_id: v1::AgentId {
                    value: agent_id.into(),
                },
                executor_id: v1::ExecutorId { value: executor_id },
                data,
            }),
            ..Default::default()
        };
        self.send(fid, ev);
    }

    /// ACKNOWLEDGE: forwarded to the agent; a terminal task whose last update is
    /// acknowledged is forgotten (later reconciliation answers TASK_GONE / TASK_UNKNOWN).
    pub(crate) fn acknowledge(&mut self, fid: &str, ack: sched::call::Acknowledge) {
        let key = TaskKey::new(fid, ack.task_id.value.clone());
        // Forgotten only once its terminal update itself is acknowledged.
        let done = self.tasks.get(&key).is_some_and(|t| {
            t.latest
                .as_ref()
                .is_some_and(|s| s.state().is_terminal() && s.uuid.as_ref() == Some(&ack.uuid))
        });
        if done {
            self.tasks.remove(&key);
        }
        if self
            .agents
            .get(&ack.agent_id.value)
            .is_some_and(|a| a.connected)
        {
            let msg = ToAgent::Acknowledge {
                framework_id: fid.into(),
                task_id: ack.task_id.value,
                uuid: ack.uuid,
            };
            self.tell_agent(&ack.agent_id.value, msg);
        }
    }

    /// KILL: forwarded to the task's agent; for a task the master does not know, an
    /// explicit reconciliation answers instead (recorded: TASK_GONE for `never-launched`).
    pub(crate) fn kill(&mut self, fid: &str, kill: sched::call::Kill, now: Instant) {
        let key = TaskKey::new(fid, kill.task_id.value.clone());
        let target = self
            .tasks
            .get(&key)
            .filter(|t| !t.state.is_terminal())
            .map(|t| t.agent_id.clone());
        match target {
            Some(agent_id) if self.agents.get(&agent_id).is_some_and(|a| a.connected) => {
                let msg = ToAgent::KillTask {
                    framework_id: fid.into(),
                    task_id: kill.task_id.value,
                    kill_policy: kill.kill_policy,
                };
                self.tell_agent(&agent_id, msg);
            }
            Some(_) => {}
            None => {
                let task = sched::call::reconcile::Task {
                    task_id: kill.task_id,
                    agent_id: kill.agent_id,
                };
                self.reconcile(fid, &[task], now);
            }
        }
    }

    /// RECONCILE: explicit for the listed tasks, implicit (every known task) when empty.
    pub(crate) fn reconcile(
        &mut self,
        fid: &str,
        tasks: &[sched::call::reconcile::Task],
        now: Instant,
    ) {
        let pa = self
            .frameworks
            .get(fid)
            .is_some_and(|f| f.partition_aware());
        let mut answers = Vec::new();
        if tasks.is_empty() {
            for (_, t) in self.tasks.iter().filter(|(k, _)| k.framework_id == fid) {
                answers.push(self.latest_state(t, now));
            }
        }
        for rt in tasks {
            let key = TaskKey::new(fid, rt.task_id.value.clone());
            let answer = match self.tasks.get(&key) {
                Some(t) => self.latest_state(t, now),
                None => self.unknown_task(
                    &rt.task_id.value,
                    rt.agent_id.as_ref().map(|a| a.value.as_str()),
                    pa,
                    now,
                ),
            };
            answers.push(answer);
        }
        for st in answers {
            self.send(fid, update_event(st));
        }
    }

    fn latest_state(&self, t: &super::Task, now: Instant) -> v1::TaskStatus {
        let unreachable = self
            .agents
            .get(&t.agent_id)
            .and_then(|a| a.unreachable_since)
            .is_some();
        let mut st = master_status(
            &t.info.task_id.value,
            Some(&t.agent_id),
            t.state,
            Reason::Reconciliation,
            "Reconciliation: Latest task state",
            self.wall.secs(now),
        );
        if unreachable {
            st.unreachable_time = t.latest.as_ref().and_then(|l| l.unreachable_time);
        }
        if let Some(latest) = &t.latest {
            st.container_status = latest.container_status.clone();
        }
        st
    }

    fn unknown_task(
        &self,
        task_id: &str,
        agent_id: Option<&str>,
        pa: bool,
        now: Instant,
    ) -> v1::TaskStatus {
        let lost = |s: TaskState| if pa { s } else { TaskState::TaskLost };
        let secs = self.wall.secs(now);
        match agent_id.and_then(|a| self.agents.get(a).map(|v| (a, v))) {
            Some((a, view)) if view.gone => master_status(
                task_id,
                Some(a),
                lost(TaskState::TaskGoneByOperator),
                Reason::Reconciliation,
                "Reconciliation: Task is gone",
                secs,
            ),
            Some((a, view)) if view.unreachable_since.is_some() => master_status(
                task_id,
                Some(a),
                lost(TaskState::TaskUnreachable),
                Reason::Reconciliation,
                "Reconciliation: Task is unreachable",
                secs,
            ),
            Some((a, _)) => master_status(
                task_id,
                Some(a),
                lost(TaskState::TaskGone),
                Reason::Reconciliation,
                "Reconciliation: Task is unknown to the agent",
                secs,
            ),
            None => master_status(
                task_id,
                None,
                lost(TaskState::TaskUnknown),
                Reason::Reconciliation,
                "Reconciliation: Task is unknown",
                secs,
            ),
        }
    }

    /// The agent's connection broke (e.g. it restarts): no offers from it until it
    /// registers again; outstanding offers are rescinded.
    pub(crate) fn agent_disconnected(&mut self, agent_id: &str) {
        if let Some(a) = self.agents.get_mut(agent_id) {
            a.connected = false;
        }
        self.rescind_agent_offers(agent_id);
    }

    /// The agent is gone for good (killed): FAILURE to every framework, and each live task
    /// becomes TASK_UNREACHABLE (PARTITION_AWARE) or TASK_LOST, from the master, no uuid.
    pub(crate) fn agent_lost(&mut self, agent_id: &str, now: Instant) {
        let Some(a) = self
            .agents
            .get_mut(agent_id)
            .filter(|a| a.unreachable_since.is_none())
        else {
            return;
        };
        a.connected = false;
        a.unreachable_since = Some(now);
        a.executors.clear();
        self.rescind_agent_offers(agent_id);
        let fids: Vec<String> = self.frameworks.keys().cloned().collect();
        for fid in &fids {
            self.send(fid, failure(Some(agent_id), None, None));
        }
        let keys: Vec<TaskKey> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.agent_id == agent_id && !t.state.is_terminal())
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            self.lose_task(agent_id, key, now);
        }
    }

    /// A live task of a lost agent: TASK_UNREACHABLE (kept, PARTITION_AWARE) or TASK_LOST
    /// (forgotten), from the master, no uuid.
    fn lose_task(&mut self, agent_id: &str, key: TaskKey, now: Instant) {
        let pa = self
            .frameworks
            .get(&key.framework_id)
            .is_some_and(|f| f.partition_aware());
        let state = if pa {
            TaskState::TaskUnreachable
        } else {
            TaskState::TaskLost
        };
        let mut st = master_status(
            &key.task_id,
            Some(agent_id),
            state,
            Reason::AgentRemoved,
            "Agent is unreachable",
            self.wall.secs(now),
        );
        if pa {
            st.unreachable_time = Some(v1::TimeInfo {
                nanoseconds: self.wall.nanos(now),
            });
        }
        if let Some(t) = self.tasks.get_mut(&key) {
            t.state = state;
            t.latest = Some(st.clone());
        }
        if !pa {
            self.tasks.remove(&key);
        }
        self.send(&key.framework_id, update_event(st));
    }

    /// An operator marked the (lost) agent gone: its tasks are definitely not coming back;
    /// PARTITION_AWARE frameworks get TASK_GONE_BY_OPERATOR (others TASK_LOST), no uuid.
    pub(crate) fn agent_gone(&mut self, agent_id: &str, now: Instant) {
        if !self.agents.contains_key(agent_id) {
            return;
        }
        self.agent_lost(agent_id, now);
        if let Some(a) = self.agents.get_mut(agent_id) {
            a.gone = true;
        }
        let keys: Vec<TaskKey> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.agent_id == agent_id)
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            self.tasks.remove(&key);
            let pa = self
                .frameworks
                .get(&key.framework_id)
                .is_some_and(|f| f.partition_aware());
            if !pa {
                continue;
            }
            let st = master_status(
                &key.task_id,
                Some(agent_id),
                TaskState::TaskGoneByOperator,
                Reason::AgentRemovedByOperator,
                "Agent was marked gone by an operator",
                self.wall.secs(now),
            );
            self.send(&key.framework_id, update_event(st));
        }
    }

    fn rescind_agent_offers(&mut self, agent_id: &str) {
        let ids: Vec<String> = self
            .offers
            .iter()
            .filter(|(_, o)| o.agent_id == agent_id)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            self.rescind(&id, true);
        }
    }
}

/// A FAILURE event (agent lost, or executor exited with a wait status).
fn failure(agent_id: Option<&str>, executor_id: Option<&str>, status: Option<i32>) -> sched::Event {
    sched::Event {
        r#type: Some(EventType::Failure as i32),
        failure: Some(sched::event::Failure {
            agent_id: agent_id.map(|a| v1::AgentId { value: a.into() }),
            executor_id: executor_id.map(|e| v1::ExecutorId { value: e.into() }),
            status,
        }),
        ..Default::default()
    }
}
