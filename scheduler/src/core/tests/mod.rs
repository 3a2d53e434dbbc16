//! Table tests of the reducer: events in, actions out, no sockets, time passed in.

mod failures;
mod launching;

use std::time::{Duration, Instant};

use proto::events::scheduler as ev;
use proto::framework::{PoolState, Report, TaskKind};
use proto::resources::{cpus, mem, ports};
use proto::scheduler::call::Type as CallType;
use proto::scheduler::{Call, Event};
use proto::v1::framework_info::capability::Type as Cap;
use proto::v1::{AgentId, ExecutorId, FrameworkId, Offer, OfferId, TaskId, TaskState, TaskStatus};

use super::{Action, CoreConfig, Input, Persisted, State, StoreOp};
use crate::config::SchedulerConfig;

pub(crate) const FID: &str = "fw-1";

pub(crate) fn config(tweak: impl FnOnce(&mut SchedulerConfig)) -> CoreConfig {
    let mut cfg = SchedulerConfig::default();
    tweak(&mut cfg);
    let info = proto::calls::offer::framework_info(
        "miner",
        "mesos-miner",
        &[Cap::MultiRole, Cap::PartitionAware, Cap::TaskKillingState],
    );
    let command = super::launch::executor_command("http://sched:8080/executor/abc/mesos-miner");
    CoreConfig::new(&cfg, info, command)
}

pub(crate) struct Harness {
    pub(crate) state: State,
    pub(crate) t0: Instant,
    pub(crate) now: Instant,
}

impl Harness {
    pub(crate) fn new(cfg: CoreConfig) -> Harness {
        Harness::recovered(cfg, Persisted::default())
    }

    pub(crate) fn recovered(cfg: CoreConfig, persisted: Persisted) -> Harness {
        let t0 = Instant::now();
        Harness {
            state: State::new(cfg, persisted, t0),
            t0,
            now: t0,
        }
    }

    pub(crate) fn at(&mut self, secs: f64) {
        self.now = self.t0 + Duration::from_secs_f64(secs);
    }

    pub(crate) fn event(&mut self, event: Event) -> Vec<Action> {
        self.state.handle(Input::Event(event), self.now)
    }

    pub(crate) fn tick(&mut self, secs: f64) -> Vec<Action> {
        self.at(secs);
        self.state.handle_timeout(self.now)
    }

    pub(crate) fn subscribe(&mut self) -> Vec<Action> {
        self.event(ev::subscribed(FrameworkId::new(FID), 15.0, None))
    }

    /// Subscribed, server launched on agent `a0` and RUNNING; returns its task id.
    pub(crate) fn with_running_server(&mut self) -> String {
        self.subscribe();
        let out = self.event(ev::offers(vec![offer("o-s", "a0", 4.0, 4096.0, &[31000])]));
        let id = launched(&out)[0].task_id.value.clone();
        self.event(ev::update(status(
            &id,
            "a0",
            TaskState::TaskRunning,
            Some(1),
        )));
        id
    }
}

pub(crate) fn offer(id: &str, agent: &str, c: f64, m: f64, p: &[u64]) -> Offer {
    Offer {
        id: OfferId::new(id),
        framework_id: FrameworkId::new(FID),
        agent_id: AgentId::new(agent),
        hostname: format!("host-{agent}"),
        resources: vec![cpus(c), mem(m), ports(p)],
        ..Offer::default()
    }
}

pub(crate) fn status(task: &str, agent: &str, state: TaskState, uuid: Option<u8>) -> TaskStatus {
    TaskStatus {
        task_id: TaskId::new(task),
        state: state as i32,
        agent_id: Some(AgentId::new(agent)),
        uuid: uuid.map(|n| vec![n; 16]),
        ..TaskStatus::default()
    }
}

pub(crate) fn report(task: &str, seq: u64, rate: f64) -> Report {
    Report {
        v: 1,
        seq,
        sent_ms: 0,
        task_id: task.into(),
        kind: TaskKind::Worker,
        agent_id: "a1".into(),
        hashes: seq * 100,
        hashrate_10s: rate,
        hashrate_1m: rate,
        hashrate_15m: rate,
        accepted: seq,
        rejected: 0,
        stale: 0,
        difficulty: Some(1.0),
        threads: 2,
        kernel: "sha-ni".into(),
        pool: Some(PoolState {
            url: "stratum+tcp://h:1".into(),
            state: "connected".into(),
        }),
        server: None,
    }
}

pub(crate) fn message(task: &str, data: Vec<u8>) -> Event {
    ev::message(
        AgentId::new("a1"),
        ExecutorId::new(format!("exec-{task}")),
        data,
    )
}

pub(crate) fn calls(out: &[Action]) -> Vec<&Call> {
    out.iter()
        .filter_map(|a| match a {
            Action::Call(c) => Some(c.as_ref()),
            _ => None,
        })
        .collect()
}

pub(crate) fn types(out: &[Action]) -> Vec<CallType> {
    calls(out).iter().map(|c| c.r#type()).collect()
}

pub(crate) fn launched(out: &[Action]) -> Vec<proto::v1::TaskInfo> {
    calls(out)
        .iter()
        .filter_map(|c| c.accept.as_ref())
        .flat_map(|a| a.operations.iter())
        .filter_map(|op| op.launch.as_ref())
        .flat_map(|l| l.task_infos.iter().cloned())
        .collect()
}

pub(crate) fn killed(out: &[Action]) -> Vec<String> {
    calls(out)
        .iter()
        .filter_map(|c| c.kill.as_ref())
        .map(|k| k.task_id.value.clone())
        .collect()
}

pub(crate) fn persisted(out: &[Action]) -> Vec<&StoreOp> {
    out.iter()
        .filter_map(|a| match a {
            Action::Persist(op) => Some(op),
            _ => None,
        })
        .collect()
}

/// Index of the first action matching `f`.
pub(crate) fn position(out: &[Action], f: impl Fn(&Action) -> bool) -> usize {
    out.iter().position(f).unwrap_or(usize::MAX)
}
