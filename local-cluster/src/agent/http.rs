//! `/api/v1/executor` (spec §1.6 "Executor endpoint", `src/slave/http.cpp`), with the texts
//! recorded in `5-executor-calls.txt`: HEARTBEAT is accepted before validation; validation
//! errors are 400 "Failed to validate Executor::Call: …"; calls before SUBSCRIBE are 403;
//! while recovering everything is 503.

use std::time::Instant;

use super::launch::launch_event;
use super::{Agent, AgentOut, Phase, Queued};
use crate::keys::ExecutorKey;
use crate::msg::ToMaster;
use crate::pb::exec::{self, call::Type as CallType, event::Type as EventType};
use crate::pb::v1::{self, TaskState, task_status::Source};
use crate::wire::{self, Format, Reply, Request};

impl Agent {
    /// Handles one request to `/api/v1/executor`.
    pub(crate) fn handle_request(&mut self, req: &Request, now: Instant) -> Reply {
        let call = match self.checked_call(req) {
            Ok(call) => call,
            Err(reply) => return reply,
        };
        let fid = call.framework_id.value.clone();
        let eid = call.executor_id.value.clone();
        let key = ExecutorKey::new(&fid, &eid);
        let kind = call
            .r#type
            .and_then(|t| CallType::try_from(t).ok())
            .unwrap_or(CallType::Unknown);
        if kind == CallType::Subscribe {
            let format = match wire::response_format(req.accept.as_deref()) {
                Ok(f) => f,
                Err(reply) => return reply,
            };
            return self.subscribe(key, call.subscribe.unwrap_or_default(), format, now);
        }
        if self.executors.get(&key).is_some_and(|e| e.conn.is_none()) {
            return Reply::text(403, "Executor is not subscribed");
        }
        match (kind, call.update, call.message) {
            (CallType::Update, Some(update), _) => {
                self.executor_update(&fid, &eid, update.status, now)
            }
            (CallType::Message, _, Some(m)) => {
                self.push(AgentOut::ToMaster(ToMaster::ExecutorMessage {
                    framework_id: fid,
                    executor_id: eid,
                    data: m.data,
                }))
            }
            (CallType::Update | CallType::Message, _, _) => {}
            _ => {
                let name = kind.as_str_name();
                return Reply::text(501, format!("Received an unexpected '{name}' call"));
            }
        }
        Reply::accepted()
    }

    /// The checks before any call type, in the agent's order; HEARTBEAT is answered here.
    fn checked_call(&self, req: &Request) -> Result<exec::Call, Reply> {
        if req.method != "POST" {
            return Err(wire::method_not_allowed(&req.method));
        }
        let format = wire::request_format(req.content_type.as_deref())?;
        let call: exec::Call = wire::decode(format, &req.body)?;
        if call.r#type == Some(CallType::Heartbeat as i32) {
            return Err(Reply::accepted());
        }
        if let Err(e) = validate(&call) {
            return Err(Reply::text(
                400,
                format!("Failed to validate Executor::Call: {e}"),
            ));
        }
        if self.phase != Phase::Running {
            return Err(Reply::text(503, "Agent has not finished recovery"));
        }
        if !self.frameworks.contains_key(&call.framework_id.value) {
            return Err(Reply::text(400, "Framework cannot be found"));
        }
        let key = ExecutorKey::new(&call.framework_id.value, &call.executor_id.value);
        if !self.executors.contains_key(&key) {
            return Err(Reply::text(400, "Executor cannot be found"));
        }
        Ok(call)
    }

    /// SUBSCRIBE: a new stream, SUBSCRIBED, ACKNOWLEDGED for every carried update (recorded
    /// after an agent restart), then the queued LAUNCH / LAUNCH_GROUP events.
    fn subscribe(
        &mut self,
        key: ExecutorKey,
        sub: exec::call::Subscribe,
        format: Format,
        now: Instant,
    ) -> Reply {
        let conn = self.new_conn();
        let Some((subscribed, queued)) = self.connect(&key, conn) else {
            return Reply::text(400, "Executor cannot be found");
        };
        self.send(conn, subscribed);
        for u in sub.unacknowledged_updates {
            let status = u.status;
            let Some(uuid) = status.uuid.clone().filter(|u| wire::valid_uuid(u)) else {
                continue;
            };
            if !self.has_pending(&key.framework_id, &status.task_id.value, &uuid) {
                self.enqueue_update(&key.framework_id, status.clone(), now);
            }
            self.send(conn, acknowledged(&status.task_id.value, uuid));
        }
        for q in queued {
            self.send(conn, launch_event(q));
        }
        Reply::Stream {
            id: conn,
            format,
            mesos_stream_id: None,
        }
    }

    /// Takes `conn` as the executor's stream (closing an older one): its SUBSCRIBED event
    /// and the work queued for it.
    fn connect(&mut self, key: &ExecutorKey, conn: u64) -> Option<(exec::Event, Vec<Queued>)> {
        let framework_info = self
            .frameworks
            .get(&key.framework_id)
            .cloned()
            .unwrap_or_default();
        let agent_info = self.agent_info();
        let e = self.executors.get_mut(key)?;
        let old = e.conn.replace(conn);
        e.registration_deadline = None;
        let mut info = e.info.clone();
        if info.framework_id.is_none() {
            info.framework_id = framework_info.id.clone();
        }
        let container_id = Some(v1::ContainerId {
            value: e.container.clone(),
            ..Default::default()
        });
        let queued = std::mem::take(&mut e.queued);
        if let Some(old) = old {
            self.push(AgentOut::Close { conn: old });
        }
        let subscribed = exec::Event {
            r#type: Some(EventType::Subscribed as i32),
            subscribed: Some(exec::event::Subscribed {
                executor_info: info,
                framework_info,
                agent_info,
                container_id,
            }),
            ..Default::default()
        };
        Some((subscribed, queued))
    }

    /// UPDATE from an executor: into the status-update manager, then ACKNOWLEDGED ("the
    /// agent has it", not "the scheduler has it": spec §3.5 step 2).
    fn executor_update(&mut self, fid: &str, eid: &str, mut status: v1::TaskStatus, now: Instant) {
        status.executor_id = Some(v1::ExecutorId { value: eid.into() });
        let uuid = status.uuid.clone().unwrap_or_default();
        let task_id = status.task_id.value.clone();
        if !self.has_pending(fid, &task_id, &uuid) {
            self.enqueue_update(fid, status, now);
        }
        if let Some(conn) = self
            .executors
            .get(&ExecutorKey::new(fid, eid))
            .and_then(|e| e.conn)
        {
            self.send(conn, acknowledged(&task_id, uuid));
        }
    }

    /// The executor's stream ended (it closed the connection or exited).
    pub(crate) fn stream_closed(&mut self, conn: u64) {
        for e in self.executors.values_mut().filter(|e| e.conn == Some(conn)) {
            e.conn = None;
        }
    }
}

/// An ACKNOWLEDGED event.
pub(crate) fn acknowledged(task_id: &str, uuid: Vec<u8>) -> exec::Event {
    exec::Event {
        r#type: Some(EventType::Acknowledged as i32),
        acknowledged: Some(exec::event::Acknowledged {
            task_id: v1::TaskId {
                value: task_id.into(),
            },
            uuid,
        }),
        ..Default::default()
    }
}

/// `executor::call::validate` (`src/slave/validation.cpp`), first error wins.
fn validate(call: &exec::Call) -> Result<(), String> {
    let Some(kind) = call.r#type.and_then(|t| CallType::try_from(t).ok()) else {
        return Err("Expecting 'type' to be present".into());
    };
    let present = |ok: bool, name: &str| {
        if ok {
            Ok(())
        } else {
            Err(format!("Expecting '{name}' to be present"))
        }
    };
    match kind {
        CallType::Subscribe => present(call.subscribe.is_some(), "subscribe"),
        CallType::Message => present(call.message.is_some(), "message"),
        CallType::Update => {
            let Some(update) = &call.update else {
                return Err("Expecting 'update' to be present".into());
            };
            let status = &update.status;
            let Some(uuid) = &status.uuid else {
                return Err("Expecting 'uuid' to be present".into());
            };
            if !wire::valid_uuid(uuid) {
                return Err("Not a valid UUID".into());
            }
            let eid = &call.executor_id.value;
            if let Some(se) = status.executor_id.as_ref().filter(|se| se.value != *eid) {
                return Err(format!(
                    "ExecutorID in Call: {eid} does not match ExecutorID in TaskStatus: {}",
                    se.value
                ));
            }
            let fid = &call.framework_id.value;
            if status.source != Some(Source::Executor as i32) {
                return Err(format!(
                    "Received Call from executor {eid} of framework {fid} with invalid source, expecting 'SOURCE_EXECUTOR'"
                ));
            }
            if status.state == TaskState::TaskStaging as i32 {
                return Err(format!(
                    "Received TASK_STAGING from executor {eid} of framework {fid} which is not allowed"
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
