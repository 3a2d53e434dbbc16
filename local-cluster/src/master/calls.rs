//! Scheduler calls once a request has passed the HTTP checks: SUBSCRIBE and failover, and
//! the simple calls. Offer calls live in `offers`, task calls in `tasks`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{Conn, Framework, Master, event};
use crate::msg::ToAgent;
use crate::pb::sched::{self, call::Type as CallType, event::Type as EventType};
use crate::pb::v1::{self, FrameworkInfo};
use crate::wire::{Format, Reply};

/// Longest failover timeout honoured (Mesos caps durations at about 100 years; we cap at
/// one year so `Instant` arithmetic cannot overflow).
const MAX_FAILOVER: f64 = 365.0 * 24.0 * 3600.0;

impl Master {
    /// SUBSCRIBE: first registration, re-subscription (failover) or a removed framework.
    pub(crate) fn subscribe(&mut self, info: FrameworkInfo, format: Format, now: Instant) -> Reply {
        let stream = self.new_stream();
        let stream_id = self.ids.uuid().to_string();
        let reply = Reply::Stream {
            id: stream,
            format,
            mesos_stream_id: Some(stream_id.clone()),
        };
        let requested = info.id.as_ref().map(|i| i.value.clone());
        if let Some(refusal) = self.refusal(requested.as_deref(), &info) {
            // Recorded: 200, one ERROR, end of this stream; the framework's own
            // subscription is not touched (`recovery/7-principal-takeover.txt`).
            self.emit(stream, error_event(refusal));
            self.close(stream);
            return reply;
        }
        let id = requested.unwrap_or_else(|| self.new_framework_id());
        let conn = Conn {
            stream,
            stream_id,
            next_heartbeat: now + self.cfg.heartbeat,
        };
        let info = self.connect(&id, info, conn);
        self.emit(stream, self.subscribed(&id));
        // Recorded: a HEARTBEAT follows SUBSCRIBED at once, before the first OFFERS.
        self.emit(stream, event(EventType::Heartbeat));
        self.announce(&id, &info);
        self.allocate(now);
        reply
    }

    /// Why a subscription asking for `requested` is refused, if it is.
    fn refusal(&self, requested: Option<&str>, info: &FrameworkInfo) -> Option<&'static str> {
        let id = requested?;
        if self.removed.contains(id) {
            return Some("Framework has been removed");
        }
        let known = self.frameworks.get(id)?;
        (known.info.principal != info.principal)
            .then_some("Changing framework's principal is not allowed.")
    }

    /// Takes the framework's subscription, failing over an older one; returns its info
    /// with the id set.
    fn connect(&mut self, id: &str, mut info: FrameworkInfo, conn: Conn) -> FrameworkInfo {
        info.id = Some(v1::FrameworkId { value: id.into() });
        if let Some(old) = self.frameworks.get_mut(id).and_then(|f| f.conn.take()) {
            self.emit(old.stream, error_event("Framework failed over"));
            self.close(old.stream);
        }
        self.rescind_framework_offers(id, false);
        // Recorded on re-subscription: "Unsuppressed offers and cleared filters".
        self.frameworks.insert(
            id.into(),
            Framework {
                info: info.clone(),
                conn: Some(conn),
                failover_deadline: None,
                suppressed: false,
                filters: BTreeMap::new(),
            },
        );
        info
    }

    /// The SUBSCRIBED event for framework `id`.
    fn subscribed(&self, id: &str) -> sched::Event {
        sched::Event {
            r#type: Some(EventType::Subscribed as i32),
            subscribed: Some(sched::event::Subscribed {
                framework_id: v1::FrameworkId { value: id.into() },
                heartbeat_interval_seconds: Some(self.cfg.heartbeat.as_secs_f64()),
                master_info: Some(self.info()),
            }),
            ..Default::default()
        }
    }

    /// Every agent learns the framework's info and resends its pending updates.
    fn announce(&mut self, id: &str, info: &FrameworkInfo) {
        let agents: Vec<String> = self.agents.keys().cloned().collect();
        for agent_id in agents {
            let framework = info.clone();
            self.tell_agent(&agent_id, ToAgent::UpdateFramework { framework });
            let framework_id = id.to_string();
            self.tell_agent(&agent_id, ToAgent::ResendUpdates { framework_id });
        }
    }

    /// The client closed its subscription: the framework is disconnected and will be
    /// removed when its failover_timeout runs out unless it subscribes again.
    pub(crate) fn stream_closed(&mut self, stream: u64, now: Instant) {
        let Some((id, f)) = self
            .frameworks
            .iter_mut()
            .find(|(_, f)| f.conn.as_ref().is_some_and(|c| c.stream == stream))
        else {
            return;
        };
        f.conn = None;
        let secs = f.info.failover_timeout.unwrap_or(0.0);
        let secs = if secs.is_finite() && secs > 0.0 {
            secs.min(MAX_FAILOVER)
        } else {
            0.0
        };
        f.failover_deadline = Some(now + Duration::from_secs_f64(secs));
        let id = id.clone();
        self.rescind_framework_offers(&id, false);
    }

    /// Calls of a subscribed framework, after the stream-id checks.
    pub(crate) fn dispatch(&mut self, fid: &str, call: sched::Call, now: Instant) -> Reply {
        let kind = call
            .r#type
            .and_then(|t| CallType::try_from(t).ok())
            .unwrap_or(CallType::Unknown);
        match kind {
            // A real master aborts on this (3h-unknown-call-type-master-crash.txt); we answer
            // 501 instead, a deliberate difference.
            CallType::Subscribe | CallType::Unknown => {
                let name = kind.as_str_name();
                Reply::text(501, format!("Received an unexpected '{name}' call"))
            }
            CallType::UpdateFramework => {
                if let Some(u) = call.update_framework {
                    self.update_framework(fid, u);
                }
                Reply::text(200, "")
            }
            _ => {
                self.apply(fid, kind, call, now);
                Reply::accepted()
            }
        }
    }

    /// The calls answered 202: one handler each (the payloads were checked present).
    fn apply(&mut self, fid: &str, kind: CallType, call: sched::Call, now: Instant) {
        match (kind, call) {
            (CallType::Teardown, _) => self.remove_framework(fid),
            (
                CallType::Accept,
                sched::Call {
                    accept: Some(a), ..
                },
            ) => self.accept(fid, a, now),
            (
                CallType::Decline,
                sched::Call {
                    decline: Some(d), ..
                },
            ) => self.decline(fid, &d.offer_ids, d.filters.as_ref(), now),
            (CallType::Revive, _) => self.revive(fid, now),
            (CallType::Suppress, _) => self.suppress(fid),
            (CallType::Kill, sched::Call { kill: Some(k), .. }) => self.kill(fid, k, now),
            (
                CallType::Shutdown,
                sched::Call {
                    shutdown: Some(s), ..
                },
            ) => self.shutdown_executor(fid, s),
            (
                CallType::Acknowledge,
                sched::Call {
                    acknowledge: Some(a),
                    ..
                },
            ) => self.acknowledge(fid, a),
            (
                CallType::Reconcile,
                sched::Call {
                    reconcile: Some(r), ..
                },
            ) => self.reconcile(fid, &r.tasks, now),
            (
                CallType::Message,
                sched::Call {
                    message: Some(m), ..
                },
            ) => self.framework_message(fid, m),
            // We never make inverse offers and have no operations or requests to act on.
            _ => {}
        }
    }

    /// REVIVE: filters cleared, offers resume at once.
    fn revive(&mut self, fid: &str, now: Instant) {
        if let Some(f) = self.frameworks.get_mut(fid) {
            f.filters.clear();
            f.suppressed = false;
        }
        self.allocate(now);
    }

    /// SUPPRESS: no offers until REVIVE.
    fn suppress(&mut self, fid: &str) {
        if let Some(f) = self.frameworks.get_mut(fid) {
            f.suppressed = true;
        }
    }

    /// SHUTDOWN of one executor, forwarded to its agent.
    fn shutdown_executor(&mut self, fid: &str, s: sched::call::Shutdown) {
        if self.agents.contains_key(&s.agent_id.value) {
            let msg = ToAgent::ShutdownExecutor {
                framework_id: fid.into(),
                executor_id: s.executor_id.value,
            };
            self.tell_agent(&s.agent_id.value, msg);
        }
    }

    /// MESSAGE for an executor, forwarded if its agent is connected (best effort).
    fn framework_message(&mut self, fid: &str, m: sched::call::Message) {
        if self
            .agents
            .get(&m.agent_id.value)
            .is_some_and(|a| a.connected)
        {
            let msg = ToAgent::FrameworkMessage {
                framework_id: fid.into(),
                executor_id: m.executor_id.value,
                data: m.data,
            };
            self.tell_agent(&m.agent_id.value, msg);
        }
    }

    /// UPDATE_FRAMEWORK: the new info (keeping the id) and suppression.
    fn update_framework(&mut self, fid: &str, u: sched::call::UpdateFramework) {
        if let Some(f) = self.frameworks.get_mut(fid) {
            let mut info = u.framework_info;
            info.id = f.info.id.clone();
            f.info = info;
            f.suppressed = !u.suppressed_roles.is_empty();
        }
    }

    /// TEARDOWN, failover timeout or operator teardown: kill everything, end the stream,
    /// and never accept this id again.
    pub(crate) fn remove_framework(&mut self, fid: &str) {
        let Some(f) = self.frameworks.remove(fid) else {
            return;
        };
        if let Some(conn) = f.conn {
            self.close(conn.stream);
        }
        self.removed.insert(fid.to_string());
        self.offers.retain(|_, o| o.framework_id != fid);
        self.tasks.retain(|k, _| k.framework_id != fid);
        let agents: Vec<String> = self.agents.keys().cloned().collect();
        for agent_id in agents {
            if let Some(a) = self.agents.get_mut(&agent_id) {
                a.executors.retain(|k, _| k.framework_id != fid);
            }
            self.tell_agent(
                &agent_id,
                ToAgent::ShutdownFramework {
                    framework_id: fid.into(),
                },
            );
        }
    }
}

/// An ERROR event with `message`.
pub(crate) fn error_event(message: &str) -> sched::Event {
    sched::Event {
        r#type: Some(EventType::Error as i32),
        error: Some(sched::event::Error {
            message: message.into(),
        }),
        ..Default::default()
    }
}
