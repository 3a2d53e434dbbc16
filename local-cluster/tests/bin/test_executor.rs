//! A minimal custom executor written against the Mesos executor HTTP API alone (the `proto`
//! types, reqwest and tokio): the "test executor" of the local cluster's end-to-end tests.
//! It knows nothing of the local cluster, so what works with it works with a real agent.
//!
//! Task behaviour comes from `TaskInfo.data`: `finish` → RUNNING then FINISHED; anything
//! else → RUNNING until killed. Every MESSAGE is echoed back as `echo:<data>`; after each
//! RUNNING it sends `hello-from-executor`. With `MESOS_CHECKPOINT=1` it re-subscribes after
//! losing the agent (every 100 ms, until `MESOS_RECOVERY_TIMEOUT`), carrying its
//! unacknowledged tasks and updates (spec §3.4).

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use proto::Message;
use proto::executor::{Call, Event, event::Type as Ev};
use proto::recordio::Decoder;
use proto::v1::{ExecutorId, FrameworkId, TaskInfo, TaskState, TaskStatus};

const PB: &str = "application/x-protobuf";

struct Exec {
    url: String,
    eid: ExecutorId,
    fid: FrameworkId,
    http: reqwest::Client,
    /// Tasks with no acknowledged update yet.
    unacked_tasks: BTreeMap<String, TaskInfo>,
    /// uuid → update not yet ACKNOWLEDGED.
    unacked: BTreeMap<Vec<u8>, TaskStatus>,
    /// task id → terminal?
    tasks: BTreeMap<String, bool>,
    shutting_down: bool,
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("missing {name}"))
}

/// stout duration (`15mins`, `2secs`, `250ms`).
fn duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = text.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ns" => n / 1e9,
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "secs" => n,
        "mins" => n * 60.0,
        "hrs" => n * 3600.0,
        "days" => n * 86400.0,
        "weeks" => n * 604_800.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

impl Exec {
    async fn post(&self, call: &Call) -> Result<reqwest::Response, reqwest::Error> {
        self.http
            .post(&self.url)
            .header("Content-Type", PB)
            .header("Accept", PB)
            .body(call.encode_to_vec())
            .send()
            .await
    }

    async fn update(&mut self, task_id: &str, state: TaskState) {
        let uuid = *uuid::Uuid::new_v4().as_bytes();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let status = proto::calls::executor::status(
            &self.eid,
            proto::v1::TaskId {
                value: task_id.into(),
            },
            state,
            uuid,
            now,
        );
        self.unacked.insert(uuid.to_vec(), status.clone());
        let terminal = matches!(
            state,
            TaskState::TaskFinished | TaskState::TaskKilled | TaskState::TaskFailed
        );
        self.tasks.insert(task_id.into(), terminal);
        // If the agent is away the update stays unacknowledged and goes with the next SUBSCRIBE.
        let _ = self
            .post(&proto::calls::executor::update(
                &self.eid, &self.fid, status,
            ))
            .await;
    }

    async fn message(&self, data: Vec<u8>) {
        let _ = self
            .post(&proto::calls::executor::message(&self.eid, &self.fid, data))
            .await;
    }

    async fn launch(&mut self, task: TaskInfo) {
        let id = task.task_id.value.clone();
        self.unacked_tasks.insert(id.clone(), task.clone());
        self.update(&id, TaskState::TaskRunning).await;
        self.message(b"hello-from-executor".to_vec()).await;
        if task.data.as_deref() == Some(b"finish".as_slice()) {
            self.update(&id, TaskState::TaskFinished).await;
        }
    }

    async fn on_event(&mut self, ev: Event) {
        match ev.r#type.and_then(|t| Ev::try_from(t).ok()) {
            Some(Ev::Launch) => {
                if let Some(task) = ev.launch.map(|l| l.task) {
                    self.launch(task).await;
                }
            }
            Some(Ev::LaunchGroup) => {
                for task in ev
                    .launch_group
                    .map(|g| g.task_group.tasks)
                    .unwrap_or_default()
                {
                    self.launch(task).await;
                }
            }
            Some(Ev::Kill) => {
                if let Some(k) = ev.kill {
                    self.update(&k.task_id.value, TaskState::TaskKilled).await;
                }
            }
            Some(Ev::Message) => {
                if let Some(m) = ev.message {
                    let mut data = b"echo:".to_vec();
                    data.extend_from_slice(&m.data);
                    self.message(data).await;
                }
            }
            Some(Ev::Acknowledged) => {
                if let Some(a) = ev.acknowledged {
                    self.unacked.remove(&a.uuid);
                    self.unacked_tasks.remove(&a.task_id.value);
                }
            }
            Some(Ev::Shutdown) => {
                self.shutting_down = true;
                let live: Vec<String> = self
                    .tasks
                    .iter()
                    .filter(|(_, t)| !**t)
                    .map(|(id, _)| id.clone())
                    .collect();
                for id in live {
                    self.update(&id, TaskState::TaskKilled).await;
                }
            }
            _ => {}
        }
    }

    fn done(&self) -> bool {
        (self.shutting_down || (!self.tasks.is_empty() && self.tasks.values().all(|t| *t)))
            && self.unacked.is_empty()
    }

    /// One subscription: returns when the stream ends (Ok(true) = we are done).
    async fn session(&mut self, deadline: &mut Option<Instant>) -> Result<bool, String> {
        let call = proto::calls::executor::subscribe(
            &self.eid,
            &self.fid,
            self.unacked_tasks.values().cloned().collect(),
            self.unacked.values().cloned().collect(),
        );
        let mut resp = self.post(&call).await.map_err(|e| e.to_string())?;
        if resp.status().as_u16() != 200 {
            return Err(format!("SUBSCRIBE answered {}", resp.status()));
        }
        // Connected again: the next disconnection starts a fresh recovery deadline.
        *deadline = None;
        let mut decoder = Decoder::new(1 << 24);
        loop {
            while let Ok(Some(rec)) = decoder.decode() {
                let ev = Event::decode(rec).map_err(|e| e.to_string())?;
                self.on_event(ev).await;
                if self.done() {
                    return Ok(true);
                }
            }
            match resp.chunk().await {
                Ok(Some(chunk)) => decoder.feed(&chunk),
                _ => return Ok(false),
            }
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let endpoint = env("MESOS_AGENT_ENDPOINT")?;
    let mut exec = Exec {
        url: format!("http://{endpoint}/api/v1/executor"),
        eid: ExecutorId {
            value: env("MESOS_EXECUTOR_ID")?,
        },
        fid: FrameworkId {
            value: env("MESOS_FRAMEWORK_ID")?,
        },
        http: reqwest::Client::new(),
        unacked_tasks: BTreeMap::new(),
        unacked: BTreeMap::new(),
        tasks: BTreeMap::new(),
        shutting_down: false,
    };
    let checkpoint = env("MESOS_CHECKPOINT").is_ok_and(|v| v == "1" || v == "true");
    let recovery = std::env::var("MESOS_RECOVERY_TIMEOUT")
        .ok()
        .and_then(|t| duration(&t))
        .unwrap_or(Duration::from_secs(900));
    let mut deadline: Option<Instant> = None;
    loop {
        match exec.session(&mut deadline).await {
            Ok(true) => return Ok(()),
            Ok(false) | Err(_) if checkpoint => {
                let d = *deadline.get_or_insert_with(|| Instant::now() + recovery);
                if Instant::now() >= d {
                    return Err("agent did not come back within MESOS_RECOVERY_TIMEOUT".into());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(false) => return Ok(()),
            Err(e) => return Err(e),
        }
        if exec.done() {
            return Ok(());
        }
    }
}
