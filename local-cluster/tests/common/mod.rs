//! Raw-HTTP helpers for the conformance tests: a subscription reader over reqwest with the
//! `proto` RecordIO decoder, and call posting. Nothing here knows the cluster's internals.

pub(crate) mod transcript;

use std::time::Duration;

use local_cluster::{ClusterConfig, LocalCluster};
use proto::Message;
use proto::recordio::Decoder;
use proto::scheduler::{Call, Event, event::Type as EventType};
use proto::v1::{self, FrameworkInfo};

pub(crate) const PB: &str = "application/x-protobuf";

/// A cluster with fast timers for tests.
pub(crate) async fn cluster(agents: usize) -> LocalCluster {
    cluster_with(agents, |_| {}).await
}

pub(crate) async fn cluster_with(
    agents: usize,
    tweak: impl FnOnce(&mut ClusterConfig),
) -> LocalCluster {
    let mut cfg = ClusterConfig {
        agents,
        cpus: 2.0,
        mem: 1024.0,
        disk: 1024.0,
        ..ClusterConfig::default()
    };
    cfg.master.heartbeat = Duration::from_millis(500);
    cfg.agent_template.update_retry_min = Duration::from_millis(400);
    tweak(&mut cfg);
    LocalCluster::start(cfg).await.expect("cluster starts")
}

pub(crate) fn framework(
    name: &str,
    caps: &[v1::framework_info::capability::Type],
) -> FrameworkInfo {
    proto::calls::offer::framework_info("root", name, caps)
}

/// An open SUBSCRIBE stream.
pub(crate) struct Sub {
    pub resp: reqwest::Response,
    pub decoder: Decoder,
    pub stream_id: String,
    pub framework_id: v1::FrameworkId,
    pub master: String,
}

pub(crate) async fn post(url: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> reqwest::Response {
    // No redirect following: a 307 is an answer the tests look at.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut req = client.post(url).body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request sent")
}

/// POSTs a scheduler call; returns status and body text.
pub(crate) async fn call(master: &str, call: &Call, stream_id: Option<&str>) -> (u16, String) {
    let mut headers = vec![("Content-Type", PB), ("Accept", PB)];
    if let Some(s) = stream_id {
        headers.push(("Mesos-Stream-Id", s));
    }
    let resp = post(
        &format!("{master}/api/v1/scheduler"),
        call.encode_to_vec(),
        &headers,
    )
    .await;
    let code = resp.status().as_u16();
    (code, resp.text().await.unwrap_or_default())
}

impl Sub {
    /// Subscribes `info` (protobuf both ways) and reads SUBSCRIBED.
    pub(crate) async fn open(master: &str, info: FrameworkInfo) -> Sub {
        Sub::open_as(master, info, None).await
    }

    /// As [`Sub::open`], with an `Authorization` header.
    pub(crate) async fn open_as(master: &str, info: FrameworkInfo, auth: Option<&str>) -> Sub {
        let resp = Sub::subscribe_raw(master, &info, auth).await;
        assert_eq!(resp.status().as_u16(), 200, "SUBSCRIBE answered 200");
        Sub::from_response(master, resp).await
    }

    /// POSTs a SUBSCRIBE and returns the raw response.
    pub(crate) async fn subscribe_raw(
        master: &str,
        info: &FrameworkInfo,
        auth: Option<&str>,
    ) -> reqwest::Response {
        let mut call = proto::calls::scheduler::subscribe(info.clone());
        call.framework_id = info.id.clone();
        let mut headers = vec![("Content-Type", PB), ("Accept", PB)];
        if let Some(a) = auth {
            headers.push(("Authorization", a));
        }
        post(
            &format!("{master}/api/v1/scheduler"),
            call.encode_to_vec(),
            &headers,
        )
        .await
    }

    /// Reads SUBSCRIBED from an accepted subscription response.
    pub(crate) async fn from_response(master: &str, resp: reqwest::Response) -> Sub {
        let stream_id = resp
            .headers()
            .get("mesos-stream-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let mut sub = Sub {
            resp,
            decoder: Decoder::new(1 << 24),
            stream_id,
            framework_id: v1::FrameworkId {
                value: String::new(),
            },
            master: master.into(),
        };
        let ev = sub.next().await.expect("first event");
        assert_eq!(
            ev.r#type,
            Some(EventType::Subscribed as i32),
            "first event is SUBSCRIBED: {ev:?}"
        );
        sub.framework_id = ev.subscribed.expect("subscribed").framework_id;
        sub
    }

    /// Next event, or None on end of stream or after 10 s.
    pub(crate) async fn next(&mut self) -> Option<Event> {
        self.next_within(Duration::from_secs(10)).await
    }

    pub(crate) async fn next_within(&mut self, limit: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Ok(Some(rec)) = self.decoder.decode() {
                return Event::decode(rec).ok();
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk())
                .await
                .ok()?
                .ok()??;
            self.decoder.feed(&chunk);
        }
    }

    /// Skips events until one of `kind` arrives (HEARTBEATs and others are dropped).
    pub(crate) async fn expect(&mut self, kind: EventType) -> Event {
        loop {
            let ev = self
                .next()
                .await
                .unwrap_or_else(|| panic!("stream ended while waiting for {kind:?}"));
            if ev.r#type == Some(kind as i32) {
                return ev;
            }
        }
    }

    /// Next UPDATE for `task`, acknowledging it when it has a uuid.
    pub(crate) async fn update(&mut self, task: &str, ack: bool) -> v1::TaskStatus {
        loop {
            let ev = self.expect(EventType::Update).await;
            let st = ev.update.expect("update").status;
            if st.task_id.value != task {
                continue;
            }
            if ack
                && let Some(c) =
                    proto::calls::scheduler::acknowledge_status(&self.framework_id, &st)
            {
                let (code, body) = self.call(&c).await;
                assert_eq!(code, 202, "ACK accepted: {body}");
            }
            return st;
        }
    }

    pub(crate) async fn call(&self, c: &Call) -> (u16, String) {
        call(&self.master, c, Some(&self.stream_id)).await
    }

    pub(crate) async fn offer(&mut self) -> v1::Offer {
        let ev = self.expect(EventType::Offers).await;
        ev.offers
            .expect("offers")
            .offers
            .into_iter()
            .next()
            .expect("one offer")
    }
}

/// A command task using part of `offer`.
pub(crate) fn command_task(id: &str, offer: &v1::Offer, cmd: &str) -> v1::TaskInfo {
    v1::TaskInfo {
        name: id.into(),
        task_id: v1::TaskId { value: id.into() },
        agent_id: offer.agent_id.clone(),
        resources: vec![
            proto::resources::scalar("cpus", 0.1),
            proto::resources::scalar("mem", 32.0),
        ],
        command: Some(v1::CommandInfo {
            value: Some(cmd.into()),
            shell: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(crate) fn launch(fid: &v1::FrameworkId, offer: &v1::Offer, tasks: Vec<v1::TaskInfo>) -> Call {
    proto::calls::scheduler::accept(
        fid,
        vec![offer.id.clone()],
        vec![proto::calls::offer::launch(tasks)],
        Some(proto::calls::offer::refuse_for(0.1)),
    )
}

/// A task run by the protocol-only test executor (`data`: `finish` or `run`).
pub(crate) fn executor_task(
    id: &str,
    exec_id: &str,
    offer: &v1::Offer,
    data: &str,
) -> v1::TaskInfo {
    let bin = env!("CARGO_BIN_EXE_mesos-test-executor");
    v1::TaskInfo {
        name: id.into(),
        task_id: v1::TaskId { value: id.into() },
        agent_id: offer.agent_id.clone(),
        resources: vec![
            proto::resources::scalar("cpus", 0.1),
            proto::resources::scalar("mem", 32.0),
        ],
        executor: Some(v1::ExecutorInfo {
            r#type: Some(v1::executor_info::Type::Custom as i32),
            executor_id: v1::ExecutorId {
                value: exec_id.into(),
            },
            command: Some(v1::CommandInfo {
                // Fetched into the sandbox and run from there, as a real framework ships it.
                uris: vec![v1::command_info::Uri {
                    value: bin.into(),
                    executable: Some(true),
                    ..Default::default()
                }],
                value: Some("exec ./mesos-test-executor".into()),
                shell: Some(true),
                ..Default::default()
            }),
            resources: vec![
                proto::resources::scalar("cpus", 0.1),
                proto::resources::scalar("mem", 32.0),
            ],
            ..Default::default()
        }),
        data: Some(data.as_bytes().to_vec()),
        ..Default::default()
    }
}

impl Sub {
    /// The next reconciliation answer for `task` (duplicates of earlier updates, which a
    /// real agent also delivers, are acknowledged and skipped).
    pub(crate) async fn reconciled(&mut self, task: &str) -> v1::TaskStatus {
        loop {
            let st = self.update(task, true).await;
            if st.reason == Some(v1::task_status::Reason::Reconciliation as i32) {
                return st;
            }
        }
    }
}
