//! `TaskStatus` helpers shared by the master and the agents. The timestamp and uuid come from
//! the caller (its [`crate::ids::Wall`] and [`crate::ids::Ids`]), so the cores stay
//! deterministic.

use crate::pb::v1::{self, TaskState, TaskStatus, task_status::Reason, task_status::Source};

/// A master-generated status at wall time `timestamp`: `SOURCE_MASTER`, no uuid (never
/// acknowledged).
pub(crate) fn master_status(
    task_id: &str,
    agent_id: Option<&str>,
    state: TaskState,
    reason: Reason,
    message: &str,
    timestamp: f64,
) -> TaskStatus {
    TaskStatus {
        task_id: v1::TaskId {
            value: task_id.into(),
        },
        state: state as i32,
        message: Some(message.into()),
        source: Some(Source::Master as i32),
        reason: Some(reason as i32),
        agent_id: agent_id.map(|a| v1::AgentId { value: a.into() }),
        timestamp: Some(timestamp),
        ..Default::default()
    }
}

/// An agent-generated reliable status: `SOURCE_AGENT`; the agent stamps its timestamp and
/// uuid when it takes the update (`Agent::enqueue_own`).
pub(crate) fn agent_status(
    task_id: &str,
    agent_id: &str,
    executor_id: Option<&str>,
    state: TaskState,
    reason: Reason,
    message: &str,
) -> TaskStatus {
    TaskStatus {
        task_id: v1::TaskId {
            value: task_id.into(),
        },
        state: state as i32,
        message: Some(message.into()),
        source: Some(Source::Agent as i32),
        reason: Some(reason as i32),
        agent_id: Some(v1::AgentId {
            value: agent_id.into(),
        }),
        executor_id: executor_id.map(|e| v1::ExecutorId { value: e.into() }),
        ..Default::default()
    }
}
