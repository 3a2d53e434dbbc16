//! Things a pool can make us do too often, each held to a rate: repeated warnings
//! ([`Throttle`]: at most once per interval, with how many times the thing happened in
//! between, so a hostile or broken pool cannot turn one line of its own into thousands of
//! ours; issue 11 saw 414k identical lines at `set_difficulty 1e-300` and one warning per
//! stray reply), submits ([`RateLimit`], a token bucket) and share result lines
//! ([`ResultPace`]: one per share while readable, a summary per window past that). Pure: the
//! caller passes `now`.

use std::time::{Duration, Instant};

/// How often one repeated warning may be logged.
pub(crate) const WARN_EVERY: Duration = Duration::from_secs(10);

/// One kind of repeated warning.
#[derive(Debug, Clone)]
pub(crate) struct Throttle {
    interval: Duration,
    last: Option<Instant>,
    /// Occurrences since the last line that was logged.
    unsaid: u64,
}

impl Throttle {
    /// Logs at most once per `interval`.
    pub(crate) fn new(interval: Duration) -> Self {
        Throttle {
            interval,
            last: None,
            unsaid: 0,
        }
    }

    /// It happened at `now`: `Some(n)` when a line is due, `n` being how many earlier
    /// occurrences were not logged (0 the first time); `None` to stay quiet.
    pub(crate) fn hit(&mut self, now: Instant) -> Option<u64> {
        let due = self
            .last
            .is_none_or(|at| now.saturating_duration_since(at) >= self.interval);
        if !due {
            self.unsaid = self.unsaid.saturating_add(1);
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.unsaid))
    }

    /// Occurrences not logged yet (to say once at the end); resets the count.
    pub(crate) fn take_unsaid(&mut self) -> u64 {
        std::mem::take(&mut self.unsaid)
    }
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(WARN_EVERY)
    }
}

/// A token bucket: `per_second` tokens a second, holding at most one second's worth (at
/// least one token), full at the start.
#[derive(Debug, Clone)]
pub(crate) struct RateLimit {
    per_second: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    /// `per_second` events a second (0 is taken as 1).
    pub(crate) fn new(per_second: u32, now: Instant) -> Self {
        let per_second = f64::from(per_second.max(1));
        RateLimit {
            per_second,
            tokens: per_second,
            last: now,
        }
    }

    /// True when an event may happen at `now` (and takes its token).
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.per_second);
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

/// Share results come at a readable pace (one line each, as cpuminer) while there are at
/// most [`PACE_BURST`] per [`PACE_WINDOW`]; past that the results of each window are said
/// in one summary line instead, until a window is readable again. A miner at a far too low
/// difficulty otherwise prints 70 lines a second.
pub(crate) const PACE_WINDOW: Duration = Duration::from_secs(5);
/// Results per [`PACE_WINDOW`] still printed one by one.
pub(crate) const PACE_BURST: u32 = 5;

/// What to print for a share result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pace {
    /// Its own line.
    Line,
    /// Nothing now: it goes into the window's summary.
    Held,
}

/// Results held back for a summary line.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Held {
    pub(crate) accepted: u64,
    pub(crate) rejected: u64,
    /// The last reject's reason.
    pub(crate) last_reason: Option<String>,
}

/// The pacing of share result lines (see [`PACE_WINDOW`]). Pure: the caller passes `now`.
#[derive(Debug, Clone)]
pub(crate) struct ResultPace {
    window_start: Instant,
    in_window: u32,
    summarizing: bool,
    held: Held,
}

impl ResultPace {
    pub(crate) fn new(now: Instant) -> Self {
        ResultPace {
            window_start: now,
            in_window: 0,
            summarizing: false,
            held: Held::default(),
        }
    }

    /// A result at `now` (`reject` its reason when rejected): its own line or held. Call
    /// [`ResultPace::due`] first, so a window that ended gets its summary out.
    pub(crate) fn result(&mut self, now: Instant, reject: Option<&str>) -> Pace {
        self.roll(now);
        self.in_window = self.in_window.saturating_add(1);
        if self.in_window > PACE_BURST {
            self.summarizing = true;
        }
        if !self.summarizing {
            return Pace::Line;
        }
        match reject {
            None => self.held.accepted += 1,
            Some(reason) => {
                self.held.rejected += 1;
                self.held.last_reason = Some(reason.to_owned());
            }
        }
        Pace::Held
    }

    /// The held results of a window that has ended by `now`, to say in one line.
    pub(crate) fn due(&mut self, now: Instant) -> Option<Held> {
        if now.saturating_duration_since(self.window_start) < PACE_WINDOW {
            return None;
        }
        self.take()
    }

    /// Whatever is held, now (the session ends).
    pub(crate) fn take(&mut self) -> Option<Held> {
        let held = std::mem::take(&mut self.held);
        (held.accepted + held.rejected > 0).then_some(held)
    }

    /// Starts a new window once the current one is over; the next window prints lines
    /// again only if this one was readable.
    fn roll(&mut self, now: Instant) {
        if now.saturating_duration_since(self.window_start) < PACE_WINDOW {
            return;
        }
        self.summarizing = self.in_window > PACE_BURST;
        self.window_start = now;
        self.in_window = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_lines_at_a_readable_pace_and_summaries_past_it() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut p = ResultPace::new(t0);
        // Five in the window: five lines.
        for i in 0..5 {
            assert_eq!(p.result(ms(i * 100), None), Pace::Line);
        }
        // 70 a second from then on: held, said once per window.
        let mut lines = 0;
        let mut summaries = Vec::new();
        for i in 0..700u64 {
            let now = ms(500 + i * 1000 / 70);
            if let Some(h) = p.due(now) {
                summaries.push(h);
            }
            let reject = (i % 100 == 99).then_some("Low difficulty share");
            if p.result(now, reject) == Pace::Line {
                lines += 1;
            }
        }
        assert_eq!(lines, 0);
        assert_eq!(summaries.len(), 2, "windows ended at 5 s and 10 s");
        let rest = p.take().unwrap();
        let held: u64 = summaries
            .iter()
            .chain([&rest])
            .map(|h| h.accepted + h.rejected)
            .sum();
        assert_eq!(held, 700, "every result held is said");
        assert_eq!(
            summaries[0].last_reason.as_deref(),
            Some("Low difficulty share")
        );
        // A quiet window after a busy one still summarizes; the one after that is lines.
        let later = ms(20_000);
        assert_eq!(p.result(later, None), Pace::Held);
        assert_eq!(
            p.due(later + PACE_WINDOW),
            Some(Held {
                accepted: 1,
                ..Held::default()
            })
        );
        assert_eq!(p.result(later + PACE_WINDOW, None), Pace::Line);
        assert_eq!(p.take(), None);
    }

    #[test]
    fn the_bucket_lets_through_one_seconds_worth_then_the_rate() {
        let t0 = Instant::now();
        let mut r = RateLimit::new(5, t0);
        let burst = (0..1000).filter(|_| r.take(t0)).count();
        assert_eq!(burst, 5);
        // Ten seconds of a flood at 1 kHz: five a second get through, no more.
        let passed = (1..=10_000u64)
            .filter(|ms| r.take(t0 + Duration::from_millis(*ms)))
            .count();
        assert_eq!(passed, 50);
        let mut zero = RateLimit::new(0, t0);
        assert!(zero.take(t0) && !zero.take(t0));
    }

    #[test]
    fn once_per_interval_with_the_count_in_between() {
        let t0 = Instant::now();
        let mut t = Throttle::new(Duration::from_secs(10));
        assert_eq!(t.hit(t0), Some(0));
        let quiet = (1..=20_000u32)
            .filter_map(|i| t.hit(t0 + Duration::from_micros(u64::from(i))))
            .count();
        assert_eq!(quiet, 0);
        assert_eq!(t.hit(t0 + Duration::from_secs(10)), Some(20_000));
        assert_eq!(t.hit(t0 + Duration::from_secs(11)), None);
        assert_eq!(t.take_unsaid(), 1);
        assert_eq!(t.take_unsaid(), 0);
    }

    #[test]
    fn a_clock_going_backwards_only_keeps_it_quiet() {
        let t0 = Instant::now() + Duration::from_secs(100);
        let mut t = Throttle::new(Duration::from_secs(10));
        assert_eq!(t.hit(t0), Some(0));
        assert_eq!(t.hit(t0 - Duration::from_secs(50)), None);
    }
}
