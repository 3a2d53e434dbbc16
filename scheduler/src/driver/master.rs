//! Pure helpers of the HTTP driver: the masters to rotate through, where a 307 points
//! (`Location: //host:port/master/api/v1/scheduler` as recorded from a real master, or a
//! bare `host:port`), and the jittered re-subscription backoff (1 s … 15 s).

use std::time::Duration;

/// The scheme and authority of a base URL: `http://m1:5050/` → (`http`, `m1:5050`).
fn split_base(base: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = base.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!scheme.is_empty() && !authority.is_empty()).then_some((scheme, authority))
}

/// A master base URL as `scheme://host:port` (no path), if it is one.
pub fn normalize(base: &str) -> Option<String> {
    let (scheme, authority) = split_base(base.trim())?;
    matches!(scheme, "http" | "https").then(|| format!("{scheme}://{authority}"))
}

/// The master a 307 from `current` points at, keeping our scheme (spec §1.6).
pub fn redirect_target(current: &str, location: &str) -> Option<String> {
    let location = location.trim();
    let (scheme, _) = split_base(current)?;
    let authority = if let Some(rest) = location.strip_prefix("//") {
        rest.split(['/', '?', '#']).next()?
    } else if let Some((_, rest)) = location.split_once("://") {
        rest.split(['/', '?', '#']).next()?
    } else if location.starts_with('/') {
        // A path on the same master: nothing to follow to.
        return None;
    } else {
        location.split(['/', '?', '#']).next()?
    };
    let valid = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b));
    valid.then(|| format!("{scheme}://{authority}"))
}

/// Exponential backoff with jitter for re-subscribing: the n-th wait is a random point in
/// the upper half of `min · 2ⁿ`, capped at `max`.
#[derive(Clone, Debug)]
pub struct Retry {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Retry {
    /// A backoff from `min` to `max`.
    pub fn new(min: Duration, max: Duration) -> Retry {
        Retry {
            min,
            max: max.max(min),
            attempt: 0,
        }
    }

    /// Back to the first delay (after a successful SUBSCRIBED).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The cap of the next wait, before jitter.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(16)).unwrap_or(u32::MAX);
        self.min.saturating_mul(factor).min(self.max)
    }

    /// The next wait; `unit` in [0, 1) supplies the jitter.
    pub fn next_with(&mut self, unit: f64) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.5
        };
        ceiling.mul_f64(0.5 + unit / 2.0)
    }

    /// The next wait with random jitter.
    pub fn next_wait(&mut self) -> Duration {
        let unit: f64 = rand::random();
        self.next_with(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_in_every_recorded_form() {
        let cur = "http://127.0.0.1:5061";
        let cases = [
            (
                "//localhost:5060/master/api/v1/scheduler",
                Some("http://localhost:5060"),
            ),
            (
                "//localhost:5060/master/api/v1/scheduler?foo=bar",
                Some("http://localhost:5060"),
            ),
            ("localhost:5060", Some("http://localhost:5060")),
            (
                "10.0.0.2:5050/master/api/v1/scheduler",
                Some("http://10.0.0.2:5050"),
            ),
            ("http://m2:5050/api/v1/scheduler", Some("http://m2:5050")),
            ("//[::1]:5050/x", Some("http://[::1]:5050")),
            ("/master/api/v1/scheduler", None),
            ("", None),
            ("//", None),
            ("//evil host:1", None),
        ];
        for (location, want) in cases {
            assert_eq!(
                redirect_target(cur, location).as_deref(),
                want,
                "{location:?}"
            );
        }
        assert_eq!(
            redirect_target("https://m1:5050", "//m2:5050/x").as_deref(),
            Some("https://m2:5050")
        );
    }

    #[test]
    fn normalizes_master_urls() {
        assert_eq!(
            normalize("http://m1:5050/").as_deref(),
            Some("http://m1:5050")
        );
        assert_eq!(normalize(" https://m1 ").as_deref(), Some("https://m1"));
        assert_eq!(normalize("m1:5050"), None);
        assert_eq!(normalize("ftp://m1"), None);
    }

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter_in_the_upper_half() {
        let mut r = Retry::new(Duration::from_secs(1), Duration::from_secs(15));
        let waits: Vec<Duration> = (0..6).map(|_| r.next_with(1.0)).collect();
        let secs: Vec<u64> = waits.iter().map(|d| d.as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 15, 15]);
        assert_eq!(r.next_with(0.0), Duration::from_millis(7500));
        r.reset();
        assert_eq!(r.next_with(0.0), Duration::from_millis(500));
    }
}
