//! Pool bookkeeping for `GET /status`: per-worker share counts and a hashrate estimate from
//! the difficulty of accepted shares over a sliding window (hashes ≈ difficulty × 2^32).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Window of the hashrate estimate.
pub const HASHRATE_WINDOW: Duration = Duration::from_secs(600);
/// Workers tracked at most; the least recently active is forgotten beyond that.
pub const MAX_WORKERS: usize = 10_000;
/// Share records kept per worker for the window.
const MAX_SAMPLES: usize = 4096;

#[derive(Debug, Clone)]
struct Worker {
    accepted: u64,
    rejected: u64,
    accepted_difficulty: f64,
    blocks: u64,
    first_seen: Instant,
    last_seen: Instant,
    samples: VecDeque<(Instant, f64)>,
}

/// One worker's line of `/status`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WorkerStatus {
    /// The name it authorized with.
    pub name: String,
    /// Shares accepted from it.
    pub shares_accepted: u64,
    /// Shares rejected from it.
    pub shares_rejected: u64,
    /// Sum of the difficulties of its accepted shares.
    pub accepted_difficulty: f64,
    /// Blocks its shares made.
    pub blocks_found: u64,
    /// Hashes per second over the last [`HASHRATE_WINDOW`] (or since first seen).
    pub hashrate: f64,
    /// Seconds since its last share.
    pub last_share_age_secs: f64,
}

/// How the pool's node looks from here.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NodeHealth {
    /// No node: demo jobs.
    Demo,
    /// No template yet.
    #[default]
    Connecting,
    /// The last `getblocktemplate` worked.
    Ok,
    /// The last `getblocktemplate` failed with this error.
    Error(String),
}

impl std::fmt::Display for NodeHealth {
    /// `demo`, `connecting`, `ok` or `error: …`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeHealth::Demo => f.write_str("demo"),
            NodeHealth::Connecting => f.write_str("connecting"),
            NodeHealth::Ok => f.write_str("ok"),
            NodeHealth::Error(e) => write!(f, "error: {e}"),
        }
    }
}

/// The `/status` document.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PoolStatus {
    /// Running without a node (demo jobs, no blocks submitted).
    pub demo: bool,
    /// [`NodeHealth`] as text: `demo`, `connecting`, `ok` or `error: …` (while the node is
    /// unreachable, with the cause).
    pub node: String,
    /// Seconds since the last block template arrived (null before the first).
    pub template_age_secs: Option<f64>,
    /// Open miner connections.
    pub connections: usize,
    /// Height of the block the current job would make (null before the first job).
    pub height: Option<u64>,
    /// Shares accepted from all workers.
    pub shares_accepted: u64,
    /// Shares rejected, unknown workers included.
    pub shares_rejected: u64,
    /// Shares that met the network target.
    pub blocks_found: u64,
    /// Found blocks the node made its tip.
    pub blocks_accepted: u64,
    /// Valid blocks the node did not make its tip (`inconclusive`: lost a race).
    pub blocks_stale: u64,
    /// Found blocks the node refused.
    pub blocks_rejected: u64,
    /// Sum of the workers' hashrates, hashes per second.
    pub hashrate: f64,
    /// One line per worker seen.
    pub workers: Vec<WorkerStatus>,
}

/// Counters of the whole pool.
#[derive(Debug, Default)]
pub struct Stats {
    workers: HashMap<String, Worker>,
    /// Shares that met the network target.
    pub blocks_found: u64,
    /// Found blocks the node made its tip.
    pub blocks_accepted: u64,
    /// Found blocks the node answered `inconclusive` (lost a race).
    pub blocks_stale: u64,
    /// Found blocks the node refused.
    pub blocks_rejected: u64,
    /// Rejected shares from connections that never authorized.
    pub shares_rejected_unknown_worker: u64,
}

impl Stats {
    fn worker(&mut self, name: &str, now: Instant) -> &mut Worker {
        if !self.workers.contains_key(name)
            && self.workers.len() >= MAX_WORKERS
            && let Some(oldest) = self
                .workers
                .iter()
                .min_by_key(|(_, w)| w.last_seen)
                .map(|(n, _)| n.clone())
        {
            self.workers.remove(&oldest);
        }
        self.workers.entry(name.to_string()).or_insert(Worker {
            accepted: 0,
            rejected: 0,
            accepted_difficulty: 0.0,
            blocks: 0,
            first_seen: now,
            last_seen: now,
            samples: VecDeque::new(),
        })
    }

    /// Counts an accepted share of `difficulty` for `worker`.
    pub fn share_accepted(&mut self, worker: &str, difficulty: f64, now: Instant) {
        let w = self.worker(worker, now);
        w.accepted += 1;
        w.accepted_difficulty += difficulty;
        w.last_seen = now;
        w.samples.push_back((now, difficulty));
        while w.samples.len() > MAX_SAMPLES {
            w.samples.pop_front();
        }
    }

    /// Counts a rejected share (`None`: the connection has no authorized worker).
    pub fn share_rejected(&mut self, worker: Option<&str>, now: Instant) {
        match worker {
            Some(name) => self.worker(name, now).rejected += 1,
            None => self.shares_rejected_unknown_worker += 1,
        }
    }

    /// Counts a share of `worker` that met the network target.
    pub fn block_found(&mut self, worker: &str, now: Instant) {
        self.blocks_found += 1;
        self.worker(worker, now).blocks += 1;
    }

    /// The status document at `now`.
    pub fn status(&self, now: Instant) -> PoolStatus {
        let mut workers: Vec<WorkerStatus> = self
            .workers
            .iter()
            .map(|(name, w)| worker_status(name, w, now))
            .collect();
        workers.sort_by(|a, b| a.name.cmp(&b.name));
        PoolStatus {
            demo: false,
            node: NodeHealth::default().to_string(),
            template_age_secs: None,
            connections: 0,
            height: None,
            shares_accepted: workers.iter().map(|w| w.shares_accepted).sum(),
            shares_rejected: workers.iter().map(|w| w.shares_rejected).sum::<u64>()
                + self.shares_rejected_unknown_worker,
            blocks_found: self.blocks_found,
            blocks_accepted: self.blocks_accepted,
            blocks_stale: self.blocks_stale,
            blocks_rejected: self.blocks_rejected,
            // A fold from +0.0: an empty f64 sum is -0.0, which prints as "-0.0".
            hashrate: workers.iter().fold(0.0, |sum, w| sum + w.hashrate),
            workers,
        }
    }
}

fn worker_status(name: &str, w: &Worker, now: Instant) -> WorkerStatus {
    let window_start = now.checked_sub(HASHRATE_WINDOW).unwrap_or(w.first_seen);
    let since = window_start.max(w.first_seen);
    let diff: f64 = w
        .samples
        .iter()
        .filter(|(t, _)| *t >= window_start)
        .map(|(_, d)| d)
        .sum();
    // At least a second, so one share right after connecting is not an absurd rate.
    let seconds = now.saturating_duration_since(since).as_secs_f64().max(1.0);
    WorkerStatus {
        name: name.to_string(),
        shares_accepted: w.accepted,
        shares_rejected: w.rejected,
        accepted_difficulty: w.accepted_difficulty,
        blocks_found: w.blocks,
        hashrate: diff * 4_294_967_296.0 / seconds,
        last_share_age_secs: now.saturating_duration_since(w.last_seen).as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashrate_from_accepted_difficulty() {
        let t0 = Instant::now();
        let mut s = Stats::default();
        // 10 shares of difficulty 1 over 100 s: 10 × 2^32 / 100 s.
        for i in 0..10 {
            s.share_accepted("w1", 1.0, t0 + Duration::from_secs(10 * i));
        }
        s.share_rejected(Some("w1"), t0);
        s.share_rejected(None, t0);
        s.block_found("w1", t0);
        let st = s.status(t0 + Duration::from_secs(100));
        assert_eq!(st.shares_accepted, 10);
        assert_eq!(st.shares_rejected, 2);
        assert_eq!(st.blocks_found, 1);
        let w = &st.workers[0];
        assert_eq!(w.name, "w1");
        let expected = 10.0 * 4_294_967_296.0 / 100.0;
        assert!((w.hashrate - expected).abs() < 1.0, "{}", w.hashrate);
        // Long after, the window holds nothing.
        let later = s.status(t0 + Duration::from_secs(100 + 2 * 600));
        assert_eq!(later.workers[0].hashrate, 0.0);
        assert_eq!(later.workers[0].shares_accepted, 10);
    }
}
