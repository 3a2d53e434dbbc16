use super::*;

fn d(x: f64) -> Difficulty {
    Difficulty::new(x).unwrap()
}

/// What a simulated run ends with.
struct Run {
    /// The difficulty at the end, over the ideal one.
    ratio: f64,
    /// Shares the miner sent.
    shares: u32,
}

/// A miner of `hashrate` H/s against the reducer on a fake clock for `run`, starting at
/// `start` × the ideal difficulty; `arrivals(mean)` draws the time to its next share. A
/// move applies at once (the session re-sends the job with it).
fn simulate(
    rule: VardiffConfig,
    hashrate: f64,
    start: f64,
    run: Duration,
    arrivals: &mut dyn FnMut(f64) -> f64,
) -> Run {
    let best = ideal(hashrate, rule.target_interval);
    let t0 = Instant::now();
    let end = t0 + run;
    let (min, max) = (d(1e-8), d(1e12));
    let mut v = Vardiff::new(rule, t0);
    let mut current = d(best * start);
    let mut shares = 0;
    let mean = |diff: Difficulty| diff.value() * 4_294_967_296.0 / hashrate;
    let mut next_share = t0 + Duration::from_secs_f64(arrivals(mean(current)));
    loop {
        let check = v.next_check();
        let now = next_share.min(check);
        if now > end {
            break;
        }
        if next_share <= check {
            v.record_share();
            shares += 1;
        }
        if let Some(next) = v.judge(current, min, max, now) {
            current = next;
            // Memoryless: the next share at the new difficulty is drawn afresh.
            next_share = now;
        }
        if next_share <= now {
            next_share = now + Duration::from_secs_f64(arrivals(mean(current)));
        }
    }
    Run {
        ratio: current.value() / best,
        shares,
    }
}

/// The difficulty that gives one share per `target` at `hashrate`.
fn ideal(hashrate: f64, target: Duration) -> f64 {
    hashrate * target.as_secs_f64() / 4_294_967_296.0
}

/// Exponential share intervals from a fixed-seed xorshift generator.
fn exponential(seed: u64) -> impl FnMut(f64) -> f64 {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move |mean| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let u = ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        -mean * u.ln()
    }
}

/// 200 runs with random (exponential) share intervals: the end ratios, sorted, and the
/// most shares one run sent.
fn runs(start: f64, run: Duration) -> (Vec<f64>, u32) {
    let rule = VardiffConfig::new(Duration::from_secs(10));
    let mut ratios = Vec::new();
    let mut most = 0;
    for seed in 1..=200 {
        let r = simulate(rule, 2e7, start, run, &mut exponential(seed));
        ratios.push(r.ratio);
        most = most.max(r.shares);
    }
    ratios.sort_by(f64::total_cmp);
    (ratios, most)
}

fn within_2x(ratios: &[f64]) -> usize {
    ratios.iter().filter(|r| (0.5..=2.0).contains(*r)).count()
}

#[test]
fn a_too_easy_start_reaches_the_target_rate_within_30_s() {
    let rule = VardiffConfig::new(Duration::from_secs(10));
    // Regular shares: from 3× to 10^4× too easy (issue 9's 0.0001 for a CPU is ~10^3×), for
    // 1 MH/s to 1 GH/s, within 30 % of the ideal difficulty at 30 s.
    for hashrate in [1e6, 2e7, 5e7, 1e9] {
        for start in [1.0 / 3.0, 0.1, 0.01, 1e-4] {
            let r = simulate(rule, hashrate, start, Duration::from_secs(30), &mut |m| m);
            assert!(
                (r.ratio - 1.0).abs() <= 0.3,
                "{hashrate} H/s from {start}× ideal: {}× after 30 s",
                r.ratio
            );
        }
    }
    // Random shares: most runs are within 2× of it after 10 s already, nearly all at 30 s,
    // and the flood of a 10^4× too easy start is a few dozen shares, not thousands.
    for start in [1e-2, 1e-4] {
        let (at_10, _) = runs(start, Duration::from_secs(10));
        assert!(within_2x(&at_10) >= 180, "from {start}×: {at_10:?}");
        let (at_30, most) = runs(start, Duration::from_secs(30));
        assert!(within_2x(&at_30) >= 180, "from {start}×: {at_30:?}");
        assert!(most <= 60, "from {start}×: {most} shares in 30 s");
        let median = at_30[100];
        assert!(
            (0.8..=1.25).contains(&median),
            "from {start}×: median {median}"
        );
    }
}

#[test]
fn a_too_hard_start_comes_down_without_a_share() {
    let rule = VardiffConfig::new(Duration::from_secs(10));
    // No share in ln(1/α) × target (39 s at α 2 %) is implausible at the target rate: the
    // first move down; each silent window in a row goes down harder.
    for (start, within) in [(10.0, 60), (1000.0, 120)] {
        let r = simulate(rule, 2e7, start, Duration::from_secs(within), &mut |m| m);
        assert!(
            (0.5..=2.0).contains(&r.ratio),
            "from {start}× too hard: {}× after {within} s",
            r.ratio
        );
    }
    let (ratios, _) = runs(10.0, Duration::from_secs(120));
    assert!(within_2x(&ratios) >= 150, "{ratios:?}");
}

#[test]
fn on_target_it_stays_and_random_shares_stay_near() {
    let rule = VardiffConfig::new(Duration::from_secs(10));
    let r = simulate(rule, 2e7, 1.0, Duration::from_secs(600), &mut |m| m);
    assert_eq!(r.ratio, 1.0, "regular shares at the target rate: no move");
    // Random shares: after 10 minutes nearly every run is within 2× of the ideal.
    let (ratios, most) = runs(1.0, Duration::from_secs(600));
    assert!(within_2x(&ratios) >= 180, "{ratios:?}");
    let median = ratios[100];
    assert!((0.8..=1.25).contains(&median), "median {median}");
    assert!(most <= 120, "{most} shares in 600 s at a 10 s target");
}

#[test]
fn judged_within_the_limits() {
    let rule = VardiffConfig::new(Duration::from_secs(10));
    let t = Instant::now();
    let mut v = Vardiff::new(rule, t);
    for _ in 0..20 {
        v.record_share();
    }
    // 20 shares in 1 s at difficulty 1: ×200, clamped to max.
    assert_eq!(
        v.judge(d(1.0), d(0.5), d(50.0), t + Duration::from_secs(1)),
        Some(d(50.0))
    );
    // Nothing for a long time: down, clamped to min.
    assert_eq!(
        v.judge(d(1.0), d(0.5), d(50.0), t + Duration::from_secs(200)),
        Some(d(0.5))
    );
    // Already at the floor: no change.
    assert_eq!(
        v.judge(d(0.5), d(0.5), d(50.0), t + Duration::from_secs(400)),
        None
    );
}
