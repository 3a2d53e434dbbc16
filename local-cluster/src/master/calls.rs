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
    pub(crate) fn subscribe(
        &mut self,
        mut info: FrameworkInfo,
        format: Format,
        now: Instant,
    ) -> Reply {
        let stream = self.new_stream();
        let stream_id = self.ids.uuid().to_string();
        let reply = Reply::Stream {
            id: stream,
            format,
            mesos_stream_id: Some(stream_id.clone()),
        };
        let requested = info.id.as_ref().map(|i| i.value.clone());
        if let Some(id) = requested.as_ref().filter(|id| self.removed.contains(*id)) {
            let _ = id;
            // Recorded: 200, then ERROR "Framework has been removed", then the stream ends.
            self.emit(stream, error_event("Framework has been removed"));
            self.close(stream);
            return reply;
        }
        let changes_principal = requested
            .as_ref()
            .and_then(|id| self.frameworks.get(id))
            .is_some_and(|f| f.info.principal != info.principal);
        if changes_principal {
            // Recorded (`recovery/7-principal-takeover.txt`): 200, one ERROR, end of this
            // stream; the framework's own subscription is not touched.
            self.emit(
                stream,
                error_event("Changing framework's principal is not allowed."),
            );
            self.close(stream);
            return reply;
        }
        let id = requested.unwrap_or_else(|| self.new_framework_id());
        info.id = Some(v1::FrameworkId { value: id.clone() });
        if let Some(old) = self.frameworks.get_mut(&id).and_then(|f| f.conn.take()) {
            self.emit(old.stream, error_event("Framework failed over"));
            self.close(old.stream);
        }
        self.rescind_framework_offers(&id, false);
        let conn = Conn {
            stream,
            stream_id,
            next_heartbeat: now + self.cfg.heartbeat,
        };
        // Recorded on re-subscription: "Unsuppressed offers and cleared filters".
        self.frameworks.insert(
            id.clone(),
            Framework {
                info: info.clone(),
                conn: Some(conn),
                failover_deadline: None,
                suppressed: false,
                filters: BTreeMap::new(),
            },
        );
        let subscribed = sched::Event {
            r#type: Some(EventType::Subscribed as i32),
            subscribed: Some(sched::event::Subscribed {
                framework_id: v1::FrameworkId { value: id.clone() },
                heartbeat_interval_seconds: Some(self.cfg.heartbeat.as_secs_f64()),
                master_info: Some(self.info()),
            }),
            ..Default::default()
        };
        self.emit(stream, subscribed);
        // Recorded: a HEARTBEAT follows SUBSCRIBED at once, before the first OFFERS.
        self.emit(stream, event(EventType::Heartbeat));
        let agents: Vec<String> = self.agents.keys().cloned().collect();
        for agent_id in agents {
            self.tell_agent(
                &agent_id,
                ToAgent::UpdateFramework {
                    framework: info.clone(),
                },
            );
            self.tell_agent(
                &agent_id,
                ToAgent::ResendUpdates {
                    framework_id: id.clone(),
                },
            );
        }
        self.allocate(now);
        reply
    }

    /// The client closed its subscription: the framework is disconnected and will be
    /// removed when its failover_timeout runs out unless it subscribes again.
    pub fn stream_closed(&mut self, stream: u64, now: Instant) {
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
            CallType::Teardown => {
                self.remove_framework(fid);
                Reply::accepted()
            }
            CallType::Accept => {
                if let Some(accept) = call.accept {
                    self.accept(fid, accept, now);
                }
                Reply::accepted()
            }
            CallType::Decline => {
                if let Some(decline) = call.decline {
                    self.decline(fid, &decline.offer_ids, decline.filters.as_ref(), now);
                }
                Reply::accepted()
            }
            CallType::Revive => {
                if let Some(f) = self.frameworks.get_mut(fid) {
                    f.filters.clear();
                    f.suppressed = false;
                }
                self.allocate(now);
                Reply::accepted()
            }
            CallType::Suppress => {
                if let Some(f) = self.frameworks.get_mut(fid) {
                    f.suppressed = true;
                }
                Reply::accepted()
            }
            CallType::Kill => {
                if let Some(kill) = call.kill {
                    self.kill(fid, kill, now);
                }
                Reply::accepted()
            }
            CallType::Shutdown => {
                if let Some(s) = call.shutdown {
                    let msg = ToAgent::ShutdownExecutor {
                        framework_id: fid.into(),
                        executor_id: s.executor_id.value,
                    };
                    if self.agents.contains_key(&s.agent_id.value) {
                        self.tell_agent(&s.agent_id.value, msg);
                    }
                }
                Reply::accepted()
            }
            CallType::Acknowledge => {
                if let Some(ack) = call.acknowledge {
                    self.acknowledge(fid, ack);
                }
                Reply::accepted()
            }
            CallType::Reconcile => {
                if let Some(r) = call.reconcile {
                    self.reconcile(fid, &r.tasks, now);
                }
                Reply::accepted()
            }
            CallType::Message => {
                if let Some(m) = call.message {
                    let msg = ToAgent::FrameworkMessage {
                        framework_id: fid.into(),
                        executor_id: m.executor_id.value,
                        data: m.data,
                    };
                    if self
                        .agents
                        .get(&m.agent_id.value)
                        .is_some_and(|a| a.connected)
                    {
                        self.tell_agent(&m.agent_id.value, msg);
                    }
                }
                Reply::accepted()
            }
            CallType::UpdateFramework => {
                if let (Some(u), Some(f)) = (call.update_framework, self.frameworks.get_mut(fid)) {
                    let mut info = u.framework_info;
                    info.id = f.info.id.clone();
                    f.info = info;
                    f.suppressed = !u.suppressed_roles.is_empty();
                }
                Reply::text(200, "")
            }
            // We never make inverse offers and have no operations or requests to act on.
            CallType::AcceptInverseOffers
            | CallType::DeclineInverseOffers
            | CallType::AcknowledgeOperationStatus
            | CallType::ReconcileOperations
            | CallType::Request => Reply::accepted(),
            // A real master aborts on this (3h-unknown-call-type-master-crash.txt); we answer
            // 501 instead, a deliberate difference.
            CallType::Subscribe | CallType::Unknown => Reply::text(
                501,
                format!("Received an unexpected '{}' call", kind.as_str_name()),
            ),
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
        self.tasks.retain(|(f, _), _| f != fid);
        let agents: Vec<String> = self.agents.keys().cloned().collect();
        for agent_id in agents {
            if let Some(a) = self.agents.get_mut(&agent_id) {
                a.executors.retain(|(f, _), _| f != fid);
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
