//! Conformance of the master's scheduler API, driven with raw HTTP (reqwest + protobuf).

mod common;

use common::*;
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
