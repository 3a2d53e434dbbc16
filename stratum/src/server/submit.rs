//! `mining.submit` checks of [`ServerSession`] (spec "mining.submit", "Error codes").

use std::time::Instant;

use serde_json::json;

use super::{ServerEvent, ServerHooks, ServerSession, ShareCheck};
use crate::envelope::{ErrorCode, Id, RpcError};
use crate::methods::Submit;

fn err(code: ErrorCode, message: &str) -> RpcError {
    RpcError::new(code, message)
}

impl ServerSession {
    pub(super) fn on_submit(
        &mut self,
        id: Option<Id>,
        s: Submit,
        now: Instant,
        hooks: &mut impl ServerHooks,
    ) {
        let check = match self.check_submit(&s) {
            Ok(check) => check,
            Err(e) => return self.reject(id, Some(s), e),
        };
        if let Err(e) = hooks.check_share(&check) {
            return self.reject(id, Some(s), e);
        }
        if let Some(job) = self.jobs.iter_mut().find(|j| j.id == s.job_id) {
            job.seen
                .insert((s.extranonce2.clone(), s.ntime, s.nonce, check.version));
        }
        self.stats.accepted += 1;
        self.stats.accepted_difficulty += check.difficulty.value();
        // Only shares at the current difficulty tell vardiff the miner's rate at it.
        let current = check.difficulty == self.difficulty;
        self.reply(id, Ok(json!(true)));
        self.events
            .push_back(ServerEvent::ShareAccepted { share: check });
        if let Some(v) = self.vardiff.as_mut().filter(|_| current) {
            v.record_share();
            self.judge_now(now);
        }
    }

    pub(super) fn reject(&mut self, id: Option<Id>, submit: Option<Submit>, error: RpcError) {
        self.stats.rejected += 1;
        self.reply(id, Err(error.clone()));
        self.events
            .push_back(ServerEvent::ShareRejected { submit, error });
    }

    /// Every check that needs no hashing, in ckpool's order; the share to hand to the pool.
    fn check_submit(&self, s: &Submit) -> Result<ShareCheck, RpcError> {
        let Some(grant) = &self.grant else {
            return Err(err(ErrorCode::NotSubscribed, "Not subscribed"));
        };
        if !self.workers.contains(&s.worker) {
            return Err(err(ErrorCode::Unauthorized, "Unauthorized worker"));
        }
        let Some(job) = self.jobs.iter().find(|j| j.id == s.job_id) else {
            return Err(err(ErrorCode::JobNotFound, "Job not found"));
        };
        if s.extranonce2.len() != self.config.extranonce2_size {
            return Err(err(ErrorCode::Other, "Invalid extranonce2 length"));
        }
        let max_ntime = job.ntime.saturating_add(self.config.ntime_max_forward);
        if s.ntime < job.ntime || s.ntime > max_ntime {
            return Err(err(ErrorCode::Other, "Ntime out of range"));
        }
        let version = match (s.version_bits, self.version_mask) {
            (None, _) => job.version,
            (Some(_), None) => return Err(err(ErrorCode::Other, "Version rolling not negotiated")),
            (Some(bits), Some(mask)) if bits & !mask.0 != 0 => {
                return Err(err(ErrorCode::Other, "Version bits outside mask"));
            }
            (Some(bits), Some(mask)) => mask.apply(job.version, bits),
        };
        if job
            .seen
            .contains(&(s.extranonce2.clone(), s.ntime, s.nonce, version))
        {
            return Err(err(ErrorCode::Duplicate, "Duplicate share"));
        }
        Ok(ShareCheck {
            worker: s.worker.clone(),
            job_id: job.pool_id.clone(),
            extranonce1: grant.extranonce1.clone(),
            extranonce2: s.extranonce2.clone(),
            ntime: s.ntime,
            nonce: s.nonce,
            version,
            difficulty: job.difficulty,
        })
    }
}
