//! Hashrate over sliding windows of 10 s, 1 min and 15 min (what the executor reports to the
//! scheduler, DESIGN.md "Hashrate reports"). The caller passes `now` with every sample; the
//! meter never reads a clock, so it is tested with made-up times.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The reported windows.
pub const WINDOWS: [Duration; 3] = [
    Duration::from_secs(10),
    Duration::from_secs(60),
    Duration::from_secs(15 * 60),
];

/// Samples closer together than this are not kept in the history (only the latest one is).
const RESOLUTION: Duration = Duration::from_secs(1);

/// Hashrates in hashes per second; `None` until two samples at different times exist.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rates {
    /// Over the last 10 seconds.
    pub s10: Option<f64>,
    /// Over the last minute.
    pub m1: Option<f64>,
    /// Over the last 15 minutes.
    pub m15: Option<f64>,
}

/// Cumulative hash counts at points in time, about one per second for the longest window.
#[derive(Clone, Debug, Default)]
pub struct Meter {
    history: VecDeque<(Instant, u64)>,
    latest: Option<(Instant, u64)>,
}

impl Meter {
    /// A meter with no samples yet.
    pub fn new() -> Self {
        Meter::default()
    }

    /// Records that `total` hashes were done in all by `now`. Samples older than the latest
    /// are ignored; a total that went down (a restarted counter) counts as no progress.
    pub fn record(&mut self, now: Instant, total: u64) {
        if let Some((t, last_total)) = self.latest {
            if now < t {
                return;
            }
            let total = total.max(last_total);
            self.latest = Some((now, total));
        } else {
            self.latest = Some((now, total));
        }
        let latest = self.latest.unwrap_or((now, total));
        let spaced = self
            .history
            .back()
            .is_none_or(|(t, _)| now.duration_since(*t) >= RESOLUTION);
        if spaced {
            self.history.push_back(latest);
        }
        self.prune(now);
    }

    /// Hashes per second over the last `window`, ending at the latest sample; over the time
    /// since the first sample while that is shorter than `window`.
    pub fn rate(&self, window: Duration) -> Option<f64> {
        let (end, end_total) = self.latest?;
        let start_bound = end.checked_sub(window);
        // The newest sample at or before the window start, else the oldest one we have.
        let base = start_bound
            .and_then(|bound| self.history.iter().rev().find(|(t, _)| *t <= bound))
            .or_else(|| self.history.front())?;
        let span = end.duration_since(base.0).as_secs_f64();
        (span > 0.0).then(|| end_total.saturating_sub(base.1) as f64 / span)
    }

    /// The three reported windows.
    pub fn rates(&self) -> Rates {
        Rates {
            s10: self.rate(WINDOWS[0]),
            m1: self.rate(WINDOWS[1]),
            m15: self.rate(WINDOWS[2]),
        }
    }

    /// Keeps one sample at or before the start of the longest window, drops older ones.
    fn prune(&mut self, now: Instant) {
        let Some(bound) = now.checked_sub(WINDOWS[2]) else {
            return;
        };
        while self.history.len() > 1 && self.history[1].0 <= bound {
            self.history.pop_front();
        }
    }
}

/// A hashrate for people: `"12.35 MH/s"`.
pub fn human_rate(hashes_per_second: f64) -> String {
    const UNITS: [&str; 6] = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s"];
    let mut value = hashes_per_second.max(0.0);
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, secs: f64) -> Instant {
        t0 + Duration::from_secs_f64(secs)
    }

    #[test]
    fn no_rate_before_two_samples() {
        let t0 = Instant::now();
        let mut meter = Meter::new();
        assert_eq!(meter.rates(), Rates::default());
        meter.record(t0, 100);
        assert_eq!(meter.rate(WINDOWS[0]), None);
    }

    #[test]
    fn steady_rate_in_every_window() {
        let t0 = Instant::now();
        let mut meter = Meter::new();
        // 1000 H/s for 20 minutes, sampled every 0.5 s.
        for i in 0..=2400u64 {
            meter.record(at(t0, i as f64 * 0.5), i * 500);
        }
        let rates = meter.rates();
        for rate in [rates.s10, rates.m1, rates.m15] {
            let rate = rate.expect("enough samples");
            assert!((rate - 1000.0).abs() < 1e-6, "{rate}");
        }
        // About 15 min of one-second samples, not 2400.
        assert!(meter.history.len() <= 902, "{}", meter.history.len());
    }

    #[test]
    fn windows_see_a_rate_change_differently() {
        let t0 = Instant::now();
        let mut meter = Meter::new();
        let mut total = 0u64;
        // 15 min at 1000 H/s, then 60 s at 4000 H/s.
        for s in 1..=960u64 {
            total += if s <= 900 { 1000 } else { 4000 };
            meter.record(at(t0, s as f64), total);
        }
        let rates = meter.rates();
        assert_eq!(rates.s10, Some(4000.0));
        assert_eq!(rates.m1, Some(4000.0));
        // Last 900 s: 840 s at 1000 + 60 s at 4000.
        let expected = (840.0 * 1000.0 + 60.0 * 4000.0) / 900.0;
        assert_eq!(rates.m15, Some(expected));
    }

    #[test]
    fn short_history_uses_what_it_has() {
        let t0 = Instant::now();
        let mut meter = Meter::new();
        meter.record(t0, 0);
        meter.record(at(t0, 4.0), 8000);
        assert_eq!(meter.rate(WINDOWS[0]), Some(2000.0));
        assert_eq!(meter.rate(WINDOWS[2]), Some(2000.0));
    }

    #[test]
    fn stale_or_shrinking_samples_do_not_break_it() {
        let t0 = Instant::now();
        let mut meter = Meter::new();
        meter.record(at(t0, 10.0), 5000);
        meter.record(at(t0, 5.0), 1); // from the past: ignored
        meter.record(at(t0, 12.0), 10); // counter went down: no progress
        assert_eq!(meter.rate(WINDOWS[0]), Some(0.0));
        meter.record(at(t0, 12.5), 6000); // within the resolution: latest only
        assert_eq!(meter.rate(WINDOWS[0]), Some(1000.0 / 2.5));
    }

    #[test]
    fn human_units() {
        assert_eq!(human_rate(0.0), "0.00 H/s");
        assert_eq!(human_rate(999.0), "999.00 H/s");
        assert_eq!(human_rate(12_345_678.0), "12.35 MH/s");
        assert_eq!(human_rate(-5.0), "0.00 H/s");
    }
}
