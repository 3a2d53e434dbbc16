//! Server loss, kills, unknown tasks, UNREACHABLE, launch timeout, reconciliation, ERROR.

use proto::events::scheduler as ev;
use proto::scheduler::call::Type as CallType;
use proto::v1::{AgentId, ExecutorId, TaskState};

use super::*;
use crate::core::StopReason;

/// Server running on a0, worker running on a1; returns (server, worker).
fn running_pair(h: &mut Harness) -> (String, String) {
    let server = h.with_running_server();
    let out = h.event(ev::offers(vec![offer("o-w", "a1", 2.0, 1024.0, &[])]));
    let worker = launched(&out)[0].task_id.value.clone();
    h.event(ev::update(status(
        &worker,
        "a1",
        TaskState::TaskRunning,
        Some(2),
    )));
    (server, worker)
}

#[test]
fn server_lost_kills_every_worker_and_relaunches_after_backoff() {
    let mut h = Harness::new(config(|_| {}));
    let (server, worker) = running_pair(&mut h);
    h.at(3.0);
    let out = h.event(ev::update(status(
        &server,
        "a0",
        TaskState::TaskFailed,
        Some(3),
    )));
    assert_eq!(killed(&out), vec![worker.clone()]);
    let remove = position(&out, |a| {
        a == &Action::Persist(StoreOp::RemoveTask(server.clone()))
    });
    let ack = position(
        &out,
        |a| matches!(a, Action::Call(c) if c.acknowledge.is_some()),
    );
    assert!(remove < ack);
    // The worker's record says it is being killed (a restarted scheduler keeps killing it).
    assert!(
        persisted(&out)
            .iter()
            .any(|op| matches!(op, StoreOp::PutTask(r) if r.kill))
    );
    // Within the backoff the server is not relaunched.
    assert!(
        launched(&h.event(ev::offers(vec![offer("o", "a0", 4.0, 4096.0, &[31000])]))).is_empty()
    );
    // The KILL is retried until a terminal update.
    assert_eq!(killed(&h.tick(13.5)), vec![worker.clone()]);
    h.event(ev::update(status(
        &worker,
        "a1",
        TaskState::TaskKilled,
        Some(4),
    )));
    assert!(killed(&h.tick(60.0)).is_empty());
    let out = h.event(ev::offers(vec![offer("o", "a0", 4.0, 4096.0, &[31000])]));
    let relaunched = launched(&out);
    assert_eq!(relaunched.len(), 1);
    assert!(relaunched[0].task_id.value.starts_with("server-"));
    assert_ne!(
        relaunched[0].task_id.value, server,
        "a fresh id per attempt"
    );
}

#[test]
fn task_error_is_reported_not_looped() {
    let mut h = Harness::new(config(|_| {}));
    h.subscribe();
    let out = h.event(ev::offers(vec![offer("o", "a0", 4.0, 4096.0, &[31000])]));
    let id = launched(&out)[0].task_id.value.clone();
    let mut st = status(&id, "a0", TaskState::TaskError, None);
    st.message = Some("bad spec".into());
    h.event(ev::update(st));
    assert_eq!(h.state.blocked[0].as_deref(), Some("bad spec"));
    let out = h.tick(3600.0);
    assert!(!types(&out).contains(&CallType::Revive));
    assert!(
        h.state.suppressed,
        "suppressed since the launch, and it stays so"
    );
    assert!(
        launched(&h.event(ev::offers(vec![offer("o", "a0", 4.0, 4096.0, &[31000])]))).is_empty()
    );
}

#[test]
fn unknown_tasks_are_acknowledged_and_killed_known_terminal_gone_changes_nothing() {
    let mut h = Harness::new(config(|_| {}));
    let (server, _) = running_pair(&mut h);
    let out = h.event(ev::update(status(
        "stranger",
        "a9",
        TaskState::TaskRunning,
        Some(9),
    )));
    assert_eq!(types(&out), vec![CallType::Kill, CallType::Acknowledge]);
    let out = h.event(ev::update(status(
        "stranger",
        "a9",
        TaskState::TaskKilled,
        Some(10),
    )));
    assert_eq!(types(&out), vec![CallType::Acknowledge]);
    assert!(h.state.kills.is_empty());
    // A finished task, then the master's reconciliation answer GONE (no uuid): nothing.
    h.event(ev::update(status(
        &server,
        "a0",
        TaskState::TaskFinished,
        Some(11),
    )));
    let mut gone = status(&server, "a0", TaskState::TaskGone, None);
    gone.reason = Some(proto::v1::task_status::Reason::Reconciliation as i32);
    let out = h.event(ev::update(gone));
    assert!(
        out.iter().all(|a| !matches!(a, Action::Persist(_))),
        "{out:?}"
    );
    assert!(killed(&out).is_empty());
}

#[test]
fn unreachable_is_replaced_after_the_grace_and_killed_when_it_returns() {
    let mut h = Harness::new(config(|_| {}));
    let (_, worker) = running_pair(&mut h);
    h.at(10.0);
    let out = h.event(ev::update(status(
        &worker,
        "a1",
        TaskState::TaskUnreachable,
        None,
    )));
    assert!(types(&out).is_empty(), "not terminal: {out:?}");
    assert!(h.state.tasks[&worker].active());
    assert!(
        h.tick(69.0)
            .iter()
            .all(|a| !matches!(a, Action::Persist(_)))
    );
    let out = h.tick(70.0);
    assert!(
        persisted(&out)
            .iter()
            .any(|op| matches!(op, StoreOp::PutTask(r) if r.replaced))
    );
    assert!(types(&out).contains(&CallType::Revive));
    // A replacement goes to the agent (per-agent count freed).
    let out = h.event(ev::offers(vec![offer("o", "a1", 2.0, 1024.0, &[])]));
    assert_eq!(launched(&out).len(), 1);
    // The original comes back: killed as a duplicate.
    let out = h.event(ev::update(status(
        &worker,
        "a1",
        TaskState::TaskRunning,
        Some(5),
    )));
    assert_eq!(killed(&out), vec![worker]);
}

/// After a partition heals, Mesos tells nobody that the replaced task runs again: the
/// scheduler keeps asking (explicit reconciliation) and kills it when the answer is RUNNING.
#[test]
fn replaced_unreachable_task_is_reconciled_until_found_and_then_killed() {
    let mut h = Harness::new(config(|_| {}));
    let (_, worker) = running_pair(&mut h);
    h.at(10.0);
    h.event(ev::update(status(
        &worker,
        "a1",
        TaskState::TaskUnreachable,
        None,
    )));
    h.tick(70.0); // replaced
    let asked = |out: &[Action]| {
        calls(out)
            .iter()
            .filter_map(|c| c.reconcile.as_ref())
            .any(|r| r.tasks.iter().any(|t| t.task_id.value == worker))
    };
    let mut asked_at = Vec::new();
    for second in 71..200 {
        if asked(&h.tick(f64::from(second))) {
            asked_at.push(second);
        }
    }
    assert!(asked_at.len() >= 2, "asked again and again: {asked_at:?}");
    let out = h.event(ev::update(status(
        &worker,
        "a1",
        TaskState::TaskRunning,
        None,
    )));
    assert_eq!(killed(&out), vec![worker]);
}

#[test]
fn launch_timeout_reconciles_then_relaunches_under_a_new_id() {
    let mut h = Harness::new(config(|_| {}));
    h.with_running_server();
    let out = h.event(ev::offers(vec![offer("o", "a1", 2.0, 1024.0, &[])]));
    let worker = launched(&out)[0].task_id.value.clone();
    h.tick(100.0); // the initial reconciliation round was answered by nothing; let it retry
    let out = h.tick(300.0);
    let explicit: Vec<String> = calls(&out)
        .iter()
        .filter_map(|c| c.reconcile.as_ref())
        .flat_map(|r| r.tasks.iter().map(|t| t.task_id.value.clone()))
        .collect();
    assert!(explicit.contains(&worker), "{out:?}");
    let out = h.tick(331.0);
    assert_eq!(killed(&out), vec![worker.clone()]);
    let out = h.event(ev::offers(vec![offer("o", "a1", 2.0, 1024.0, &[])]));
    let again = launched(&out);
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].task_id.value, worker);
}

#[test]
fn explicit_reconciliation_is_retried_until_answered_then_implicit() {
    let mut h = Harness::new(config(|_| {}));
    let (server, worker) = running_pair(&mut h);
    h.event(ev::update(status("x", "a0", TaskState::TaskKilled, None)));
    h.state.handle(Input::Disconnected, h.now);
    let out = h.subscribe();
    assert_eq!(calls(&out)[0].reconcile.as_ref().unwrap().tasks.len(), 2);
    let out = h.tick(2.0);
    assert_eq!(calls(&out)[0].reconcile.as_ref().unwrap().tasks.len(), 2);
    h.event(ev::update(status(
        &server,
        "a0",
        TaskState::TaskRunning,
        None,
    )));
    let out = h.event(ev::update(status(
        &worker,
        "a1",
        TaskState::TaskRunning,
        None,
    )));
    let rc = calls(&out)[0]
        .reconcile
        .as_ref()
        .expect("implicit after the last answer");
    assert!(rc.tasks.is_empty());
    assert!(types(&h.tick(500.0)).is_empty());
    assert_eq!(types(&h.tick(603.0)), vec![CallType::Reconcile]);
}

#[test]
fn errors_and_failures() {
    let mut h = Harness::new(config(|_| {}));
    let (_, worker) = running_pair(&mut h);
    let out = h.event(ev::failure(
        Some(AgentId::new("a1")),
        Some(ExecutorId::new(format!("exec-{worker}"))),
        Some(9),
    ));
    let rc = calls(&out)[0].reconcile.as_ref().unwrap();
    assert_eq!(rc.tasks[0].task_id.value, worker);
    let out = h.event(ev::error("Framework failed over"));
    assert_eq!(out, vec![Action::Stop(StopReason::FailedOver)]);
    let out = h.event(ev::error("Framework has been removed"));
    assert!(matches!(&out[..], [Action::Stop(StopReason::Removed(_))]));
    assert!(
        h.event(ev::error("Changing framework's principal is not allowed."))
            .is_empty()
    );
}

#[test]
fn no_calls_while_disconnected_and_kills_resent_after_subscribed() {
    let mut h = Harness::new(config(|_| {}));
    let (server, worker) = running_pair(&mut h);
    h.state.handle(Input::Disconnected, h.now);
    let out = h.event(ev::update(status(
        &server,
        "a0",
        TaskState::TaskFailed,
        Some(3),
    )));
    assert!(calls(&out).is_empty(), "{out:?}");
    let out = h.subscribe();
    assert!(killed(&out).contains(&worker));
}

#[test]
fn teardown_waits_for_a_subscription() {
    let mut h = Harness::new(config(|_| {}));
    running_pair(&mut h);
    h.state.handle(Input::Disconnected, h.now);
    assert!(h.state.handle(Input::Teardown, h.now).is_empty());
    let out = h.subscribe();
    assert_eq!(out, vec![Action::Teardown]);
    let out = h.event(ev::offers(vec![offer("o", "a2", 2.0, 1024.0, &[])]));
    assert_eq!(types(&out), vec![CallType::Decline]);
    let mut fresh = Harness::new(config(|_| {}));
    assert_eq!(
        fresh.state.handle(Input::Teardown, fresh.now),
        vec![Action::Stop(StopReason::TornDown)]
    );
}
