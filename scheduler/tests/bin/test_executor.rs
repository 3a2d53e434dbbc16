//! A stand-in for the real executor in the scheduler's driver tests, written against the
//! executor HTTP API and the `proto::framework` contract alone: on LAUNCH it sends
//! TASK_RUNNING and then a `Report` every `report_interval_ms` (a fixed 1000 H/s for a
//! worker; a server also reports its URL); KILL → TASK_KILLED; SHUTDOWN kills all. It exits
//! once its tasks are terminal and acknowledged; with `MESOS_CHECKPOINT=1` it re-subscribes
//! after losing the agent, carrying what is unacknowledged.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proto::Message;
use proto::executor::{Call, Event, event::Type as Ev};
use proto::framework::{Report, ServerReport, TaskKind, TaskSpec};
use proto::recordio::Decoder;
use proto::v1::{ExecutorId, FrameworkId, TaskId, TaskInfo, TaskState, TaskStatus};

const PB: &str = "application/x-protobuf";

struct Task {
    info: TaskInfo,
    kind: TaskKind,
    url: String,
    terminal: bool,
}

struct Exec {
    url: String,
    eid: ExecutorId,
    fid: FrameworkId,
    http: reqwest::Client,
    tasks: BTreeMap<String, Task>,
    unacked: BTreeMap<Vec<u8>, TaskStatus>,
    acked_tasks: Vec<String>,
    seq: u64,
    agent: String,
    interval: Duration,
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Exec {
    async fn post(&self, call: &Call) -> Option<reqwest::Response> {
        self.http
            .post(&self.url)
            .header("Content-Type", PB)
            .header("Accept", PB)
            .body(call.encode_to_vec())
            .send()
            .await
            .ok()
    }

    async fn update(&mut self, task_id: &str, state: TaskState) {
        let uuid = *uuid::Uuid::new_v4().as_bytes();
        let status = proto::calls::executor::status(
            &self.eid,
            TaskId::new(task_id),
            state,
            uuid,
            now_secs(),
        );
        self.unacked.insert(uuid.to_vec(), status.clone());
        if let Some(t) = self.tasks.get_mut(task_id) {
            t.terminal |= state != TaskState::TaskRunning;
        }
        let call = proto::calls::executor::update(&self.eid, &self.fid, status);
        let _ = self.post(&call).await;
    }

    async fn launch(&mut self, info: TaskInfo) {
        let id = info.task_id.value.clone();
        let spec = info.data.as_deref().and_then(|d| TaskSpec::parse(d).ok());
        let (kind, url) = match &spec {
            Some(TaskSpec::Server(s)) => (
                TaskKind::Server,
                format!("stratum+tcp://127.0.0.1:{}", s.stratum_port.unwrap_or(0)),
            ),
            Some(TaskSpec::Worker(w)) => (TaskKind::Worker, w.pool_url.clone()),
            None => (TaskKind::Worker, String::new()),
        };
        if let Some(ms) = spec.as_ref().map(|s| match s {
            TaskSpec::Server(s) => s.report_interval_ms,
            TaskSpec::Worker(w) => w.report_interval_ms,
        }) {
            self.interval = Duration::from_millis(ms.max(50));
        }
        self.agent = info.agent_id.value.clone();
        self.tasks.insert(
            id.clone(),
            Task {
                info,
                kind,
                url,
                terminal: false,
            },
        );
        self.update(&id, TaskState::TaskRunning).await;
    }

    async fn report(&mut self) {
        let live: Vec<(String, TaskKind, String)> = self
            .tasks
            .iter()
            .filter(|(_, t)| !t.terminal)
            .map(|(id, t)| (id.clone(), t.kind, t.url.clone()))
            .collect();
        for (id, kind, url) in live {
            self.seq += 1;
            let worker = kind == TaskKind::Worker;
            let rate = if worker { 1000.0 } else { 0.0 };
            let report = Report {
                v: 1,
                seq: self.seq,
                sent_ms: (now_secs() * 1000.0) as u64,
                task_id: id,
                kind,
                agent_id: self.agent.clone(),
                hashes: self.seq * 1000,
                hashrate_10s: rate,
                hashrate_1m: rate,
                hashrate_15m: rate,
                accepted: if worker { self.seq } else { 0 },
                rejected: 0,
                stale: 0,
                difficulty: Some(1.0),
                threads: 1,
                kernel: "test".into(),
                pool: worker.then(|| proto::framework::PoolState {
                    url: url.clone(),
                    state: "connected".into(),
                }),
                server: (!worker).then(|| ServerReport {
                    url,
                    node: "demo".into(),
                    ..ServerReport::default()
                }),
            };
            let call = proto::calls::executor::message(&self.eid, &self.fid, report.to_bytes());
            let _ = self.post(&call).await;
        }
    }

    async fn on_event(&mut self, ev: Event) -> bool {
        match ev.r#type.and_then(|t| Ev::try_from(t).ok()) {
            Some(Ev::Launch) => {
                if let Some(l) = ev.launch {
                    self.launch(l.task).await;
                }
            }
            Some(Ev::Kill) => {
                if let Some(k) = ev.kill {
                    self.update(&k.task_id.value, TaskState::TaskKilled).await;
                }
            }
            Some(Ev::Acknowledged) => {
                if let Some(a) = ev.acknowledged {
                    self.unacked.remove(&a.uuid);
                    self.acked_tasks.push(a.task_id.value);
                }
            }
            Some(Ev::Shutdown) => {
                let live: Vec<String> = self
                    .tasks
                    .iter()
                    .filter(|(_, t)| !t.terminal)
                    .map(|(id, _)| id.clone())
                    .collect();
                for id in live {
                    self.update(&id, TaskState::TaskKilled).await;
                }
            }
            _ => {}
        }
        self.done()
    }

    fn done(&self) -> bool {
        !self.tasks.is_empty() && self.tasks.values().all(|t| t.terminal) && self.unacked.is_empty()
    }

    /// One subscription; Ok(true) when finished.
    async fn session(&mut self) -> Result<bool, String> {
        let unacked_tasks: Vec<TaskInfo> = self
            .tasks
            .iter()
            .filter(|(id, _)| !self.acked_tasks.contains(id))
            .map(|(_, t)| t.info.clone())
            .collect();
        let call = proto::calls::executor::subscribe(
            &self.eid,
            &self.fid,
            unacked_tasks,
            self.unacked.values().cloned().collect(),
        );
        let mut resp = self.post(&call).await.ok_or("SUBSCRIBE not sent")?;
        if resp.status().as_u16() != 200 {
            return Err(format!("SUBSCRIBE answered {}", resp.status()));
        }
        let mut decoder = Decoder::new(1 << 24);
        let mut ticker = tokio::time::interval(self.interval);
        loop {
            while let Ok(Some(rec)) = decoder.decode() {
                let ev = Event::decode(rec).map_err(|e| e.to_string())?;
                if self.on_event(ev).await {
                    return Ok(true);
                }
                ticker = tokio::time::interval(self.interval);
            }
            tokio::select! {
                chunk = resp.chunk() => match chunk {
                    Ok(Some(c)) => decoder.feed(&c),
                    _ => return Ok(false),
                },
                _ = ticker.tick() => self.report().await,
            }
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let var = |n: &str| std::env::var(n).map_err(|_| format!("missing {n}"));
    let mut exec = Exec {
        url: format!("http://{}/api/v1/executor", var("MESOS_AGENT_ENDPOINT")?),
        eid: ExecutorId::new(var("MESOS_EXECUTOR_ID")?),
        fid: FrameworkId::new(var("MESOS_FRAMEWORK_ID")?),
        http: reqwest::Client::new(),
        tasks: BTreeMap::new(),
        unacked: BTreeMap::new(),
        acked_tasks: Vec::new(),
        seq: 0,
        agent: String::new(),
        interval: Duration::from_millis(200),
    };
    let checkpoint = var("MESOS_CHECKPOINT").is_ok_and(|v| v == "1");
    let mut failures = 0u32;
    loop {
        match exec.session().await {
            Ok(true) => return Ok(()),
            _ if checkpoint && failures < 600 => {
                failures += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(false) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
