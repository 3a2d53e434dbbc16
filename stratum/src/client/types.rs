//! The public values of the client session: configuration, events, shares, errors.

use std::time::Duration;

#[cfg(doc)]
use super::ClientSession;
use crate::envelope::Rejection;
use crate::error::ProtocolError;
use crate::methods::server::{Notify, Reconnect};
use crate::methods::{Submit, VersionRollingRequest};
use crate::wire::{Difficulty, Extranonce1, Extranonce2, JobId, VersionMask};

/// Jobs remembered for submit checks (older ones are treated as stale).
pub const MAX_JOBS: usize = 32;

/// Settings of one client session. Its `Debug` (and so the session's) hides the password.
#[derive(Clone)]
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

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("user_agent", &self.user_agent)
            .field("username", &self.username)
            .field("password", &crate::REDACTED)
            .field("version_rolling", &self.version_rolling)
            .field("skip_configure", &self.skip_configure)
            .field("resume_session_id", &self.resume_session_id)
            .field("extranonce_subscribe", &self.extranonce_subscribe)
            .field("suggest_difficulty", &self.suggest_difficulty)
            .field("request_timeout", &self.request_timeout)
            .field("max_pending_submits", &self.max_pending_submits)
            .finish()
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
