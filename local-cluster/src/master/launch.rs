//! ACCEPT with LAUNCH / LAUNCH_GROUP (spec §2.3): offer checks (recorded TASK_DROPPED /
//! TASK_LOST "Task launched with invalid offers: …"), the operation id rule (TASK_ERROR),
//! task validation and resource accounting, then the agent command.

use std::time::Instant;

use super::offers::update_event;
use super::{Master, Task};
use crate::keys::{ExecutorKey, TaskKey};
use crate::msg::ToAgent;
use crate::pb::sched;
use crate::pb::v1::{
    self, TaskInfo, TaskState, offer::operation::Type as OpType, task_status::Reason,
};
use crate::resources::Res;
use crate::status::master_status;

/// The offers of one ACCEPT, once checked: their agent and their summed resources.
struct Offered {
    agent_id: String,
    pool: Res,
}

/// Every task an operation launches.
fn tasks_of(op: &v1::offer::Operation) -> Vec<TaskInfo> {
    let mut v: Vec<TaskInfo> = op
        .launch
        .as_ref()
        .map(|l| l.task_infos.clone())
        .unwrap_or_default();
    if let Some(g) = &op.launch_group {
        v.extend(g.task_group.tasks.iter().cloned());
    }
    v
}

impl Master {
    /// ACCEPT: validates the offers, then runs LAUNCH / LAUNCH_GROUP operations.
    pub(crate) fn accept(&mut self, fid: &str, accept: sched::call::Accept, now: Instant) {
        let mut offered = match self.take_offers(fid, &accept.offer_ids) {
            Ok(offered) => offered,
            Err(reason) => return self.drop_invalid(fid, &accept.operations, &reason, now),
        };
        for op in &accept.operations {
            self.operation(fid, op, &mut offered, now);
        }
        self.refuse(fid, &offered.agent_id, accept.filters.as_ref(), now);
    }

    /// Removes the accepted offers; they must exist, be this framework's and of one agent.
    fn take_offers(&mut self, fid: &str, ids: &[v1::OfferId]) -> Result<Offered, String> {
        let mut agent: Option<String> = None;
        let mut invalid: Option<String> = None;
        let mut pool = Res::default();
        for id in ids {
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
        match (invalid, agent) {
            (None, Some(agent_id)) if !ids.is_empty() => Ok(Offered { agent_id, pool }),
            (Some(reason), _) if !ids.is_empty() => Err(reason),
            _ => Err("No offers specified".into()),
        }
    }

    /// Invalid offers: every task of the call is TASK_DROPPED (PARTITION_AWARE) or TASK_LOST.
    fn drop_invalid(
        &mut self,
        fid: &str,
        ops: &[v1::offer::Operation],
        reason: &str,
        now: Instant,
    ) {
        let message = format!("Task launched with invalid offers: {reason}");
        let pa = self
            .frameworks
            .get(fid)
            .is_some_and(|f| f.partition_aware());
        let state = if pa {
            TaskState::TaskDropped
        } else {
            TaskState::TaskLost
        };
        for t in ops.iter().flat_map(tasks_of) {
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

    /// One LAUNCH or LAUNCH_GROUP: each task checked and accounted, then the agent command.
    fn operation(
        &mut self,
        fid: &str,
        op: &v1::offer::Operation,
        offered: &mut Offered,
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
        for task in tasks_of(op) {
            let exec = group_exec.clone().or_else(|| task.executor.clone());
            let checked = match &group_error {
                Some(e) => Err(e.clone()),
                None => self.check_task(fid, offered, &task, exec.as_ref(), group_exec.is_some()),
            };
            match checked {
                Err(message) => self.task_error(fid, &offered.agent_id, &task, &message, now),
                Ok(used) => self.take_task(fid, offered, task, exec.as_ref(), used),
            }
        }
        match (&op.launch_group, group_exec, &op.launch) {
            (Some(g), Some(exec), _) => self.run_group(fid, &offered.agent_id, g, exec),
            (_, _, Some(l)) => self.run_tasks(fid, &offered.agent_id, &l.task_infos),
            _ => {}
        }
    }

    /// A task that failed its checks: TASK_ERROR with the reason.
    fn task_error(
        &mut self,
        fid: &str,
        agent_id: &str,
        task: &TaskInfo,
        message: &str,
        now: Instant,
    ) {
        let st = master_status(
            &task.task_id.value,
            Some(agent_id),
            TaskState::TaskError,
            Reason::TaskInvalid,
            message,
            self.wall.secs(now),
        );
        self.send(fid, update_event(st));
    }

    /// A checked task: its resources (and a new executor's) leave the pool; it is STAGING.
    fn take_task(
        &mut self,
        fid: &str,
        offered: &mut Offered,
        task: TaskInfo,
        exec: Option<&v1::ExecutorInfo>,
        (task_res, exec_res): (Res, Option<Res>),
    ) {
        offered.pool.sub(&task_res);
        if let (Some(e), Some(r)) = (exec, exec_res) {
            offered.pool.sub(&r);
            if let Some(a) = self.agents.get_mut(&offered.agent_id) {
                a.executors
                    .insert(ExecutorKey::new(fid, e.executor_id.value.clone()), r);
            }
        }
        self.tasks.insert(
            TaskKey::new(fid, task.task_id.value.clone()),
            Task {
                agent_id: offered.agent_id.clone(),
                info: task,
                res: task_res,
                state: TaskState::TaskStaging,
                latest: None,
            },
        );
    }

    /// LAUNCH_GROUP: the group's accepted tasks go to the agent together.
    fn run_group(
        &mut self,
        fid: &str,
        agent_id: &str,
        g: &v1::offer::operation::LaunchGroup,
        executor: v1::ExecutorInfo,
    ) {
        let Some(framework) = self.frameworks.get(fid).map(|f| f.info.clone()) else {
            return;
        };
        let mut group = g.task_group.clone();
        group.tasks.retain(|t| {
            self.tasks
                .contains_key(&TaskKey::new(fid, t.task_id.value.clone()))
        });
        if !group.tasks.is_empty() {
            let msg = ToAgent::RunTaskGroup {
                framework,
                executor,
                group,
            };
            self.tell_agent(agent_id, msg);
        }
    }

    /// LAUNCH: each accepted (still STAGING, never updated) task goes to the agent.
    fn run_tasks(&mut self, fid: &str, agent_id: &str, tasks: &[TaskInfo]) {
        let Some(framework) = self.frameworks.get(fid).map(|f| f.info.clone()) else {
            return;
        };
        for t in tasks {
            let live = self
                .tasks
                .get(&TaskKey::new(fid, t.task_id.value.clone()))
                .is_some_and(|x| x.latest.is_none());
            if live {
                let msg = ToAgent::RunTask {
                    framework: framework.clone(),
                    task: t.clone(),
                };
                self.tell_agent(agent_id, msg);
            }
        }
    }

    /// Validates one task and its resources against what is left of the offers.
    fn check_task(
        &self,
        fid: &str,
        offered: &Offered,
        task: &TaskInfo,
        exec: Option<&v1::ExecutorInfo>,
        in_group: bool,
    ) -> Result<(Res, Option<Res>), String> {
        let (agent_id, pool) = (offered.agent_id.as_str(), &offered.pool);
        crate::validate::task(task, agent_id, in_group)?;
        if self
            .tasks
            .get(&TaskKey::new(fid, task.task_id.value.clone()))
            .is_some_and(|t| !t.state.is_terminal())
        {
            return Err(format!("Task has duplicate ID: {}", task.task_id.value));
        }
        let task_res = Res::from_pb(&task.resources)
            .map_err(|e| format!("Task uses invalid resources: {e}"))?;
        let exec_res = match exec {
            Some(e)
                if !self.agents.get(agent_id).is_some_and(|a| {
                    a.executors
                        .contains_key(&ExecutorKey::new(fid, e.executor_id.value.clone()))
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
