//! Allocation and offer calls: OFFERS from the agents' free resources, DECLINE filters,
//! rescinds (spec §4.2, §5 "Offers"). ACCEPT is in `launch`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{Master, OfferRec};
use crate::pb::sched::{self, event::Type as EventType};
use crate::pb::v1;
use crate::resources::Res;

/// `Filters.refuse_seconds` default (spec §4.2).
const DEFAULT_REFUSE: f64 = 5.0;
/// Longest refusal honoured: one year, as Mesos caps it.
const MAX_REFUSE: f64 = 31_536_000.0;

impl Master {
    /// Resources of `agent_id` not used by live tasks and executors and not offered.
    #[cfg(test)]
    pub(crate) fn free(&self, agent_id: &str) -> Res {
        self.free_of(&[agent_id])
            .remove(agent_id)
            .unwrap_or_default()
    }

    /// [`Master::free`] of every agent in `agent_ids`, in one pass over the tasks and offers
    /// (allocation runs every tick: per-agent scans would cost agents × tasks).
    fn free_of<'a>(&self, agent_ids: &[&'a str]) -> HashMap<&'a str, Res> {
        let mut free: HashMap<&str, Res> = agent_ids
            .iter()
            .filter_map(|id| self.agents.get(*id).map(|a| (*id, a.total.clone())))
            .collect();
        for t in self.tasks.values().filter(|t| !t.state.is_terminal()) {
            if let Some(r) = free.get_mut(t.agent_id.as_str()) {
                r.sub(&t.res);
            }
        }
        for (id, r) in free.iter_mut() {
            for used in self.agents[*id].executors.values() {
                r.sub(used);
            }
        }
        for o in self.offers.values() {
            if let Some(r) = free.get_mut(o.agent_id.as_str()) {
                r.sub(&o.res);
            }
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
        let ids: Vec<&str> = agent_ids.iter().map(String::as_str).collect();
        let mut free_all = self.free_of(&ids);
        let mut batches: Vec<(String, Vec<v1::Offer>)> = Vec::new();
        for agent_id in &agent_ids {
            let Some(free) = free_all.remove(agent_id.as_str()) else {
                continue;
            };
            if free.is_empty() {
                continue;
            }
            let eligible: Vec<String> = self
                .frameworks
                .iter()
                .filter(|(_, f)| {
                    f.conn.is_some()
                        && !f.suppressed
                        && f.filters.get(agent_id).is_none_or(|until| *until <= now)
                })
                .map(|(id, _)| id.clone())
                .collect();
            if eligible.is_empty() {
                continue;
            }
            // Round robin over the eligible frameworks, keyed on the offer counter.
            let fid = eligible[self.offers_made() as usize % eligible.len()].clone();
            let offer = self.make_offer(&fid, agent_id, free, now);
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
            .filter(|k| k.framework_id == fid)
            .map(|k| v1::ExecutorId {
                value: k.executor_id.clone(),
            })
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

    pub(crate) fn refuse(
        &mut self,
        fid: &str,
        agent_id: &str,
        filters: Option<&v1::Filters>,
        now: Instant,
    ) {
        let secs = filters
            .and_then(|f| f.refuse_seconds)
            .unwrap_or(DEFAULT_REFUSE);
        let secs = if secs.is_finite() && secs >= 0.0 {
            secs.min(MAX_REFUSE)
        } else {
            DEFAULT_REFUSE
        };
        if secs > 0.0
            && let Some(f) = self.frameworks.get_mut(fid)
        {
            f.filters
                .insert(agent_id.into(), now + Duration::from_secs_f64(secs));
        }
    }
}

/// An UPDATE event carrying `status`.
pub(crate) fn update_event(status: v1::TaskStatus) -> sched::Event {
    sched::Event {
        r#type: Some(EventType::Update as i32),
        update: Some(sched::event::Update { status }),
        ..Default::default()
    }
}
