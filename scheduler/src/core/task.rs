//! What the scheduler knows about one task: the persisted [`TaskRecord`] (written before the
//! ACCEPT that launches it) and the runtime [`Task`] around it (state, timers, last report).

use std::time::Instant;

use proto::framework::{Report, TaskKind};
use proto::v1::TaskState;
use serde::{Deserialize, Serialize};

/// The part of a task that survives a scheduler restart (one file per task in the state dir).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// `server-<uuid>` or `worker-<uuid>`.
    pub task_id: String,
    /// Server or worker.
    pub kind: TaskKind,
    /// The agent it was launched on.
    pub agent_id: String,
    /// That agent's host name (from the offer).
    pub hostname: String,
    /// Our executor's id; `None` for the p2pool Docker task (command executor).
    #[serde(default)]
    pub executor_id: Option<String>,
    /// For the server: the Stratum URL workers use; for a worker: the pool it mines on.
    pub pool_url: String,
    /// Ports taken from the offer.
    #[serde(default)]
    pub ports: Vec<u16>,
    /// Last known Mesos state name (`TASK_RUNNING`).
    pub state: String,
    /// Superseded by another task (e.g. after UNREACHABLE): killed whenever it shows up.
    #[serde(default)]
    pub replaced: bool,
    /// We asked for it to be killed.
    #[serde(default)]
    pub kill: bool,
}

impl TaskRecord {
    /// The recorded state, TASK_STAGING if the name is not one we know.
    pub fn task_state(&self) -> TaskState {
        TaskState::from_str_name(&self.state).unwrap_or(TaskState::TaskStaging)
    }
}

/// The latest report of a task, trimmed to what the views need.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    /// Report sequence number (only higher ones replace this one).
    pub seq: u64,
    /// Hashes done.
    pub hashes: u64,
    /// H/s over 10 s, 1 min, 15 min.
    pub hashrate: [f64; 3],
    /// Shares accepted, rejected, stale (cumulative for this task).
    pub shares: [u64; 3],
    /// Search threads.
    pub threads: u64,
    /// Kernel in use.
    pub kernel: Box<str>,
    /// Pool-server figures (server task only).
    pub server: Option<Box<ServerSample>>,
}

/// What the pool server task reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerSample {
    /// Open Stratum connections.
    pub connections: u64,
    /// Authorized workers.
    pub workers: u64,
    /// Blocks found (cumulative).
    pub blocks_found: u64,
    /// Blocks accepted by the node (cumulative).
    pub blocks_accepted: u64,
    /// Shares accepted and rejected by the pool (cumulative).
    pub shares: [u64; 2],
    /// The height being mined (none in demo mode or before the first template).
    pub height: Option<u64>,
    /// The node's state as the pool sees it (`ok`, `connecting`, `error: …`, `demo`).
    pub node: Box<str>,
}

impl Sample {
    /// The trimmed form of a report.
    pub fn from_report(report: &Report) -> Sample {
        let finite = |v: f64| if v.is_finite() && v > 0.0 { v } else { 0.0 };
        Sample {
            seq: report.seq,
            hashes: report.hashes,
            hashrate: [
                finite(report.hashrate_10s),
                finite(report.hashrate_1m),
                finite(report.hashrate_15m),
            ],
            shares: [report.accepted, report.rejected, report.stale],
            threads: report.threads,
            kernel: truncate(&report.kernel, 32).into(),
            server: report.server.as_ref().map(|s| {
                Box::new(ServerSample {
                    connections: s.connections,
                    workers: s.workers,
                    blocks_found: s.blocks_found,
                    blocks_accepted: s.blocks_accepted,
                    shares: [s.shares_accepted, s.shares_rejected],
                    height: s.height,
                    node: truncate(&s.node, 128).into(),
                })
            }),
        }
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A task the scheduler tracks: launched and not yet seen terminal.
#[derive(Clone, Debug)]
pub struct Task {
    /// The persisted part.
    pub rec: TaskRecord,
    /// Current state.
    pub state: TaskState,
    /// `TaskStatus.healthy` of the latest update that had it.
    pub healthy: Option<bool>,
    /// When it was launched (or recovered): the launch timeout counts from here.
    pub launched_at: Instant,
    /// Since when it is RUNNING.
    pub running_since: Option<Instant>,
    /// Since when it is UNREACHABLE / UNKNOWN.
    pub unreachable_since: Option<Instant>,
    /// When a timer last sent it to reconciliation (launch timeout; or, once replaced while
    /// UNREACHABLE, the periodic check that finds it back).
    pub timeout_reconciled: Option<Instant>,
    /// Latest update uuids (duplicates are acknowledged, not applied again).
    pub recent_uuids: [Option<[u8; 16]>; 2],
    /// Latest report.
    pub sample: Option<Sample>,
    /// When `sample` arrived.
    pub sample_at: Option<Instant>,
}

impl Task {
    /// A task from its record; runtime fields start now.
    pub fn new(rec: TaskRecord, now: Instant) -> Task {
        Task {
            state: rec.task_state(),
            rec,
            healthy: None,
            launched_at: now,
            running_since: None,
            unreachable_since: None,
            timeout_reconciled: None,
            recent_uuids: [None, None],
            sample: None,
            sample_at: None,
        }
    }

    /// Counts toward what we want running: not replaced and not being killed.
    pub fn active(&self) -> bool {
        !self.rec.replaced && !self.rec.kill
    }

    /// Whether `uuid` is one of the latest updates already applied.
    pub fn seen(&self, uuid: &[u8; 16]) -> bool {
        self.recent_uuids.iter().flatten().any(|u| u == uuid)
    }

    /// Remembers an applied update's uuid.
    pub fn remember(&mut self, uuid: [u8; 16]) {
        self.recent_uuids[1] = self.recent_uuids[0];
        self.recent_uuids[0] = Some(uuid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_cuts_at_char_boundaries() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("ééé", 3), "é");
        assert_eq!(truncate("abcdef", 4), "abcd");
    }

    #[test]
    fn record_state_falls_back_to_staging() {
        let mut rec = TaskRecord {
            task_id: "worker-1".into(),
            kind: TaskKind::Worker,
            agent_id: "a".into(),
            hostname: "h".into(),
            executor_id: None,
            pool_url: String::new(),
            ports: vec![],
            state: "TASK_RUNNING".into(),
            replaced: false,
            kill: false,
        };
        assert_eq!(rec.task_state(), TaskState::TaskRunning);
        rec.state = "bogus".into();
        assert_eq!(rec.task_state(), TaskState::TaskStaging);
    }
}
