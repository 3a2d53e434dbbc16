//! The framework MESSAGEs an executor sends every `report_interval_ms` (issue 10):
//! [`proto::framework::Report`] JSON with cumulative counters, so a lost or repeated message
//! does no harm; rates are 0 while a worker has no pool. Pure: the driver passes the
//! snapshot, the sequence number and the wall clock.

use std::time::Duration;

use miner_core::worker::{PoolConnState, WorkerStatus};
use pool::stats::PoolStatus;
use proto::framework::{PoolState, REPORT_VERSION, Report, ServerReport, TaskKind};

/// How long a worker may be without a pool before its task is reported unhealthy.
pub const UNHEALTHY_AFTER: Duration = Duration::from_secs(60);

/// What every report carries besides the task's own figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// Increases by one per report of this executor run.
    pub seq: u64,
    /// Wall clock, milliseconds since the epoch.
    pub sent_ms: u64,
    /// The task.
    pub task_id: String,
    /// The agent.
    pub agent_id: String,
}

fn base(h: &Header, kind: TaskKind) -> Report {
    Report {
        v: REPORT_VERSION,
        seq: h.seq,
        sent_ms: h.sent_ms,
        task_id: h.task_id.clone(),
        kind,
        agent_id: h.agent_id.clone(),
        hashes: 0,
        hashrate_10s: 0.0,
        hashrate_1m: 0.0,
        hashrate_15m: 0.0,
        accepted: 0,
        rejected: 0,
        stale: 0,
        difficulty: None,
        threads: 0,
        kernel: String::new(),
        pool: None,
        server: None,
    }
}

/// A worker's report.
pub fn worker(h: &Header, s: &WorkerStatus) -> Report {
    let connected = s.pool_state == PoolConnState::Connected;
    // Rates fall to 0 while disconnected (the search threads are stopped then).
    let rate = |r: Option<f64>| if connected { r.unwrap_or(0.0) } else { 0.0 };
    Report {
        hashes: s.hashes,
        hashrate_10s: rate(s.hashrate_10s),
        hashrate_1m: rate(s.hashrate_1m),
        hashrate_15m: rate(s.hashrate_15m),
        accepted: s.shares.accepted,
        rejected: s.shares.rejected,
        stale: s.shares.stale,
        difficulty: s.difficulty,
        threads: s.threads as u64,
        kernel: s.kernel.clone(),
        pool: Some(PoolState {
            url: s.pool_url.clone().unwrap_or_default(),
            state: s.pool_state.as_str().to_owned(),
        }),
        ..base(h, TaskKind::Worker)
    }
}

/// The pool server's report; `url` is what workers should dial.
pub fn server(h: &Header, s: &PoolStatus, url: &str) -> Report {
    Report {
        accepted: s.shares_accepted,
        rejected: s.shares_rejected,
        server: Some(ServerReport {
            connections: s.connections as u64,
            workers: s.workers.len() as u64,
            shares_accepted: s.shares_accepted,
            shares_rejected: s.shares_rejected,
            blocks_found: s.blocks_found,
            blocks_accepted: s.blocks_accepted,
            height: s.height,
            node: s.node.clone(),
            url: url.to_owned(),
        }),
        ..base(h, TaskKind::Server)
    }
}

/// Healthy unless the worker has been without a pool for `after` or more.
pub fn worker_healthy(s: &WorkerStatus, after: Duration) -> bool {
    s.without_pool < after
}

#[cfg(test)]
mod tests {
    use super::*;
    use miner_core::worker::ShareCounts;

    fn header() -> Header {
        Header {
            seq: 7,
            sent_ms: 1_700_000_000_000,
            task_id: "worker-1".into(),
            agent_id: "a1".into(),
        }
    }

    fn status(state: PoolConnState, without_pool: Duration) -> WorkerStatus {
        WorkerStatus {
            hashes: 1_000,
            hashrate_10s: Some(100.0),
            hashrate_1m: Some(90.0),
            hashrate_15m: None,
            shares: ShareCounts {
                accepted: 3,
                rejected: 1,
                stale: 2,
                ..ShareCounts::default()
            },
            difficulty: Some(0.001),
            pool_url: Some("stratum+tcp://127.0.0.1:3333".into()),
            pool_state: state,
            without_pool,
            threads: 2,
            kernel: "sha-ni".into(),
        }
    }

    #[test]
    fn worker_reports_carry_the_contract_fields_and_zero_rates_while_disconnected() {
        let r = worker(&header(), &status(PoolConnState::Connected, Duration::ZERO));
        let json: serde_json::Value = serde_json::from_slice(&r.to_bytes()).unwrap();
        assert_eq!(json["v"], 1);
        assert_eq!(json["seq"], 7);
        assert_eq!(json["kind"], "worker");
        assert_eq!(json["hashrate_10s"], 100.0);
        assert_eq!(json["hashrate_15m"], 0.0);
        assert_eq!(
            (json["accepted"].as_u64(), json["stale"].as_u64()),
            (Some(3), Some(2))
        );
        assert_eq!(json["pool"]["state"], "connected");
        assert_eq!(json["threads"], 2);
        let r = worker(
            &header(),
            &status(PoolConnState::Connecting, Duration::from_secs(5)),
        );
        assert_eq!((r.hashrate_10s, r.hashrate_1m, r.hashes), (0.0, 0.0, 1_000));
        assert_eq!(r.pool.unwrap().state, "connecting");
    }

    #[test]
    fn health_follows_the_time_without_pool() {
        for (secs, healthy) in [(0, true), (59, true), (60, false), (600, false)] {
            let s = status(PoolConnState::Connecting, Duration::from_secs(secs));
            assert_eq!(worker_healthy(&s, UNHEALTHY_AFTER), healthy, "{secs}");
        }
    }

    #[test]
    fn server_reports() {
        let s = PoolStatus {
            demo: true,
            node: "demo".into(),
            template_age_secs: None,
            connections: 2,
            height: Some(5),
            shares_accepted: 10,
            shares_rejected: 1,
            blocks_found: 1,
            blocks_accepted: 0,
            blocks_stale: 0,
            blocks_rejected: 0,
            hashrate: 0.0,
            workers: Vec::new(),
        };
        let r = server(&header(), &s, "stratum+tcp://h:31000");
        assert_eq!(r.kind, TaskKind::Server);
        let sr = r.server.unwrap();
        assert_eq!(
            (sr.connections, sr.shares_accepted, sr.blocks_found),
            (2, 10, 1)
        );
        assert_eq!(
            (sr.node.as_str(), sr.url.as_str(), sr.height),
            ("demo", "stratum+tcp://h:31000", Some(5))
        );
    }
}
