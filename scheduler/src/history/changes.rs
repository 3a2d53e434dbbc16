//! The last [`KEEP`] task state changes with Mesos's reasons, for the page (`/api/state`'s
//! `changes`, newest first). The reducer records one whenever an applied status update
//! (not a duplicate) moves one of our tasks to another state; the text fields come from
//! the agent or master (`TaskStatus.message`, spec §4.4), so they are cut to a bound.

use std::collections::VecDeque;
use std::time::Instant;

use proto::framework::TaskKind;
use proto::v1::task_status::{Reason, Source};
use proto::v1::{TaskState, TaskStatus};
use serde::{Deserialize, Serialize};

use crate::core::task::{Task, truncate};

/// Changes kept.
pub const KEEP: usize = 100;

/// Longest `message` kept, bytes.
pub const MAX_MESSAGE: usize = 256;

/// One recorded change.
#[derive(Clone, Debug)]
struct Change {
    at: Instant,
    task_id: String,
    kind: TaskKind,
    agent_id: String,
    hostname: String,
    from: TaskState,
    to: TaskState,
    reason: Option<&'static str>,
    source: Option<&'static str>,
    message: Option<String>,
    timestamp_ms: Option<u64>,
}

/// The ring of changes.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    ring: VecDeque<Change>,
}

/// One change in `/api/state`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeView {
    /// Task id.
    pub task_id: String,
    /// `server` or `worker`.
    pub kind: TaskKind,
    /// Agent id.
    pub agent_id: String,
    /// Agent host name.
    pub hostname: String,
    /// The state before (`TASK_STAGING`).
    pub from: String,
    /// The new state (`TASK_RUNNING`).
    pub state: String,
    /// `TaskStatus.reason` (`REASON_EXECUTOR_TERMINATED`), if given.
    pub reason: Option<String>,
    /// `TaskStatus.source` (`SOURCE_AGENT`), if given.
    pub source: Option<String>,
    /// `TaskStatus.message` (at most [`MAX_MESSAGE`] bytes), if given.
    pub message: Option<String>,
    /// `TaskStatus.timestamp` (the sender's clock), ms since the Unix epoch.
    pub timestamp_ms: Option<u64>,
    /// Seconds since the scheduler applied it.
    pub age_s: f64,
}

impl Changes {
    /// Records that `task` (still in its old state) moves to `to` by `status`.
    pub fn record(&mut self, task: &Task, to: TaskState, status: &TaskStatus, now: Instant) {
        if self.ring.len() >= KEEP {
            self.ring.pop_front();
        }
        let timestamp_ms = status
            .timestamp
            .filter(|t| t.is_finite() && *t > 0.0 && *t < 1e13)
            .map(|t| (t * 1000.0) as u64);
        self.ring.push_back(Change {
            at: now,
            task_id: task.rec.task_id.clone(),
            kind: task.rec.kind,
            agent_id: task.rec.agent_id.clone(),
            hostname: task.rec.hostname.clone(),
            from: task.state,
            to,
            reason: status
                .reason
                .and_then(|r| Reason::try_from(r).ok())
                .map(|r| r.as_str_name()),
            source: status
                .source
                .and_then(|s| Source::try_from(s).ok())
                .map(|s| s.as_str_name()),
            message: status
                .message
                .as_deref()
                .filter(|m| !m.is_empty())
                .map(|m| truncate(m, MAX_MESSAGE).to_owned()),
            timestamp_ms,
        });
    }

    /// Changes held.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether none was recorded.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Newest first, ages at `now`.
    pub fn view(&self, now: Instant) -> Vec<ChangeView> {
        self.ring
            .iter()
            .rev()
            .map(|c| ChangeView {
                task_id: c.task_id.clone(),
                kind: c.kind,
                agent_id: c.agent_id.clone(),
                hostname: c.hostname.clone(),
                from: c.from.as_str_name().to_owned(),
                state: c.to.as_str_name().to_owned(),
                reason: c.reason.map(str::to_owned),
                source: c.source.map(str::to_owned),
                message: c.message.clone(),
                timestamp_ms: c.timestamp_ms,
                age_s: now.saturating_duration_since(c.at).as_secs_f64(),
            })
            .collect()
    }
}
