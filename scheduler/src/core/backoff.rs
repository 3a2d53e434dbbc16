//! Relaunch backoff per task kind: after a task ends unasked, the next launch of its kind
//! waits `delay`, which grows by a factor up to a cap and starts over only after a healthy
//! run (Marathon's launch backoff, with the 1 s × 1.15 up to 5 min).

use std::time::{Duration, Instant};

/// Backoff state of one kind.
#[derive(Clone, Debug)]
pub struct Backoff {
    min: Duration,
    factor: f64,
    max: Duration,
    next_delay: Duration,
    not_before: Option<Instant>,
}

impl Backoff {
    /// A fresh backoff: the first failure waits `min`.
    pub fn new(min: Duration, factor: f64, max: Duration) -> Backoff {
        Backoff {
            min,
            factor: if factor.is_finite() && factor >= 1.0 {
                factor
            } else {
                1.0
            },
            max,
            next_delay: min,
            not_before: None,
        }
    }

    /// Whether a launch may happen at `now`.
    pub fn ready(&self, now: Instant) -> bool {
        self.not_before.is_none_or(|t| now >= t)
    }

    /// When the next launch may happen, if it has to wait.
    pub fn not_before(&self) -> Option<Instant> {
        self.not_before
    }

    /// The delay the next failure will impose.
    pub fn next_delay(&self) -> Duration {
        self.next_delay
    }

    /// A task of this kind ended unasked at `now`; `healthy_run` resets the delay first.
    pub fn failed(&mut self, now: Instant, healthy_run: bool) {
        if healthy_run {
            self.next_delay = self.min;
        }
        self.not_before = Some(now + self.next_delay);
        let grown = self.next_delay.as_secs_f64() * self.factor;
        self.next_delay = Duration::try_from_secs_f64(grown)
            .unwrap_or(self.max)
            .min(self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_by_the_factor_up_to_the_cap_and_resets_after_a_healthy_run() {
        let t0 = Instant::now();
        let mut b = Backoff::new(Duration::from_secs(1), 1.15, Duration::from_secs(2));
        assert!(b.ready(t0));
        b.failed(t0, false);
        assert!(!b.ready(t0));
        assert!(b.ready(t0 + Duration::from_secs(1)));
        assert_eq!(b.next_delay(), Duration::from_millis(1150));
        for _ in 0..10 {
            b.failed(t0, false);
        }
        assert_eq!(b.next_delay(), Duration::from_secs(2));
        b.failed(t0, true);
        assert_eq!(b.not_before(), Some(t0 + Duration::from_secs(1)));
    }
}
