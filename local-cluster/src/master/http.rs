//! `/api/v1/scheduler` request handling, with the checks in the order a real master applies
//! them (`src/master/http.cpp`, confirmed by `3-error-responses.txt`): redirect when not
//! leading, method, authentication, `Content-Type`, body parse, call validation (before any
//! stream-id check), then per call type.

use std::time::Instant;

use base64::Engine as _;

use super::Master;
use crate::pb::sched::{self, call::Type as CallType};
use crate::wire::{self, Reply, Request};

impl Master {
    /// Handles one request to `/api/v1/scheduler` (or its `/master/...` alias).
    pub(crate) fn handle_request(&mut self, req: &Request, now: Instant) -> Reply {
        if let Some(location) = &self.redirect {
            // Recorded: the path is always the `/master/...` alias, the query is kept.
            let query = req
                .path_and_query
                .split_once('?')
                .map(|(_, q)| format!("?{q}"))
                .unwrap_or_default();
            return Reply::Plain {
                code: 307,
                body: String::new(),
                headers: vec![("Location", format!("{location}{query}"))],
            };
        }
        if self.recovering_until.is_some_and(|until| now < until) {
            // Recorded while a master starts (`0-master-startup-probe.txt`).
            return Reply::text(503, "Master has not finished recovery");
        }
        if req.method != "POST" {
            return wire::method_not_allowed(&req.method);
        }
        let principal = match self.authenticate(req.authorization.as_deref()) {
            Ok(p) => p,
            Err(reply) => return reply,
        };
        let format = match wire::request_format(req.content_type.as_deref()) {
            Ok(f) => f,
            Err(reply) => return reply,
        };
        let call: sched::Call = match wire::decode(format, &req.body) {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        if let Err(e) = validate(&call, principal.as_deref()) {
            return Reply::text(400, format!("Failed to validate scheduler::Call: {e}"));
        }
        if call.r#type == Some(CallType::Subscribe as i32) {
            return self.subscribe_request(req, call, principal, now);
        }
        self.framework_call(req, call, principal.as_deref(), now)
    }

    /// Checks HTTP Basic credentials when the master has some configured; recorded failures
    /// are all `401` with the same body and challenge (`recovery/4-http-basic-auth.txt`).
    fn authenticate(&self, header: Option<&str>) -> Result<Option<String>, Reply> {
        if self.cfg.credentials.is_empty() {
            return Ok(None);
        }
        let unauthorized = || Reply::Plain {
            code: 401,
            body: "401 Unauthorized.".into(),
            headers: vec![(
                "WWW-Authenticate",
                "Basic realm=\"mesos-master-scheduler\"".into(),
            )],
        };
        let encoded = header
            .and_then(|h| h.strip_prefix("Basic "))
            .ok_or_else(unauthorized)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(unauthorized)?;
        let (user, secret) = decoded.split_once(':').ok_or_else(unauthorized)?;
        let ok = self
            .cfg
            .credentials
            .iter()
            .any(|(p, s)| p == user && s == secret);
        if ok {
            Ok(Some(user.to_string()))
        } else {
            Err(unauthorized())
        }
    }

    fn subscribe_request(
        &mut self,
        req: &Request,
        call: sched::Call,
        principal: Option<String>,
        now: Instant,
    ) -> Reply {
        let format = match wire::response_format(req.accept.as_deref()) {
            Ok(f) => f,
            Err(reply) => return reply,
        };
        if req.stream_id.is_some() {
            return Reply::text(
                400,
                "Subscribe calls should not include the 'Mesos-Stream-Id' header",
            );
        }
        let Some(subscribe) = call.subscribe else {
            return Reply::text(
                400,
                "Failed to validate scheduler::Call: Expecting 'subscribe' to be present",
            );
        };
        let mut info = subscribe.framework_info;
        if info.principal.is_none() {
            // Recorded: an unset principal is filled in with the authenticated one.
            info.principal = principal;
        }
        self.subscribe(info, format, now)
    }

    /// Checks that apply to every call but SUBSCRIBE, in Mesos' order, then dispatches.
    fn framework_call(
        &mut self,
        req: &Request,
        call: sched::Call,
        principal: Option<&str>,
        now: Instant,
    ) -> Reply {
        let fid = call
            .framework_id
            .as_ref()
            .map(|f| f.value.clone())
            .unwrap_or_default();
        let Some(framework) = self.frameworks.get(&fid) else {
            return Reply::text(400, "Framework cannot be found");
        };
        // Recorded (`recovery/7-principal-takeover.txt`): another principal's credentials
        // with a framework's own stream id get 400, without the validation prefix.
        if let (Some(p), Some(fp)) = (principal, framework.info.principal.as_deref())
            && p != fp
        {
            return Reply::text(
                400,
                format!(
                    "Authenticated principal '{p}' does not match principal '{fp}' set in `FrameworkInfo`"
                ),
            );
        }
        let Some(conn) = framework.conn.as_ref() else {
            return Reply::text(403, "Framework is not subscribed");
        };
        let Some(stream_id) = req.stream_id.as_deref() else {
            return Reply::text(
                400,
                "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
            );
        };
        if stream_id != conn.stream_id {
            return Reply::text(
                400,
                format!(
                    "The stream ID '{stream_id}' included in this request didn't match the stream ID currently associated with framework ID {fid}"
                ),
            );
        }
        self.dispatch(&fid, call, now)
    }
}

/// `scheduler::call::validate` (`src/master/validation.cpp`): the first error wins.
fn validate(call: &sched::Call, principal: Option<&str>) -> Result<(), String> {
    let Some(kind) = call.r#type.and_then(|t| CallType::try_from(t).ok()) else {
        return Err("Expecting 'type' to be present".into());
    };
    if kind == CallType::Subscribe {
        return validate_subscribe(call, principal);
    }
    if call.framework_id.is_none() {
        return Err("Expecting 'framework_id' to be present".into());
    }
    if let Some(name) = missing_payload(kind, call) {
        return Err(format!("Expecting '{name}' to be present"));
    }
    match &call.acknowledge {
        Some(ack) if kind == CallType::Acknowledge && !wire::valid_uuid(&ack.uuid) => {
            Err("Not a valid UUID".into())
        }
        _ => Ok(()),
    }
}

/// SUBSCRIBE: the payload, the id in both places alike, the principal as authenticated.
fn validate_subscribe(call: &sched::Call, principal: Option<&str>) -> Result<(), String> {
    let Some(sub) = &call.subscribe else {
        return Err("Expecting 'subscribe' to be present".into());
    };
    let info = &sub.framework_info;
    if info.id.as_ref().map(|i| &i.value) != call.framework_id.as_ref().map(|i| &i.value) {
        return Err("'framework_id' differs from 'subscribe.framework_info.id'".into());
    }
    match (principal, info.principal.as_deref()) {
        (Some(p), Some(fp)) if p != fp => Err(format!(
            "Authenticated principal '{p}' does not match principal '{fp}' set in `FrameworkInfo`"
        )),
        _ => Ok(()),
    }
}

/// The name of the payload field a call of `kind` needs but lacks.
fn missing_payload(kind: CallType, call: &sched::Call) -> Option<&'static str> {
    let (present, name) = match kind {
        CallType::Accept => (call.accept.is_some(), "accept"),
        CallType::Decline => (call.decline.is_some(), "decline"),
        CallType::AcceptInverseOffers => (
            call.accept_inverse_offers.is_some(),
            "accept_inverse_offers",
        ),
        CallType::DeclineInverseOffers => (
            call.decline_inverse_offers.is_some(),
            "decline_inverse_offers",
        ),
        CallType::Kill => (call.kill.is_some(), "kill"),
        CallType::Shutdown => (call.shutdown.is_some(), "shutdown"),
        CallType::Acknowledge => (call.acknowledge.is_some(), "acknowledge"),
        CallType::AcknowledgeOperationStatus => (
            call.acknowledge_operation_status.is_some(),
            "acknowledge_operation_status",
        ),
        CallType::Reconcile => (call.reconcile.is_some(), "reconcile"),
        CallType::ReconcileOperations => {
            (call.reconcile_operations.is_some(), "reconcile_operations")
        }
        CallType::Message => (call.message.is_some(), "message"),
        CallType::Request => (call.request.is_some(), "request"),
        CallType::UpdateFramework => (call.update_framework.is_some(), "update_framework"),
        _ => (true, ""),
    };
    (!present).then_some(name)
}
