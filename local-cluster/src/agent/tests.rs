//! Agent core tests: the status-update manager's schedule and ordering, without sockets.

use std::time::{Duration, Instant};

use super::*;
use crate::ids::{Ids, Wall};
use crate::msg::{ToAgent, ToMaster};
use crate::status::agent_status;

fn agent() -> (Agent, Instant) {
    let cfg = AgentConfig::new(
        "A".into(),
        5051,
        Res::new(1.0, 64.0, 0.0, &[]),
        PathBuf::from("/nonexistent"),
    );
    let t0 = Instant::now();
    let wall = Wall::anchored(t0, Duration::from_secs(1_700_000_000));
    (Agent::new(cfg, 1 << 48, wall, Ids::seeded(1)), t0)
}

fn forwarded(a: &mut Agent) -> Vec<(v1::TaskState, Vec<u8>)> {
    a.take_outputs()
        .into_iter()
        .filter_map(|o| match o {
            AgentOut::ToMaster(ToMaster::StatusUpdate { status, .. }) => Some((
                v1::TaskState::try_from(status.state).ok()?,
                status.uuid.unwrap_or_default(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn head_is_retried_at_10_30_70_seconds_and_later_updates_wait() {
    let (mut a, t0) = agent();
    let running = agent_status(
        "t",
        "A",
        None,
        v1::TaskState::TaskRunning,
        v1::task_status::Reason::Reconciliation,
        "",
    );
    let running = a.stamp(running, t0);
    let finished = agent_status(
        "t",
        "A",
        None,
        v1::TaskState::TaskFinished,
        v1::task_status::Reason::Reconciliation,
        "",
    );
    let finished = a.stamp(finished, t0);
    a.enqueue_update("F", running.clone(), t0);
    a.enqueue_update("F", finished.clone(), t0);
    let uuid = running.uuid.clone().unwrap_or_default();
    assert_eq!(
        forwarded(&mut a),
        vec![(v1::TaskState::TaskRunning, uuid.clone())],
        "only the head goes out"
    );
    // Recorded redeliveries: +10 s, +30 s, +70 s (gaps doubling from 10 s).
    let mut sent_at = Vec::new();
    for s in 1..=75 {
        a.handle_timeout(t0 + Duration::from_secs(s));
        if !forwarded(&mut a).is_empty() {
            sent_at.push(s);
        }
    }
    assert_eq!(sent_at, vec![10, 30, 70]);
    // The scheduler's ACK releases the next update at once.
    a.handle_master_message(
        ToAgent::Acknowledge {
            framework_id: "F".into(),
            task_id: "t".into(),
            uuid,
        },
        t0 + Duration::from_secs(75),
    );
    assert_eq!(
        forwarded(&mut a),
        vec![(
            v1::TaskState::TaskFinished,
            finished.uuid.clone().unwrap_or_default()
        )]
    );
}

#[test]
fn resubscribing_framework_gets_pending_updates_at_once_and_backoff_restarts() {
    let (mut a, t0) = agent();
    let st = agent_status(
        "t",
        "A",
        None,
        v1::TaskState::TaskRunning,
        v1::task_status::Reason::Reconciliation,
        "",
    );
    let st = a.stamp(st, t0);
    a.enqueue_update("F", st, t0);
    let _ = forwarded(&mut a);
    a.handle_timeout(t0 + Duration::from_secs(10));
    assert_eq!(forwarded(&mut a).len(), 1);
    a.handle_master_message(
        ToAgent::ResendUpdates {
            framework_id: "F".into(),
        },
        t0 + Duration::from_secs(15),
    );
    assert_eq!(forwarded(&mut a).len(), 1, "resent at once");
    a.handle_timeout(t0 + Duration::from_secs(24));
    assert!(forwarded(&mut a).is_empty());
    a.handle_timeout(t0 + Duration::from_secs(25));
    assert_eq!(forwarded(&mut a).len(), 1, "backoff restarted at 10 s");
}
