//! The miner's side of a Stratum connection as a sans-IO state machine.
//!
//! [`ClientSession`] is one TCP/TLS connection's worth of protocol state. The driver (the
//! worker in `miner-core`) feeds it received lines with [`ClientSession::handle_line`],
//! calls [`ClientSession::poll_timeout`] when [`ClientSession::next_timeout`] passes, writes
//! every line from [`ClientSession::poll_transmit`], and acts on every
//! [`ClientSession::poll_event`]. Shares go in with [`ClientSession::submit`].
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

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::envelope::{Id, Message, Rejection};
use crate::methods::server::{Notify, Reconnect};
use crate::methods::{ParamsError, Submit, VersionRollingRequest};
use crate::wire::{Difficulty, Extranonce1, Extranonce2, JobId, VersionMask};
use crate::{CodecError, MessageError};

/// Jobs remembered for submit checks (older ones are treated as stale).
pub const MAX_JOBS: usize = 32;

/// Settings of one client session.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Sent in `mining.subscribe` and as the `client.get_version` answer.
    pub user_agent: String,
    /// `mining.authorize` username; also the worker name in submits.
    pub username: String,
    /// `mining.authorize` password.
    pub password: String,
    /// Ask for BIP310 version rolling with `mining.configure` (unless `skip_configure`).
    pub version_rolling: Option<VersionRollingRequest>,
    /// Do not send `mining.configure` (set from [`ResumeInfo::skip_configure`]).
    pub skip_configure: bool,
    /// Offer this session id in `mining.subscribe` (from [`ResumeInfo::session_id`]).
    pub resume_session_id: Option<String>,
    /// Send `mining.extranonce.subscribe` after subscribing.
    pub extranonce_subscribe: bool,
    /// Send `mining.suggest_difficulty` after authorizing (`--suggest-diff`).
    pub suggest_difficulty: Option<Difficulty>,
    /// How long a request may stay unanswered.
    pub request_timeout: Duration,
    /// Most submits awaiting an answer; more are refused with [`SubmitError::TooManyPending`].
    pub max_pending_submits: usize,
}

impl ClientConfig {
    /// Defaults: no version rolling, no extranonce subscription, 30 s timeout, 1024 pending.
    pub fn new(
        user_agent: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            user_agent: user_agent.into(),
            username: username.into(),
            password: password.into(),
            version_rolling: None,
            skip_configure: false,
            resume_session_id: None,
            extranonce_subscribe: false,
            suggest_difficulty: None,
            request_timeout: Duration::from_secs(30),
            max_pending_submits: 1024,
        }
    }
}

/// Work to mine: a notify plus the session values it must be built with.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The pool's job.
    pub notify: Notify,
    /// Share difficulty for this job (latched at this notify).
    pub difficulty: Difficulty,
    /// extranonce1 to put in the coinbase.
    pub extranonce1: Extranonce1,
    /// Bytes of extranonce2 the miner fills.
    pub extranonce2_size: usize,
    /// The negotiated version-rolling mask at the time of this job, if any.
    pub version_mask: Option<VersionMask>,
    /// True when all earlier jobs are void: `clean_jobs`, or a new extranonce took effect.
    /// The worker must stop hashing older jobs at once.
    pub clean: bool,
}

/// A share found by the worker, to hand to [`ClientSession::submit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The job it was found on.
    pub job_id: JobId,
    /// The extranonce2 used (exactly the job's extranonce2_size).
    pub extranonce2: Extranonce2,
    /// Header time used.
    pub ntime: u32,
    /// The nonce value (little-endian in the header).
    pub nonce: u32,
    /// The full header version hashed, when it differs from the job's (version rolling).
    pub version: Option<u32>,
}

/// How the pool answered a submit.
#[derive(Debug, Clone, PartialEq)]
pub enum ShareOutcome {
    /// `result: true`.
    Accepted,
    /// An error or `result: false`; the reason is the error message or ckpool's reject-reason.
    Rejected(Rejection),
    /// No answer within [`ClientConfig::request_timeout`].
    TimedOut,
    /// The connection ended before the answer ([`ClientSession::connection_lost`]).
    ConnectionLost,
}

/// What the miner should know or do.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// The `mining.configure` answer: the mask to roll with, or `None` (refused, error,
    /// no answer in time).
    VersionRolling(Option<VersionMask>),
    /// `mining.subscribe` succeeded.
    Subscribed {
        /// This connection's extranonce1.
        extranonce1: Extranonce1,
        /// Bytes of extranonce2 the miner owns.
        extranonce2_size: usize,
        /// Offer it on reconnect (also kept in [`ResumeInfo`]).
        session_id: Option<String>,
        /// True when the offered session id was given back.
        resumed: bool,
    },
    /// The pool refused to resume the offered session; a fresh subscribe was sent.
    ResumeRefused(Rejection),
    /// `mining.authorize` returned true.
    Authorized,
    /// `mining.authorize` failed.
    AuthFailed(Rejection),
    /// The session cannot go on (subscribe failed or a handshake request timed out). The
    /// driver should drop the connection and reconnect later.
    HandshakeFailed(String),
    /// New work.
    NewJob(Job),
    /// `mining.set_extranonce`: takes effect with the next job.
    ExtranonceChanged {
        /// The new extranonce1.
        extranonce1: Extranonce1,
        /// The new extranonce2 size.
        extranonce2_size: usize,
    },
    /// `mining.set_version_mask`: a new rolling mask, valid now.
    VersionMask(VersionMask),
    /// `client.reconnect`: the driver should reconnect (host/port `None` = same server).
    Reconnect(Reconnect),
    /// `client.show_message`: text for the operator.
    ShowMessage(String),
    /// The answer to a submit.
    ShareResult {
        /// What was sent.
        submit: Submit,
        /// The difficulty of the share's job.
        difficulty: Difficulty,
        /// Accepted, rejected (with reason), or no answer.
        outcome: ShareOutcome,
    },
    /// A line that was malformed or unexpected; it was skipped.
    ProtocolError(ProtocolError),
}

/// Something the peer sent that could not be used; never fatal.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProtocolError {
    /// The codec refused a line.
    #[error("{0}")]
    Codec(#[from] CodecError),
    /// Not a Stratum message.
    #[error("{0}")]
    Message(#[from] MessageError),
    /// Bad params (or result) of a known method.
    #[error("{0}")]
    Params(#[from] ParamsError),
    /// A method this crate does not know.
    #[error("unknown method {0:?}")]
    UnknownMethod(String),
    /// A reply whose id matches no pending request.
    #[error("reply to unknown request id {0:?}")]
    UnexpectedReply(Option<Id>),
    /// A message that is valid but out of place.
    #[error("{0}")]
    Unexpected(&'static str),
}

/// Why [`ClientSession::submit`] refused a share.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// No subscription yet, or authorization failed.
    #[error("not subscribed and authorized")]
    NotReady,
    /// The job is void (clean_jobs, new extranonce) or unknown: a stale share.
    #[error("stale share: job {0} is no longer valid")]
    Stale(JobId),
    /// extranonce2 has the wrong length for the job.
    #[error("extranonce2 is {got} bytes, job needs {expected}")]
    Extranonce2Size {
        /// The job's size.
        expected: usize,
        /// The share's size.
        got: usize,
    },
    /// A rolled version without negotiated version rolling, or outside the mask.
    #[error("version {0:08x} is not allowed for this job")]
    VersionNotAllowed(u32),
    /// Too many submits awaiting an answer.
    #[error("too many submits awaiting an answer")]
    TooManyPending,
}

/// What the next session to the same pool should reuse; from [`ClientSession::connection_lost`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResumeInfo {
    /// Session id to offer in the next `mining.subscribe`.
    pub session_id: Option<String>,
    /// True when this pool must not get `mining.configure` (it closed the connection while
    /// our configure was unanswered, or it was already skipped).
    pub skip_configure: bool,
}

/// Counters of this session's shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientStats {
    /// Submits answered `true`.
    pub accepted: u64,
    /// Submits rejected by the pool.
    pub rejected: u64,
    /// Shares refused locally as stale (void job), never sent.
    pub stale: u64,
    /// Submits with no answer (timeout or connection lost).
    pub unanswered: u64,
}

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

/// One connection's client protocol state. See the [module docs](self).
#[derive(Debug)]
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

    /// When [`poll_timeout`](Self::poll_timeout) should next be called, if anything is pending.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.pending
            .values()
            .map(|p| p.sent_at + self.config.request_timeout)
            .min()
    }

    /// Expires requests unanswered for [`ClientConfig::request_timeout`]: submits become
    /// [`ShareOutcome::TimedOut`], an unanswered configure counts as refused, an unanswered
    /// subscribe or authorize ends the session ([`ClientEvent::HandshakeFailed`]).
    pub fn poll_timeout(&mut self, now: Instant) {
        let timeout = self.config.request_timeout;
        let mut expired: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| now >= p.sent_at + timeout)
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
