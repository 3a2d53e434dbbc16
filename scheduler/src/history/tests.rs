//! The history ring and the state-change log: shapes, bounds, and the reducer feeding the log.

use std::time::{Duration, Instant};

use proto::events::scheduler as ev;
use proto::v1::framework_info::capability::Type as Cap;
use proto::v1::task_status::{Reason, Source};
use proto::v1::{AgentId, FrameworkId, Offer, OfferId, TaskId, TaskState, TaskStatus};

use super::changes::{KEEP, MAX_MESSAGE};
use super::*;
use crate::config::SchedulerConfig;
use crate::core::{Action, CoreConfig, Input, Persisted, State};
use crate::view::AgentView;

fn view(cluster: f64, agents: &[(&str, f64)]) -> StateView {
    let mut v = StateView::default();
    v.cluster.hashrate_10s = cluster;
    v.agents = agents
        .iter()
        .map(|(id, hps)| AgentView {
            agent_id: (*id).into(),
            hostname: format!("host-{id}"),
            hashrate_10s: *hps,
            tasks: 1,
        })
        .collect();
    v
}

#[test]
fn the_json_shape_is_the_documented_one() {
    let mut h = History::new(Duration::from_secs(10));
    h.record(1_000, &view(30.0, &[("a1", 10.0), ("a2", 20.0)]));
    h.record(11_000, &view(f64::NAN, &[("a2", -5.0)]));
    let json = serde_json::to_value(h.view(None)).expect("json");
    assert_eq!(
        json,
        serde_json::json!({
            "interval_ms": 10_000,
            "capacity": 2160,
            "cluster": [[1_000, 30.0], [11_000, 0.0]],
            "agents": [
                {"agent_id": "a1", "hostname": "host-a1", "points": [[1_000, 10.0]]},
                {"agent_id": "a2", "hostname": "host-a2", "points": [[1_000, 20.0], [11_000, 0.0]]},
            ],
        })
    );
}

#[test]
fn the_ring_keeps_the_last_capacity_points() {
    let mut h = History::new(Duration::from_secs(1));
    for i in 0..CAPACITY as u64 + 25 {
        h.record(i * 1000, &view(i as f64, &[("a1", i as f64)]));
    }
    assert_eq!(h.len(), CAPACITY);
    let v = h.view(None);
    assert_eq!(v.cluster.len(), CAPACITY);
    assert_eq!(v.cluster[0], (25_000, 25.0), "the 25 oldest are gone");
    assert_eq!(v.agents[0].points.len(), CAPACITY);
    let last = CAPACITY as u64 + 24;
    assert_eq!(v.cluster.last(), Some(&(last * 1000, last as f64)));
}

#[test]
fn since_returns_only_newer_points() {
    let mut h = History::new(Duration::from_secs(10));
    h.record(1_000, &view(1.0, &[("a1", 1.0)]));
    h.record(2_000, &view(2.0, &[("a2", 2.0)]));
    h.record(3_000, &view(3.0, &[("a2", 3.0)]));
    let v = h.view(Some(1_000));
    assert_eq!(v.cluster, vec![(2_000, 2.0), (3_000, 3.0)]);
    assert_eq!(v.agents.len(), 1, "a1 has no newer point");
    assert_eq!(v.agents[0].points, vec![(2_000, 2.0), (3_000, 3.0)]);
    assert!(h.view(Some(3_000)).cluster.is_empty());
    assert_eq!(h.view(Some(0)).cluster.len(), 3);
}

#[test]
fn time_never_goes_back_and_agents_are_bounded() {
    let mut h = History::new(Duration::from_secs(10));
    h.record(5_000, &view(1.0, &[]));
    h.record(4_000, &view(1.0, &[])); // the wall clock stepped back
    let v = h.view(None);
    assert_eq!(v.cluster[1].0, 5_001);
    let ids: Vec<String> = (0..MAX_AGENTS + 10).map(|i| format!("a{i}")).collect();
    let many: Vec<(&str, f64)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i as f64))
        .collect();
    h.record(6_000, &view(1.0, &many));
    let v = h.view(Some(5_001));
    assert_eq!(v.agents.len(), MAX_AGENTS);
    assert!(
        v.agents.iter().all(|a| a.points[0].1 >= 10.0),
        "the busiest agents are the ones kept"
    );
}

// --- the state-change log, fed by the reducer ---------------------------------------------

fn core() -> State {
    let info = proto::calls::offer::framework_info("miner", "mesos-miner", &[Cap::MultiRole]);
    let command = crate::core::launch::executor_command("http://sched/executor/x/mesos-miner");
    let cfg = CoreConfig::new(&SchedulerConfig::default(), info, command);
    State::new(cfg, Persisted::default(), Instant::now())
}

fn status(task: &str, state: TaskState, uuid: u8) -> TaskStatus {
    TaskStatus {
        task_id: TaskId::new(task),
        state: state as i32,
        agent_id: Some(AgentId::new("a0")),
        uuid: Some(vec![uuid; 16]),
        ..TaskStatus::default()
    }
}

/// A subscribed reducer that launched the server on `a0`; its task id.
fn launched_server(s: &mut State, now: Instant) -> String {
    s.handle(
        Input::Event(ev::subscribed(FrameworkId::new("fw"), 15.0, None)),
        now,
    );
    let offer = Offer {
        id: OfferId::new("o1"),
        framework_id: FrameworkId::new("fw"),
        agent_id: AgentId::new("a0"),
        hostname: "host-a0".into(),
        resources: vec![
            proto::resources::cpus(4.0),
            proto::resources::mem(4096.0),
            proto::resources::ports(&[31000]),
        ],
        ..Offer::default()
    };
    let out = s.handle(Input::Event(ev::offers(vec![offer])), now);
    out.iter()
        .find_map(|a| match a {
            Action::Call(c) => c.accept.as_ref()?.operations.iter().find_map(|op| {
                Some(
                    op.launch
                        .as_ref()?
                        .task_infos
                        .first()?
                        .task_id
                        .value
                        .clone(),
                )
            }),
            _ => None,
        })
        .expect("a server launch")
}

#[test]
fn applied_state_changes_are_logged_with_their_reasons() {
    let mut s = core();
    let t0 = Instant::now();
    let id = launched_server(&mut s, t0);
    let mut running = status(&id, TaskState::TaskRunning, 1);
    running.timestamp = Some(1_764_600_000.5);
    s.handle(Input::Event(ev::update(running.clone())), t0);
    // The same update again (same uuid) and one that changes nothing add nothing.
    s.handle(Input::Event(ev::update(running)), t0);
    s.handle(
        Input::Event(ev::update(status(&id, TaskState::TaskRunning, 2))),
        t0,
    );
    let mut failed = status(&id, TaskState::TaskFailed, 3);
    failed.reason = Some(Reason::ExecutorTerminated as i32);
    failed.source = Some(Source::Agent as i32);
    failed.message = Some("é".repeat(MAX_MESSAGE));
    let later = t0 + Duration::from_secs(2);
    s.handle(Input::Event(ev::update(failed)), later);
    let changes = s.view(later + Duration::from_secs(1)).changes;
    assert_eq!(changes.len(), 2, "{changes:#?}");
    let (last, first) = (&changes[0], &changes[1]);
    assert_eq!(
        (first.from.as_str(), first.state.as_str()),
        ("TASK_STAGING", "TASK_RUNNING")
    );
    assert_eq!(first.timestamp_ms, Some(1_764_600_000_500));
    assert_eq!(first.hostname, "host-a0");
    assert_eq!(
        (last.from.as_str(), last.state.as_str()),
        ("TASK_RUNNING", "TASK_FAILED")
    );
    assert_eq!(last.reason.as_deref(), Some("REASON_EXECUTOR_TERMINATED"));
    assert_eq!(last.source.as_deref(), Some("SOURCE_AGENT"));
    let message = last.message.as_deref().unwrap_or_default();
    assert!(
        message.len() <= MAX_MESSAGE && message.starts_with('é'),
        "{message}"
    );
    assert_eq!(last.age_s, 1.0);
    assert_eq!(first.age_s, 3.0);
}

#[test]
fn the_log_keeps_the_last_hundred() {
    let mut s = core();
    let now = Instant::now();
    let id = launched_server(&mut s, now);
    for i in 0..KEEP as u8 + 20 {
        let state = if i % 2 == 0 {
            TaskState::TaskRunning
        } else {
            TaskState::TaskUnreachable
        };
        s.handle(Input::Event(ev::update(status(&id, state, i + 1))), now);
    }
    let changes = s.view(now).changes;
    assert_eq!(changes.len(), KEEP);
    // 120 changes alternating RUNNING/UNREACHABLE: the newest (i = 119) went UNREACHABLE.
    assert_eq!(changes[0].state, "TASK_UNREACHABLE");
    let oldest = &changes[KEEP - 1];
    assert_eq!(
        (oldest.from.as_str(), oldest.state.as_str()),
        ("TASK_UNREACHABLE", "TASK_RUNNING"),
        "i = 20 is the oldest kept"
    );
}
