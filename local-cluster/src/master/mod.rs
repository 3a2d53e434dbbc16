//! The master as a sans-IO state machine: HTTP requests, agent messages and `now` go in;
//! replies, stream events and agent commands come out ([`MasterOut`], drained with
//! [`Master::take_outputs`]). The driver in [`crate::driver`] only moves bytes and timers.
//!
//! Module map: `http` (request checks in the order Mesos applies them), `calls` (one handler
//! per scheduler call), `offers` (allocation, filters, ACCEPT), `tasks` (status updates,
//! reconciliation, agent loss).

mod calls;
mod http;
mod launch;
mod offers;
mod tasks;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use crate::ids::{Ids, Wall};
use crate::keys::{ExecutorKey, TaskKey};
use crate::msg::{Registration, ToAgent};
use crate::pb::sched;
use crate::pb::v1::{self, FrameworkInfo, TaskInfo, TaskStatus};
use crate::resources::Res;

/// Settings of one master.
#[derive(Clone, Debug)]
pub struct MasterConfig {
    /// Interval between HEARTBEAT events (Mesos: 15 s).
    pub heartbeat: Duration,
    /// Offers older than this are rescinded (Mesos `--offer_timeout`, unset by default).
    pub offer_timeout: Option<Duration>,
    /// HTTP Basic credentials (principal, secret); empty = no authentication.
    pub credentials: Vec<(String, String)>,
    /// Host name reported in `MasterInfo` and used in 307 `Location`s.
    pub hostname: String,
    /// Port this master listens on.
    pub port: u16,
}

impl Default for MasterConfig {
    fn default() -> Self {
        MasterConfig {
            heartbeat: Duration::from_secs(15),
            offer_timeout: None,
            credentials: Vec::new(),
            hostname: "127.0.0.1".into(),
            port: 5050,
        }
    }
}

/// Output of the master core.
#[derive(Clone, Debug)]
pub(crate) enum MasterOut {
    /// Send `event` on subscription stream `stream`.
    Event { stream: u64, event: sched::Event },
    /// End subscription stream `stream` with the chunk terminator (the TCP connection stays
    /// open, as recorded after TEARDOWN and failover).
    Close { stream: u64 },
    /// A command for an agent.
    ToAgent { agent_id: String, msg: ToAgent },
}

/// A live subscription.
#[derive(Clone, Debug)]
pub(crate) struct Conn {
    pub stream: u64,
    pub stream_id: String,
    pub next_heartbeat: Instant,
}

/// A framework the master knows.
#[derive(Clone, Debug)]
pub(crate) struct Framework {
    pub info: FrameworkInfo,
    pub conn: Option<Conn>,
    /// When a disconnected framework is removed (its failover_timeout ran out).
    pub failover_deadline: Option<Instant>,
    pub suppressed: bool,
    /// Agent id → time until which the framework refused that agent's resources.
    pub filters: BTreeMap<String, Instant>,
}

impl Framework {
    pub(crate) fn has_capability(&self, cap: v1::framework_info::capability::Type) -> bool {
        self.info
            .capabilities
            .iter()
            .any(|c| c.r#type == Some(cap as i32))
    }

    pub(crate) fn partition_aware(&self) -> bool {
        self.has_capability(v1::framework_info::capability::Type::PartitionAware)
    }

    /// The role offers are made to (`roles[0]`, else the deprecated `role`, else `*`).
    #[allow(deprecated)]
    pub(crate) fn role(&self) -> String {
        self.info
            .roles
            .first()
            .cloned()
            .or_else(|| self.info.role.clone())
            .unwrap_or_else(|| "*".into())
    }
}

/// An agent as the master sees it.
#[derive(Clone, Debug)]
pub(crate) struct AgentView {
    pub hostname: String,
    pub port: u16,
    pub total: Res,
    /// Registered and connected: its resources may be offered.
    pub connected: bool,
    /// Set when the agent was lost (killed): tasks there are unreachable.
    pub unreachable_since: Option<Instant>,
    /// Set when an operator marked the agent gone: it never comes back.
    pub gone: bool,
    /// Executors running there: (framework, executor) → resources.
    pub executors: BTreeMap<ExecutorKey, Res>,
}

/// A task as the master sees it.
#[derive(Clone, Debug)]
pub(crate) struct Task {
    pub agent_id: String,
    pub info: TaskInfo,
    pub res: Res,
    pub state: v1::TaskState,
    pub latest: Option<TaskStatus>,
}

/// An outstanding offer.
#[derive(Clone, Debug)]
pub(crate) struct OfferRec {
    pub framework_id: String,
    pub agent_id: String,
    pub res: Res,
    pub created: Instant,
}

/// The master state machine.
pub(crate) struct Master {
    pub(crate) cfg: MasterConfig,
    pub(crate) id: String,
    /// `None` while leading; `Some(location)` once another master leads (answers 307).
    pub(crate) redirect: Option<String>,
    /// A promoted standby answers 503 "Master has not finished recovery" until then.
    pub(crate) recovering_until: Option<Instant>,
    pub(crate) frameworks: BTreeMap<String, Framework>,
    pub(crate) removed: HashSet<String>,
    pub(crate) agents: BTreeMap<String, AgentView>,
    pub(crate) offers: BTreeMap<String, OfferRec>,
    pub(crate) tasks: BTreeMap<TaskKey, Task>,
    next_framework: u64,
    next_offer: u64,
    next_stream: u64,
    /// Stream ids (the master id was drawn from it too).
    pub(crate) ids: Ids,
    /// Status timestamps.
    pub(crate) wall: Wall,
    out: Vec<MasterOut>,
}

impl Master {
    /// A leading master with a fresh id from `ids`; `stream_base` keeps its stream numbers
    /// apart from other masters' in the same process.
    pub(crate) fn new(cfg: MasterConfig, stream_base: u64, wall: Wall, mut ids: Ids) -> Master {
        Master {
            cfg,
            id: ids.uuid().to_string(),
            redirect: None,
            recovering_until: None,
            frameworks: BTreeMap::new(),
            removed: HashSet::new(),
            agents: BTreeMap::new(),
            offers: BTreeMap::new(),
            tasks: BTreeMap::new(),
            next_framework: 0,
            next_offer: 0,
            next_stream: stream_base,
            ids,
            wall,
            out: Vec::new(),
        }
    }

    /// Outputs produced since the last call.
    pub(crate) fn take_outputs(&mut self) -> Vec<MasterOut> {
        std::mem::take(&mut self.out)
    }

    /// Stop leading: from now on every request is answered 307 to `leader` (`host:port`),
    /// and every stream is dropped by the caller (the old master "died").
    pub(crate) fn demote(&mut self, leader: &str) {
        self.redirect = Some(format!("//{leader}/master/api/v1/scheduler"));
        self.frameworks.clear();
        self.offers.clear();
    }

    /// Streams currently open (for the driver to abort on demotion).
    pub(crate) fn open_streams(&self) -> Vec<u64> {
        self.frameworks
            .values()
            .filter_map(|f| f.conn.as_ref().map(|c| c.stream))
            .collect()
    }

    /// The subscription stream of a framework, if subscribed.
    pub(crate) fn stream_of(&self, framework_id: &str) -> Option<u64> {
        self.frameworks
            .get(framework_id)
            .and_then(|f| f.conn.as_ref())
            .map(|c| c.stream)
    }

    pub(crate) fn emit(&mut self, stream: u64, event: sched::Event) {
        self.out.push(MasterOut::Event { stream, event });
    }

    pub(crate) fn tell_agent(&mut self, agent_id: &str, msg: ToAgent) {
        self.out.push(MasterOut::ToAgent {
            agent_id: agent_id.to_string(),
            msg,
        });
    }

    pub(crate) fn close(&mut self, stream: u64) {
        self.out.push(MasterOut::Close { stream });
    }

    /// Sends `event` to the framework if it is subscribed (dropped otherwise, as Mesos does).
    pub(crate) fn send(&mut self, framework_id: &str, event: sched::Event) {
        if let Some(stream) = self
            .frameworks
            .get(framework_id)
            .and_then(|f| f.conn.as_ref())
            .map(|c| c.stream)
        {
            self.emit(stream, event);
        }
    }

    pub(crate) fn new_stream(&mut self) -> u64 {
        self.next_stream += 1;
        self.next_stream
    }

    pub(crate) fn new_framework_id(&mut self) -> String {
        let id = format!("{}-{:04}", self.id, self.next_framework);
        self.next_framework += 1;
        id
    }

    /// How many offers this master has made (drives the round robin).
    pub(crate) fn offers_made(&self) -> u64 {
        self.next_offer
    }

    pub(crate) fn new_offer_id(&mut self) -> String {
        let id = format!("{}-O{}", self.id, self.next_offer);
        self.next_offer += 1;
        id
    }

    /// `MasterInfo` as a real master reports it in SUBSCRIBED.
    pub(crate) fn info(&self) -> v1::MasterInfo {
        use v1::master_info::capability::Type as Cap;
        v1::MasterInfo {
            id: self.id.clone(),
            ip: u32::from_le_bytes([127, 0, 0, 1]),
            port: u32::from(self.cfg.port),
            pid: Some(format!("master@127.0.0.1:{}", self.cfg.port)),
            hostname: Some(self.cfg.hostname.clone()),
            version: Some("1.12.0".into()),
            address: Some(v1::Address {
                hostname: Some(self.cfg.hostname.clone()),
                ip: Some("127.0.0.1".into()),
                port: i32::from(self.cfg.port),
            }),
            capabilities: [Cap::AgentUpdate, Cap::AgentDraining, Cap::QuotaV2]
                .iter()
                .map(|c| v1::master_info::Capability {
                    r#type: Some(*c as i32),
                })
                .collect(),
            ..Default::default()
        }
    }

    /// An agent registers (first time, after its restart, or with a new leading master).
    pub(crate) fn register_agent(&mut self, reg: Registration) {
        self.learn_frameworks(&reg.frameworks);
        for (fw, task, state, latest) in reg.tasks {
            let res = Res::from_pb(&task.resources).unwrap_or_default();
            let key = TaskKey::new(fw, task.task_id.value.clone());
            let task = Task {
                agent_id: reg.agent_id.clone(),
                info: task,
                res,
                state,
                latest,
            };
            self.tasks.insert(key, task);
        }
        let executors = reg.executors.into_iter().collect();
        let view = AgentView {
            hostname: reg.hostname,
            port: reg.port,
            total: reg.total,
            connected: true,
            unreachable_since: None,
            gone: false,
            executors,
        };
        self.agents.insert(reg.agent_id, view);
    }

    /// Frameworks known only from an agent's tasks (after a master failover): they must
    /// re-subscribe; until then they are disconnected.
    fn learn_frameworks(&mut self, infos: &[FrameworkInfo]) {
        for info in infos {
            let id = info
                .id
                .as_ref()
                .map(|i| i.value.clone())
                .unwrap_or_default();
            if !self.frameworks.contains_key(&id) && !self.removed.contains(&id) {
                let framework = Framework {
                    info: info.clone(),
                    conn: None,
                    failover_deadline: None,
                    suppressed: false,
                    filters: BTreeMap::new(),
                };
                self.frameworks.insert(id, framework);
            }
        }
    }

    /// Drives time: heartbeats, failover timeouts, offer timeouts and allocation.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if self.redirect.is_some() {
            return;
        }
        self.heartbeats(now);
        self.expire_failovers(now);
        self.expire_offers(now);
        self.allocate(now);
    }

    fn heartbeats(&mut self, now: Instant) {
        let interval = self.cfg.heartbeat;
        let mut due = Vec::new();
        for f in self.frameworks.values_mut() {
            if let Some(c) = f.conn.as_mut().filter(|c| c.next_heartbeat <= now) {
                c.next_heartbeat = now + interval;
                due.push(c.stream);
            }
        }
        for stream in due {
            self.emit(stream, event(sched::event::Type::Heartbeat));
        }
    }

    fn expire_failovers(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .frameworks
            .iter()
            .filter(|(_, f)| f.conn.is_none() && f.failover_deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.remove_framework(&id);
        }
    }
}

/// An event of `kind` with no payload.
pub(crate) fn event(kind: sched::event::Type) -> sched::Event {
    sched::Event {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests;
