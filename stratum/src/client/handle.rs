//! Input handling of [`ClientSession`]: replies by id, server calls, timeouts.

use std::time::Instant;

use serde_json::{Value, json};

use super::{
    ClientEvent, ClientSession, Job, JobMeta, MAX_JOBS, Pending, PendingKind, Phase, ProtocolError,
    ShareOutcome,
};
use crate::envelope::{ErrorCode, Id, Message, Rejection, Request, Response, RpcError};
use crate::methods::server::Notify;
use crate::methods::{
    Authorize, Configure, ConfigureResult, ExtranonceSubscribe, ServerMessage, Subscribe,
    SubscribeResult, SuggestDifficulty, VersionRollingRequest,
};

fn rejection(reason: impl Into<String>) -> Rejection {
    Rejection {
        code: None,
        reason: reason.into(),
    }
}

impl ClientSession {
    pub(super) fn handle_message(&mut self, msg: Message, now: Instant) {
        match msg {
            Message::Response(r) => self.handle_response(r, now),
            Message::Notification(n) => self.handle_call(None, &n.method, &n.params),
            Message::Request(Request { id, method, params }) => {
                self.handle_call(Some(id), &method, &params)
            }
        }
    }

    fn reply(&mut self, id: Id, result: Result<Value, RpcError>) {
        let r = match result {
            Ok(v) => Response::ok(id, v),
            Err(e) => Response::err(Some(id), e),
        };
        self.transmit.push_back(Message::from(r).to_line());
    }

    fn handle_call(&mut self, id: Option<Id>, method: &str, params: &[Value]) {
        let msg = match ServerMessage::parse(method, params) {
            Ok(Some(m)) => m,
            Ok(None) => {
                if let Some(id) = id {
                    self.reply(id, Err(RpcError::new(ErrorCode::Other, "Method not found")));
                }
                return self.protocol_error(ProtocolError::UnknownMethod(method.to_owned()));
            }
            Err(e) => return self.protocol_error(e.into()),
        };
        match msg {
            ServerMessage::Notify(n) => self.handle_notify(n),
            ServerMessage::SetDifficulty(d) => self.pending_difficulty = Some(d.difficulty),
            ServerMessage::SetExtranonce(e) => {
                self.pending_extranonce = Some((e.extranonce1.clone(), e.extranonce2_size));
                let (extranonce1, extranonce2_size) = (e.extranonce1, e.extranonce2_size);
                self.events.push_back(ClientEvent::ExtranonceChanged {
                    extranonce1,
                    extranonce2_size,
                });
            }
            ServerMessage::SetVersionMask(m) => {
                self.version_mask = Some(m.mask);
                self.events.push_back(ClientEvent::VersionMask(m.mask));
            }
            ServerMessage::Reconnect(r) => self.events.push_back(ClientEvent::Reconnect(r)),
            ServerMessage::ShowMessage(m) => {
                self.events.push_back(ClientEvent::ShowMessage(m.text))
            }
            ServerMessage::GetVersion => match id {
                Some(id) => self.reply(id, Ok(json!(self.config.user_agent))),
                None => {
                    self.protocol_error(ProtocolError::Unexpected("client.get_version without id"))
                }
            },
            ServerMessage::Ping => match id {
                Some(id) => self.reply(id, Ok(json!("pong"))),
                None => self.protocol_error(ProtocolError::Unexpected("mining.ping without id")),
            },
        }
    }

    fn handle_notify(&mut self, notify: Notify) {
        let Some(extranonce1) = self.extranonce1.clone() else {
            // Before the subscribe reply we have no extranonce1: keep the latest job for then.
            self.early_notify = Some(notify);
            return;
        };
        let mut clean = notify.clean_jobs;
        let (mut extranonce1, mut extranonce2_size) = (extranonce1, self.extranonce2_size);
        if let Some((en1, size)) = self.pending_extranonce.take() {
            // Work built with the old extranonce1 would not match at the pool any more.
            (extranonce1, extranonce2_size) = (en1, size);
            self.extranonce1 = Some(extranonce1.clone());
            self.extranonce2_size = size;
            clean = true;
        }
        if let Some(d) = self.pending_difficulty.take() {
            self.difficulty = d;
        }
        if clean {
            self.jobs.clear();
        }
        // A job id sent again replaces its earlier record (difficulty, extranonce2 size).
        self.jobs.retain(|j| j.id != notify.job_id);
        if self.jobs.len() >= MAX_JOBS {
            self.jobs.pop_front();
        }
        self.jobs.push_back(JobMeta {
            id: notify.job_id.clone(),
            version: notify.version,
            extranonce2_size,
            difficulty: self.difficulty,
        });
        let job = Job {
            notify,
            difficulty: self.difficulty,
            extranonce1,
            extranonce2_size,
            version_mask: self.version_mask,
            clean,
        };
        self.events.push_back(ClientEvent::NewJob(job));
    }

    fn handle_response(&mut self, r: Response, now: Instant) {
        let pending = match &r.id {
            Some(Id::Num(n)) => self.pending.remove(n),
            _ => None,
        };
        let Some(Pending { kind, .. }) = pending else {
            return self.protocol_error(ProtocolError::UnexpectedReply(r.id));
        };
        match kind {
            PendingKind::Configure => self.on_configure(&r, now),
            PendingKind::Subscribe { resume } => self.on_subscribe(&r, resume, now),
            PendingKind::Authorize => self.on_authorize(&r, now),
            PendingKind::ExtranonceSubscribe | PendingKind::SuggestDifficulty => {}
            PendingKind::Submit { submit, difficulty } => {
                let outcome = match r.bool_outcome() {
                    Ok(()) => {
                        self.stats.accepted += 1;
                        ShareOutcome::Accepted
                    }
                    Err(why) => {
                        self.stats.rejected += 1;
                        ShareOutcome::Rejected(why)
                    }
                };
                self.events.push_back(ClientEvent::ShareResult {
                    submit,
                    difficulty,
                    outcome,
                });
            }
        }
    }

    pub(super) fn send_configure(&mut self, vr: VersionRollingRequest, now: Instant) {
        let c = Configure {
            version_rolling: Some(vr),
            ..Configure::default()
        };
        self.send(&c, now, |_| PendingKind::Configure);
        self.configure_unanswered = true;
        self.phase = Phase::Configuring;
    }

    pub(super) fn send_subscribe(&mut self, resume: Option<String>, now: Instant) {
        // A resume retry goes out as `[]`, as cpuminer's fallback does.
        let sub = match &resume {
            Some(sid) => Subscribe {
                user_agent: Some(self.config.user_agent.clone()),
                session_id: Some(sid.clone()),
            },
            None if self.config.resume_session_id.is_some() => Subscribe::default(),
            None => Subscribe {
                user_agent: Some(self.config.user_agent.clone()),
                session_id: None,
            },
        };
        self.send(&sub, now, |_| PendingKind::Subscribe { resume });
        self.phase = Phase::Subscribing;
    }

    fn on_configure(&mut self, r: &Response, now: Instant) {
        self.configure_unanswered = false;
        let asked = self.config.version_rolling.map(|vr| vr.mask.0).unwrap_or(0);
        let mask = match (r.rejection(), ConfigureResult::from_result(&r.result)) {
            (None, Ok(res)) => res.version_rolling.map(|m| crate::VersionMask(m.0 & asked)),
            (None, Err(e)) => {
                self.protocol_error(e.into());
                None
            }
            (Some(_), _) => None,
        };
        self.finish_configure(mask.filter(|m| m.0 != 0), now);
    }

    fn finish_configure(&mut self, mask: Option<crate::VersionMask>, now: Instant) {
        self.version_mask = mask;
        self.events.push_back(ClientEvent::VersionRolling(mask));
        self.send_subscribe(self.config.resume_session_id.clone(), now);
    }

    fn on_subscribe(&mut self, r: &Response, resume: Option<String>, now: Instant) {
        let parsed = match r.rejection() {
            Some(why) => Err(why),
            None => SubscribeResult::from_result(&r.result).map_err(|e| rejection(e.to_string())),
        };
        match parsed {
            Ok(res) => self.subscribed(res, resume, now),
            Err(why) if resume.is_some() => {
                self.events.push_back(ClientEvent::ResumeRefused(why));
                self.send_subscribe(None, now);
            }
            Err(why) => self.fail(format!("mining.subscribe failed: {why}")),
        }
    }

    fn subscribed(&mut self, res: SubscribeResult, resume: Option<String>, now: Instant) {
        let session_id = res.session_id().map(str::to_owned);
        let resumed = resume.is_some() && resume == session_id;
        self.session_id = session_id.clone();
        self.extranonce1 = Some(res.extranonce1.clone());
        self.extranonce2_size = res.extranonce2_size;
        self.events.push_back(ClientEvent::Subscribed {
            extranonce1: res.extranonce1,
            extranonce2_size: res.extranonce2_size,
            session_id,
            resumed,
        });
        if self.config.extranonce_subscribe {
            self.send(&ExtranonceSubscribe, now, |_| {
                PendingKind::ExtranonceSubscribe
            });
        }
        let auth = Authorize {
            username: self.config.username.clone(),
            password: self.config.password.clone(),
        };
        self.send(&auth, now, |_| PendingKind::Authorize);
        self.phase = Phase::Authorizing;
        if let Some(n) = self.early_notify.take() {
            self.handle_notify(n);
        }
    }

    fn on_authorize(&mut self, r: &Response, now: Instant) {
        match r.bool_outcome() {
            Ok(()) => {
                self.phase = Phase::Ready;
                self.events.push_back(ClientEvent::Authorized);
                if let Some(difficulty) = self.config.suggest_difficulty {
                    self.send(&SuggestDifficulty { difficulty }, now, |_| {
                        PendingKind::SuggestDifficulty
                    });
                }
            }
            Err(why) => {
                self.auth_failed = true;
                self.events.push_back(ClientEvent::AuthFailed(why));
            }
        }
    }

    fn fail(&mut self, reason: String) {
        self.phase = super::Phase::Failed;
        self.events.push_back(ClientEvent::HandshakeFailed(reason));
    }

    pub(super) fn expire(&mut self, kind: PendingKind, now: Instant) {
        match kind {
            PendingKind::Configure => {
                self.configure_unanswered = false;
                self.finish_configure(None, now);
            }
            PendingKind::Subscribe { .. } => self.fail("mining.subscribe timed out".into()),
            PendingKind::Authorize => self.fail("mining.authorize timed out".into()),
            PendingKind::ExtranonceSubscribe | PendingKind::SuggestDifficulty => {}
            PendingKind::Submit { submit, difficulty } => {
                self.stats.unanswered += 1;
                let outcome = ShareOutcome::TimedOut;
                self.events.push_back(ClientEvent::ShareResult {
                    submit,
                    difficulty,
                    outcome,
                });
            }
        }
    }
}
