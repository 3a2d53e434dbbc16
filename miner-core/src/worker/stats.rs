//! What the worker counts and how it says it: share results, hashrate per thread and in
//! total, and the `/summary` snapshot. Lines follow cpuminer's (spec/stratum.md Part A.3:
//! `accepted: A/T (P%), X khash/s (yay!!!)`), with the pool's reason on a reject. The
//! status is shared between the driver, the API and the worker's handle as a
//! [`SharedStatus`], read and written through the poison-tolerant [`lock`].

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::meter::{Meter, Rates, human_rate};

/// The status the driver updates and the API and handles read.
pub type SharedStatus = Arc<Mutex<Status>>;

/// A fresh shared status for `threads` search threads using `kernel`.
pub fn shared_status(kernel: &str, threads: usize) -> SharedStatus {
    Arc::new(Mutex::new(Status::new(Instant::now(), kernel, threads)))
}

/// Locks the status, recovering it if a thread panicked while holding the lock: every
/// update leaves it consistent, so the figures stay worth reading.
pub fn lock(status: &SharedStatus) -> MutexGuard<'_, Status> {
    status.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Share results since the worker started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShareCounts {
    /// Accepted by the pool.
    pub accepted: u64,
    /// Rejected by the pool.
    pub rejected: u64,
    /// Found but not sent, because their job was voided (clean_jobs, reconnect).
    pub stale: u64,
    /// Found but not sent, because they came faster than the submit rate limit, the found
    /// queue or the pool's answers allow (a pool asking for a far too low difficulty).
    pub dropped: u64,
}

impl ShareCounts {
    /// The line printed for each share result: `accepted: 12/12 (100.00%), 61.30 MH/s yes!`,
    /// or `... booooo (reason)` on a reject.
    pub fn result_line(&self, hashrate: f64, reject_reason: Option<&str>) -> String {
        let verdict = match reject_reason {
            None => "yes!".to_owned(),
            Some(reason) => format!("booooo ({})", printable(reason)),
        };
        format!("{} {verdict}", self.totals(hashrate))
    }

    /// `accepted: 12/12 (100.00%), 61.30 MH/s`: the totals that start every result line.
    pub fn totals(&self, hashrate: f64) -> String {
        let total = self.accepted + self.rejected;
        let percent = if total == 0 {
            0.0
        } else {
            100.0 * self.accepted as f64 / total as f64
        };
        format!(
            "accepted: {}/{} ({percent:.2}%), {}",
            self.accepted,
            total,
            human_rate(hashrate)
        )
    }
}

/// A pool-supplied text made safe for one log line: control characters replaced, length cut.
pub fn printable(text: &str) -> String {
    const MAX: usize = 200;
    let mut out: String = text
        .chars()
        .take(MAX)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// Everything `/summary` reports; updated by the driver, read by the API.
#[derive(Debug)]
pub struct Status {
    started: Instant,
    kernel: String,
    total: Meter,
    threads: Vec<Meter>,
    hashes: u64,
    /// Share results.
    pub shares: ShareCounts,
    /// The pool in use (`None` while disconnected).
    pub pool: Option<String>,
    /// Share difficulty of the job being mined.
    pub difficulty: Option<f64>,
    /// The pool being dialled or last tried (kept while disconnected, unlike `pool`).
    pub last_url: Option<String>,
    /// Since when the worker has had no authorized pool connection (`None` while it has one).
    pub no_pool_since: Option<Instant>,
}

/// The `/summary` JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Hashes per second over the last 10 s (null until known).
    pub hashrate_10s: Option<f64>,
    /// Hashes per second over the last 60 s (null until known).
    pub hashrate_60s: Option<f64>,
    /// Hashes per second over the last 15 min (null until known).
    pub hashrate_15m: Option<f64>,
    /// Hashes done since the start.
    pub hashes: u64,
    /// Shares the pool accepted.
    pub accepted: u64,
    /// Shares the pool rejected.
    pub rejected: u64,
    /// Shares found but not sent because their job was voided.
    pub stale: u64,
    /// Shares found but not sent because they came faster than the submit rate limit.
    pub dropped: u64,
    /// URL of the pool mined on now (null while not connected).
    pub pool: Option<String>,
    /// The pool's current share difficulty (null before `mining.set_difficulty`).
    pub difficulty: Option<f64>,
    /// Seconds since the worker started.
    pub uptime_seconds: f64,
    /// Name of the SHA-256 kernel in use.
    pub kernel: String,
    /// How many search threads run.
    pub threads: usize,
}

impl Status {
    /// A fresh status for `threads` search threads using `kernel`.
    pub fn new(now: Instant, kernel: &str, threads: usize) -> Self {
        Status {
            started: now,
            kernel: kernel.to_owned(),
            total: Meter::new(),
            threads: (0..threads).map(|_| Meter::new()).collect(),
            hashes: 0,
            shares: ShareCounts::default(),
            pool: None,
            difficulty: None,
            last_url: None,
            no_pool_since: Some(now),
        }
    }

    /// The worker is authorized on `url` at `now`.
    pub fn pool_connected(&mut self, url: String) {
        self.last_url = Some(url.clone());
        self.pool = Some(url);
        self.no_pool_since = None;
    }

    /// The pool connection ended at `now` (no-op if there was none).
    pub fn pool_lost(&mut self, now: Instant) {
        self.pool = None;
        self.no_pool_since.get_or_insert(now);
    }

    /// How long the worker has been without a pool at `now` (zero while it has one).
    pub fn time_without_pool(&self, now: Instant) -> Duration {
        self.no_pool_since
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t))
    }

    /// Hashes done since the start (as last sampled).
    pub fn hashes(&self) -> u64 {
        self.hashes
    }

    /// The kernel's name.
    pub fn kernel(&self) -> &str {
        &self.kernel
    }

    /// Number of search threads.
    pub fn threads(&self) -> usize {
        self.threads.len()
    }

    /// Records the per-thread hash counters as read at `now`.
    pub fn record_hashes(&mut self, now: Instant, per_thread: &[u64]) {
        for (meter, hashes) in self.threads.iter_mut().zip(per_thread) {
            meter.record(now, *hashes);
        }
        self.hashes = self.hashes.max(per_thread.iter().sum());
        self.total.record(now, self.hashes);
    }

    /// Total hashrate over the shortest window (0 until known).
    pub fn hashrate(&self) -> f64 {
        self.total.rates().s10.unwrap_or(0.0)
    }

    /// Total rates over all three windows.
    pub fn rates(&self) -> Rates {
        self.total.rates()
    }

    /// The periodic line: `hashrate: 60.30 MH/s | 0: 30.10 MH/s 1: 30.20 MH/s`.
    pub fn hashrate_line(&self) -> String {
        let mut line = format!("hashrate: {}", human_rate(self.hashrate()));
        if self.threads.len() > 1 {
            line.push_str(" |");
            for (i, m) in self.threads.iter().enumerate() {
                let rate = m.rates().s10.unwrap_or(0.0);
                line.push_str(&format!(" {i}: {}", human_rate(rate)));
            }
        }
        line
    }

    /// The snapshot `/summary` serves.
    pub fn summary(&self, now: Instant) -> Summary {
        let rates = self.total.rates();
        Summary {
            hashrate_10s: rates.s10,
            hashrate_60s: rates.m1,
            hashrate_15m: rates.m15,
            hashes: self.hashes,
            accepted: self.shares.accepted,
            rejected: self.shares.rejected,
            stale: self.shares.stale,
            dropped: self.shares.dropped,
            pool: self.pool.clone(),
            difficulty: self.difficulty,
            uptime_seconds: now.saturating_duration_since(self.started).as_secs_f64(),
            kernel: self.kernel.clone(),
            threads: self.threads.len(),
        }
    }

    /// Time since start.
    pub fn uptime(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines() {
        let c = ShareCounts {
            accepted: 12,
            rejected: 0,
            stale: 3,
            dropped: 0,
        };
        assert_eq!(
            c.result_line(61.3e6, None),
            "accepted: 12/12 (100.00%), 61.30 MH/s yes!"
        );
        let c = ShareCounts {
            accepted: 11,
            rejected: 1,
            stale: 0,
            dropped: 9,
        };
        assert_eq!(
            c.result_line(1500.0, Some("Above target\n")),
            "accepted: 11/12 (91.67%), 1.50 kH/s booooo (Above target )"
        );
    }

    #[test]
    fn summary_and_hashrate_line() {
        let t0 = Instant::now();
        let mut s = Status::new(t0, "sha-ni", 2);
        s.record_hashes(t0, &[0, 0]);
        s.record_hashes(t0 + Duration::from_secs(2), &[2_000_000, 4_000_000]);
        assert_eq!(
            s.hashrate_line(),
            "hashrate: 3.00 MH/s | 0: 1.00 MH/s 1: 2.00 MH/s"
        );
        s.shares.accepted = 5;
        s.shares.dropped = 7;
        s.pool = Some("stratum+tcp://127.0.0.1:3333".into());
        let sum = s.summary(t0 + Duration::from_secs(2));
        assert_eq!(sum.hashrate_10s, Some(3e6));
        assert_eq!(sum.accepted, 5);
        assert_eq!(sum.hashes, 6_000_000);
        assert_eq!(sum.uptime_seconds, 2.0);
        let json = serde_json::to_value(&sum).unwrap();
        assert_eq!(json["kernel"], "sha-ni");
        assert_eq!(json["threads"], 2);
        assert_eq!(json["dropped"], 7);
    }

    #[test]
    fn printable_cuts_and_cleans() {
        assert_eq!(printable("a\u{1b}[31mb"), "a [31mb");
        assert_eq!(printable(&"x".repeat(300)).chars().count(), 201);
    }
}
