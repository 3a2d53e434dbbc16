//! Allocation and offer calls: OFFERS from the agents' free resources, DECLINE filters,
//! ACCEPT with LAUNCH / LAUNCH_GROUP, rescinds (spec §2.3, §4.2, §5 "Offers").

use std::time::{Duration, Instant};

use super::{Master, OfferRec, Task};
use crate::msg::ToAgent;
use crate::pb::sched::{self, event::Type as EventType};
use crate::pb::v1::{
    self, TaskInfo, TaskState, offer::operation::Type as OpType, task_status::Reason,
};
use crate::resources::Res;
use crate::status::{is_terminal, master_status};

/// `Filters.refuse_seconds` default (spec §4.2).
const DEFAULT_REFUSE: f64 = 5.0;
/// Longest refusal honoured: one year, as Mesos caps it.
const MAX_REFUSE: f64 = 31_536_000.0;

impl Master {
    /// Resources of `agent_id` not used by live tasks and executors and not offered.
    pub(crate) fn free(&self, agent_id: &str) -> Res {
        let Some(agent) = self.agents.get(agent_id) else {
            return Res::default();
        };
        let mut free = agent.total.clone();
        for t in self
            .tasks
            .values()
            .filter(|t| t.agent_id == agent_id && !is_terminal(t.state))
        {
            free.sub(&t.res);
        }
        for r in agent.executors.values() {
            free.sub(r);
        }
        for o in self.offers.values().filter(|o| o.agent_id == agent_id) {
            free.sub(&o.res);
        }
        free
    }

    /// Offers every connected agent's free resources to an eligible framework.
    pub(crate) fn allocate(&mut self, now: Instant) {
        let agent_ids: Vec<String> = self
            .agents
            .iter()
            .filter(|(_, a)| a.connected && a.unreachable_since.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        let mut batches: Vec<(String, Vec<v1::Offer>)> = Vec::new();
        for agent_id in agent_ids {
            let free = self.free(&agent_id);
            if free.is_empty() {
                continue;
            }
            let eligible: Vec<String> = self
                .frameworks
                .iter()
                .filter(|(_, f)| {
                    f.conn.is_some()
                        && !f.suppressed
                        && f.filters.get(&agent_id).is_none_or(|until| *until <= now)
                })
                .map(|(id, _)| id.clone())
                .collect();
            if eligible.is_empty() {
                continue;
            }
            // Round robin over the eligible frameworks, keyed on the offer counter.
            let fid = eligible[(self.offers.len() + agent_id.len()) % eligible.len()].clone();
            let offer = self.make_offer(&fid, &agent_id, free, now);
            match batches.iter_mut().find(|(f, _)| *f == fid) {
                Some((_, list)) => list.push(offer),
                None => batches.push((fid, vec![offer])),
            }
        }
        for (fid, offers) in batches {
            let ev = sched::Event {
                r#type: Some(EventType::Offers as i32),
                offers: Some(sched::event::Offers { offers }),
                ..Default::default()
            };
            self.send(&fid, ev);
        }
    }

    fn make_offer(&mut self, fid: &str, agent_id: &str, res: Res, now: Instant) -> v1::Offer {
        let id = self.new_offer_id();
        let role = self
            .frameworks
            .get(fid)
            .map(|f| f.role())
            .unwrap_or_else(|| "*".into());
        let agent = &self.agents[agent_id];
        let executor_ids = agent
            .executors
            .keys()
            .filter(|(f, _)| f == fid)
            .map(|(_, e)| v1::ExecutorId { value: e.clone() })
            .collect();
        let offer = v1::Offer {
            id: v1::OfferId { value: id.clone() },
            framework_id: v1::FrameworkId { value: fid.into() },
            agent_id: v1::AgentId {
                value: agent_id.into(),
            },
            hostname: agent.hostname.clone(),
            url: Some(v1::Url {
                scheme: "http".into(),
                address: v1::Address {
                    hostname: Some(agent.hostname.clone()),
                    ip: Some("127.0.0.1".into()),
                    port: i32::from(agent.port),
                },
                path: Some("/slave(1)".into()),
                ..Default::default()
            }),
            resources: res.to_pb(Some(&role)),
            executor_ids,
            allocation_info: Some(v1::resource::AllocationInfo { role: Some(role) }),
            ..Default::default()
        };
        self.offers.insert(
            id,
            OfferRec {
                framework_id: fid.into(),
                agent_id: agent_id.into(),
                res,
                created: now,
            },
        );
        offer
    }

    /// Rescinds offers older than the offer timeout.
    pub(crate) fn expire_offers(&mut self, now: Instant) {
        let Some(timeout) = self.cfg.offer_timeout else {
            return;
        };
        let stale: Vec<String> = self
            .offers
            .iter()
            .filter(|(_, o)| o.created + timeout <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            self.rescind(&id, true);
        }
    }

    /// Removes an offer, telling its framework with RESCIND when `notify`.
    pub(crate) fn rescind(&mut self, offer_id: &str, notify: bool) {
        let Some(o) = self.offers.remove(offer_id) else {
            return;
        };
        if notify {
            let ev = sched::Event {
                r#type: Some(EventType::Rescind as i32),
                rescind: Some(sched::event::Rescind {
                    offer_id: v1::OfferId {
                        value: offer_id.into(),
                    },
                }),
                ..Default::default()
            };
            self.send(&o.framework_id, ev);
        }
    }

    /// Drops every offer of a framework (offers never survive a disconnection).
    pub(crate) fn rescind_framework_offers(&mut self, fid: &str, notify: bool) {
        let ids: Vec<String> = self
            .offers
            .iter()
            .filter(|(_, o)| o.framework_id == fid)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            self.rescind(&id, notify);
        }
    }

    /// DECLINE: the offers go back, with a refusal filter on their agents.
    pub(crate) fn decline(
        &mut self,
        fid: &str,
        ids: &[v1::OfferId],
        filters: Option<&v1::Filters>,
        now: Instant,
    ) {
        for id in ids {
            let Some(o) = self.offers.get(&id.value).filter(|o| o.framework_id == fid) else {
                continue;
            };
            let agent_id = o.agent_id.clone();
            self.offers.remove(&id.value);
            self.refuse(fid, &agent_id, filters, now);
        }
    }

    fn refuse(&mut self, fid: &str, agent_id: &str, filters: Option<&v1::Filters>, now: Instant) {
        let secs = filters
            .and_then(|f| f.refuse_seconds)
            .unwrap_or(DEFAULT_REFUSE);
        let secs = if secs.is_finite() && secs >= 0.0 {
            secs.min(MAX_REFUSE)
        } else {
            DEFAULT_REFUSE
        };
        if secs > 0.0 {
            if let Some(f) = self.frameworks.get_mut(fid) {
                f.filters
                    .insert(agent_id.into(), now + Duration::from_secs_f64(secs));
            }
        }
    }

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
                    );
                    self.send(fid, update_event(st));
                }
            }
            return;
        }
        let agent_id = agent.unwrap_or_default();
        for op in &accept.operations {
            self.operation(fid, &agent_id, op, &mut pool, tasks_of(op));
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

/// An UPDATE event carrying `status`.
pub(crate) fn update_event(status: v1::TaskStatus) -> sched::Event {
    sched::Event {
        r#type: Some(EventType::Update as i32),
        update: Some(sched::event::Update { status }),
        ..Default::default()
    }
}
