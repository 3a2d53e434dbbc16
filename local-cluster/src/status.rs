//! `TaskStatus` helpers shared by the master and the agents.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::pb::v1::{self, TaskState, TaskStatus, task_status::Reason, task_status::Source};

/// `isTerminalState` of Mesos on a raw state (unknown numbers are not terminal): one
/// definition, `proto`'s.
pub fn is_terminal(state: i32) -> bool {
    TaskState::try_from(state).is_ok_and(TaskState::is_terminal)
}

/// Seconds since the epoch, for `TaskStatus.timestamp` (informational only: no decision
/// depends on it, so reading the wall clock here keeps the cores deterministic).
pub fn wall_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A master-generated status: `SOURCE_MASTER`, no uuid (never acknowledged).
pub fn master_status(
    task_id: &str,
    agent_id: Option<&str>,
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
        source: Some(Source::Master as i32),
        reason: Some(reason as i32),
        agent_id: agent_id.map(|a| v1::AgentId { value: a.into() }),
        timestamp: Some(wall_secs()),
        ..Default::default()
    }
}

/// An agent-generated reliable status: `SOURCE_AGENT` with a fresh uuid.
pub fn agent_status(
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
        timestamp: Some(wall_secs()),
        uuid: Some(uuid::Uuid::new_v4().as_bytes().to_vec()),
        ..Default::default()
    }
}
