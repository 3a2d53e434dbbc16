//! A framework written against the scheduler protocol alone (this file + `common`, using only
//! `proto` and reqwest) and the protocol-only test executor run tasks through the local
//! cluster, exchange framework messages both ways, and survive an agent restart and a
//! master failover.

use crate::common;

use std::time::Duration;

use common::*;
use proto::scheduler::event::Type as EventType;
use proto::v1::{TaskState, framework_info::capability::Type as Cap};

fn message_data(ev: &proto::scheduler::Event) -> Vec<u8> {
    ev.message
        .as_ref()
        .map(|m| m.data.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_executor_task_finishes_and_messages_flow_both_ways() {
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("e2e", &[Cap::PartitionAware])).await;
    let offer = sub.offer().await;
    // `run` keeps the task running until we kill it, so the message exchange happens first.
    let task = executor_task("x1", "exec-1", &offer, "run");
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![task]))
            .await
            .0,
        202
    );
    assert_eq!(
        sub.update("x1", true).await.state,
        TaskState::TaskRunning as i32
    );
    let hello = sub.expect(EventType::Message).await;
    assert_eq!(message_data(&hello), b"hello-from-executor");
    let msg = proto::calls::scheduler::message(
        &sub.framework_id,
        offer.agent_id.clone(),
        proto::v1::ExecutorId {
            value: "exec-1".into(),
        },
        b"ping".to_vec(),
    );
    assert_eq!(sub.call(&msg).await.0, 202);
    let echo = sub.expect(EventType::Message).await;
    assert_eq!(message_data(&echo), b"echo:ping");
    let kill = proto::calls::scheduler::kill(
        &sub.framework_id,
        proto::v1::TaskId { value: "x1".into() },
        Some(offer.agent_id.clone()),
        None,
    );
    assert_eq!(sub.call(&kill).await.0, 202);
    assert_eq!(
        sub.update("x1", true).await.state,
        TaskState::TaskKilled as i32
    );
    // The executor exits once its last update is acknowledged: FAILURE with its status.
    let failure = sub
        .expect(EventType::Failure)
        .await
        .failure
        .expect("failure");
    assert_eq!(failure.executor_id.map(|e| e.value), Some("exec-1".into()));
    assert_eq!(failure.status, Some(0));
    // Finishing task on a fresh executor.
    let offer = sub.offer().await;
    let task = executor_task("x2", "exec-2", &offer, "finish");
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![task]))
            .await
            .0,
        202
    );
    assert_eq!(
        sub.update("x2", true).await.state,
        TaskState::TaskRunning as i32
    );
    assert_eq!(
        sub.update("x2", true).await.state,
        TaskState::TaskFinished as i32
    );
    c.shutdown().await;
}

fn checkpointing(name: &str) -> proto::v1::FrameworkInfo {
    let mut info = framework(name, &[Cap::PartitionAware, Cap::TaskKillingState]);
    info.checkpoint = Some(true);
    info.failover_timeout = Some(300.0);
    info
}

async fn kill_and_expect_killed_by_executor(sub: &mut Sub, task: &str, agent: &proto::v1::AgentId) {
    let kill = proto::calls::scheduler::kill(
        &sub.framework_id,
        proto::v1::TaskId { value: task.into() },
        Some(agent.clone()),
        None,
    );
    assert_eq!(sub.call(&kill).await.0, 202);
    let st = sub.update(task, true).await;
    assert_eq!(st.state, TaskState::TaskKilled as i32, "{st:?}");
    // Sent by the executor itself: it kept its task across the fault.
    assert_eq!(
        st.source,
        Some(proto::v1::task_status::Source::Executor as i32)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_survives_agent_restart_and_resends_unacknowledged_update() {
    let c = cluster_with(1, |cfg| {
        cfg.agent_template.recovery_phase = Duration::from_millis(300)
    })
    .await;
    let mut sub = Sub::open(&c.master_url(), checkpointing("restart")).await;
    let offer = sub.offer().await;
    let task = executor_task("r1", "exec-r", &offer, "run");
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![task]))
            .await
            .0,
        202
    );
    // Leave RUNNING unacknowledged across the restart.
    let first = sub.update("r1", false).await;
    assert_eq!(first.state, TaskState::TaskRunning as i32);
    c.restart_agent(&offer.agent_id.value, Duration::from_millis(500))
        .await
        .expect("restart");
    let again = sub.update("r1", true).await;
    assert_eq!(
        (again.state, again.uuid.clone()),
        (first.state, first.uuid.clone()),
        "same update again"
    );
    // Well past the 2 s re-registration timeout: the executor must still hold its task.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rec = proto::calls::scheduler::reconcile(
        &sub.framework_id,
        vec![(
            proto::v1::TaskId { value: "r1".into() },
            Some(offer.agent_id.clone()),
        )],
    );
    assert_eq!(sub.call(&rec).await.0, 202);
    let st = sub.reconciled("r1").await;
    assert_eq!(st.state, TaskState::TaskRunning as i32);
    kill_and_expect_killed_by_executor(&mut sub, "r1", &offer.agent_id).await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_survives_master_failover_and_old_master_redirects() {
    let c = cluster(1).await;
    let old = c.master_url();
    let mut sub = Sub::open(&old, checkpointing("failover")).await;
    let offer = sub.offer().await;
    let task = executor_task("f1", "exec-f", &offer, "run");
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![task]))
            .await
            .0,
        202
    );
    assert_eq!(
        sub.update("f1", true).await.state,
        TaskState::TaskRunning as i32
    );
    let new = c.failover_master().await.expect("failover");
    assert_ne!(new, old);
    // The old stream breaks.
    while sub.next().await.is_some() {}
    let mut info = checkpointing("failover");
    info.id = Some(sub.framework_id.clone());
    let mut resub = proto::calls::scheduler::subscribe(info.clone());
    resub.framework_id = info.id.clone();
    let resp = post(
        &format!("{old}/api/v1/scheduler"),
        proto::Message::encode_to_vec(&resub),
        &[("Content-Type", PB)],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 307);
    let port = new.rsplit(':').next().unwrap_or_default();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        location,
        format!("//127.0.0.1:{port}/master/api/v1/scheduler")
    );
    let mut sub2 = Sub::open(&new, info).await;
    assert_eq!(sub2.framework_id, sub.framework_id);
    let rec = proto::calls::scheduler::reconcile(&sub2.framework_id, vec![]);
    assert_eq!(sub2.call(&rec).await.0, 202);
    let st = sub2.reconciled("f1").await;
    assert_eq!(
        st.state,
        TaskState::TaskRunning as i32,
        "checkpointed task survived: {st:?}"
    );
    kill_and_expect_killed_by_executor(&mut sub2, "f1", &offer.agent_id).await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_group_runs_every_task_on_the_custom_executor() {
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("group", &[Cap::PartitionAware])).await;
    let offer = sub.offer().await;
    let template = executor_task("g", "exec-g", &offer, "finish");
    let executor = template.executor.clone().expect("executor");
    let tasks: Vec<proto::v1::TaskInfo> = ["g1", "g2"]
        .iter()
        .map(|id| proto::v1::TaskInfo {
            task_id: proto::v1::TaskId {
                value: (*id).into(),
            },
            name: (*id).into(),
            executor: None,
            command: Some(proto::v1::CommandInfo {
                value: Some("unused".into()),
                ..Default::default()
            }),
            ..template.clone()
        })
        .collect();
    let op = proto::calls::offer::launch_group(executor, proto::v1::TaskGroupInfo { tasks });
    let accept =
        proto::calls::scheduler::accept(&sub.framework_id, vec![offer.id.clone()], vec![op], None);
    assert_eq!(sub.call(&accept).await.0, 202);
    for id in ["g1", "g2"] {
        assert_eq!(
            sub.update(id, true).await.state,
            TaskState::TaskRunning as i32
        );
        assert_eq!(
            sub.update(id, true).await.state,
            TaskState::TaskFinished as i32
        );
    }
    c.shutdown().await;
}
