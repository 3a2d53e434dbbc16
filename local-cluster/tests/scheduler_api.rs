//! Conformance of the master's scheduler API, driven with raw HTTP (reqwest + protobuf).

use crate::common;

use common::*;
use proto::Message;
use proto::scheduler::event::Type as EventType;
use proto::v1::{TaskState, framework_info::capability::Type as Cap};

#[tokio::test]
async fn subscribe_heartbeat_offers_then_command_task_finishes() {
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("smoke", &[Cap::PartitionAware])).await;
    // Recorded order: SUBSCRIBED, HEARTBEAT at once, then OFFERS.
    let second = sub.next().await.expect("second event");
    assert_eq!(second.r#type, Some(EventType::Heartbeat as i32));
    let offer = sub.offer().await;
    let task = command_task("t1", &offer, "exit 0");
    let (code, body) = sub
        .call(&launch(&sub.framework_id, &offer, vec![task]))
        .await;
    assert_eq!((code, body.as_str()), (202, ""));
    let states: Vec<i32> = [
        sub.update("t1", true).await.state,
        sub.update("t1", true).await.state,
        sub.update("t1", true).await.state,
    ]
    .to_vec();
    assert_eq!(
        states,
        vec![
            TaskState::TaskStarting as i32,
            TaskState::TaskRunning as i32,
            TaskState::TaskFinished as i32
        ]
    );
}

use std::time::Duration;

use proto::v1::{TaskId, task_status::Reason};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_with_killing_state_then_killed_and_reconcile_after_ack_is_gone() {
    let c = cluster(1).await;
    let mut sub = Sub::open(
        &c.master_url(),
        framework("kill", &[Cap::PartitionAware, Cap::TaskKillingState]),
    )
    .await;
    let offer = sub.offer().await;
    let task = command_task("k1", &offer, "sleep 60");
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![task]))
            .await
            .0,
        202
    );
    assert_eq!(
        sub.update("k1", true).await.state,
        TaskState::TaskStarting as i32
    );
    assert_eq!(
        sub.update("k1", true).await.state,
        TaskState::TaskRunning as i32
    );
    let kill = proto::calls::scheduler::kill(
        &sub.framework_id,
        TaskId { value: "k1".into() },
        Some(offer.agent_id.clone()),
        None,
    );
    assert_eq!(sub.call(&kill).await.0, 202);
    assert_eq!(
        sub.update("k1", true).await.state,
        TaskState::TaskKilling as i32
    );
    let killed = sub.update("k1", true).await;
    assert_eq!(killed.state, TaskState::TaskKilled as i32);
    assert!(
        killed.message.unwrap_or_default().starts_with("Command "),
        "command executor message"
    );
    // Acknowledged terminal task: the master forgets it (recorded: TASK_GONE).
    let rec = proto::calls::scheduler::reconcile(
        &sub.framework_id,
        vec![(TaskId { value: "k1".into() }, Some(offer.agent_id.clone()))],
    );
    assert_eq!(sub.call(&rec).await.0, 202);
    let st = sub.reconciled("k1").await;
    assert_eq!(st.state, TaskState::TaskGone as i32);
    assert_eq!(
        st.message.as_deref(),
        Some("Reconciliation: Task is unknown to the agent")
    );
    // KILL of an unknown task answers like a reconciliation.
    let kill = proto::calls::scheduler::kill(
        &sub.framework_id,
        TaskId {
            value: "never".into(),
        },
        Some(offer.agent_id.clone()),
        None,
    );
    assert_eq!(sub.call(&kill).await.0, 202);
    assert_eq!(
        sub.reconciled("never").await.state,
        TaskState::TaskGone as i32
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacknowledged_update_is_retried_with_the_same_uuid() {
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("retry", &[Cap::PartitionAware])).await;
    let offer = sub.offer().await;
    assert_eq!(
        sub.call(&launch(
            &sub.framework_id,
            &offer,
            vec![command_task("u1", &offer, "sleep 60")]
        ))
        .await
        .0,
        202
    );
    let first = sub.update("u1", false).await;
    let again = sub.update("u1", false).await;
    assert_eq!(
        (again.state, again.uuid.clone()),
        (first.state, first.uuid.clone()),
        "head resent, next one waits"
    );
    let ack =
        proto::calls::scheduler::acknowledge_status(&sub.framework_id, &again).expect("has uuid");
    assert_eq!(sub.call(&ack).await.0, 202);
    let next = sub.update("u1", true).await;
    assert_eq!(next.state, TaskState::TaskRunning as i32);
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suppress_stops_offers_and_revive_brings_them_back() {
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("suppress", &[])).await;
    let offer = sub.offer().await;
    let suppress = proto::calls::scheduler::suppress(&sub.framework_id, vec![]);
    assert_eq!(sub.call(&suppress).await.0, 202);
    let decline = proto::calls::scheduler::decline(
        &sub.framework_id,
        vec![offer.id.clone()],
        Some(proto::calls::offer::refuse_for(0.0)),
    );
    assert_eq!(sub.call(&decline).await.0, 202);
    // Heartbeats keep coming (500 ms in tests) but no OFFERS while suppressed.
    for _ in 0..3 {
        let ev = sub.next().await.expect("heartbeat");
        assert_eq!(ev.r#type, Some(EventType::Heartbeat as i32));
    }
    let revive = proto::calls::scheduler::revive(&sub.framework_id, vec![]);
    assert_eq!(sub.call(&revive).await.0, 202);
    assert_eq!(sub.offer().await.agent_id, offer.agent_id);
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_offers_are_rescinded_and_docker_tasks_fail_clearly() {
    let c = cluster_with(1, |cfg| {
        cfg.master.offer_timeout = Some(Duration::from_millis(300))
    })
    .await;
    let mut sub = Sub::open(
        &c.master_url(),
        framework("rescind", &[Cap::PartitionAware]),
    )
    .await;
    let offer = sub.offer().await;
    let rescind = sub
        .expect(EventType::Rescind)
        .await
        .rescind
        .expect("rescind");
    assert_eq!(rescind.offer_id, offer.id);
    let offer = sub.offer().await;
    let mut task = command_task("d1", &offer, "true");
    task.container = Some(proto::v1::ContainerInfo {
        r#type: proto::v1::container_info::Type::Docker as i32,
        docker: Some(proto::v1::container_info::DockerInfo {
            image: "p2pool".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![task]))
            .await
            .0,
        202
    );
    let st = sub.update("d1", true).await;
    assert_eq!(st.state, TaskState::TaskFailed as i32);
    assert_eq!(st.reason, Some(Reason::ContainerLaunchFailed as i32));
    assert!(st.message.unwrap_or_default().contains("Docker"));
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_ends_stream_kills_tasks_and_the_id_is_dead() {
    let c = cluster(1).await;
    let mut info = framework("teardown", &[Cap::PartitionAware]);
    info.failover_timeout = Some(60.0);
    let mut sub = Sub::open(&c.master_url(), info.clone()).await;
    let offer = sub.offer().await;
    assert_eq!(
        sub.call(&launch(
            &sub.framework_id,
            &offer,
            vec![command_task("t1", &offer, "sleep 60")]
        ))
        .await
        .0,
        202
    );
    sub.update("t1", true).await;
    sub.update("t1", true).await;
    assert_eq!(
        sub.call(&proto::calls::scheduler::teardown(&sub.framework_id))
            .await
            .0,
        202
    );
    // The chunked stream ends cleanly (terminator), as recorded.
    while sub.next().await.is_some() {}
    let rec = proto::calls::scheduler::reconcile(&sub.framework_id, vec![]);
    assert_eq!(
        sub.call(&rec).await,
        (400, "Framework cannot be found".to_string())
    );
    info.id = Some(sub.framework_id.clone());
    let mut resub = proto::calls::scheduler::subscribe(info.clone());
    resub.framework_id = info.id.clone();
    let resp = post(
        &format!("{}/api/v1/scheduler", c.master_url()),
        proto::Message::encode_to_vec(&resub),
        &[("Content-Type", PB), ("Accept", PB)],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.expect("body");
    // Recorded bytes: `32\n` + ERROR "Framework has been removed", then the stream ends.
    assert_eq!(
        &bytes[..],
        b"32\n\x08\x07B\x1c\n\x1aFramework has been removed"
    );
    // The task's process was killed.
    for _ in 0..50 {
        let left = c.container_count(&offer.agent_id.value);
        if left == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(c.container_count(&offer.agent_id.value), Some(0));
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_their_codes_and_the_cluster_keeps_serving() {
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("abuse", &[])).await;
    let url = format!("{}/api/v1/scheduler", c.master_url());
    let sid = sub.stream_id.clone();
    let big = vec![0u8; 9 * 1024 * 1024];
    type Case<'a> = (Vec<u8>, Vec<(&'a str, &'a str)>, u16);
    let cases: Vec<Case> = vec![
        (
            b"\xff\xff\xff\xff".to_vec(),
            vec![("Content-Type", PB), ("Mesos-Stream-Id", &sid)],
            400,
        ),
        (
            b"{not json".to_vec(),
            vec![("Content-Type", "application/json")],
            400,
        ),
        (b"x".to_vec(), vec![("Content-Type", "text/plain")], 415),
        (b"x".to_vec(), vec![], 400),
        (big, vec![("Content-Type", PB)], 413),
    ];
    for (body, headers, want) in cases {
        assert_eq!(post(&url, body, &headers).await.status().as_u16(), want);
    }
    // Executor endpoint too.
    let agent = c.agent_url(&c.agent_ids()[0]).expect("agent");
    let resp = post(
        &format!("{agent}/api/v1/executor"),
        b"\x0a\xff".to_vec(),
        &[("Content-Type", PB)],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 400);
    let rec = proto::calls::scheduler::reconcile(&sub.framework_id, vec![]);
    assert_eq!(sub.call(&rec).await.0, 202);
    assert_eq!(sub.next().await.map(|e| e.r#type.is_some()), Some(true));
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_basic_auth_over_http() {
    let c = cluster_with(1, |cfg| {
        cfg.master.credentials = vec![("bars".into(), "barsecret".into())]
    })
    .await;
    let url = format!("{}/api/v1/scheduler", c.master_url());
    let body =
        proto::Message::encode_to_vec(&proto::calls::scheduler::subscribe(framework("auth", &[])));
    let resp = post(&url, body.clone(), &[("Content-Type", PB)]).await;
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(
        resp.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Basic realm=\"mesos-master-scheduler\"")
    );
    assert_eq!(resp.text().await.unwrap_or_default(), "401 Unauthorized.");
    let resp = post(
        &url,
        body,
        &[
            ("Content-Type", PB),
            ("Authorization", "Basic YmFyczpiYXJzZWNyZXQ="),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_timeout_expiry_removes_framework_and_kills_its_tasks() {
    let c = cluster(1).await;
    let mut info = framework("expire", &[Cap::PartitionAware]);
    info.failover_timeout = Some(0.5);
    let mut sub = Sub::open(&c.master_url(), info).await;
    let offer = sub.offer().await;
    assert_eq!(
        sub.call(&launch(
            &sub.framework_id,
            &offer,
            vec![command_task("e1", &offer, "sleep 60")]
        ))
        .await
        .0,
        202
    );
    sub.update("e1", true).await;
    sub.update("e1", true).await;
    assert!(c.cut_stream(&sub.framework_id.value));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rec = proto::calls::scheduler::reconcile(&sub.framework_id, vec![]);
    assert_eq!(
        sub.call(&rec).await,
        (400, "Framework cannot be found".to_string())
    );
    assert_eq!(c.container_count(&offer.agent_id.value), Some(0));
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_errors_carry_the_recorded_texts() {
    // Recorded in 6-extra-scheduler-checks.txt.
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("extra", &[Cap::PartitionAware])).await;
    let offer = sub.offer().await;
    let mut with_id = proto::calls::offer::launch(vec![command_task("opid-task", &offer, "true")]);
    with_id.id = Some(proto::v1::OperationId {
        value: "op-1".into(),
    });
    let accept = proto::calls::scheduler::accept(
        &sub.framework_id,
        vec![offer.id.clone()],
        vec![with_id],
        None,
    );
    assert_eq!(sub.call(&accept).await.0, 202);
    let st = sub.update("opid-task", false).await;
    assert_eq!(st.state, TaskState::TaskError as i32);
    assert_eq!(st.reason, Some(Reason::TaskInvalid as i32));
    assert_eq!(
        st.message.as_deref(),
        Some("The `id` field cannot be set on LAUNCH operations")
    );
    let reused = launch(
        &sub.framework_id,
        &offer,
        vec![command_task("reused-offer-task", &offer, "true")],
    );
    assert_eq!(sub.call(&reused).await.0, 202);
    let st = sub.update("reused-offer-task", false).await;
    assert_eq!(st.state, TaskState::TaskDropped as i32);
    assert_eq!(st.reason, Some(Reason::InvalidOffers as i32));
    assert_eq!(
        st.message,
        Some(format!(
            "Task launched with invalid offers: Offer {} is no longer valid",
            offer.id.value
        ))
    );
    assert_eq!(st.uuid, None);
    // SHUTDOWN of an unknown executor and UPDATE_FRAMEWORK: 202 and 200 as recorded.
    let shutdown = proto::calls::scheduler::shutdown(
        &sub.framework_id,
        proto::v1::ExecutorId {
            value: "nope".into(),
        },
        offer.agent_id.clone(),
    );
    assert_eq!(sub.call(&shutdown).await, (202, String::new()));
    let mut info = framework("extra-renamed", &[Cap::PartitionAware]);
    info.id = Some(sub.framework_id.clone());
    let update = proto::calls::scheduler::update_framework(info, vec![]);
    assert_eq!(sub.call(&update).await, (200, String::new()));
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_right_after_launch_kills_the_executor_promptly() {
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("quick", &[])).await;
    let offer = sub.offer().await;
    let task = executor_task("q1", "exec-q", &offer, "run");
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![task]))
            .await
            .0,
        202
    );
    assert_eq!(
        sub.call(&proto::calls::scheduler::teardown(&sub.framework_id))
            .await
            .0,
        202
    );
    // Well inside the 5 s shutdown grace period: a kill that raced the spawn is not lost.
    let agent = offer.agent_id.value.clone();
    let mut left = None;
    for _ in 0..30 {
        left = c.container_count(&agent);
        if left == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, Some(0));
    c.shutdown().await;
}

/// Issue 11, hole 1: ten `cpus` entries of 1e15 in one task used to wrap the checked sum
/// into a negative demand that the 2-cpu offer "contained"; the next offer then showed
/// 8446744073709554 cpus. Now the task gets TASK_ERROR and the agent keeps its 2 cpus.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overflowing_resource_sums_are_refused_and_offers_stay_true() {
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("phantom", &[])).await;
    let offer = sub.offer().await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let mut task = command_task(&format!("big-{i}"), &offer, "sleep 60");
        task.resources = (0..10)
            .map(|_| proto::resources::scalar("cpus", 1e15))
            .chain([proto::resources::scalar("mem", 32.0)])
            .collect();
        tasks.push(task);
    }
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, tasks)).await.0,
        202
    );
    for i in 0..10 {
        let st = sub.update(&format!("big-{i}"), false).await;
        assert_eq!(st.state, TaskState::TaskError as i32, "{st:?}");
    }
    let next = sub.offer().await;
    let cpus = proto::resources::sum_scalar(&next.resources, "cpus");
    assert_eq!(cpus, 2.0, "offered cpus after the refused launch");
    assert!(c.launch_history().is_empty());
    c.shutdown().await;
}

/// Issue 11, hole 5, answered as a real Mesos 1.12 did (`recovery/7-principal-takeover.txt`):
/// b cannot take over a's framework by re-subscribing with a's id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_principal_cannot_take_over_a_framework() {
    const A: &str = "Basic YTpzZWNyZXRB"; // a:secretA
    const B: &str = "Basic YjpzZWNyZXRC"; // b:secretB
    let c = cluster_with(1, |cfg| {
        cfg.master.credentials = vec![
            ("a".into(), "secretA".into()),
            ("b".into(), "secretB".into()),
        ]
    })
    .await;
    let mut info = framework("takeover", &[]);
    info.principal = Some("a".into());
    info.failover_timeout = Some(300.0);
    let mut a = Sub::open_as(&c.master_url(), info.clone(), Some(A)).await;
    let stolen = Some(a.framework_id.clone());
    // b1: principal "b" in the body, b's credentials: 200, one ERROR, end of stream.
    // b3: principal unset (filled in with "b"): the same.
    for principal in [Some("b"), None] {
        let mut theirs = info.clone();
        theirs.id = stolen.clone();
        theirs.principal = principal.map(String::from);
        let resp = Sub::subscribe_raw(&c.master_url(), &theirs, Some(B)).await;
        assert_eq!(resp.status().as_u16(), 200);
        let body = resp.bytes().await.expect("body");
        let records = proto::recordio::decode_all(&body, 1 << 20).expect("recordio");
        assert_eq!(records.len(), 1, "exactly one event, then the end");
        let ev = proto::scheduler::Event::decode(records[0].clone()).expect("event");
        assert_eq!(
            ev.error.map(|e| e.message).as_deref(),
            Some("Changing framework's principal is not allowed.")
        );
    }
    // b2: principal "a" in the body with b's credentials: 400 with the recorded text.
    let mut forged = info.clone();
    forged.id = stolen.clone();
    let resp = Sub::subscribe_raw(&c.master_url(), &forged, Some(B)).await;
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.text().await.unwrap_or_default(),
        "Failed to validate scheduler::Call: Authenticated principal 'b' does not match principal 'a' set in `FrameworkInfo`"
    );
    // a is still subscribed on its own stream; b's credentials with a's stream id: 400.
    let rec = proto::calls::scheduler::reconcile(&a.framework_id, vec![]);
    let url = format!("{}/api/v1/scheduler", c.master_url());
    for (auth, code) in [(A, 202), (B, 400)] {
        let resp = post(
            &url,
            rec.encode_to_vec(),
            &[
                ("Content-Type", PB),
                ("Mesos-Stream-Id", a.stream_id.as_str()),
                ("Authorization", auth),
            ],
        )
        .await;
        assert_eq!(resp.status().as_u16(), code);
        if code == 400 {
            assert_eq!(
                resp.text().await.unwrap_or_default(),
                "Authenticated principal 'b' does not match principal 'a' set in `FrameworkInfo`"
            );
        }
    }
    let next = a.next_within(std::time::Duration::from_millis(1200)).await;
    assert!(
        next.as_ref().is_some_and(|e| e.error.is_none()),
        "a's stream lives on: {next:?}"
    );
    c.shutdown().await;
}
