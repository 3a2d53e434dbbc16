//! Variable difficulty: a reducer (time passed in) that decides when one connection's share
//! difficulty moves, as a sequential test on its share count.
//!
//! Why no fixed retarget period: evaluated only when a job went out (every 30 s) and stepped
//! at most ×4, a CPU starting at 0.0001 took minutes to reach its rate (0.0001 → 0.0016 in
//! 60 s, 70 shares a second). Here the window is judged at every counted share and on a
//! timer ([`Vardiff::next_check`]): it moves as soon as the count is implausible at the
//! target rate (a Poisson tail below [`VardiffConfig::alpha`]), once
//! [`VardiffConfig::max_shares`] make the estimate precise, or after
//! [`VardiffConfig::max_window`]. The new difficulty is `current × shares × target /
//! elapsed` (NOMP/Miningcore's rule, spec "Vardiff conventions"), at most
//! [`VardiffConfig::max_step`] per move, rounded to 3 significant digits; fractional
//! difficulties are fine (CPU miners need them well below 1). A fast miner so collects
//! `max_shares` in well under a second and lands within about ±25 % of its rate in one
//! move; a too-hard start comes down when no share came in `ln(1/alpha) × target`.

use std::time::{Duration, Instant};

use crate::wire::Difficulty;

/// Vardiff settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VardiffConfig {
    /// Desired time between shares of one connection.
    pub target_interval: Duration,
    /// A count whose Poisson tail at the target rate is below this moves at once.
    pub alpha: f64,
    /// At this many shares the estimate is taken as precise: the window is judged.
    pub max_shares: u32,
    /// The window is judged at the latest after this long.
    pub max_window: Duration,
    /// No change while the ideal difficulty is within this fraction of the current one.
    pub variance: f64,
    /// Largest change factor of one move (up or down).
    pub max_step: f64,
    /// Shares needed before a too-fast count moves the difficulty up early (one early share
    /// says little: share intervals are exponential).
    pub min_shares_up: u32,
}

impl VardiffConfig {
    /// `target` between shares, the rest as [`VardiffConfig::default`].
    pub fn new(target: Duration) -> Self {
        VardiffConfig {
            target_interval: target,
            ..VardiffConfig::default()
        }
    }
}

impl Default for VardiffConfig {
    /// 10 s per share; α 2 %, 20 shares, 120 s window, ±30 % band, ×10⁴ per move, 4 shares
    /// before an early move up.
    fn default() -> Self {
        VardiffConfig {
            target_interval: Duration::from_secs(10),
            alpha: 0.02,
            max_shares: 20,
            max_window: Duration::from_secs(120),
            variance: 0.3,
            max_step: 10_000.0,
            min_shares_up: 4,
        }
    }
}

/// One connection's share-counting window.
#[derive(Debug, Clone)]
pub struct Vardiff {
    config: VardiffConfig,
    start: Instant,
    shares: u32,
    /// [`Vardiff::next_check`], kept up to date as the count and window change (the pool
    /// asks for it at every wake of the connection).
    check_at: Instant,
    /// Windows in a row judged without a share.
    silent: u32,
}

impl Vardiff {
    /// A window starting at `now`.
    pub fn new(config: VardiffConfig, now: Instant) -> Self {
        let mut v = Vardiff {
            config,
            start: now,
            shares: 0,
            check_at: now,
            silent: 0,
        };
        v.check_at = v.due();
        v
    }

    /// Restarts the window (the difficulty changed).
    pub fn reset(&mut self, now: Instant) {
        self.start = now;
        self.shares = 0;
        self.check_at = self.due();
    }

    /// Counts a share at the current difficulty.
    pub fn record_share(&mut self) {
        self.shares = self.shares.saturating_add(1);
        self.check_at = self.due();
    }

    /// When the window falls due if no further share comes: the count so far becomes
    /// implausibly low (its Poisson tail below α), or the window ends. [`Vardiff::judge`]
    /// always judges from this instant on, so a timer set to it never spins.
    pub fn next_check(&self) -> Instant {
        self.check_at
    }

    /// [`Vardiff::next_check`] computed from the count and the window's start.
    fn due(&self) -> Instant {
        let c = &self.config;
        let lambda = low_tail_lambda(self.shares.min(c.max_shares), c.alpha);
        let silent = Duration::try_from_secs_f64(c.target_interval.as_secs_f64() * lambda)
            .unwrap_or(c.max_window);
        let wait = c.max_window.min(silent);
        self.start.checked_add(wait).unwrap_or(self.start)
    }

    /// The new difficulty if the window says so (then the window restarts), judged at `now`
    /// for `current` within `[min, max]`.
    pub fn judge(
        &mut self,
        current: Difficulty,
        min: Difficulty,
        max: Difficulty,
        now: Instant,
    ) -> Option<Difficulty> {
        let r = self.config;
        let elapsed = now.saturating_duration_since(self.start).as_secs_f64();
        let expected = (elapsed / r.target_interval.as_secs_f64()).max(1e-9);
        let k = self.shares;
        let precise = k >= r.max_shares || elapsed >= r.max_window.as_secs_f64();
        // The tails last: they loop over the count, which stays below `max_shares` here.
        let too_few =
            !precise && (now >= self.next_check() || poisson_at_most(k, expected) < r.alpha);
        // Fast shares cost little: collect them for one target interval (or `max_shares`)
        // so the move is measured, not guessed from four.
        let settled = elapsed >= r.target_interval.as_secs_f64();
        let too_many = !precise
            && !too_few
            && settled
            && k >= r.min_shares_up
            && poisson_at_least(k, expected) < r.alpha;
        if !(precise || too_few || too_many) {
            return None;
        }
        self.reset(now);
        // No share at all counts as half a one: a window judged only at its end (no timer
        // ran) must not read as a rate of zero.
        let estimate = f64::from(k).max(0.5) / expected;
        let factor = if precise {
            estimate
        } else if too_many && k < 8 {
            // A few shares fast say "much faster", not how much: go as far as the rate's
            // lower 25 % confidence bound, and let the next window refine it.
            low_tail_lambda(k - 1, 0.75) / expected
        } else if k == 0 {
            // Not one share: down hard, and much harder with a second and third silent
            // window in a row (exponents 1, 4, 9): an overshoot down costs a burst of
            // `max_shares` quick shares and comes back up in one precise move.
            self.silent = self.silent.saturating_add(1);
            let n = self.silent.min(3);
            (0.5 / expected).powi((n * n) as i32)
        } else {
            estimate
        };
        if k > 0 {
            self.silent = 0;
        }
        let step = r.max_step.max(1.0);
        let factor = factor.clamp(1.0 / step, step);
        let inside = current.clamp(min, max) == current;
        if (factor - 1.0).abs() <= r.variance && inside {
            return None;
        }
        let next = Difficulty::new(round_significant(current.value() * factor))
            .ok()?
            .clamp(min, max);
        (next != current).then_some(next)
    }
}

/// P(X ≤ k) for X ~ Poisson(λ).
fn poisson_at_most(k: u32, lambda: f64) -> f64 {
    let mut term = (-lambda).exp();
    let mut sum = term;
    for i in 1..=k {
        term *= lambda / f64::from(i);
        sum += term;
    }
    sum.min(1.0)
}

/// The λ at which P(X ≤ k) for X ~ Poisson(λ) falls to `alpha` (bisection; it decreases
/// in λ): `ln(1/alpha)` for k = 0.
fn low_tail_lambda(k: u32, alpha: f64) -> f64 {
    let alpha = alpha.clamp(1e-9, 1.0 - 1e-9);
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while poisson_at_most(k, hi) > alpha && hi < 1e6 {
        hi *= 2.0;
    }
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if poisson_at_most(k, mid) > alpha {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// P(X ≥ k) for X ~ Poisson(λ).
fn poisson_at_least(k: u32, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    (1.0 - poisson_at_most(k - 1, lambda)).max(0.0)
}

/// Three significant digits, so difficulties stay short on the wire.
fn round_significant(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return x;
    }
    let scale = 10f64.powi(2 - x.log10().floor() as i32);
    let r = (x * scale).round() / scale;
    if r > 0.0 { r } else { x }
}

#[cfg(test)]
#[path = "vardiff_tests.rs"]
mod tests;
