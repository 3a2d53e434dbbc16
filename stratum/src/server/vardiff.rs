//! Variable difficulty toward a target share rate, as a pure function plus a small window
//! state; time is passed in. Conventions from spec "Vardiff conventions": NOMP/Miningcore
//! style `diff × targetTime / avgShareTime`, a variance band with no change, a retarget
//! period, clamped to min/max; fractional difficulties are allowed (CPU miners need
//! difficulties well below 1).

use std::time::{Duration, Instant};

use crate::wire::Difficulty;

/// Vardiff settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VardiffConfig {
    /// Desired time between shares of one connection.
    pub target_interval: Duration,
    /// Re-evaluate at the latest after this long.
    pub retarget_interval: Duration,
    /// Re-evaluate early once this many shares arrived (a much too easy difficulty).
    pub retarget_shares: u32,
    /// No change while the ideal difficulty is within this fraction of the current one.
    pub variance: f64,
    /// Largest change factor per retarget (up or down).
    pub max_step: f64,
}

impl Default for VardiffConfig {
    /// 10 s per share, retarget every 60 s or 20 shares, ±30 % band, at most ×4 per step.
    fn default() -> Self {
        Self {
            target_interval: Duration::from_secs(10),
            retarget_interval: Duration::from_secs(60),
            retarget_shares: 20,
            variance: 0.3,
            max_step: 4.0,
        }
    }
}

/// The difficulty that would give the target rate, given `shares` accepted at `current`
/// over `elapsed`; `None` when it stays within the variance band (or nothing changes after
/// clamping to `[min, max]`). With no share at all, the rate is taken as half a share per
/// `elapsed`, so the difficulty falls.
pub fn next_difficulty(
    cfg: &VardiffConfig,
    current: Difficulty,
    shares: u32,
    elapsed: Duration,
    min: Difficulty,
    max: Difficulty,
) -> Option<Difficulty> {
    let elapsed = elapsed.as_secs_f64().max(0.001);
    let shares = if shares == 0 { 0.5 } else { f64::from(shares) };
    let step = cfg.max_step.max(1.0);
    let factor = (shares * cfg.target_interval.as_secs_f64() / elapsed).clamp(1.0 / step, step);
    let clamped = current.clamp(min, max);
    if (factor - 1.0).abs() <= cfg.variance && clamped == current {
        return None;
    }
    let ideal = Difficulty::new(round_significant(current.value() * factor)).ok()?;
    let next = ideal.clamp(min, max);
    (next != current).then_some(next)
}

/// Rounds to 3 significant digits so difficulties stay short on the wire.
fn round_significant(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return x;
    }
    let scale = 10f64.powi(2 - x.log10().floor() as i32);
    let r = (x * scale).round() / scale;
    if r > 0.0 { r } else { x }
}

/// The share-counting window of one connection.
#[derive(Debug, Clone)]
pub struct Vardiff {
    config: VardiffConfig,
    window_start: Instant,
    shares: u32,
}

impl Vardiff {
    /// Starts a window at `now`.
    pub fn new(config: VardiffConfig, now: Instant) -> Self {
        Self {
            config,
            window_start: now,
            shares: 0,
        }
    }

    /// Counts one accepted share.
    pub fn record_share(&mut self) {
        self.shares = self.shares.saturating_add(1);
    }

    /// Starts a new window (after a difficulty change decided elsewhere).
    pub fn reset(&mut self, now: Instant) {
        self.window_start = now;
        self.shares = 0;
    }

    /// When the window is due (enough time or shares), the new difficulty if it should
    /// change; the window restarts whenever it was evaluated.
    pub fn retarget(
        &mut self,
        current: Difficulty,
        min: Difficulty,
        max: Difficulty,
        now: Instant,
    ) -> Option<Difficulty> {
        let elapsed = now.saturating_duration_since(self.window_start);
        let due =
            elapsed >= self.config.retarget_interval || self.shares >= self.config.retarget_shares;
        if !due {
            return None;
        }
        let next = next_difficulty(&self.config, current, self.shares, elapsed, min, max);
        self.reset(now);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(x: f64) -> Difficulty {
        Difficulty::new(x).unwrap()
    }

    #[test]
    fn table() {
        let cfg = VardiffConfig::default();
        let (min, max) = (d(0.001), d(1000.0));
        let s = Duration::from_secs;
        // (current, shares, elapsed, expected)
        let table: &[(f64, u32, Duration, Option<f64>)] = &[
            (1.0, 6, s(60), None),            // exactly on target
            (1.0, 7, s(60), None),            // within ±30 %
            (1.0, 12, s(60), Some(2.0)),      // twice too fast
            (1.0, 60, s(60), Some(4.0)),      // capped at ×4
            (1.0, 2, s(60), Some(0.333)),     // three times too slow, rounded
            (1.0, 0, s(60), Some(0.25)),      // nothing: falls, capped at /4
            (0.01, 20, s(10), Some(0.04)),    // fractional, capped
            (600.0, 60, s(60), Some(1000.0)), // clamped to max
            (0.002, 0, s(600), Some(0.001)),  // clamped to min
            (0.001, 0, s(600), None),         // already at min
            (5000.0, 6, s(60), Some(1000.0)), // outside the limits: pulled in
        ];
        for &(cur, shares, elapsed, expected) in table {
            let got =
                next_difficulty(&cfg, d(cur), shares, elapsed, min, max).map(Difficulty::value);
            assert_eq!(got, expected, "{cur} {shares} {elapsed:?}");
        }
    }

    #[test]
    fn window_is_due_by_time_or_shares() {
        let t = Instant::now();
        let cfg = VardiffConfig::default();
        let (min, max) = (d(0.001), d(1000.0));
        let mut v = Vardiff::new(cfg, t);
        assert_eq!(
            v.retarget(d(1.0), min, max, t + Duration::from_secs(30)),
            None
        );
        for _ in 0..20 {
            v.record_share();
        }
        // 20 shares in 10 s: due early, up by the maximum step.
        assert_eq!(
            v.retarget(d(1.0), min, max, t + Duration::from_secs(10)),
            Some(d(4.0))
        );
        // The window restarted: not due again yet.
        assert_eq!(
            v.retarget(d(4.0), min, max, t + Duration::from_secs(20)),
            None
        );
        assert_eq!(
            v.retarget(d(4.0), min, max, t + Duration::from_secs(70)),
            Some(d(1.0))
        );
    }
}
