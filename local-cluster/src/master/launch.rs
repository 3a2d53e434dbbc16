//! ACCEPT with LAUNCH / LAUNCH_GROUP (spec §2.3): offer checks (recorded TASK_DROPPED /
//! TASK_LOST "Task launched with invalid offers: …"), the operation id rule (TASK_ERROR),
//! task validation and resource accounting, then the agent command.

use std::time::Instant;

use super::offers::update_event;
use super::{Master, Task};
use crate::msg::ToAgent;
use crate::pb::sched;
use crate::pb::v1::{
    self, TaskInfo, TaskState, offer::operation::Type as OpType, task_status::Reason,
};
use crate::resources::Res;
use crate::status::{is_terminal, master_status};

impl Master {
    /// ACCEPT: validates the offers, then runs LAUNCH / LAUNCH_GROUP operations.
    pub(crate) fn accept(&mut self, fid: &str, accept: sched::call::Accept, now: Instant) {
        let tasks_of = |op: &v1::offer::Operation| -> Vec<TaskInfo> {
            let mut v: Vec<TaskInfo> = op
                .launch
                .as_ref()
                .map(|l| l.task_infos.clone())
                .unwrap_or_default();
            if let Some(g) = &op.launch_group {
                v.extend(g.task_group.tasks.iter().cloned());
            }
            v
        };
        let mut agent: Option<String> = None;
        let mut invalid: Option<String> = None;
        let mut pool = Res::default();
        for id in &accept.offer_ids {
            match self.offers.get(&id.value).filter(|o| o.framework_id == fid) {
                Some(o) if agent.as_ref().is_none_or(|a| *a == o.agent_id) => {
                    agent = Some(o.agent_id.clone());
                    pool.add(&o.res);
                }
                Some(_) => {
                    invalid = Some("Aggregated offers must belong to one single agent".into())
                }
                None => invalid = Some(format!("Offer {} is no longer valid", id.value)),
            }
            self.offers.remove(&id.value);
        }
        if accept.offer_ids.is_empty() {
            invalid = Some("No offers specified".into());
        }
        let pa = self
            .frameworks
            .get(fid)
            .is_some_and(|f| f.partition_aware());
        if invalid.is_some() || agent.is_none() {
            let message = format!("Task launched with invalid offers: {}", reason_or(&invalid));
            let state = if pa {
                TaskState::TaskDropped
            } else {
                TaskState::TaskLost
            };
            for op in &accept.operations {
                for t in tasks_of(op) {
                    let st = master_status(
                        &t.task_id.value,
                        Some(&t.agent_id.value),
                        state,
                        Reason::InvalidOffers,
                        &message,
                        self.wall.secs(now),
                    );
                    self.send(fid, update_event(st));
                }
            }
            return;
        }
        let agent_id = agent.unwrap_or_default();
        for op in &accept.operations {
            self.operation(fid, &agent_id, op, &mut pool, tasks_of(op), now);
        }
        self.refuse(fid, &agent_id, accept.filters.as_ref(), now);
    }

    fn operation(
        &mut self,
        fid: &str,
        agent_id: &str,
        op: &v1::offer::Operation,
        pool: &mut Res,
        tasks: Vec<TaskInfo>,
        now: Instant,
    ) {
        let kind = op.r#type.and_then(|t| OpType::try_from(t).ok());
        if !matches!(kind, Some(OpType::Launch) | Some(OpType::LaunchGroup)) {
            return;
        }
        let group_error = if op.id.is_some() {
            Some("The `id` field cannot be set on LAUNCH operations".to_string())
        } else if kind == Some(OpType::LaunchGroup) {
            op.launch_group
                .as_ref()
                .and_then(|g| crate::validate::executor_for_group(&g.executor).err())
        } else {
            None
        };
        let group_exec = op.launch_group.as_ref().map(|g| g.executor.clone());
        for task in tasks {
            let exec = group_exec.clone().or_else(|| task.executor.clone());
            let checked = match &group_error {
                Some(e) => Err(e.clone()),
                None => self.check_task(
                    fid,
                    agent_id,
                    &task,
                    exec.as_ref(),
                    group_exec.is_some(),
                    pool,
                ),
            };
            match checked {
                Err(message) => {
                    let st = master_status(
                        &task.task_id.value,
                        Some(agent_id),
                        TaskState::TaskError,
                        Reason::TaskInvalid,
                        &message,
                        self.wall.secs(now),
                    );
                    self.send(fid, update_event(st));
                }
                Ok((task_res, exec_res)) => {
                    pool.sub(&task_res);
                    if let (Some(e), Some(r)) = (&exec, exec_res) {
                        pool.sub(&r);
                        if let Some(a) = self.agents.get_mut(agent_id) {
                            a.executors
                                .insert((fid.into(), e.executor_id.value.clone()), r);
                        }
                    }
                    self.tasks.insert(
                        (fid.into(), task.task_id.value.clone()),
                        Task {
                            agent_id: agent_id.into(),
                            info: task.clone(),
                            res: task_res,
                            state: TaskState::TaskStaging as i32,
                            latest: None,
                        },
                    );
                }
            }
        }
        let Some(framework) = self.frameworks.get(fid).map(|f| f.info.clone()) else {
            return;
        };
        if let (Some(g), Some(exec)) = (&op.launch_group, group_exec) {
            let mut group = g.task_group.clone();
            group.tasks.retain(|t| {
                self.tasks
                    .contains_key(&(fid.to_string(), t.task_id.value.clone()))
            });
            if !group.tasks.is_empty() {
                self.tell_agent(
                    agent_id,
                    ToAgent::RunTaskGroup {
                        framework,
                        executor: exec,
                        group,
                    },
                );
            }
        } else if let Some(l) = &op.launch {
            for t in &l.task_infos {
                let live = self
                    .tasks
                    .get(&(fid.to_string(), t.task_id.value.clone()))
                    .is_some_and(|x| x.latest.is_none());
                if live {
                    self.tell_agent(
                        agent_id,
                        ToAgent::RunTask {
                            framework: framework.clone(),
                            task: t.clone(),
                        },
                    );
                }
            }
        }
    }

    /// Validates one task and its resources against what is left of the offers.
    fn check_task(
        &self,
        fid: &str,
        agent_id: &str,
        task: &TaskInfo,
        exec: Option<&v1::ExecutorInfo>,
        in_group: bool,
        pool: &Res,
    ) -> Result<(Res, Option<Res>), String> {
        crate::validate::task(task, agent_id, in_group)?;
        if self
            .tasks
            .get(&(fid.to_string(), task.task_id.value.clone()))
            .is_some_and(|t| !is_terminal(t.state))
        {
            return Err(format!("Task has duplicate ID: {}", task.task_id.value));
        }
        let task_res = Res::from_pb(&task.resources)
            .map_err(|e| format!("Task uses invalid resources: {e}"))?;
        let exec_res = match exec {
            Some(e)
                if !self.agents.get(agent_id).is_some_and(|a| {
                    a.executors
                        .contains_key(&(fid.to_string(), e.executor_id.value.clone()))
                }) =>
            {
                Some(
                    Res::from_pb(&e.resources)
                        .map_err(|e| format!("Executor uses invalid resources: {e}"))?,
                )
            }
            Some(_) => Some(Res::default()),
            None => None,
        };
        let mut need = task_res.clone();
        if let Some(r) = &exec_res {
            need.add(r);
        }
        if !pool.contains(&need) {
            return Err("Task uses more resources than available in the offers".into());
        }
        Ok((task_res, exec_res))
    }
}

fn reason_or(invalid: &Option<String>) -> String {
    invalid
        .clone()
        .unwrap_or_else(|| "No offers specified".into())
}
