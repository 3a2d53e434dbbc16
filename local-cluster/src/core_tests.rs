//! `Core` scenarios without sockets or processes: a scripted scheduler and executor post
//! calls, the test plays the process events, and time is an input, so each scenario runs in
//! microseconds and the same seed gives the same bytes.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use prost::Message;

use super::*;
use crate::pb::sched::event::Type as Ev;
use crate::pb::v1::{self, TaskState, framework_info::capability::Type as Cap};
use crate::resources::Res;
use crate::wire::PROTOBUF;
use proto::calls::{executor as exec_calls, offer, scheduler as calls};

/// A cluster of one master (index 0) and one agent, with the scheduler and executor sides.
struct Sim {
    core: Core,
    now: Instant,
    /// Every output not consumed yet, in order.
    outs: Vec<Out>,
    agent: String,
}

/// The scheduler side of a scenario.
struct Sched {
    fid: v1::FrameworkId,
    stream_id: String,
    stream: u64,
}

/// The executor side of a scenario: its subscription stream.
struct Exec {
    conn: u64,
}

const EXECUTOR: &str = "miner";
const TASK: &str = "worker-1";

fn sim(seed: u64) -> Sim {
    let now = Instant::now();
    let wall = Wall::anchored(now, Duration::from_secs(1_700_000_000));
    let mut core = Core::new(MasterConfig::default(), wall, Ids::seeded(seed));
    let agent = core.new_agent_id();
    let total = Res::new(2.0, 1024.0, 0.0, &[(31000, 31009)]);
    let cfg = AgentConfig::new(agent.clone(), 5051, total, PathBuf::from("/nonexistent"));
    core.add_agent(cfg, now);
    Sim {
        core,
        now,
        outs: Vec::new(),
        agent,
    }
}

fn request(path: &str, body: Vec<u8>, stream_id: Option<&str>) -> Request {
    Request {
        method: "POST".into(),
        path_and_query: path.into(),
        content_type: Some(PROTOBUF.into()),
        accept: Some(PROTOBUF.into()),
        stream_id: stream_id.map(String::from),
        authorization: None,
        body: body.into(),
    }
}

fn framework(checkpoint: bool) -> v1::FrameworkInfo {
    let mut info = offer::framework_info("root", "t", &[Cap::PartitionAware]);
    info.checkpoint = Some(checkpoint);
    info.failover_timeout = Some(3600.0);
    info
}

impl Sim {
    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.core.handle_timeout(self.now);
        self.collect();
    }

    fn collect(&mut self) {
        self.outs.extend(self.core.take_outputs());
    }

    /// A scheduler call to master `i`.
    fn sched_call(&mut self, i: usize, call: &sched::Call, sid: Option<&str>) -> Reply {
        let req = request("/api/v1/scheduler", call.encode_to_vec(), sid);
        let reply = self.core.scheduler_request(i, &req, self.now);
        self.collect();
        reply
    }

    /// An executor call to the agent.
    fn exec_call(&mut self, call: &exec::Call) -> Reply {
        let req = request("/api/v1/executor", call.encode_to_vec(), None);
        let reply = self.core.executor_request(&self.agent, &req, self.now);
        self.collect();
        reply
    }

    /// Events sent so far on scheduler stream `stream` (consumed).
    fn sched_events(&mut self, stream: u64) -> Vec<sched::Event> {
        let mut events = Vec::new();
        self.outs.retain(|o| match o {
            Out::SchedEvent { stream: s, event } if *s == stream => {
                events.push(event.clone());
                false
            }
            _ => true,
        });
        events
    }

    /// Events sent so far on executor stream `conn` (consumed).
    fn exec_events(&mut self, conn: u64) -> Vec<exec::event::Type> {
        let mut events = Vec::new();
        self.outs.retain(|o| match o {
            Out::ExecEvent { conn: c, event } if *c == conn => {
                events.extend(
                    event
                        .r#type
                        .and_then(|t| exec::event::Type::try_from(t).ok()),
                );
                false
            }
            _ => true,
        });
        events
    }

    /// Whether `stream` was aborted (cut without terminator); consumes the output.
    fn aborted(&mut self, stream: u64) -> bool {
        let before = self.outs.len();
        self.outs
            .retain(|o| !matches!(o, Out::Abort { stream: s } if *s == stream));
        self.outs.len() != before
    }

    fn subscribe(&mut self, i: usize, info: v1::FrameworkInfo) -> (Sched, Vec<sched::Event>) {
        let reply = self.sched_call(i, &calls::subscribe(info), None);
        let Reply::Stream {
            id,
            mesos_stream_id: Some(stream_id),
            ..
        } = reply
        else {
            panic!("not a stream: {reply:?}");
        };
        let events = self.sched_events(id);
        let fid = events[0]
            .subscribed
            .clone()
            .expect("SUBSCRIBED")
            .framework_id;
        let s = Sched {
            fid,
            stream_id,
            stream: id,
        };
        (s, events)
    }

    /// Accepts the first offer in `events` with one task on a custom executor; returns the
    /// container the agent asked the driver to launch.
    fn launch(&mut self, s: &Sched, events: &[sched::Event]) -> String {
        let offer = events
            .iter()
            .find_map(|e| e.offers.as_ref())
            .map(|o| o.offers[0].clone())
            .expect("an offer");
        let executor = v1::ExecutorInfo {
            executor_id: EXECUTOR.into(),
            command: Some(v1::CommandInfo {
                value: Some("./mesos-miner executor".into()),
                ..Default::default()
            }),
            resources: Res::new(0.1, 32.0, 0.0, &[]).to_pb(Some("*")),
            ..Default::default()
        };
        let task = v1::TaskInfo {
            name: TASK.into(),
            task_id: TASK.into(),
            agent_id: offer.agent_id.clone(),
            resources: Res::new(1.0, 128.0, 0.0, &[]).to_pb(Some("*")),
            executor: Some(executor),
            ..Default::default()
        };
        let call = calls::accept(
            &s.fid,
            vec![offer.id],
            vec![offer::launch(vec![task])],
            None,
        );
        let reply = self.sched_call(0, &call, Some(&s.stream_id));
        assert_eq!(text(reply).0, 202);
        let launch = self.outs.iter().find_map(|o| match o {
            Out::Launch { container, .. } => Some(container.clone()),
            _ => None,
        });
        launch.expect("a container launch")
    }

    /// The executor process starts and subscribes (re-subscribes with `updates`).
    fn executor_subscribes(&mut self, s: &Sched, updates: Vec<v1::TaskStatus>) -> Exec {
        let call = exec_calls::subscribe(&EXECUTOR.into(), &s.fid, Vec::new(), updates);
        match self.exec_call(&call) {
            Reply::Stream { id, .. } => Exec { conn: id },
            other => panic!("executor SUBSCRIBE: {other:?}"),
        }
    }

    /// The executor reports `state` (uuid `n`); returns the status it sent.
    fn executor_update(&mut self, s: &Sched, state: TaskState, n: u8) -> v1::TaskStatus {
        let status = exec_calls::status(&EXECUTOR.into(), TASK.into(), state, [n; 16], 1.0);
        let reply = self.exec_call(&exec_calls::update(
            &EXECUTOR.into(),
            &s.fid,
            status.clone(),
        ));
        assert_eq!(text(reply).0, 202);
        status
    }

    /// The scheduler reconciles its task; returns the state the master answers.
    fn reconcile(&mut self, i: usize, s: &Sched) -> Vec<TaskState> {
        let call = calls::reconcile(&s.fid, vec![(TASK.into(), None)]);
        self.sched_call(i, &call, Some(&s.stream_id));
        updates(&self.sched_events(s.stream))
            .iter()
            .map(|st| st.state())
            .collect()
    }
}

fn text(reply: Reply) -> (u16, String) {
    match reply {
        Reply::Plain { code, body, .. } => (code, body),
        Reply::Stream { .. } => (200, String::new()),
    }
}

fn kinds(events: &[sched::Event]) -> Vec<Ev> {
    events
        .iter()
        .filter_map(|e| Ev::try_from(e.r#type?).ok())
        .collect()
}

fn updates(events: &[sched::Event]) -> Vec<v1::TaskStatus> {
    events
        .iter()
        .filter_map(|e| e.update.as_ref().map(|u| u.status.clone()))
        .collect()
}

/// subscribe → offers → accept → launch → executor subscribe → update → ack, on one seed.
fn happy_path(seed: u64) -> (Sim, Sched, Exec) {
    let mut sim = sim(seed);
    let (s, events) = sim.subscribe(0, framework(true));
    assert_eq!(kinds(&events), [Ev::Subscribed, Ev::Heartbeat, Ev::Offers]);
    let container = sim.launch(&s, &events);
    sim.core.process_started(&container, sim.now);
    sim.collect();
    let e = sim.executor_subscribes(&s, Vec::new());
    assert_eq!(
        sim.exec_events(e.conn),
        [exec::event::Type::Subscribed, exec::event::Type::Launch]
    );
    let sent = sim.executor_update(&s, TaskState::TaskRunning, 1);
    assert_eq!(sim.exec_events(e.conn), [exec::event::Type::Acknowledged]);
    let got = updates(&sim.sched_events(s.stream));
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].state(), &got[0].uuid),
        (TaskState::TaskRunning, &sent.uuid)
    );
    let ack = calls::acknowledge_status(&s.fid, &got[0]).expect("reliable update");
    assert_eq!(text(sim.sched_call(0, &ack, Some(&s.stream_id))).0, 202);
    (sim, s, e)
}

#[test]
fn a_task_launches_reports_and_is_acknowledged() {
    let (mut sim, s, _) = happy_path(1);
    // Acknowledged: nothing is retried, however long we wait.
    sim.advance(Duration::from_secs(60));
    assert!(updates(&sim.sched_events(s.stream)).is_empty());
    assert_eq!(sim.reconcile(0, &s), [TaskState::TaskRunning]);
}

#[test]
fn the_same_seed_and_inputs_give_the_same_outputs() {
    let run = |seed| {
        let (mut sim, s, _) = happy_path(seed);
        sim.advance(Duration::from_secs(20));
        sim.reconcile(0, &s);
        (
            s.fid,
            s.stream_id,
            format!("{:?}", sim.core.launch_history()),
        )
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7).0, run(8).0, "another seed, other ids");
}

#[test]
fn an_agent_restart_keeps_a_checkpointed_executor_that_resubscribes() {
    let (mut sim, s, e) = happy_path(2);
    let agent = sim.agent.clone();
    sim.core.agent_down(&agent, sim.now);
    sim.collect();
    assert!(sim.aborted(e.conn), "the executor's stream breaks");
    sim.core.agent_up(&agent, sim.now);
    sim.collect();
    let call = exec_calls::subscribe(&EXECUTOR.into(), &s.fid, Vec::new(), Vec::new());
    let (code, body) = text(sim.exec_call(&call));
    assert_eq!(
        (code, body.as_str()),
        (503, "Agent has not finished recovery")
    );
    sim.advance(Duration::from_secs(1));
    let e = sim.executor_subscribes(&s, Vec::new());
    assert_eq!(sim.exec_events(e.conn), [exec::event::Type::Subscribed]);
    // Past the re-registration timeout: the executor came back, so nothing is killed.
    sim.advance(Duration::from_secs(3));
    assert!(!sim.outs.iter().any(|o| matches!(o, Out::Signal { .. })));
    assert_eq!(sim.reconcile(0, &s), [TaskState::TaskRunning]);
}

#[test]
fn a_promoted_standby_recovers_then_takes_the_framework_back() {
    let (mut sim, s, _) = happy_path(3);
    let standby = sim.core.add_standby(MasterConfig {
        port: 5052,
        ..MasterConfig::default()
    });
    let (code, _) = text(sim.sched_call(standby, &calls::subscribe(framework(true)), None));
    assert_eq!(code, 307, "a standby redirects to the leader");
    assert!(
        sim.core
            .promote_standby(standby, Duration::from_secs(1), sim.now)
    );
    sim.collect();
    assert!(sim.aborted(s.stream), "the old leader's stream breaks");
    let mut info = framework(true);
    info.id = Some(s.fid.clone());
    let (code, body) = text(sim.sched_call(standby, &calls::subscribe(info.clone()), None));
    assert_eq!(
        (code, body.as_str()),
        (503, "Master has not finished recovery")
    );
    assert_eq!(
        text(sim.sched_call(0, &calls::subscribe(info.clone()), None)).0,
        307
    );
    sim.advance(Duration::from_secs(1));
    let (s2, _) = sim.subscribe(standby, info);
    assert_eq!(s2.fid, s.fid, "same framework on the new leader");
    // The agent re-registered with its task: the new master knows it.
    assert_eq!(sim.reconcile(standby, &s2), [TaskState::TaskRunning]);
}

#[test]
fn a_partition_makes_the_task_unreachable_and_the_heal_delivers_what_waited() {
    let (mut sim, s, _) = happy_path(4);
    let agent = sim.agent.clone();
    assert!(sim.core.partition_agent(&agent, sim.now));
    sim.collect();
    let events = sim.sched_events(s.stream);
    assert!(kinds(&events).contains(&Ev::Failure));
    let lost = updates(&events);
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].state(), TaskState::TaskUnreachable);
    assert!(lost[0].uuid.is_none(), "master-generated: not acknowledged");
    // The executor keeps running; its update waits in the agent.
    let sent = sim.executor_update(&s, TaskState::TaskFinished, 2);
    assert!(updates(&sim.sched_events(s.stream)).is_empty());
    assert!(sim.core.heal_agent(&agent, sim.now));
    sim.collect();
    let healed = updates(&sim.sched_events(s.stream));
    assert_eq!(healed.len(), 1);
    assert_eq!(
        (healed[0].state(), &healed[0].uuid),
        (TaskState::TaskFinished, &sent.uuid)
    );
}
