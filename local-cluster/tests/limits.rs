//! What one client may make the cluster hold (issue 11 hole 8): a subscriber that lets its
//! stream pile up unread is cut off instead of growing the cluster's memory without bound;
//! and the process-free mode the scale benchmark runs the cluster in.

use std::time::Duration;

use proto::Message;
use proto::scheduler::{Event, event::Type as EventType};
use proto::v1::{self, TaskState};

use crate::common::{Sub, cluster_with, command_task, framework, launch};

/// A RECONCILE of 100,000 unknown tasks on a stream nobody reads: the events overflow the
/// stream's backlog, the cluster ends the stream with an error (no chunk terminator) long
/// before all of them are delivered, and the framework is disconnected: it can subscribe
/// again under its id.
#[tokio::test]
async fn unread_stream_is_cut_at_the_backlog_limit() {
    let cluster = cluster_with(0, |c| c.max_stream_backlog = 256 << 10).await;
    let master = cluster.master_url();
    let mut info = framework("unread", &[]);
    info.failover_timeout = Some(600.0);
    let mut sub = Sub::open(&master, info.clone()).await;
    let tasks = (0..100_000)
        .map(|i| {
            (
                v1::TaskId {
                    value: format!("t{i}"),
                },
                None,
            )
        })
        .collect();
    let rec = proto::calls::scheduler::reconcile(&sub.framework_id, tasks);
    assert_eq!(sub.call(&rec).await.0, 202);

    let mut updates = 0;
    let end = loop {
        while let Ok(Some(rec)) = sub.decoder.decode() {
            let ev = Event::decode(rec).expect("an event");
            if ev.r#type == Some(EventType::Update as i32) {
                updates += 1;
            }
        }
        match tokio::time::timeout(Duration::from_secs(30), sub.resp.chunk()).await {
            Ok(Ok(Some(chunk))) => sub.decoder.feed(&chunk),
            Ok(other) => break other,
            Err(_) => panic!("stream neither cut nor ended ({updates} updates read)"),
        }
    };
    assert!(end.is_err(), "cut with an error, not a clean end: {end:?}");
    assert!(
        updates < 100_000,
        "the stream was cut before everything queued ({updates} updates read)"
    );

    info.id = Some(sub.framework_id.clone());
    let again = Sub::open(&master, info).await;
    assert_eq!(again.framework_id, sub.framework_id, "same framework again");
}

/// `simulate_processes` (the scale benchmark's mode): a command that could never run is
/// reported running at once, and a kill ends it as TASK_KILLED, with no process involved.
#[tokio::test]
async fn simulated_processes_run_and_die_by_signal() {
    let cluster = cluster_with(1, |c| c.simulate_processes = true).await;
    let mut sub = Sub::open(&cluster.master_url(), framework("sim", &[])).await;
    let offer = sub.offer().await;
    let task = command_task("s1", &offer, "/nonexistent/binary --never-runs");
    let launch = launch(&sub.framework_id, &offer, vec![task]);
    assert_eq!(sub.call(&launch).await.0, 202);
    let mut state = sub.update("s1", true).await.state;
    if state == TaskState::TaskStarting as i32 {
        state = sub.update("s1", true).await.state;
    }
    assert_eq!(
        state,
        TaskState::TaskRunning as i32,
        "running without a process"
    );
    let kill = proto::calls::scheduler::kill(
        &sub.framework_id,
        v1::TaskId { value: "s1".into() },
        Some(offer.agent_id.clone()),
        None,
    );
    assert_eq!(sub.call(&kill).await.0, 202);
    assert_eq!(
        sub.update("s1", true).await.state,
        TaskState::TaskKilled as i32
    );
}
