//! Master failover (307), cut and stalled streams, authentication, lost tasks.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_the_307_to_the_new_leader_and_keeps_every_task() {
    let c = cluster(1, |_| {}).await;
    let old = c.master_url();
    let s = start(config(vec![old.clone()], temp_dir())).await;
    let before = s.wait("mining", |st| mining(st, 1)).await;
    let new = c.failover_master().await.expect("failover");
    assert_ne!(new, old);
    // Only the old master is configured: the scheduler must follow its 307.
    let after = s
        .wait("subscribed at the new leader", |st| {
            st.subscribed && st.master.as_deref() == Some(new.as_str()) && mining(st, 1)
        })
        .await;
    assert_eq!(task_ids(&after), task_ids(&before));
    assert_no_double_launch(&c);
    s.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubscribes_after_a_cut_stream_and_after_a_silent_one() {
    let c = cluster(1, |_| {}).await;
    let s = start(config(vec![c.master_url()], temp_dir())).await;
    let before = s.wait("mining", |st| mining(st, 1)).await;
    let fid = before.framework_id.clone().expect("framework id");
    assert!(c.cut_stream(&fid));
    wait_for("a second SUBSCRIBED", || async {
        (s.metric("mesos_miner_subscriptions_total").await >= 2.0).then_some(())
    })
    .await;
    // A half-open stall: heartbeats stop, TCP stays open; the watchdog notices.
    assert!(c.stall_stream(&fid));
    wait_for("a third SUBSCRIBED", || async {
        (s.metric("mesos_miner_subscriptions_total").await >= 3.0).then_some(())
    })
    .await;
    let after = s.wait("mining again", |st| mining(st, 1)).await;
    assert_eq!(after.framework_id, before.framework_id);
    assert_eq!(task_ids(&after), task_ids(&before));
    assert_no_double_launch(&c);
    s.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_basic_auth_with_the_right_secret_only() {
    let c = cluster(1, |cfg| {
        cfg.master.credentials = vec![("miner".into(), "s3cret".into())];
    })
    .await;
    let mut cfg = config(vec![c.master_url()], temp_dir());
    cfg.framework.principal = Some("miner".into());
    cfg.framework.secret = Some(scheduler::Secret::new("wrong"));
    let bad = start(cfg.clone()).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!bad.handle.state().subscribed);
    assert!(!format!("{cfg:?}").contains("s3cret") && !format!("{cfg:?}").contains("wrong"));
    bad.stop().await;
    cfg.framework.secret = Some(scheduler::Secret::new("s3cret"));
    cfg.state_dir = temp_dir();
    let good = start(cfg).await;
    good.wait("mining with credentials", |st| mining(st, 1))
        .await;
    good.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_executor_is_replaced_and_the_server_untouched() {
    let c = cluster(1, |_| {}).await;
    let s = start(config(vec![c.master_url()], temp_dir())).await;
    let before = s.wait("mining", |st| mining(st, 1)).await;
    let fid = before.framework_id.clone().expect("framework id");
    let worker = before
        .tasks
        .iter()
        .find(|t| t.task_id.starts_with("worker-"))
        .expect("worker")
        .clone();
    let server = before.server.task_id.clone().expect("server");
    assert!(c.kill_executor(
        &worker.agent_id,
        &fid,
        worker.executor_id.as_deref().expect("exec")
    ));
    let after = s
        .wait("a new worker", |st| {
            mining(st, 1) && st.tasks.iter().all(|t| t.task_id != worker.task_id)
        })
        .await;
    assert_eq!(after.server.task_id.as_deref(), Some(server.as_str()));
    assert_no_double_launch(&c);
    s.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_takes_the_workers_down_and_both_come_back() {
    let c = cluster(1, |_| {}).await;
    let s = start(config(vec![c.master_url()], temp_dir())).await;
    let before = s.wait("mining", |st| mining(st, 1)).await;
    let fid = before.framework_id.clone().expect("framework id");
    let server = before
        .tasks
        .iter()
        .find(|t| t.task_id.starts_with("server-"))
        .expect("server")
        .clone();
    assert!(c.kill_executor(
        &server.agent_id,
        &fid,
        server.executor_id.as_deref().expect("exec")
    ));
    let after = s
        .wait("a new server and a new worker", |st| {
            mining(st, 1)
                && task_ids(st)
                    .iter()
                    .all(|id| !task_ids(&before).contains(id))
        })
        .await;
    assert_eq!(after.tasks.len(), 2);
    assert_no_double_launch(&c);
    s.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotates_past_a_dead_master_in_the_list() {
    let c = cluster(1, |_| {}).await;
    // Port 9 (discard) on loopback: connection refused.
    let masters = vec!["http://127.0.0.1:9".to_owned(), c.master_url()];
    let s = start(config(masters, temp_dir())).await;
    let state = s
        .wait("mining via the second master", |st| mining(st, 1))
        .await;
    assert_eq!(state.master.as_deref(), Some(c.master_url().as_str()));
    s.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_and_heal_leave_no_duplicate_running() {
    let c = cluster(2, |_| {}).await;
    let mut cfg = config(vec![c.master_url()], temp_dir());
    cfg.timing.unreachable_grace = Duration::from_millis(300);
    cfg.timing.reconcile_retry_max = Duration::from_secs(1);
    let s = start(cfg).await;
    let before = s.wait("mining", |st| mining(st, 2)).await;
    let server_agent = before
        .tasks
        .iter()
        .find(|t| t.task_id.starts_with("server-"))
        .map(|t| t.agent_id.clone())
        .expect("server");
    let lone = before
        .tasks
        .iter()
        .find(|t| t.agent_id != server_agent)
        .expect("a worker alone on its agent")
        .clone();
    assert!(c.partition_agent(&lone.agent_id));
    s.wait("the partitioned worker replaced", |st| {
        st.tasks
            .iter()
            .any(|t| t.task_id == lone.task_id && t.state == "TASK_UNREACHABLE")
    })
    .await;
    assert!(c.heal_agent(&lone.agent_id));
    // Healed: at most one worker per agent ends up running, the server untouched.
    let after = s
        .wait("two workers again, one per agent", |st| {
            mining(st, 2) && st.tasks.len() == 3
        })
        .await;
    let mut agents: Vec<&str> = after
        .tasks
        .iter()
        .filter(|t| t.task_id.starts_with("worker-"))
        .map(|t| t.agent_id.as_str())
        .collect();
    agents.sort();
    agents.dedup();
    assert_eq!(agents.len(), 2);
    assert_eq!(after.server.task_id, before.server.task_id);
    assert_no_double_launch(&c);
    s.stop().await;
    c.shutdown().await;
}
