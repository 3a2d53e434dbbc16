//! The pool's side of one Stratum connection as a sans-IO state machine.
//!
//! [`ServerSession`] holds one connection's protocol state: subscription, authorized
//! workers, negotiated version-rolling mask, the jobs this miner was sent with the
//! difficulty of each, submitted shares (for duplicates) and vardiff. The pool's connection
//! task feeds it lines with [`ServerSession::handle_line`] (passing its [`ServerHooks`]),
//! pushes jobs with [`ServerSession::send_job`], writes every line from
//! [`ServerSession::poll_transmit`] and reads [`ServerSession::poll_event`] for its books.
//!
//! Decisions that need pool-wide state are asked through [`ServerHooks`]: the extranonce1 and
//! session id of a subscription (and whether an offered session id is resumed), whether a
//! worker may authorize, and the proof-of-work check of a share (sha256d stays out of this
//! crate). Everything else is checked here, in ckpool's order where it matters (spec "Error
//! codes", "mining.submit"): not subscribed (25), unauthorized worker (24), unknown or stale
//! job (21), bad extranonce2 length / ntime out of `[job ntime, job ntime + 7000]` / version
//! bits outside the mask (20), duplicate (22); then the hook judges the target (23).
//!
//! Difficulty (spec "mining.set_difficulty" timing): a new difficulty (suggestion, configure
//! minimum, or [`ServerSession::set_difficulty`]) is pending until the next
//! [`ServerSession::send_job`], which writes `mining.set_difficulty` just before
//! `mining.notify`. Each job remembers the difficulty it was sent with, and its shares are
//! judged at that difficulty (ckpool's `old_diff` rule), which is what a miner that latches
//! difficulty at the next notify expects. Vardiff ([`vardiff`]) is judged at every accepted
//! share and at [`ServerSession::next_timer`]; its moves go out at once, with the latest
//! job re-sent under an alias id (see `push_difficulty`), so a miner far off its share rate
//! is corrected within seconds, not at the next job.

mod handle;
mod submit;
#[cfg(test)]
mod tests;
pub mod vardiff;

use std::collections::{HashSet, VecDeque};
use std::time::Instant;

use crate::CodecError;
use crate::envelope::{Message, RpcError};
use crate::error::ProtocolError;
use crate::methods::server::{Notify, SetDifficulty};
use crate::methods::{Method, Submit};
use crate::wire::{Difficulty, Extranonce1, Extranonce2, JobId, VersionMask};
pub use vardiff::{Vardiff, VardiffConfig};

/// Settings of a server session (usually one value shared by all connections).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Bytes of extranonce2 each miner fills (ckpool's default is 8).
    pub extranonce2_size: usize,
    /// Bits the pool lets miners roll (BIP310); `None` refuses version rolling.
    pub version_rolling_mask: Option<VersionMask>,
    /// Difficulty of a new connection.
    pub initial_difficulty: Difficulty,
    /// Lowest difficulty vardiff or a suggestion may reach.
    pub min_difficulty: Difficulty,
    /// Highest difficulty vardiff or a suggestion may reach.
    pub max_difficulty: Difficulty,
    /// Vardiff, or `None` for a fixed difficulty.
    pub vardiff: Option<VardiffConfig>,
    /// How far a submitted ntime may be ahead of the job's (ckpool: 7000 s).
    pub ntime_max_forward: u32,
    /// Jobs remembered per connection; shares of older ones are stale (21).
    pub max_jobs: usize,
    /// Most worker names one connection may authorize.
    pub max_workers: usize,
}

impl Default for ServerConfig {
    /// en2 size 8, BIP320 rolling mask, difficulty 0.01 (a CPU thread finds a share about
    /// every 10 s at ~4 MH/s) within [0.0001, 2^32], default vardiff, ntime +7000 s, 16 jobs.
    fn default() -> Self {
        Self {
            extranonce2_size: 8,
            version_rolling_mask: Some(VersionMask::BIP320),
            initial_difficulty: Difficulty::new(0.01).unwrap_or(Difficulty::ONE),
            min_difficulty: Difficulty::new(0.0001).unwrap_or(Difficulty::ONE),
            max_difficulty: Difficulty::new(4_294_967_296.0).unwrap_or(Difficulty::ONE),
            vardiff: Some(VardiffConfig::default()),
            ntime_max_forward: 7000,
            max_jobs: 16,
            max_workers: 32,
        }
    }
}

/// What the pool grants a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeGrant {
    /// This connection's extranonce1 (unique among live connections).
    pub extranonce1: Extranonce1,
    /// The id the miner may offer later to resume (returned as the `mining.notify`
    /// subscription id).
    pub session_id: String,
}

/// A share that passed every check of the session; the pool judges its proof of work.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareCheck {
    /// The authorized worker that submitted it.
    pub worker: String,
    /// The job: the pool's id (an alias this connection was sent is mapped back to it).
    pub job_id: JobId,
    /// This connection's extranonce1.
    pub extranonce1: Extranonce1,
    /// The submitted extranonce2 (length already checked).
    pub extranonce2: Extranonce2,
    /// Submitted ntime (range already checked).
    pub ntime: u32,
    /// Submitted nonce (value; little-endian in the header).
    pub nonce: u32,
    /// The header version: the job's, or rebuilt from `version_bits` with the mask.
    pub version: u32,
    /// The difficulty the share must meet (the job's difficulty on this connection).
    pub difficulty: Difficulty,
}

/// Decisions the session asks of the pool.
pub trait ServerHooks {
    /// A `mining.subscribe`: give this connection an extranonce1 and session id. `resume`
    /// is the session id the miner offered; grant the same extranonce1 again if the pool
    /// still knows it and it is free. An `Err` is sent to the miner as the error.
    fn subscribe(
        &mut self,
        resume: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<SubscribeGrant, RpcError>;

    /// A `mining.authorize`: may this worker mine here?
    fn authorize(&mut self, username: &str, password: &str) -> bool;

    /// The proof-of-work check (and block detection) of a share. Duplicates are already
    /// refused per connection; a pool that resumes sessions (same extranonce1 on a new
    /// connection) should also refuse shares it accepted on the earlier connection. Return
    /// `Err(RpcError::new(ErrorCode::LowDifficulty, ..))` when it misses the share target.
    fn check_share(&mut self, share: &ShareCheck) -> Result<(), RpcError>;
}

/// What happened on the connection, for the pool's books and logs.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerEvent {
    /// A subscription was granted.
    Subscribed {
        /// The grant.
        grant: SubscribeGrant,
        /// The miner's user agent.
        user_agent: Option<String>,
        /// True when the offered session id was granted again.
        resumed: bool,
    },
    /// A worker authorized.
    Authorized(String),
    /// A worker was refused.
    AuthFailed(String),
    /// Version rolling was agreed with this mask.
    VersionRolling(VersionMask),
    /// `mining.set_difficulty` was just written (before a notify).
    DifficultySent(Difficulty),
    /// A share was accepted.
    ShareAccepted {
        /// The share as checked.
        share: ShareCheck,
    },
    /// A share was rejected with this error (sent to the miner).
    ShareRejected {
        /// The submit, when its params could be read.
        submit: Option<Submit>,
        /// The error sent.
        error: RpcError,
    },
    /// A line that was malformed or unexpected; an error reply was sent when it had an id.
    ProtocolError(ProtocolError),
}

/// Counters of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ServerStats {
    /// Shares accepted.
    pub accepted: u64,
    /// Shares rejected.
    pub rejected: u64,
    /// Sum of the difficulties of accepted shares (hashes ≈ sum × 2^32).
    pub accepted_difficulty: f64,
    /// Malformed or unexpected lines.
    pub protocol_errors: u64,
}

#[derive(Debug, Clone)]
struct JobRecord {
    /// The id this connection was sent: the pool's, or an alias of it (see `push_difficulty`).
    id: JobId,
    /// The pool's id of the job (what [`ShareCheck::job_id`] carries).
    pool_id: JobId,
    ntime: u32,
    version: u32,
    difficulty: Difficulty,
    seen: HashSet<(Extranonce2, u32, u32, u32)>,
}

/// One connection's server protocol state. See the [module docs](self).
#[derive(Debug)]
pub struct ServerSession {
    config: ServerConfig,
    grant: Option<SubscribeGrant>,
    workers: Vec<String>,
    version_mask: Option<VersionMask>,
    difficulty: Difficulty,
    pending_difficulty: Option<Difficulty>,
    min_difficulty: Difficulty,
    vardiff: Option<Vardiff>,
    latest_job: Option<Notify>,
    /// Aliases of `latest_job` sent so far (each one carried a difficulty move).
    reissued: u32,
    started: bool,
    difficulty_sent: bool,
    jobs: VecDeque<JobRecord>,
    transmit: VecDeque<String>,
    events: VecDeque<ServerEvent>,
    stats: ServerStats,
}

impl ServerSession {
    /// A session for a connection accepted at `now`.
    pub fn new(config: ServerConfig, now: Instant) -> Self {
        let difficulty = config
            .initial_difficulty
            .clamp(config.min_difficulty, config.max_difficulty);
        Self {
            grant: None,
            workers: Vec::new(),
            version_mask: None,
            difficulty,
            pending_difficulty: None,
            min_difficulty: config.min_difficulty,
            vardiff: config.vardiff.map(|v| Vardiff::new(v, now)),
            latest_job: None,
            reissued: 0,
            started: false,
            difficulty_sent: false,
            jobs: VecDeque::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            stats: ServerStats::default(),
            config,
        }
    }

    /// Processes one received line (without its newline).
    pub fn handle_line(&mut self, line: &str, now: Instant, hooks: &mut impl ServerHooks) {
        match Message::parse(line) {
            Ok(msg) => self.handle_message(msg, now, hooks),
            Err(e) => self.protocol_error(e.into()),
        }
    }

    /// Records a line the codec refused.
    pub fn handle_codec_error(&mut self, error: CodecError) {
        self.protocol_error(error.into());
    }

    /// Sends a job: a pending difficulty change first (`mining.set_difficulty`), then
    /// `mining.notify`. Before the miner is subscribed and authorized the job is only kept,
    /// and sent (as clean) once it is. A clean job makes every earlier job stale (21). The
    /// notify goes out with `clean_jobs` forced to true when no earlier job of this connection
    /// is still remembered (the first job, or `max_jobs` 1). Vardiff is evaluated here, so
    /// a connection that stops sending shares gets a lower difficulty with the next job.
    pub fn send_job(&mut self, notify: &Notify, now: Instant) {
        self.latest_job = Some(notify.clone());
        self.reissued = 0;
        if !self.started {
            return;
        }
        self.retarget(now);
        self.write_job(notify.clone(), notify.job_id.clone(), now);
    }

    /// When [`ServerSession::on_timer`] should run next (vardiff's check for a connection
    /// that sends no share), if anything is timed.
    pub fn next_timer(&self) -> Option<Instant> {
        self.vardiff
            .as_ref()
            .filter(|_| self.started)
            .map(Vardiff::next_check)
    }

    /// Runs what is due at `now`: vardiff lowers the difficulty of a connection whose
    /// shares stopped, and the move goes out at once (with the latest job under an alias id).
    pub fn on_timer(&mut self, now: Instant) {
        if self.started {
            self.judge_now(now);
        }
    }

    /// Sets the difficulty for the next job (clamped to the session's limits).
    pub fn set_difficulty(&mut self, difficulty: Difficulty, now: Instant) {
        let d = difficulty.clamp(self.min_difficulty, self.max_difficulty());
        self.pending_difficulty = (d != self.difficulty).then_some(d);
        if let Some(v) = &mut self.vardiff {
            v.reset(now);
        }
    }

    /// Sends a notification (e.g. `client.reconnect`, `client.show_message`).
    pub fn send_notification(&mut self, method: &impl Method) {
        self.transmit
            .push_back(Message::from(method.to_notification()).to_line());
    }

    /// The next line to write (JSON + `\n`), in order.
    pub fn poll_transmit(&mut self) -> Option<String> {
        self.transmit.pop_front()
    }

    /// The next event, in order.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// The subscription, once granted.
    pub fn grant(&self) -> Option<&SubscribeGrant> {
        self.grant.as_ref()
    }

    /// Authorized worker names.
    pub fn workers(&self) -> &[String] {
        &self.workers
    }

    /// The difficulty of the latest job sent.
    pub fn difficulty(&self) -> Difficulty {
        self.difficulty
    }

    /// The agreed version-rolling mask.
    pub fn version_mask(&self) -> Option<VersionMask> {
        self.version_mask
    }

    /// Counters.
    pub fn stats(&self) -> ServerStats {
        self.stats
    }

    fn protocol_error(&mut self, e: ProtocolError) {
        self.stats.protocol_errors += 1;
        self.events.push_back(ServerEvent::ProtocolError(e));
    }

    /// The highest difficulty for this connection now: the configured one, and no harder
    /// than the latest job's block (a share meeting the block target is a block: harder
    /// shares only hide them; ckpool caps at the network difficulty too). Never under the
    /// connection's floor.
    fn max_difficulty(&self) -> Difficulty {
        let max = self.config.max_difficulty;
        let block = self
            .latest_job
            .as_ref()
            .and_then(|j| network_difficulty(j.nbits))
            .and_then(|d| Difficulty::new(d).ok());
        let max = block.map_or(max, |b| if b < max { b } else { max });
        if max < self.min_difficulty {
            self.min_difficulty
        } else {
            max
        }
    }

    /// Judges vardiff's window; a move is pending for the next job (true when there is one).
    fn retarget(&mut self, now: Instant) -> bool {
        let (min, max) = (self.min_difficulty, self.max_difficulty());
        let base = self.pending_difficulty.unwrap_or(self.difficulty);
        match self
            .vardiff
            .as_mut()
            .and_then(|v| v.judge(base, min, max, now))
        {
            Some(next) => {
                self.pending_difficulty = Some(next);
                true
            }
            None => false,
        }
    }

    /// Judges vardiff's window (after a share, or on the timer) and sends a move at once.
    pub(super) fn judge_now(&mut self, now: Instant) {
        if self.retarget(now) {
            self.push_difficulty(now);
        }
    }

    /// Sends the pending difficulty now instead of with the next job: `set_difficulty`,
    /// then the latest job again, as a new job (clean_jobs false) so every miner switches to
    /// it (most latch the difficulty when the job id changes). It goes under an alias id
    /// (the pool's id and a 4-digit count, mapped back in [`ShareCheck::job_id`]) and
    /// with ntime one second later per alias, so its headers differ from the ones already
    /// hashed: a miner that restarts its extranonce2 count per job finds no duplicates.
    /// Shares of the earlier ids stay valid at their old difficulty. After 255 aliases of
    /// one job (or an id too long to extend) the move waits for the pool's next job.
    fn push_difficulty(&mut self, now: Instant) {
        let Some(latest) = self.latest_job.as_ref().filter(|_| self.started) else {
            return;
        };
        if self.reissued >= 255 {
            return;
        }
        let n = self.reissued + 1;
        let Ok(alias) = JobId::new(format!("{}{n:04x}", latest.job_id)) else {
            return;
        };
        let pool_id = latest.job_id.clone();
        let mut notify = latest.clone();
        notify.job_id = alias;
        notify.ntime = latest.ntime.saturating_add(n);
        notify.clean_jobs = false;
        self.reissued = n;
        self.write_job(notify, pool_id, now);
    }

    fn write_job(&mut self, mut notify: Notify, pool_id: JobId, now: Instant) {
        let next = self
            .pending_difficulty
            .take()
            .unwrap_or(self.difficulty)
            .clamp(self.min_difficulty, self.max_difficulty());
        if next != self.difficulty || !self.difficulty_sent {
            // The miner applies it from this notify on (spec: set_difficulty just before notify).
            self.difficulty = next;
            self.difficulty_sent = true;
            let m = SetDifficulty { difficulty: next };
            self.transmit
                .push_back(Message::from(m.to_notification()).to_line());
            self.events.push_back(ServerEvent::DifficultySent(next));
            if let Some(v) = &mut self.vardiff {
                v.reset(now);
            }
        }
        if notify.clean_jobs {
            self.jobs.clear();
        }
        // A re-sent job id takes the current difficulty; its old record goes.
        self.jobs.retain(|j| j.id != notify.job_id);
        while self.jobs.len() >= self.config.max_jobs.max(1) {
            self.jobs.pop_front();
        }
        self.jobs.push_back(JobRecord {
            id: notify.job_id.clone(),
            pool_id,
            ntime: notify.ntime,
            version: notify.version,
            difficulty: self.difficulty,
            seen: HashSet::new(),
        });
        // No earlier job is valid here any more (first job, or all forgotten): tell the
        // miner, so it sends no share we would answer with 21.
        notify.clean_jobs |= self.jobs.len() == 1;
        self.transmit
            .push_back(Message::from(notify.to_notification()).to_line());
    }

    /// Sends the kept job once the miner is both subscribed and authorized.
    fn maybe_start(&mut self, now: Instant) {
        if self.started || self.grant.is_none() || self.workers.is_empty() {
            return;
        }
        self.started = true;
        if let Some(mut job) = self.latest_job.clone() {
            job.clean_jobs = true;
            let pool_id = job.job_id.clone();
            self.write_job(job, pool_id, now);
        }
    }
}

/// The difficulty of a block target in compact form (`nbits`): the difficulty-1 target
/// (`0x1d00ffff`) over it; `None` for a zero or negative target.
fn network_difficulty(bits: u32) -> Option<f64> {
    let exponent = i32::try_from(bits >> 24).ok()?;
    let mantissa = bits & 0x007f_ffff;
    if mantissa == 0 || bits & 0x0080_0000 != 0 {
        return None;
    }
    let d = f64::from(0xffff_u32) / f64::from(mantissa) * 256f64.powi(0x1d - exponent);
    (d.is_finite() && d > 0.0).then_some(d)
}
