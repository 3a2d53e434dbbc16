//! What a session does with each event of the `stratum` client session: log it, start or
//! restart jobs, count share results, or end the session.

use std::time::Instant;

use stratum::client::{ClientEvent, Job as ClientJob, ShareOutcome};
use stratum::methods::Reconnect;
use stratum::{ProtocolError, VersionMask};
use tracing::{debug, info, warn};

use super::{Session, SessionEnd, lost};
use crate::worker::mining::StartError;
use crate::worker::redirect;
use crate::worker::stats::{lock, printable};
use crate::worker::throttle::{PACE_WINDOW, Pace};

impl Session<'_> {
    /// Acts on one session event; `Some` ends the session.
    pub(super) fn on_event(&mut self, ev: ClientEvent) -> Option<SessionEnd> {
        match ev {
            ClientEvent::VersionRolling(Some(mask)) => {
                info!("version rolling on, mask {}", mask.to_hex())
            }
            ClientEvent::VersionRolling(None) => info!("version rolling refused by the pool"),
            ClientEvent::Subscribed {
                extranonce1,
                extranonce2_size,
                resumed,
                ..
            } => {
                let how = if resumed {
                    "resumed session"
                } else {
                    "subscribed"
                };
                info!(
                    "{how}: extranonce1 {}, extranonce2 {extranonce2_size} bytes",
                    extranonce1.to_hex()
                );
            }
            ClientEvent::ResumeRefused(r) => {
                info!(
                    "pool did not resume the session: {}",
                    self.pool_text(&r.reason)
                )
            }
            ClientEvent::Authorized => self.authorized(),
            ClientEvent::AuthFailed(r) => {
                let why = self.pool_text(&r.reason);
                return Some(lost(format!("authorization failed: {why}")));
            }
            ClientEvent::HandshakeFailed(why) => {
                return Some(lost(format!("handshake failed: {}", self.pool_text(&why))));
            }
            ClientEvent::NewJob(job) => self.start_job(&job),
            ClientEvent::ExtranonceChanged {
                extranonce1,
                extranonce2_size,
            } => info!(
                "new extranonce1 {} ({extranonce2_size}-byte extranonce2) from the next job",
                extranonce1.to_hex()
            ),
            ClientEvent::VersionMask(mask) => self.new_mask(mask),
            ClientEvent::Reconnect(r) => return self.redirect(&r),
            ClientEvent::ShowMessage(text) => info!("pool message: {}", self.pool_text(&text)),
            ClientEvent::ShareResult { outcome, .. } => self.share_result(outcome),
            ClientEvent::ProtocolError(e) => self.bad_line(&e),
        }
        None
    }

    /// Pool-supplied text for a log line (see [`super::pool_text`]).
    fn pool_text(&self, text: &str) -> String {
        super::pool_text(text, &self.ctx.config.password)
    }

    fn authorized(&mut self) {
        self.worked = true;
        let pool = self.ctx.url.to_string();
        let user = printable(&self.ctx.config.username);
        info!("authorized as {user} on {pool}");
        lock(self.ctx.status).pool_connected(pool);
    }

    /// BIP310 `mining.set_version_mask` is valid at once: rebuild the current job with it.
    fn new_mask(&mut self, mask: VersionMask) {
        info!("version mask now {}", mask.to_hex());
        if let Err(e) = self.ctx.mining.restart_with_mask(mask.0) {
            warn!("could not restart the job: {e}");
        }
    }

    /// `client.reconnect [host, port, wait]`: followed to the configured pool's host (any
    /// port), to another host only with `--allow-redirect`; otherwise ignored, and the
    /// session goes on.
    fn redirect(&mut self, r: &Reconnect) -> Option<SessionEnd> {
        let target = redirect::target(self.ctx.url, r);
        let allowed = self.ctx.config.allow_redirect;
        if let Some((url, wait)) = target
            && redirect::may_follow(self.ctx.configured, &url, allowed)
        {
            return Some(SessionEnd::Redirect { url, wait });
        }
        if let Some(more) = self.warnings.redirect.hit(Instant::now()) {
            let host = printable(r.host.as_deref().unwrap_or_default());
            let home = &self.ctx.configured.host;
            warn!(
                "pool asks to reconnect to host {host:?}, not {home}: ignored (--allow-redirect \
                 follows it); {more} more since the last warning"
            );
        }
        None
    }

    /// A line the session skipped: one warning per kind and interval (a pool can send
    /// thousands: stray replies, unknown methods).
    fn bad_line(&mut self, e: &ProtocolError) {
        let throttle = self
            .warnings
            .bad_line
            .entry(std::mem::discriminant(e))
            .or_default();
        if let Some(more) = throttle.hit(Instant::now()) {
            let e = super::pool_text(&e.to_string(), &self.ctx.config.password);
            warn!(
                "pool sent a bad line (skipped): {e}; {more} more of this kind since the last warning"
            );
        }
    }

    fn start_job(&mut self, job: &ClientJob) {
        let job_id = job.notify.job_id.as_str();
        let mined = self.ctx.mining.mined_difficulty(job);
        if mined != job.difficulty
            && let Some(more) = self.warnings.floor.hit(Instant::now())
        {
            let (asked, floor) = (job.difficulty.value(), mined.value());
            warn!(
                "pool difficulty {asked} is under the floor {floor}: mining at {floor} \
                 ({more} more such jobs since the last warning)"
            );
        }
        let started = self.ctx.mining.start(job);
        if let Err(e @ StartError::Work(_)) = &started {
            warn!(job = job_id, "{e}");
            return;
        }
        let difficulty = job.difficulty.value();
        let changed = {
            let mut s = lock(self.ctx.status);
            let changed = s.difficulty != Some(difficulty);
            s.difficulty = Some(difficulty);
            changed
        };
        if changed {
            info!("difficulty {difficulty}");
        }
        debug!(job = job_id, clean = job.clean, "new job");
        if let Err(e) = started {
            warn!(job = job_id, "{e}");
        }
    }

    fn share_result(&mut self, outcome: ShareOutcome) {
        let why = match outcome {
            ShareOutcome::TimedOut => "got no answer in time",
            ShareOutcome::ConnectionLost => "unanswered: connection lost",
            answered => return self.answered(answered),
        };
        // A pool that never answers would otherwise get one line per share sent.
        if let Some(more) = self.warnings.unanswered.hit(Instant::now()) {
            warn!("share {why} ({more} more unanswered since the last warning)");
        }
    }

    /// One line per answered share, as cpuminer, while they come at a readable pace; past
    /// it one summary line per window ([`ResultPace`]).
    fn answered(&mut self, outcome: ShareOutcome) {
        let now = Instant::now();
        self.say_held_results(Some(now));
        let mut s = lock(self.ctx.status);
        let reason = match outcome {
            ShareOutcome::Accepted => {
                s.shares.accepted += 1;
                None
            }
            ShareOutcome::Rejected(r) => {
                s.shares.rejected += 1;
                Some(super::pool_text(&r.reason, &self.ctx.config.password))
            }
            ShareOutcome::TimedOut | ShareOutcome::ConnectionLost => return,
        };
        if self.results.result(now, reason.as_deref()) == Pace::Line {
            info!("{}", s.shares.result_line(s.hashrate(), reason.as_deref()));
        }
    }

    /// The summary of results held back in a window that has ended (or of all held ones
    /// when the session ends, `now` `None`).
    pub(super) fn say_held_results(&mut self, now: Option<Instant>) {
        let held = match now {
            Some(now) => self.results.due(now),
            None => self.results.take(),
        };
        let Some(held) = held else { return };
        let s = lock(self.ctx.status);
        let rejects = match &held.last_reason {
            Some(reason) if held.rejected > 0 => {
                format!(" +{} rejected (last: {reason})", held.rejected)
            }
            _ => String::new(),
        };
        info!(
            "{}, +{} accepted{rejects} since the last line (one line per {} s while shares come too fast to read)",
            s.shares.totals(s.hashrate()),
            held.accepted,
            PACE_WINDOW.as_secs(),
        );
    }
}
