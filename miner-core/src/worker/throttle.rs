//! Things a pool can make us do too often, each held to a rate: repeated warnings
//! ([`Throttle`]: at most once per interval, with how many times the thing happened in
//! between, so a hostile or broken pool cannot turn one line of its own into thousands of
//! ours; issue 11 saw 414k identical lines at `set_difficulty 1e-300` and one warning per
//! stray reply) and submits ([`RateLimit`], a token bucket). Pure: the caller passes `now`.

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

#[cfg(test)]
mod tests {
    use super::*;

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
