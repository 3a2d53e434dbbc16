//! Load figures for the local cluster (issue 11): 1,000 agents and 10,000 tasks in one
//! process, driven by a scheduler over real HTTP on 127.0.0.1 (protobuf both ways).
//! Containers are simulated (`ClusterConfig::simulate_processes`): what is measured is the
//! cluster — offers, launches, status updates and acknowledgements through its HTTP and core
//! — not the fork rate of the machine.
//!
//! `cargo bench -p local-cluster --bench scale [-- AGENTS TASKS_PER_AGENT]` (under `cargo test`:
//! a 20-agent smoke run); prints offers/s, updates/s, the time to launch everything, to
//! reconcile and to tear down, and RSS.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use local_cluster::{ClusterConfig, LocalCluster};
use proto::Message;
use proto::recordio::Decoder;
use proto::scheduler::{Call, Event, event::Type as EventType};
use proto::v1::{self, TaskState};
use tokio::sync::Semaphore;

const PB: &str = "application/x-protobuf";

/// Calls in flight at once (a scheduler's connection pool).
const IN_FLIGHT: usize = 32;

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Raises the open-files limit to its hard maximum: every agent is a listener.
fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
    lim.rlim_cur
}

struct Client {
    http: reqwest::Client,
    url: String,
    stream_id: String,
    framework_id: v1::FrameworkId,
    gate: Semaphore,
}

impl Client {
    async fn post(&self, call: Call) {
        let _permit = self.gate.acquire().await.expect("gate");
        let resp = self
            .http
            .post(&self.url)
            .header("Content-Type", PB)
            .header("Mesos-Stream-Id", &self.stream_id)
            .body(call.encode_to_vec())
            .send()
            .await
            .expect("call sent");
        assert_eq!(resp.status().as_u16(), 202, "call accepted");
    }
}

fn task(id: String, agent: &v1::AgentId) -> v1::TaskInfo {
    v1::TaskInfo {
        name: id.clone(),
        task_id: v1::TaskId { value: id },
        agent_id: agent.clone(),
        resources: vec![
            proto::resources::scalar("cpus", 0.1),
            proto::resources::scalar("mem", 32.0),
        ],
        command: Some(v1::CommandInfo {
            value: Some("sleep 3600".into()),
            shell: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Reads events until `done` says stop, handing each to `on`.
async fn read_events(
    resp: &mut reqwest::Response,
    decoder: &mut Decoder,
    mut on: impl FnMut(Event) -> bool,
) {
    loop {
        while let Ok(Some(rec)) = decoder.decode() {
            if let Ok(ev) = Event::decode(rec)
                && on(ev)
            {
                return;
            }
        }
        let chunk = tokio::time::timeout(Duration::from_secs(120), resp.chunk())
            .await
            .expect("events keep coming")
            .expect("stream open")
            .expect("stream not ended");
        decoder.feed(&chunk);
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    // `cargo test --all-targets` runs this without `--bench`: a small smoke run then.
    let full = std::env::args().any(|a| a == "--bench");
    let agents = args
        .first()
        .copied()
        .unwrap_or(if full { 1000 } else { 20 });
    let per_agent = args.get(1).copied().unwrap_or(if full { 10 } else { 2 });
    let total = agents * per_agent;
    let nofile = raise_nofile();
    println!("agents {agents}, tasks {total}, open-files limit {nofile}");
    let rss0 = rss_mb();

    let t = Instant::now();
    let mut cfg = ClusterConfig {
        agents,
        cpus: per_agent as f64 * 0.1 + 0.05,
        mem: per_agent as f64 * 32.0 + 16.0,
        ports_first: 40_000,
        ports_count: 10,
        simulate_processes: true,
        ..ClusterConfig::default()
    };
    cfg.master.heartbeat = Duration::from_secs(15);
    let cluster = LocalCluster::start(cfg).await.expect("cluster starts");
    println!(
        "start: {:.2} s, RSS {:.0} MB (+{:.0})",
        t.elapsed().as_secs_f64(),
        rss_mb(),
        rss_mb() - rss0
    );

    let url = format!("{}/api/v1/scheduler", cluster.master_url());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(IN_FLIGHT)
        .build()
        .expect("client");
    let info = proto::calls::offer::framework_info("root", "scale", &[]);
    let mut resp = http
        .post(&url)
        .header("Content-Type", PB)
        .header("Accept", PB)
        .body(proto::calls::scheduler::subscribe(info).encode_to_vec())
        .send()
        .await
        .expect("subscribe");
    let stream_id = resp
        .headers()
        .get("mesos-stream-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut decoder = Decoder::new(1 << 26);
    let mut framework_id = None;
    read_events(&mut resp, &mut decoder, |ev| {
        framework_id = ev.subscribed.map(|s| s.framework_id);
        framework_id.is_some()
    })
    .await;
    let client = Arc::new(Client {
        http,
        url,
        stream_id,
        framework_id: framework_id.expect("SUBSCRIBED"),
        gate: Semaphore::new(IN_FLIGHT),
    });

    // Offers: every agent's, each accepted with its share of tasks.
    let t_offers = Instant::now();
    let mut offers = 0usize;
    let mut offers_done_at = None;
    let running = Arc::new(AtomicUsize::new(0));
    let mut updates = 0usize;
    let mut launched = 0usize;
    let mut pending = tokio::task::JoinSet::new();
    read_events(&mut resp, &mut decoder, |ev| {
        match EventType::try_from(ev.r#type.unwrap_or(0)) {
            Ok(EventType::Offers) => {
                for offer in ev.offers.map(|o| o.offers).unwrap_or_default() {
                    offers += 1;
                    let tasks = if launched < total {
                        (0..per_agent)
                            .map(|i| task(format!("t{}", launched + i), &offer.agent_id))
                            .collect()
                    } else {
                        Vec::new()
                    };
                    launched += tasks.len();
                    let call = proto::calls::scheduler::accept(
                        &client.framework_id,
                        vec![offer.id.clone()],
                        vec![proto::calls::offer::launch(tasks)],
                        Some(proto::calls::offer::refuse_for(3600.0)),
                    );
                    let c = client.clone();
                    pending.spawn(async move { c.post(call).await });
                }
                if launched >= total && offers_done_at.is_none() {
                    offers_done_at = Some(t_offers.elapsed());
                }
            }
            Ok(EventType::Update) => {
                let st = ev.update.expect("update").status;
                updates += 1;
                if st.state == TaskState::TaskRunning as i32 {
                    running.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(ack) =
                    proto::calls::scheduler::acknowledge_status(&client.framework_id, &st)
                {
                    let c = client.clone();
                    pending.spawn(async move { c.post(ack).await });
                }
            }
            _ => {}
        }
        running.load(Ordering::Relaxed) >= total
    })
    .await;
    while pending.join_next().await.is_some() {}
    let all = t_offers.elapsed().as_secs_f64();
    let offer_secs = offers_done_at.map_or(all, |d| d.as_secs_f64());
    println!(
        "offers: {offers} in {offer_secs:.2} s = {:.0} offers/s",
        offers as f64 / offer_secs
    );
    println!(
        "launch: {total} tasks RUNNING in {all:.2} s; {updates} updates received and \
         acknowledged = {:.0} updates/s",
        updates as f64 / all
    );
    let rss = rss_mb();
    println!(
        "RSS with {total} tasks: {rss:.0} MB ({:.1} KB per task above the idle cluster)",
        (rss - rss0) * 1024.0 / total as f64
    );
    // SAFETY: malloc_trim only walks glibc's arenas under their own locks.
    unsafe {
        libc::malloc_trim(0);
    }
    let live = rss_mb();
    println!(
        "  of which live (after malloc_trim): {live:.0} MB ({:.1} KB per task)",
        (live - rss0) * 1024.0 / total as f64
    );

    // Implicit reconciliation: one UPDATE per task.
    let t = Instant::now();
    client
        .post(proto::calls::scheduler::reconcile(
            &client.framework_id,
            vec![],
        ))
        .await;
    let mut answered = 0;
    read_events(&mut resp, &mut decoder, |ev| {
        if ev.r#type == Some(EventType::Update as i32) {
            answered += 1;
        }
        answered >= total
    })
    .await;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "reconcile: {answered} answers in {secs:.2} s = {:.0} updates/s",
        answered as f64 / secs
    );

    let t = Instant::now();
    client
        .post(proto::calls::scheduler::teardown(&client.framework_id))
        .await;
    let ids = cluster.agent_ids();
    while ids
        .iter()
        .any(|a| cluster.container_count(a).unwrap_or(0) > 0)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("teardown: {:.2} s", t.elapsed().as_secs_f64());
    cluster.shutdown().await;
}
