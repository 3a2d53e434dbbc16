//! The state dir: restart on it fails over to the same framework, a second scheduler on it
//! refuses, teardown clears it.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_on_the_same_dir_takes_the_tasks_back_and_launches_none_twice() {
    let c = cluster(2, |_| {}).await;
    let dir = temp_dir();
    let first = start(config(vec![c.master_url()], dir.clone())).await;
    let before = first.wait("mining", |st| mining(st, 2)).await;
    first.stop().await;
    let second = start(config(vec![c.master_url()], dir.clone())).await;
    let after = second
        .wait("subscribed again with fresh reports", |st| {
            st.subscribed && mining(st, 2) && task_ids(st) == task_ids(&before)
        })
        .await;
    assert_eq!(after.framework_id, before.framework_id);
    // Reconciled and kept for a while: still the same tasks, none launched again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(task_ids(&second.handle.state()), task_ids(&before));
    assert_eq!(c.launch_history().len(), 3);
    assert_no_double_launch(&c);
    second.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_scheduler_on_a_locked_dir_refuses_to_start() {
    let c = cluster(1, |_| {}).await;
    let dir = temp_dir();
    let first = start(config(vec![c.master_url()], dir.clone())).await;
    let err = scheduler::start(
        config(vec![c.master_url()], dir.clone()),
        CancellationToken::new(),
    )
    .await
    .err()
    .expect("second scheduler refused");
    assert!(
        matches!(
            err,
            scheduler::SchedulerError::Store(scheduler::store::StoreError::Locked(_))
        ),
        "{err}"
    );
    first.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_removes_the_framework_and_clears_the_dir() {
    let c = cluster(1, |_| {}).await;
    let dir = temp_dir();
    let s = start(config(vec![c.master_url()], dir.clone())).await;
    let before = s.wait("mining", |st| mining(st, 1)).await;
    s.handle.teardown().await.expect("teardown");
    assert_eq!(
        s.handle.join().await.expect("stopped"),
        scheduler::Exit::TornDown
    );
    assert!(!dir.join("framework_id").exists());
    assert_eq!(
        std::fs::read_dir(dir.join("tasks"))
            .expect("tasks dir")
            .count(),
        0
    );
    // A new scheduler on the dir is a new framework.
    let again = start(config(vec![c.master_url()], dir)).await;
    let state = again.wait("a new framework", |st| st.subscribed).await;
    assert_ne!(state.framework_id, before.framework_id);
    again.stop().await;
    c.shutdown().await;
}
