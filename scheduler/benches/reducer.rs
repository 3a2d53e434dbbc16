//! The reducer at scale: OFFERS from 10,000 agents (one worker launched on each), their
//! 10,000 TASK_RUNNING updates, and hashrate reports from the 10,000 workers. Prints events
//! per second on one core and the heap bytes of state per task (measured with a counting
//! allocator), then runs the same as criterion benchmarks.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use criterion::{BatchSize, Criterion, Throughput};
use proto::events::scheduler as ev;
use proto::framework::{PoolState, Report, TaskKind};
use proto::resources::{cpus, mem, ports};
use proto::scheduler::Event;
use proto::v1::framework_info::capability::Type as Cap;
use proto::v1::{AgentId, ExecutorId, FrameworkId, Offer, OfferId, TaskId, TaskState, TaskStatus};
use scheduler::SchedulerConfig;
use scheduler::core::{Action, CoreConfig, Input, Persisted, State};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator and only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const AGENTS: usize = 10_000;

fn config() -> CoreConfig {
    let info = proto::calls::offer::framework_info(
        "miner",
        "mesos-miner",
        &[Cap::MultiRole, Cap::PartitionAware, Cap::TaskKillingState],
    );
    let command = scheduler::core::launch::executor_command("http://s:8080/executor/x/mesos-miner");
    CoreConfig::new(&SchedulerConfig::default(), info, command)
}

fn offer(i: usize) -> Offer {
    Offer {
        id: OfferId::new(format!("offer-{i}")),
        framework_id: FrameworkId::new("fw"),
        agent_id: AgentId::new(format!("agent-{i}")),
        hostname: format!("host-{i}.example"),
        resources: vec![cpus(8.0), mem(16_384.0), ports(&[31000, 31001])],
        ..Offer::default()
    }
}

fn status(task: &str, agent: &str, state: TaskState, uuid: u64) -> Event {
    let mut u = [0u8; 16];
    u[..8].copy_from_slice(&uuid.to_le_bytes());
    ev::update(TaskStatus {
        task_id: TaskId::new(task),
        state: state as i32,
        agent_id: Some(AgentId::new(agent)),
        uuid: Some(u.to_vec()),
        ..TaskStatus::default()
    })
}

fn report(task: &str, agent: &str, seq: u64) -> Event {
    let r = Report {
        v: 1,
        seq,
        sent_ms: 1_700_000_000_000 + seq,
        task_id: task.into(),
        kind: TaskKind::Worker,
        agent_id: agent.into(),
        hashes: seq * 10_000_000,
        hashrate_10s: 2.5e7,
        hashrate_1m: 2.4e7,
        hashrate_15m: 2.3e7,
        accepted: seq,
        rejected: 0,
        stale: 0,
        difficulty: Some(0.01),
        threads: 8,
        kernel: "sha-ni".into(),
        pool: Some(PoolState {
            url: "stratum+tcp://host-0.example:31000".into(),
            state: "connected".into(),
        }),
        server: None,
    };
    ev::message(
        AgentId::new(agent),
        ExecutorId::new(format!("exec-{task}")),
        r.to_bytes(),
    )
}

/// A subscribed state with the server RUNNING.
fn base() -> State {
    let now = Instant::now();
    let mut s = State::new(config(), Persisted::default(), now);
    s.handle(
        Input::Event(ev::subscribed(FrameworkId::new("fw"), 15.0, None)),
        now,
    );
    let out = s.handle(Input::Event(ev::offers(vec![offer(AGENTS)])), now);
    let server = launched_ids(&out).pop().expect("server launched");
    s.handle(
        Input::Event(status(
            &server,
            &format!("agent-{AGENTS}"),
            TaskState::TaskRunning,
            0,
        )),
        now,
    );
    s
}

fn launched_ids(out: &[Action]) -> Vec<String> {
    out.iter()
        .filter_map(|a| match a {
            Action::Call(c) => c.accept.as_ref(),
            _ => None,
        })
        .flat_map(|a| a.operations.iter())
        .filter_map(|op| op.launch.as_ref())
        .flat_map(|l| l.task_infos.iter().map(|t| t.task_id.value.clone()))
        .collect()
}

fn offer_events() -> Vec<Event> {
    (0..AGENTS).map(|i| ev::offers(vec![offer(i)])).collect()
}

/// Feeds events; returns the launched worker ids (agent index = position).
fn feed(state: &mut State, events: Vec<Event>) -> Vec<String> {
    let now = Instant::now();
    let mut ids = Vec::new();
    for e in events {
        ids.extend(launched_ids(&state.handle(Input::Event(e), now)));
    }
    ids
}

/// State with 10,000 RUNNING workers; their ids.
fn populated() -> (State, Vec<String>) {
    let mut s = base();
    let ids = feed(&mut s, offer_events());
    let running = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            status(
                id,
                &format!("agent-{i}"),
                TaskState::TaskRunning,
                i as u64 + 1,
            )
        })
        .collect();
    feed(&mut s, running);
    (s, ids)
}

fn reports(ids: &[String], seq: u64) -> Vec<Event> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| report(id, &format!("agent-{i}"), seq))
        .collect()
}

fn running(ids: &[String]) -> Vec<Event> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            status(
                id,
                &format!("agent-{i}"),
                TaskState::TaskRunning,
                i as u64 + 1,
            )
        })
        .collect()
}

fn rate(label: &str, events: Vec<Event>, state: &mut State) {
    let n = events.len();
    let t = Instant::now();
    feed(state, events);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{label}: {n} events in {:.1} ms = {:.0} events/s",
        secs * 1e3,
        n as f64 / secs
    );
}

/// Events per second of each phase, once, and the heap bytes per task.
fn summary() {
    let mut s = base();
    let offers = offer_events();
    let t = Instant::now();
    let ids = feed(&mut s, offers);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "offers from {AGENTS} agents ({} workers launched): {:.0} events/s",
        ids.len(),
        AGENTS as f64 / secs
    );
    rate("TASK_RUNNING updates of the workers", running(&ids), &mut s);
    rate(
        "offers again from the 10,000 agents (all declined)",
        offer_events(),
        &mut s,
    );
    for seq in 1..=3 {
        rate("reports from the workers", reports(&ids, seq), &mut s);
    }
    drop(s);
    let before = LIVE.load(Ordering::Relaxed);
    let (mut st, ids) = populated();
    feed(&mut st, reports(&ids, 1));
    // Not state: the bench's own list of ids.
    let ids_bytes =
        ids.capacity() * size_of::<String>() + ids.iter().map(String::capacity).sum::<usize>();
    let bytes = LIVE.load(Ordering::Relaxed) - before - ids_bytes as isize;
    let tasks = st.task_count().max(1) as isize;
    println!(
        "state: {} tasks (each RUNNING, with a report) in {bytes} heap bytes = {} bytes per task",
        st.task_count(),
        bytes / tasks
    );
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("reducer");
    g.sample_size(10);
    g.throughput(Throughput::Elements(AGENTS as u64));
    g.bench_function("offers_10k_agents", |b| {
        b.iter_batched(
            || (base(), offer_events()),
            |(mut s, e)| feed(&mut s, e),
            BatchSize::LargeInput,
        )
    });
    let (state, ids) = populated();
    let mut state = Some(state);
    let mut seq = 1;
    g.bench_function("reports_10k_workers", |b| {
        b.iter_batched(
            || {
                seq += 1;
                reports(&ids, seq)
            },
            |e| feed(state.as_mut().expect("state"), e),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn main() {
    summary();
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
