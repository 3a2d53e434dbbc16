//! A framework written against the scheduler protocol alone (this file + `common`, using only
//! `proto` and reqwest) and the protocol-only test executor run tasks through the local
//! cluster, exchange framework messages both ways, and survive an agent restart and a
//! master failover.

mod common;

use std::time::Duration;

use common::*;
use proto::scheduler::event::Type as EventType;
use proto::v1::{TaskState, framework_info::capability::Type as Cap};

fn message_data(ev: &proto::scheduler::Event) -> Vec<u8> {
    ev.message.as_ref().map(|m| m.data.clone()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_executor_task_finishes_and_messages_flow_both_ways() {
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("e2e", &[Cap::PartitionAware])).await;
    let offer = sub.offer().await;
    // `run` keeps the task running until we kill it, so the message exchange happens first.
    let task = executor_task("x1", "exec-1", &offer, "run");
    assert_eq!(sub.call(&launch(&sub.framework_id, &offer, vec![task])).await.0, 202);
    assert_eq!(sub.update("x1", true).await.state, TaskState::TaskRunning as i32);
    let hello = sub.expect(EventType::Message).await;
    assert_eq!(message_data(&hello), b"hello-from-executor");
    let msg = proto::calls::scheduler::message(&sub.framework_id, offer.agent_id.clone(), proto::v1::ExecutorId { value: "exec-1".into() }, b"ping".to_vec());
    assert_eq!(sub.call(&msg).await.0, 202);
    let echo = sub.expect(EventType::Message).await;
    assert_eq!(message_data(&echo), b"echo:ping");
    let kill = proto::calls::scheduler::kill(&sub.framework_id, proto::v1::TaskId { value: "x1".into() }, Some(offer.agent_id.clone()), None);
    assert_eq!(sub.call(&kill).await.0, 202);
    assert_eq!(sub.update("x1", true).await.state, TaskState::TaskKilled as i32);
    // The executor exits once its last update is acknowledged: FAILURE with its status.
    let failure = sub.expect(EventType::Failure).await.failure.expect("failure");
    assert_eq!(failure.executor_id.map(|e| e.value), Some("exec-1".into()));
    assert_eq!(failure.status, Some(0));
    // Finishing task on a fresh executor.
    let offer = sub.offer().await;
    let task = executor_task("x2", "exec-2", &offer, "finish");
    assert_eq!(sub.call(&launch(&sub.framework_id, &offer, vec![task])).await.0, 202);
    assert_eq!(sub.update("x2", true).await.state, TaskState::TaskRunning as i32);
    assert_eq!(sub.update("x2", true).await.state, TaskState::TaskFinished as i32);
    c.shutdown().await;
}
