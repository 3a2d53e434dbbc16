//! Request handling of [`ServerSession`] other than `mining.submit`.

use std::time::Instant;

use serde_json::{Value, json};

use super::{ServerEvent, ServerHooks, ServerSession};
use crate::envelope::{ErrorCode, Id, Message, Request, Response, RpcError};
use crate::error::ProtocolError;
use crate::methods::{
    Authorize, ClientRequest, Configure, ConfigureResult, Method, Submit, Subscribe,
    SubscribeResult,
};

impl ServerSession {
    pub(super) fn handle_message(
        &mut self,
        msg: Message,
        now: Instant,
        hooks: &mut impl ServerHooks,
    ) {
        let (id, method, params) = match msg {
            Message::Request(Request { id, method, params }) => (Some(id), method, params),
            // Some miners send calls with a null id; process them, but there is no one to answer.
            Message::Notification(n) => (None, n.method, n.params),
            Message::Response(r) => {
                // We send no requests, so a reply (e.g. to nothing) is unexpected.
                return self.protocol_error(ProtocolError::UnexpectedReply(r.id));
            }
        };
        let request = match ClientRequest::parse(&method, &params) {
            Ok(Some(r)) => r,
            Ok(None) => {
                self.reply(id, Err(RpcError::new(ErrorCode::Other, "Method not found")));
                return self.protocol_error(ProtocolError::UnknownMethod(method));
            }
            Err(e) => {
                let error = RpcError::new(ErrorCode::Other, format!("Invalid params: {e}"));
                if method == Submit::NAME {
                    self.reject(id, None, error);
                } else {
                    self.reply(id, Err(error));
                }
                return self.protocol_error(e.into());
            }
        };
        match request {
            ClientRequest::Subscribe(s) => self.on_subscribe(id, s, now, hooks),
            ClientRequest::Authorize(a) => self.on_authorize(id, a, now, hooks),
            ClientRequest::Configure(c) => self.on_configure(id, c, now),
            ClientRequest::SuggestDifficulty(s) => {
                // Honoured as ckpool does: the suggestion (within the pool's limits) becomes
                // this connection's floor, so vardiff does not undo it with the next job.
                let cfg = &self.config;
                self.min_difficulty = s.difficulty.clamp(cfg.min_difficulty, cfg.max_difficulty);
                self.set_difficulty(s.difficulty, now);
                self.reply(id, Ok(json!(true)));
            }
            ClientRequest::ExtranonceSubscribe => self.reply(id, Ok(json!(true))),
            ClientRequest::Submit(s) => self.on_submit(id, s, now, hooks),
        }
    }

    pub(super) fn reply(&mut self, id: Option<Id>, result: Result<Value, RpcError>) {
        let Some(id) = id else { return };
        let r = match result {
            Ok(v) => Response::ok(id, v),
            Err(e) => Response::err(Some(id), e),
        };
        self.transmit.push_back(Message::from(r).to_line());
    }

    fn on_subscribe(
        &mut self,
        id: Option<Id>,
        s: Subscribe,
        now: Instant,
        hooks: &mut impl ServerHooks,
    ) {
        if self.grant.is_none() {
            match hooks.subscribe(s.session_id.as_deref(), s.user_agent.as_deref()) {
                Ok(grant) => {
                    let resumed = s.session_id.as_deref() == Some(grant.session_id.as_str());
                    self.grant = Some(grant.clone());
                    let user_agent = s.user_agent;
                    self.events.push_back(ServerEvent::Subscribed {
                        grant,
                        user_agent,
                        resumed,
                    });
                }
                Err(e) => return self.reply(id, Err(e)),
            }
        }
        // A repeated subscribe on the same connection gets the same answer.
        let Some(grant) = &self.grant else { return };
        let result = SubscribeResult {
            subscriptions: vec![
                ("mining.set_difficulty".into(), grant.session_id.clone()),
                ("mining.notify".into(), grant.session_id.clone()),
            ],
            extranonce1: grant.extranonce1.clone(),
            extranonce2_size: self.config.extranonce2_size,
        };
        self.reply(id, Ok(result.to_result()));
        self.maybe_start(now);
    }

    fn on_authorize(
        &mut self,
        id: Option<Id>,
        a: Authorize,
        now: Instant,
        hooks: &mut impl ServerHooks,
    ) {
        if self.workers.contains(&a.username) {
            return self.reply(id, Ok(json!(true)));
        }
        if self.workers.len() >= self.config.max_workers
            || !hooks.authorize(&a.username, &a.password)
        {
            self.reply(
                id,
                Err(RpcError::new(
                    ErrorCode::Unauthorized,
                    "Unauthorized worker",
                )),
            );
            return self.events.push_back(ServerEvent::AuthFailed(a.username));
        }
        self.workers.push(a.username.clone());
        self.events.push_back(ServerEvent::Authorized(a.username));
        // The reply goes out before the first job, so a strict client sees it first.
        self.reply(id, Ok(json!(true)));
        self.maybe_start(now);
    }

    fn on_configure(&mut self, id: Option<Id>, c: Configure, now: Instant) {
        let mut result = ConfigureResult::default();
        if let Some(vr) = c.version_rolling {
            let mask = self
                .config
                .version_rolling_mask
                .map(|pool| crate::VersionMask(pool.0 & vr.mask.0));
            // BIP310: refuse when fewer bits than the miner needs are left.
            let mask = mask.filter(|m| m.0 != 0 && m.0.count_ones() >= vr.min_bit_count);
            if let Some(m) = mask {
                self.version_mask = Some(m);
                self.events.push_back(ServerEvent::VersionRolling(m));
            }
            result.version_rolling = mask;
        }
        if let Some(min) = c.minimum_difficulty {
            let min = min.clamp(self.config.min_difficulty, self.config.max_difficulty);
            self.min_difficulty = min;
            let current = self.pending_difficulty.unwrap_or(self.difficulty);
            if current < min {
                self.set_difficulty(min, now);
            }
            result.minimum_difficulty = Some(true);
        }
        if c.subscribe_extranonce {
            result.subscribe_extranonce = Some(true);
        }
        self.reply(id, Ok(result.to_result(c.version_rolling.is_some())));
    }
}
