//! What a session does with found shares: submit them within the rate limit, count what
//! is stale or dropped, and say it in warnings a pool cannot make repeat (at most once per
//! interval, with a count; issue 11 hole 4).

use std::collections::HashMap;
use std::mem::Discriminant;
use std::time::Instant;

use stratum::ProtocolError;
use stratum::client::SubmitError;
use tracing::{debug, warn};

use super::Session;
use crate::search::Found;
use crate::worker::jobs::NotSubmitted;
use crate::worker::stats::lock;
use crate::worker::throttle::Throttle;

/// The warnings a pool can make repeat, each logged at most once per interval with a count.
#[derive(Default)]
pub(super) struct Warnings {
    /// Per kind of bad line (a stray reply, an unknown method, …).
    pub(super) bad_line: HashMap<Discriminant<ProtocolError>, Throttle>,
    /// Shares dropped (rate limit, full queue, too many unanswered).
    pub(super) dropped: Throttle,
    /// Shares the session refused for another reason.
    pub(super) not_sent: Throttle,
    /// `client.reconnect` to another host, not followed.
    pub(super) redirect: Throttle,
    /// Submits with no answer (timed out, connection lost).
    pub(super) unanswered: Throttle,
    /// Job difficulty under the floor.
    pub(super) floor: Throttle,
}

impl Session<'_> {
    pub(super) fn on_found(&mut self, found: &Found, now: Instant) {
        let share = match self.ctx.mining.share(found) {
            Ok(share) => share,
            Err(NotSubmitted::Void(job)) => {
                lock(self.ctx.status).shares.stale += 1;
                debug!(job, "share of a void job dropped");
                return;
            }
            Err(e) => return self.not_sent(&e, now),
        };
        if !self.submits.take(now) {
            let rate = self.ctx.config.max_submits_per_second;
            return self.dropped(1, &format!("more than {rate} a second"), now);
        }
        match self.client.submit(share, now) {
            Ok(_) => {}
            Err(SubmitError::Stale(job)) => {
                lock(self.ctx.status).shares.stale += 1;
                debug!(job = job.as_str(), "share of a void job dropped");
            }
            Err(e @ SubmitError::TooManyPending) => self.dropped(1, &e.to_string(), now),
            Err(e) => self.not_sent(&e, now),
        }
    }

    /// Books shares the found queue had no room for.
    pub(super) fn count_queue_drops(&mut self, now: Instant) {
        let n = self.ctx.mining.take_dropped();
        if n > 0 {
            self.dropped(n, "found faster than they can be handled", now);
        }
    }

    /// Counts `n` dropped shares and says so, at most once per interval.
    fn dropped(&mut self, n: u64, why: &str, now: Instant) {
        let total = {
            let mut s = lock(self.ctx.status);
            s.shares.dropped = s.shares.dropped.saturating_add(n);
            s.shares.dropped
        };
        if let Some(more) = self.warnings.dropped.hit(now) {
            warn!(
                total,
                "shares dropped ({why}); {more} more drops since the last warning"
            );
        }
    }

    fn not_sent(&mut self, e: &dyn std::fmt::Display, now: Instant) {
        if let Some(more) = self.warnings.not_sent.hit(now) {
            warn!("share not sent: {e} ({more} more since the last warning)");
        }
    }

    /// At the end of the session, what the throttled warnings did not say yet.
    pub(super) fn say_unsaid(&mut self) {
        let w = &mut self.warnings;
        let bad_lines: u64 = w.bad_line.values_mut().map(Throttle::take_unsaid).sum();
        let counts = [
            ("bad lines skipped", bad_lines),
            ("share drops", w.dropped.take_unsaid()),
            ("shares not sent", w.not_sent.take_unsaid()),
            ("redirects refused", w.redirect.take_unsaid()),
            ("unanswered shares", w.unanswered.take_unsaid()),
        ];
        for (what, n) in counts {
            if n > 0 {
                warn!("{n} more {what} in this session than the warnings said");
            }
        }
    }
}
