//! Fault injection seen from a framework: agent loss, cut subscription streams.

use crate::common;

use common::*;
use proto::Message;
use proto::scheduler::event::Type as EventType;
use proto::v1::{TaskState, framework_info::capability::Type as Cap};

async fn running_command_task(sub: &mut Sub, id: &str) -> proto::v1::Offer {
    let offer = sub.offer().await;
    let task = command_task(id, &offer, "sleep 60");
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![task]))
            .await
            .0,
        202
    );
    assert_eq!(
        sub.update(id, true).await.state,
        TaskState::TaskStarting as i32
    );
    assert_eq!(
        sub.update(id, true).await.state,
        TaskState::TaskRunning as i32
    );
    offer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_agent_makes_tasks_unreachable_or_lost() {
    for (pa, expected) in [
        (true, TaskState::TaskUnreachable),
        (false, TaskState::TaskLost),
    ] {
        let c = cluster(1).await;
        let caps: Vec<Cap> = if pa {
            vec![Cap::PartitionAware]
        } else {
            vec![]
        };
        let mut sub = Sub::open(&c.master_url(), framework("kill-agent", &caps)).await;
        let offer = running_command_task(&mut sub, "k1").await;
        c.kill_agent(&offer.agent_id.value).await;
        let failure = sub
            .expect(EventType::Failure)
            .await
            .failure
            .expect("failure");
        assert_eq!(failure.agent_id, Some(offer.agent_id.clone()));
        assert_eq!(failure.executor_id, None);
        let st = sub.update("k1", false).await;
        assert_eq!(st.state, expected as i32);
        assert_eq!(st.uuid, None, "master-generated: never acknowledged");
        assert_eq!(
            st.source,
            Some(proto::v1::task_status::Source::Master as i32)
        );
        c.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_stream_disconnects_until_resubscribe_and_tasks_stay() {
    let c = cluster(1).await;
    let mut info = framework("cut", &[Cap::PartitionAware]);
    info.failover_timeout = Some(60.0);
    let mut sub = Sub::open(&c.master_url(), info.clone()).await;
    running_command_task(&mut sub, "c1").await;
    assert!(c.cut_stream(&sub.framework_id.value));
    while sub.next().await.is_some() {}
    let rec = proto::calls::scheduler::reconcile(&sub.framework_id, vec![]);
    assert_eq!(
        sub.call(&rec).await,
        (403, "Framework is not subscribed".to_string())
    );
    info.id = Some(sub.framework_id.clone());
    let mut sub2 = Sub::open(&c.master_url(), info).await;
    assert_ne!(sub2.stream_id, sub.stream_id);
    // The old stream id is now stale.
    let (code, body) = sub.call(&rec).await;
    assert_eq!(code, 400);
    assert!(body.starts_with("The stream ID '"), "{body}");
    assert_eq!(sub2.call(&rec).await.0, 202);
    assert_eq!(
        sub2.reconciled("c1").await.state,
        TaskState::TaskRunning as i32
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_that_does_not_resubscribe_after_restart_is_gone() {
    let c = cluster_with(1, |cfg| {
        cfg.agent_template.recovery_phase = std::time::Duration::from_millis(200);
        cfg.agent_template.reregistration_timeout = std::time::Duration::from_millis(500);
    })
    .await;
    let mut info = framework("hung", &[Cap::PartitionAware]);
    info.checkpoint = Some(true);
    let mut sub = Sub::open(&c.master_url(), info).await;
    let offer = sub.offer().await;
    // An executor process that never speaks the executor API.
    let mut task = executor_task("h1", "exec-h", &offer, "run");
    if let Some(cmd) = task.executor.as_mut().and_then(|e| e.command.as_mut()) {
        cmd.uris.clear();
        cmd.value = Some("sleep 60".into());
    }
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![task]))
            .await
            .0,
        202
    );
    c.restart_agent(&offer.agent_id.value, std::time::Duration::from_millis(200))
        .await
        .expect("restart");
    let st = sub.update("h1", true).await;
    assert_eq!(st.state, TaskState::TaskGone as i32);
    assert_eq!(
        st.reason,
        Some(proto::v1::task_status::Reason::ExecutorReregistrationTimeout as i32)
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_marked_gone_makes_unreachable_tasks_gone_by_operator() {
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("gone", &[Cap::PartitionAware])).await;
    let offer = running_command_task(&mut sub, "g1").await;
    c.kill_agent(&offer.agent_id.value).await;
    assert_eq!(
        sub.update("g1", false).await.state,
        TaskState::TaskUnreachable as i32
    );
    c.mark_agent_gone(&offer.agent_id.value).await;
    let st = sub.update("g1", false).await;
    assert_eq!(st.state, TaskState::TaskGoneByOperator as i32);
    let rec = proto::calls::scheduler::reconcile(
        &sub.framework_id,
        vec![(
            proto::v1::TaskId { value: "g1".into() },
            Some(offer.agent_id.clone()),
        )],
    );
    assert_eq!(sub.call(&rec).await.0, 202);
    assert_eq!(
        sub.reconciled("g1").await.state,
        TaskState::TaskGoneByOperator as i32
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_agent_answers_503_while_recovering() {
    let c = cluster_with(1, |cfg| {
        cfg.agent_template.recovery_phase = std::time::Duration::from_secs(2)
    })
    .await;
    let agent = c.agent_ids()[0].clone();
    c.restart_agent(&agent, std::time::Duration::from_millis(100))
        .await
        .expect("restart");
    let url = format!("{}/api/v1/executor", c.agent_url(&agent).expect("url"));
    let call = proto::calls::executor::subscribe(
        &proto::v1::ExecutorId { value: "e".into() },
        &proto::v1::FrameworkId { value: "f".into() },
        vec![],
        vec![],
    );
    let resp = post(
        &url,
        proto::Message::encode_to_vec(&call),
        &[("Content-Type", PB)],
    )
    .await;
    // Recorded in recovery/exec-ar-exec.log.txt.
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(
        resp.text().await.unwrap_or_default(),
        "Agent has not finished recovery"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubscription_clears_offer_filters() {
    // Recorded in recovery/3-scheduler-failover.txt: declined for 60 s, yet offers come at
    // once after the framework re-subscribes.
    let c = cluster(1).await;
    let mut info = framework("filters", &[Cap::PartitionAware]);
    info.failover_timeout = Some(60.0);
    let mut sub = Sub::open(&c.master_url(), info.clone()).await;
    let offer = sub.offer().await;
    let decline = proto::calls::scheduler::decline(
        &sub.framework_id,
        vec![offer.id.clone()],
        Some(proto::calls::offer::refuse_for(60.0)),
    );
    assert_eq!(sub.call(&decline).await.0, 202);
    assert!(c.cut_stream(&sub.framework_id.value));
    info.id = Some(sub.framework_id.clone());
    let mut sub2 = Sub::open(&c.master_url(), info).await;
    let again = tokio::time::timeout(std::time::Duration::from_secs(5), sub2.offer())
        .await
        .expect("offer at once");
    assert_eq!(again.agent_id, offer.agent_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_that_never_subscribes_times_out() {
    let c = cluster_with(1, |cfg| {
        cfg.agent_template.registration_timeout = std::time::Duration::from_millis(500)
    })
    .await;
    let mut sub = Sub::open(&c.master_url(), framework("silent", &[Cap::PartitionAware])).await;
    let offer = sub.offer().await;
    let mut task = executor_task("s1", "exec-silent", &offer, "run");
    if let Some(cmd) = task.executor.as_mut().and_then(|e| e.command.as_mut()) {
        cmd.uris.clear();
        cmd.value = Some("sleep 60".into());
    }
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![task]))
            .await
            .0,
        202
    );
    let st = sub.update("s1", true).await;
    assert_eq!(st.state, TaskState::TaskFailed as i32);
    assert_eq!(
        st.reason,
        Some(proto::v1::task_status::Reason::ExecutorRegistrationTimeout as i32)
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_masters_redirect_then_take_over_after_a_recovery_window() {
    let c = cluster_with(1, |cfg| {
        cfg.standby_masters = 2;
        cfg.failover_recovery = std::time::Duration::from_millis(600);
    })
    .await;
    let urls = c.master_urls();
    assert_eq!(urls.len(), 3, "leader and two standbys bound up front");
    let leader_port = urls[0].rsplit(':').next().unwrap().to_string();
    let sub_call = proto::calls::scheduler::subscribe(framework("standby", &[]));
    let raw = post(
        &format!("{}/api/v1/scheduler", urls[1]),
        sub_call.encode_to_vec(),
        &[("Content-Type", PB), ("Accept", PB)],
    )
    .await;
    assert_eq!(raw.status().as_u16(), 307);
    let location = raw.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        location,
        format!("//127.0.0.1:{leader_port}/master/api/v1/scheduler")
    );
    let mut info = framework("standby", &[Cap::PartitionAware]);
    info.failover_timeout = Some(60.0);
    let mut sub = Sub::open(&urls[0], info.clone()).await;
    running_command_task(&mut sub, "s1").await;
    let new_leader = c.failover_master().await.expect("failover");
    assert_eq!(new_leader, urls[1], "the next standby takes over");
    while sub.next().await.is_some() {}
    // While it recovers it answers 503 with the recorded text.
    let (code, body) = call(&new_leader, &sub_call, None).await;
    assert_eq!(
        (code, body.as_str()),
        (503, "Master has not finished recovery")
    );
    // The old leader and the other standby now point at the new leader.
    for other in [&urls[0], &urls[2]] {
        let r = post(
            &format!("{other}/api/v1/scheduler"),
            sub_call.encode_to_vec(),
            &[("Content-Type", PB)],
        )
        .await;
        assert_eq!(r.status().as_u16(), 307);
    }
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    info.id = Some(sub.framework_id.clone());
    let mut sub2 = Sub::open(&new_leader, info).await;
    assert_eq!(sub2.framework_id, sub.framework_id);
    let rec = proto::calls::scheduler::reconcile(&sub2.framework_id, vec![]);
    assert_eq!(sub2.call(&rec).await.0, 202);
    assert_eq!(
        sub2.reconciled("s1").await.state,
        TaskState::TaskRunning as i32
    );
    let launches = c.launch_history();
    assert_eq!(launches.len(), 1, "{launches:?}");
    assert_eq!(launches[0].task_id, "s1");
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_agent_keeps_its_task_running_and_returns_on_heal() {
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("part", &[Cap::PartitionAware])).await;
    let offer = running_command_task(&mut sub, "p1").await;
    assert!(c.partition_agent(&offer.agent_id.value));
    let st = sub.update("p1", false).await;
    assert_eq!(st.state, TaskState::TaskUnreachable as i32);
    assert!(c.heal_agent(&offer.agent_id.value));
    let rec = proto::calls::scheduler::reconcile(
        &sub.framework_id,
        vec![(proto::v1::TaskId::from("p1"), Some(offer.agent_id.clone()))],
    );
    assert_eq!(sub.call(&rec).await.0, 202);
    assert_eq!(
        sub.reconciled("p1").await.state,
        TaskState::TaskRunning as i32,
        "the process ran on through the partition"
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_stream_stays_open_but_silent() {
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("stall", &[])).await;
    sub.expect(EventType::Offers).await;
    assert!(c.stall_stream(&sub.framework_id.value));
    // Heartbeats come every 500 ms here: a few periods of silence, no end of stream.
    let got = sub
        .next_within(std::time::Duration::from_millis(1600))
        .await;
    assert!(got.is_none(), "a stalled stream delivered {got:?}");
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_one_executor_fails_only_its_task() {
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("kill-exec", &[])).await;
    let offer = sub.offer().await;
    let tasks = vec![
        executor_task("e1", "exec-1", &offer, "run"),
        executor_task("e2", "exec-2", &offer, "run"),
    ];
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, tasks)).await.0,
        202
    );
    let mut running = std::collections::BTreeSet::new();
    while running.len() < 2 {
        let ev = sub.expect(EventType::Update).await;
        let st = ev.update.expect("update").status;
        if st.state == TaskState::TaskRunning as i32 {
            running.insert(st.task_id.value.clone());
        }
        if let Some(uuid) = st.uuid.clone() {
            let ack = proto::calls::scheduler::acknowledge(
                &sub.framework_id,
                offer.agent_id.clone(),
                st.task_id.clone(),
                uuid,
            );
            sub.call(&ack).await;
        }
    }
    assert!(c.kill_executor(&offer.agent_id.value, &sub.framework_id.value, "exec-1"));
    assert!(!c.kill_executor(&offer.agent_id.value, &sub.framework_id.value, "nope"));
    let st = sub.update("e1", true).await;
    assert_eq!(st.state, TaskState::TaskFailed as i32);
    let rec = proto::calls::scheduler::reconcile(
        &sub.framework_id,
        vec![(proto::v1::TaskId::from("e2"), Some(offer.agent_id.clone()))],
    );
    assert_eq!(sub.call(&rec).await.0, 202);
    assert_eq!(
        sub.reconciled("e2").await.state,
        TaskState::TaskRunning as i32
    );
    c.shutdown().await;
}
