//! The miner's side of a Stratum connection as a sans-IO state machine.
//!
//! [`ClientSession`] is one TCP/TLS connection's worth of protocol state. The driver (the
//! worker in `miner-core`) feeds it received lines with [`ClientSession::handle_line`],
//! calls [`ClientSession::handle_timeout`] when [`ClientSession::next_timeout`] passes,
//! writes every line from [`ClientSession::poll_transmit`], and acts on every
//! [`ClientSession::poll_event`] (quinn's naming: `handle_*` for inputs, `poll_*` for
//! outputs). Shares go in with [`ClientSession::submit`].
//!
//! Handshake (spec Part A.1): optional `mining.configure` (BIP310 version rolling) →
//! `mining.subscribe` (offering the previous session id when resuming; on error, once more
//! without it, as cpuminer does) → optional `mining.extranonce.subscribe` →
//! `mining.authorize` → optional `mining.suggest_difficulty`. Replies are matched by id, so
//! notifications may arrive anywhere (ckpool sends `set_difficulty` and `notify` before the
//! authorize reply).
//!
//! Pool quirks handled: `mining.set_difficulty` and `mining.set_extranonce` apply from the
//! next `mining.notify` (cpuminer/cgminer latch them there); a `clean_jobs` notify voids
//! every earlier job and [`ClientSession::submit`] refuses shares of void jobs (counted as
//! stale); a pool that closes the connection while `mining.configure` is unanswered (the
//! 2017 ckpool does) is remembered in [`ResumeInfo::skip_configure`] for the next session.
//! Unknown methods and malformed lines become [`ClientEvent::ProtocolError`] and are skipped.

mod handle;
#[cfg(test)]
mod tests;
mod types;

pub use types::{
    ClientConfig, ClientEvent, ClientStats, Job, MAX_JOBS, ResumeInfo, Share, ShareOutcome,
    SubmitError,
};

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use crate::CodecError;
use crate::envelope::{Id, Message};
use crate::error::ProtocolError;
use crate::methods::Submit;
use crate::methods::server::Notify;
use crate::wire::{Difficulty, Extranonce1, JobId, VersionMask};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Configuring,
    Subscribing,
    Authorizing,
    Ready,
    Failed,
}

#[derive(Debug, Clone)]
enum PendingKind {
    Configure,
    Subscribe {
        resume: Option<String>,
    },
    ExtranonceSubscribe,
    Authorize,
    SuggestDifficulty,
    Submit {
        submit: Submit,
        difficulty: Difficulty,
    },
}

#[derive(Debug, Clone)]
struct Pending {
    kind: PendingKind,
    sent_at: Instant,
}

#[derive(Debug, Clone)]
struct JobMeta {
    id: JobId,
    version: u32,
    extranonce2_size: usize,
    difficulty: Difficulty,
}

/// One connection's client protocol state. See the [module docs](self). Its `Debug` shows
/// queued lines through [`crate::redact_line`].
pub struct ClientSession {
    config: ClientConfig,
    phase: Phase,
    next_id: u64,
    pending: HashMap<u64, Pending>,
    transmit: VecDeque<String>,
    events: VecDeque<ClientEvent>,
    extranonce1: Option<Extranonce1>,
    extranonce2_size: usize,
    session_id: Option<String>,
    pending_extranonce: Option<(Extranonce1, usize)>,
    difficulty: Difficulty,
    pending_difficulty: Option<Difficulty>,
    version_mask: Option<VersionMask>,
    configure_unanswered: bool,
    auth_failed: bool,
    early_notify: Option<Notify>,
    jobs: VecDeque<JobMeta>,
    stats: ClientStats,
    last_received: Instant,
}

impl std::fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let transmit: Vec<_> = self
            .transmit
            .iter()
            .map(|l| crate::redact_line(l))
            .collect();
        f.debug_struct("ClientSession")
            .field("config", &self.config)
            .field("phase", &self.phase)
            .field("pending", &self.pending)
            .field("transmit", &transmit)
            .field("events", &self.events)
            .field("extranonce1", &self.extranonce1)
            .field("session_id", &self.session_id)
            .field("difficulty", &self.difficulty)
            .field("version_mask", &self.version_mask)
            .field("jobs", &self.jobs)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl ClientSession {
    /// Starts a session on a fresh connection; the first request is queued for
    /// [`poll_transmit`](Self::poll_transmit).
    pub fn new(config: ClientConfig, now: Instant) -> Self {
        let mut s = Self {
            phase: Phase::Configuring,
            next_id: 1,
            pending: HashMap::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            extranonce1: None,
            extranonce2_size: 0,
            session_id: config.resume_session_id.clone(),
            pending_extranonce: None,
            difficulty: Difficulty::ONE,
            pending_difficulty: None,
            version_mask: None,
            configure_unanswered: false,
            auth_failed: false,
            early_notify: None,
            jobs: VecDeque::new(),
            stats: ClientStats::default(),
            last_received: now,
            config,
        };
        match s
            .config
            .version_rolling
            .filter(|_| !s.config.skip_configure)
        {
            Some(vr) => s.send_configure(vr, now),
            None => s.send_subscribe(s.config.resume_session_id.clone(), now),
        }
        s
    }

    /// Processes one received line (without its newline).
    pub fn handle_line(&mut self, line: &str, now: Instant) {
        self.last_received = now;
        match Message::parse(line) {
            Ok(msg) => self.handle_message(msg, now),
            Err(e) => self.protocol_error(e.into()),
        }
    }

    /// Records a line the codec refused, as a [`ClientEvent::ProtocolError`].
    pub fn handle_codec_error(&mut self, error: CodecError, now: Instant) {
        self.last_received = now;
        self.protocol_error(error.into());
    }

    /// The next line to write (JSON + `\n`), in order.
    pub fn poll_transmit(&mut self) -> Option<String> {
        self.transmit.pop_front()
    }

    /// The next event for the driver, in order.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called, if anything is
    /// pending.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.pending
            .values()
            .filter_map(|p| p.sent_at.checked_add(self.config.request_timeout))
            .min()
    }

    /// Expires requests unanswered for [`ClientConfig::request_timeout`]: submits become
    /// [`ShareOutcome::TimedOut`], an unanswered configure counts as refused, an unanswered
    /// subscribe or authorize ends the session ([`ClientEvent::HandshakeFailed`]).
    pub fn handle_timeout(&mut self, now: Instant) {
        let timeout = self.config.request_timeout;
        let mut expired: Vec<u64> = self
            .pending
            .iter()
            // A timeout too large to add never expires.
            .filter(|(_, p)| p.sent_at.checked_add(timeout).is_some_and(|at| now >= at))
            .map(|(id, _)| *id)
            .collect();
        expired.sort_unstable();
        for id in expired {
            if let Some(p) = self.pending.remove(&id) {
                self.expire(p.kind, now);
            }
        }
    }

    /// Submits a share; returns the request id. Refuses shares of void or unknown jobs
    /// (counted in [`ClientStats::stale`]), wrong extranonce2 sizes, and versions outside the
    /// negotiated mask. With version rolling negotiated, `version_bits` is always sent.
    pub fn submit(&mut self, share: Share, now: Instant) -> Result<u64, SubmitError> {
        if self.extranonce1.is_none() || self.auth_failed || self.phase == Phase::Failed {
            return Err(SubmitError::NotReady);
        }
        let Some(job) = self.jobs.iter().find(|j| j.id == share.job_id) else {
            self.stats.stale += 1;
            return Err(SubmitError::Stale(share.job_id));
        };
        if share.extranonce2.len() != job.extranonce2_size {
            let (expected, got) = (job.extranonce2_size, share.extranonce2.len());
            return Err(SubmitError::Extranonce2Size { expected, got });
        }
        let version = share.version.unwrap_or(job.version);
        let version_bits = match self.version_mask {
            Some(mask) if mask.allows(job.version, version) => Some(version & mask.0),
            None if version == job.version => None,
            _ => return Err(SubmitError::VersionNotAllowed(version)),
        };
        let submits = self
            .pending
            .values()
            .filter(|p| matches!(p.kind, PendingKind::Submit { .. }));
        if submits.count() >= self.config.max_pending_submits {
            return Err(SubmitError::TooManyPending);
        }
        let submit = Submit {
            worker: self.config.username.clone(),
            job_id: share.job_id,
            extranonce2: share.extranonce2,
            ntime: share.ntime,
            nonce: share.nonce,
            version_bits,
        };
        let difficulty = job.difficulty;
        let id = self.send(&submit, now, |s| PendingKind::Submit {
            submit: s.clone(),
            difficulty,
        });
        Ok(id)
    }

    /// Call when the connection has ended. Unanswered submits are reported as
    /// [`ShareOutcome::ConnectionLost`]; the returned [`ResumeInfo`] goes into the next
    /// session's [`ClientConfig`].
    pub fn connection_lost(&mut self) -> ResumeInfo {
        let mut ids: Vec<u64> = self.pending.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(Pending {
                kind: PendingKind::Submit { submit, difficulty },
                ..
            }) = self.pending.remove(&id)
            {
                self.stats.unanswered += 1;
                let outcome = ShareOutcome::ConnectionLost;
                self.events.push_back(ClientEvent::ShareResult {
                    submit,
                    difficulty,
                    outcome,
                });
            }
        }
        self.phase = Phase::Failed;
        ResumeInfo {
            session_id: self.session_id.clone(),
            skip_configure: self.config.skip_configure || self.configure_unanswered,
        }
    }

    /// Share counters.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// True once subscribed and authorized.
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// When the last line (good or bad) was received; for the driver's idle timeout.
    pub fn last_received(&self) -> Instant {
        self.last_received
    }

    /// The session id to offer on a reconnect (the pool's, once subscribed; else the one
    /// this session was configured to resume).
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// The difficulty latched for the current job.
    pub fn difficulty(&self) -> Difficulty {
        self.difficulty
    }

    /// The version-rolling mask in force, if negotiated.
    pub fn version_mask(&self) -> Option<VersionMask> {
        self.version_mask
    }

    fn protocol_error(&mut self, e: ProtocolError) {
        self.events.push_back(ClientEvent::ProtocolError(e));
    }

    fn alloc_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn send<M: crate::Method>(
        &mut self,
        m: &M,
        now: Instant,
        kind: impl FnOnce(&M) -> PendingKind,
    ) -> u64 {
        let id = self.alloc_id();
        self.transmit
            .push_back(Message::from(m.to_request(Id::Num(id))).to_line());
        self.pending.insert(
            id,
            Pending {
                kind: kind(m),
                sent_at: now,
            },
        );
        id
    }
}
