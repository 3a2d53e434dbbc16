//! What the scheduler remembers over time, for the web page: the cluster and per-agent
//! hashrate sampled every `--history-interval` (10 s by default) into a ring buffer of
//! [`CAPACITY`] points (6 hours at 10 s; older points are dropped), served at
//! `GET /api/history`; and the last task state changes ([`changes`], in `/api/state`).
//!
//! # `GET /api/history` (an interface: the names below are fixed)
//!
//! ```json
//! {
//!   "interval_ms": 10000,
//!   "capacity": 2160,
//!   "cluster": [[1764600000000, 2345678.5], [1764600010000, 2351000.0]],
//!   "agents": [
//!     {"agent_id": "a1-S0", "hostname": "node1",
//!      "points": [[1764600000000, 1200000.0], [1764600010000, 1210000.0]]}
//!   ]
//! }
//! ```
//!
//! - `cluster`: `[t_ms, hashrate]` pairs, oldest first, one per sample. `t_ms` is the
//!   scheduler's wall clock in milliseconds since the Unix epoch, strictly increasing (a clock
//!   that steps back is not followed below the previous point); `hashrate` is H/s, the sum of
//!   the workers' fresh 10 s reports (`/api/state`'s `cluster.hashrate_10s` at that time).
//! - `agents`: by agent id; each agent's `points` are the samples at which it held tasks of
//!   ours (its `agents[].hashrate_10s` in `/api/state`), with the same `t_ms` as the cluster
//!   point of that sample; `hostname` is the latest known.
//! - `?since=T` (ms) returns only the points with `t_ms > T` (and only agents that have some),
//!   so a page that polls sends a few bytes, not six hours.

pub mod changes;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::view::StateView;
use crate::web::Shared;

/// Points kept: 6 hours at the default 10 s interval.
pub const CAPACITY: usize = 2160;

/// Agents kept per point. Agent ids come from the master; a cluster larger than this shows
/// its busiest agents only, and memory stays bounded (`CAPACITY` × this).
pub const MAX_AGENTS: usize = 256;

/// The default sampling interval (the issue's 10 s points).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// One agent in one sample. Ids and host names are shared between samples, not copied.
#[derive(Clone, Debug)]
struct AgentSample {
    agent_id: Arc<str>,
    hostname: Arc<str>,
    hashrate: f64,
}

/// One sample.
#[derive(Clone, Debug)]
struct Point {
    t_ms: u64,
    cluster: f64,
    agents: Box<[AgentSample]>,
}

/// The ring buffer of samples.
#[derive(Clone, Debug)]
pub struct History {
    interval: Duration,
    points: VecDeque<Point>,
}

/// `GET /api/history`; see the module doc.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryView {
    /// Sampling interval, ms.
    pub interval_ms: u64,
    /// Most points kept.
    pub capacity: usize,
    /// `[t_ms, H/s]`, oldest first.
    pub cluster: Vec<(u64, f64)>,
    /// Per agent, by agent id.
    pub agents: Vec<AgentHistory>,
}

/// One agent's series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentHistory {
    /// Agent id.
    pub agent_id: String,
    /// Its latest host name.
    pub hostname: String,
    /// `[t_ms, H/s]`, oldest first.
    pub points: Vec<(u64, f64)>,
}

/// A hashrate fit for JSON (no NaN or infinity, never negative).
fn finite(hps: f64) -> f64 {
    if hps.is_finite() && hps > 0.0 {
        hps
    } else {
        0.0
    }
}

/// Milliseconds since the Unix epoch of `t` (0 before it).
pub fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl History {
    /// An empty history sampled every `interval`.
    pub fn new(interval: Duration) -> History {
        History {
            interval,
            points: VecDeque::with_capacity(CAPACITY),
        }
    }

    /// The sampling interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Points held.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Adds the sample of `view` taken at `t_ms`, dropping the oldest beyond [`CAPACITY`].
    pub fn record(&mut self, t_ms: u64, view: &StateView) {
        let last = self.points.back();
        let t_ms = last.map_or(t_ms, |p| t_ms.max(p.t_ms.saturating_add(1)));
        let mut agents: Vec<&crate::view::AgentView> = view.agents.iter().collect();
        if agents.len() > MAX_AGENTS {
            agents.sort_by(|a, b| b.hashrate_10s.total_cmp(&a.hashrate_10s));
            agents.truncate(MAX_AGENTS);
        }
        let agents = agents
            .into_iter()
            .map(|a| {
                let before = last.and_then(|p| p.agents.iter().find(|s| *s.agent_id == a.agent_id));
                AgentSample {
                    agent_id: before
                        .map_or_else(|| a.agent_id.as_str().into(), |s| s.agent_id.clone()),
                    hostname: match before {
                        Some(s) if *s.hostname == a.hostname => s.hostname.clone(),
                        _ => a.hostname.as_str().into(),
                    },
                    hashrate: finite(a.hashrate_10s),
                }
            })
            .collect();
        if self.points.len() >= CAPACITY {
            self.points.pop_front();
        }
        self.points.push_back(Point {
            t_ms,
            cluster: finite(view.cluster.hashrate_10s),
            agents,
        });
    }

    /// The `/api/history` document: every point, or those after `since` (ms).
    pub fn view(&self, since: Option<u64>) -> HistoryView {
        let first = since.map_or(0, |t| self.points.partition_point(|p| p.t_ms <= t));
        let mut agents: BTreeMap<&str, AgentHistory> = BTreeMap::new();
        let mut cluster = Vec::with_capacity(self.points.len() - first);
        for point in self.points.range(first..) {
            cluster.push((point.t_ms, point.cluster));
            for a in &point.agents {
                let series = agents.entry(&a.agent_id).or_insert_with(|| AgentHistory {
                    agent_id: a.agent_id.to_string(),
                    ..AgentHistory::default()
                });
                a.hostname.as_ref().clone_into(&mut series.hostname);
                series.points.push((point.t_ms, a.hashrate));
            }
        }
        HistoryView {
            interval_ms: u64::try_from(self.interval.as_millis()).unwrap_or(u64::MAX),
            capacity: CAPACITY,
            cluster,
            agents: agents.into_values().collect(),
        }
    }
}

/// Samples `shared`'s state into its history every interval until `stop` (the first sample
/// at once). Samples are taken whether or not a master is subscribed: while it is not, the
/// reports stop, and the chart shows the hashrate falling to what still reports.
pub fn spawn(
    shared: Arc<Shared>,
    stop: tokio_util::sync::CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = shared.history().interval().max(Duration::from_millis(100));
        let mut ticker = tokio::time::interval(every);
        // A stalled runtime records one late point, not a burst of catch-up points.
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticker.tick() => {
                    let view = shared.view();
                    shared.history().record(epoch_ms(SystemTime::now()), &view);
                }
            }
        }
    })
}

#[cfg(test)]
mod tests;
