//! The core driven by scripted events, no sockets: every test reads as the recordings do
//! (SUBSCRIBE, SUBSCRIBED, LAUNCH, UPDATEs, ACKNOWLEDGED, KILL, SHUTDOWN, lost streams).

use std::time::{Duration, Instant};

use proto::events::executor as ev;
use proto::executor::{Call, call::Type as CallType};
use proto::v1::{
    AgentInfo, DurationInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskId, TaskInfo, TaskState,
    TaskStatus, framework_info::Capability, framework_info::capability, task_status::Reason,
};

use super::*;

/// Counts uuids up from 1; jitter 0.5; time 1000.0.
struct FakeEntropy(u8);

impl Entropy for FakeEntropy {
    fn uuid(&mut self) -> [u8; 16] {
        self.0 += 1;
        [self.0; 16]
    }
    fn jitter(&mut self) -> f64 {
        0.5
    }
    fn unix_time(&mut self) -> f64 {
        1000.0
    }
}

const GRACE: Duration = Duration::from_secs(5);

fn config(checkpoint: bool) -> CoreConfig {
    CoreConfig {
        executor_id: "worker-1.exec".into(),
        framework_id: "fw".into(),
        checkpoint,
        recovery_timeout: Duration::from_secs(900),
        backoff_max: Duration::from_secs(2),
        shutdown_grace: GRACE,
        default_kill_grace: Duration::from_secs(3),
    }
}

struct Harness {
    core: Core,
    t0: Instant,
}

fn harness(checkpoint: bool) -> Harness {
    let t0 = Instant::now();
    let mut core = Core::new(config(checkpoint), Box::new(FakeEntropy(0)), None);
    let first = core.start(t0);
    assert!(
        matches!(first.as_slice(), [Action::Subscribe(_)]),
        "{first:?}"
    );
    Harness { core, t0 }
}

fn subscribed(killing_state: bool) -> proto::executor::Event {
    let mut fw = FrameworkInfo {
        id: Some("fw".into()),
        ..FrameworkInfo::default()
    };
    if killing_state {
        fw.capabilities.push(Capability {
            r#type: Some(capability::Type::TaskKillingState as i32),
        });
    }
    let agent = AgentInfo {
        hostname: "agent-host".into(),
        id: Some("agent-1".into()),
        ..AgentInfo::default()
    };
    ev::subscribed(ExecutorInfo::default(), fw, agent, None)
}

fn task(id: &str, data: &str, grace: Option<u64>) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: id.into(),
        agent_id: "agent-1".into(),
        resources: vec![proto::resources::cpus(2.0)],
        data: Some(data.as_bytes().to_vec()),
        kill_policy: grace.map(|s| KillPolicy {
            grace_period: Some(DurationInfo {
                nanoseconds: (s * 1_000_000_000) as i64,
            }),
        }),
        ..TaskInfo::default()
    }
}

const WORKER: &str = r#"{"kind":"worker","pool_url":"stratum+tcp://127.0.0.1:3333","user":"u"}"#;

fn call_of(action: &Action) -> Option<&Call> {
    match action {
        Action::Post(c) | Action::Subscribe(c) => Some(c),
        _ => None,
    }
}

/// The (task, state) of every UPDATE posted.
fn updates(actions: &[Action]) -> Vec<(String, TaskState)> {
    actions
        .iter()
        .filter_map(call_of)
        .filter(|c| c.r#type == Some(CallType::Update as i32))
        .filter_map(|c| c.update.as_ref())
        .map(|u| (u.status.task_id.value.clone(), u.status.state()))
        .collect()
}

fn last_status(actions: &[Action]) -> TaskStatus {
    let call = actions.iter().rev().find_map(call_of).expect("a call");
    call.update.clone().expect("an UPDATE").status
}

fn ack_all(h: &mut Harness, at: Instant) -> Vec<Action> {
    let pending: Vec<TaskStatus> = h.core.unacknowledged_updates().to_vec();
    let mut out = Vec::new();
    for s in pending {
        out.extend(
            h.core
                .handle_event(ev::acknowledged(s.task_id, s.uuid.unwrap_or_default()), at),
        );
    }
    out
}

/// Subscribed, `worker-1` launched and RUNNING, everything acknowledged.
fn running(checkpoint: bool, killing_state: bool, grace: Option<u64>) -> Harness {
    let mut h = harness(checkpoint);
    let t0 = h.t0;
    assert!(
        h.core
            .handle_event(subscribed(killing_state), t0)
            .is_empty()
    );
    let out = h
        .core
        .handle_event(ev::launch(task("worker-1", WORKER, grace)), t0);
    assert_eq!(
        updates(&out),
        [("worker-1".into(), TaskState::TaskStarting)]
    );
    assert!(matches!(out.last(), Some(Action::Start { .. })), "{out:?}");
    let out = h.core.handle_task_started(&"worker-1".into(), "mining", t0);
    assert_eq!(updates(&out), [("worker-1".into(), TaskState::TaskRunning)]);
    assert!(ack_all(&mut h, t0).is_empty());
    h
}

#[test]
fn a_task_goes_starting_running_killed_and_the_executor_exits_after_the_ack() {
    let mut h = harness(false);
    let t0 = h.t0;
    h.core.handle_event(subscribed(false), t0);
    assert_eq!(h.core.agent_hostname(), Some("agent-host"));
    let out = h
        .core
        .handle_event(ev::launch(task("worker-1", WORKER, None)), t0);
    let starting = last_status(&out[..1]);
    assert_eq!(starting.uuid.as_ref().map(Vec::len), Some(16));
    assert_eq!(
        starting.source,
        Some(proto::v1::task_status::Source::Executor as i32)
    );
    assert_eq!(starting.executor_id, Some("worker-1.exec".into()));
    assert_eq!(starting.agent_id, Some("agent-1".into()));
    assert_eq!(starting.timestamp, Some(1000.0));
    let Some(Action::Start { plan, .. }) = out.last() else {
        panic!("{out:?}")
    };
    assert!(
        format!("{plan:?}").contains("threads: 2"),
        "cpus 2 → 2 threads"
    );
    let out = h
        .core
        .handle_task_started(&"worker-1".into(), "mining on pool", t0);
    assert_eq!(last_status(&out).message.as_deref(), Some("mining on pool"));
    ack_all(&mut h, t0);
    let out = h.core.handle_event(ev::kill("worker-1".into(), None), t0);
    assert_eq!(
        out,
        [Action::Stop("worker-1".into())],
        "no TASK_KILLING without the capability"
    );
    assert_eq!(
        h.core.poll_timeout(),
        Some(t0 + Duration::from_secs(3)),
        "default kill grace"
    );
    let out = h.core.handle_task_ended(
        &"worker-1".into(),
        TaskOutcome::Finished("stopped".into()),
        t0,
    );
    assert_eq!(updates(&out), [("worker-1".into(), TaskState::TaskKilled)]);
    assert!(h.core.handle_event(ev::heartbeat(), t0).is_empty());
    let out = ack_all(&mut h, t0);
    assert_eq!(out, [Action::Exit(ExitReason::Done)]);
}

#[test]
fn kill_honours_the_task_kill_policy_unless_the_event_overrides_it() {
    // TaskInfo grace 4 s; KILL without a policy (as recorded) uses it.
    let mut h = running(false, true, Some(4));
    let t0 = h.t0;
    let out = h.core.handle_event(ev::kill("worker-1".into(), None), t0);
    assert_eq!(updates(&out), [("worker-1".into(), TaskState::TaskKilling)]);
    assert_eq!(out.last(), Some(&Action::Stop("worker-1".into())));
    assert_eq!(h.core.poll_timeout(), Some(t0 + Duration::from_secs(4)));
    // A second KILL with an override of 1 s shortens it.
    let policy = KillPolicy {
        grace_period: Some(DurationInfo {
            nanoseconds: 1_000_000_000,
        }),
    };
    assert!(
        h.core
            .handle_event(ev::kill("worker-1".into(), Some(policy)), t0)
            .is_empty()
    );
    let deadline = t0 + Duration::from_secs(1);
    assert_eq!(h.core.poll_timeout(), Some(deadline));
    let out = h.core.handle_timeout(deadline);
    assert_eq!(out[0], Action::Abort("worker-1".into()));
    assert_eq!(updates(&out), [("worker-1".into(), TaskState::TaskKilled)]);
    // The run ending later changes nothing.
    assert!(
        h.core
            .handle_task_ended(
                &"worker-1".into(),
                TaskOutcome::Finished(String::new()),
                deadline
            )
            .is_empty()
    );
}

#[test]
fn refused_launches_fail_with_a_clear_message() {
    let cases = [
        ("task-data-bytes", "TaskInfo.data is not a task spec"),
        (r#"{"kind":"server","demo":true}"#, "no stratum_port"),
    ];
    for (data, want) in cases {
        let mut h = harness(false);
        let t0 = h.t0;
        h.core.handle_event(subscribed(false), t0);
        let out = h.core.handle_event(ev::launch(task("t", data, None)), t0);
        assert_eq!(
            updates(&out),
            [("t".into(), TaskState::TaskFailed)],
            "{data}"
        );
        let status = last_status(&out);
        assert!(
            status.message.as_deref().unwrap_or("").contains(want),
            "{status:?}"
        );
        assert_eq!(status.reason, Some(Reason::TaskInvalid as i32));
        assert!(!out.iter().any(|a| matches!(a, Action::Start { .. })));
        assert_eq!(ack_all(&mut h, t0), [Action::Exit(ExitReason::Done)]);
    }
    // A second task in the same executor is refused; the first goes on.
    let mut h = running(false, false, None);
    let out = h
        .core
        .handle_event(ev::launch(task("worker-2", WORKER, None)), h.t0);
    assert_eq!(updates(&out), [("worker-2".into(), TaskState::TaskFailed)]);
    assert!(
        last_status(&out)
            .message
            .unwrap_or_default()
            .contains("one task per executor")
    );
    let t0 = h.t0;
    assert!(ack_all(&mut h, t0).is_empty(), "worker-1 still runs");
}

#[test]
fn a_failed_run_is_task_failed() {
    let mut h = running(false, false, None);
    let why = "the pool stopped: a pool task panicked";
    let out = h
        .core
        .handle_task_ended(&"worker-1".into(), TaskOutcome::Failed(why.into()), h.t0);
    assert_eq!(updates(&out), [("worker-1".into(), TaskState::TaskFailed)]);
    assert_eq!(last_status(&out).message.as_deref(), Some(why));
}

#[test]
fn health_flips_are_running_updates() {
    let mut h = running(false, false, None);
    let id: TaskId = "worker-1".into();
    let t0 = h.t0;
    assert!(
        h.core.handle_health(&id, true, "ok", t0).is_empty(),
        "healthy from the start: nothing"
    );
    let out = h.core.handle_health(&id, false, "no pool for 60 s", t0);
    let status = last_status(&out);
    assert_eq!(
        (status.state(), status.healthy),
        (TaskState::TaskRunning, Some(false))
    );
    assert_eq!(
        status.reason,
        Some(Reason::TaskHealthCheckStatusUpdated as i32)
    );
    assert!(h.core.handle_health(&id, false, "still", t0).is_empty());
    let out = h.core.handle_health(&id, true, "pool back", t0);
    assert_eq!(last_status(&out).healthy, Some(true));
}

#[test]
fn unacknowledged_updates_and_tasks_go_with_every_resubscribe() {
    let mut h = harness(true);
    let t0 = h.t0;
    h.core.handle_event(subscribed(false), t0);
    h.core
        .handle_event(ev::launch(task("worker-1", WORKER, None)), t0);
    // The stream ends (agent restart: plain TCP EOF): SUBSCRIBE again at once.
    assert!(h.core.handle_disconnected(t0).is_empty());
    assert_eq!(h.core.poll_timeout(), Some(t0));
    let out = h.core.handle_timeout(t0);
    let Some(Action::Subscribe(call)) = out.first() else {
        panic!("{out:?}")
    };
    let sub = call.subscribe.clone().unwrap();
    assert_eq!(sub.unacknowledged_tasks.len(), 1);
    assert_eq!(sub.unacknowledged_updates.len(), 1);
    // Meanwhile the task starts: RUNNING is kept, not posted.
    let out = h.core.handle_task_started(&"worker-1".into(), "mining", t0);
    assert!(out.is_empty(), "{out:?}");
    // The agent refuses (connection refused, then 503): backoff, capped, jittered.
    let mut at = t0;
    let mut pauses = Vec::new();
    let mut last = Vec::new();
    for _ in 0..6 {
        assert!(h.core.handle_disconnected(at).is_empty());
        let next = h.core.poll_timeout().unwrap();
        pauses.push(next - at);
        at = next;
        last = h.core.handle_timeout(at);
        assert!(matches!(last.as_slice(), [Action::Subscribe(_)]));
    }
    let ms: Vec<u128> = pauses.iter().map(Duration::as_millis).collect();
    assert_eq!(
        ms,
        [75, 150, 300, 600, 1200, 1500],
        "½+½·0.5 of 100 ms·2^n, cap 2 s"
    );
    // That last SUBSCRIBE carries both updates; SUBSCRIBED, then both ACKNOWLEDGED.
    let Some(Action::Subscribe(call)) = last.first() else {
        panic!()
    };
    let carried = &call.subscribe.as_ref().unwrap().unacknowledged_updates;
    let states: Vec<TaskState> = carried.iter().map(|u| u.status.state()).collect();
    assert_eq!(states, [TaskState::TaskStarting, TaskState::TaskRunning]);
    assert!(
        h.core.handle_event(subscribed(false), at).is_empty(),
        "all carried, none re-posted"
    );
    ack_all(&mut h, at);
    h.core.handle_disconnected(at);
    let out = h.core.handle_timeout(at);
    let Some(Action::Subscribe(call)) = out.first() else {
        panic!()
    };
    let sub = call.subscribe.clone().unwrap();
    assert!(sub.unacknowledged_tasks.is_empty() && sub.unacknowledged_updates.is_empty());
}

#[test]
fn updates_made_while_subscribing_are_posted_after_subscribed() {
    let mut h = harness(true);
    let t0 = h.t0;
    h.core.handle_event(subscribed(false), t0);
    h.core
        .handle_event(ev::launch(task("worker-1", WORKER, None)), t0);
    ack_all(&mut h, t0);
    h.core.handle_disconnected(t0);
    h.core.handle_timeout(t0);
    h.core.handle_task_started(&"worker-1".into(), "mining", t0);
    let out = h.core.handle_event(subscribed(false), t0);
    assert_eq!(updates(&out), [("worker-1".into(), TaskState::TaskRunning)]);
}

#[test]
fn recovery_gives_up_after_the_recovery_timeout() {
    let mut h = running(true, false, None);
    let t0 = h.t0;
    h.core.handle_disconnected(t0);
    let end = t0 + Duration::from_secs(900);
    let mut at = t0;
    while at < end {
        h.core.handle_timeout(at);
        h.core.handle_disconnected(at);
        at = h.core.poll_timeout().unwrap();
    }
    let out = h.core.handle_timeout(at);
    assert_eq!(
        out,
        [
            Action::Stop("worker-1".into()),
            Action::Exit(ExitReason::RecoveryTimeout)
        ]
    );
}

#[test]
fn without_checkpoint_a_lost_agent_ends_the_executor() {
    let mut h = running(false, false, None);
    let out = h.core.handle_disconnected(h.t0);
    assert_eq!(
        out,
        [
            Action::Stop("worker-1".into()),
            Action::Exit(ExitReason::Disconnected)
        ]
    );
    assert!(
        h.core.handle_event(ev::shutdown(), h.t0).is_empty(),
        "nothing after exit"
    );
}

#[test]
fn shutdown_kills_everything_and_waits_for_acks_within_the_grace_period() {
    for acked in [true, false] {
        let mut h = running(false, false, None);
        let t0 = h.t0;
        let out = h.core.handle_event(ev::shutdown(), t0);
        assert_eq!(out, [Action::Stop("worker-1".into())]);
        assert_eq!(
            h.core.poll_timeout(),
            Some(t0 + GRACE / 2),
            "kill grace within the period"
        );
        let out =
            h.core
                .handle_task_ended(&"worker-1".into(), TaskOutcome::Finished(String::new()), t0);
        assert_eq!(updates(&out), [("worker-1".into(), TaskState::TaskKilled)]);
        // Launches during shutdown are refused.
        let out = h
            .core
            .handle_event(ev::launch(task("late", WORKER, None)), t0);
        assert_eq!(updates(&out), [("late".into(), TaskState::TaskFailed)]);
        if acked {
            assert_eq!(ack_all(&mut h, t0), [Action::Exit(ExitReason::Done)]);
        } else {
            let deadline = h.core.poll_timeout().unwrap();
            assert_eq!(deadline, t0 + GRACE.mul_f64(0.8));
            assert_eq!(
                h.core.handle_timeout(deadline),
                [Action::Exit(ExitReason::AckTimeout)]
            );
        }
    }
}

#[test]
fn ignored_events() {
    let mut h = running(false, false, None);
    let t0 = h.t0;
    let unknown = proto::executor::Event {
        r#type: Some(99),
        ..Default::default()
    };
    for event in [ev::heartbeat(), ev::message(b"hi".to_vec()), unknown] {
        assert!(h.core.handle_event(event, t0).is_empty());
    }
    assert!(
        h.core
            .handle_event(ev::kill("nope".into(), None), t0)
            .is_empty()
    );
    let out = h.core.message(b"report".to_vec());
    let Some(Action::Post(call)) = out.first() else {
        panic!("{out:?}")
    };
    assert_eq!(
        call.message.as_ref().map(|m| m.data.as_slice()),
        Some(&b"report"[..])
    );
}
