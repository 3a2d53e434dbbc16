//! A scheduler restart on the same state dir fails over to the same framework id and keeps
//! its tasks; a second scheduler on a dir in use refuses to start; teardown removes all.

use proto::framework::TaskKind;

use super::*;

fn task_ids(state: &StateView) -> Vec<String> {
    let mut ids: Vec<String> = state
        .tasks
        .iter()
        .filter(|t| t.state == "TASK_RUNNING")
        .map(|t| t.task_id.clone())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_on_the_same_state_dir_takes_the_tasks_back() {
    let c = cluster(1, 1.0, |_| {}).await;
    let cfg = config(&c, "restart");
    let s = Sched::start(cfg.clone()).await;
    let before = s.wait("mining", LONG, |st| mining(st, 1)).await;
    let fid = before.framework_id.clone().expect("framework id");

    // A second scheduler on the same dir refuses while the first holds it.
    let second = scheduler::start(cfg.clone(), CancellationToken::new()).await;
    let err = second.err().expect("second scheduler refused").to_string();
    assert!(err.contains("lock") || err.contains("use"), "{err}");

    let launches = c.launch_history().len();
    s.stop().await; // what SIGTERM does: no teardown, tasks keep mining
    let s = Sched::start(cfg.clone()).await;
    let after = s
        .wait("subscribed again with the same tasks mining", LONG, |st| {
            st.subscribed && mining(st, 1)
        })
        .await;
    assert_eq!(after.framework_id.as_deref(), Some(fid.as_str()));
    assert_eq!(task_ids(&after), task_ids(&before), "tasks taken back");
    assert_eq!(c.launch_history().len(), launches, "none launched twice");

    // Teardown ends the framework and its tasks.
    s.handle.teardown().await.expect("teardown");
    let mut left = usize::MAX;
    for _ in 0..100 {
        left = c
            .agent_ids()
            .iter()
            .map(|a| c.container_count(a).unwrap_or(0))
            .sum();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(left, 0, "every executor ended after teardown");
    let _ = running(&after, TaskKind::Worker);
    c.shutdown().await;
}

/// The `scheduler` command as an operator runs it: SIGTERM stops it with the tasks left
/// mining, a restart on the same state dir fails over to them, and a second scheduler on a
/// dir in use exits at once with an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_command_sigterm_and_restart() {
    use crate::support::{Proc, free_addr};

    let c = cluster(1, 1.0, |_| {}).await;
    let dir = temp_dir("fw-cli");
    let state_dir = dir.join("state");
    let web = free_addr();
    let masters = c.master_urls().join(",");
    let args: Vec<String> = [
        "scheduler",
        "--master",
        &masters,
        "--state-dir",
        state_dir.to_str().unwrap(),
        "--web-bind",
        &web.to_string(),
        "--demo",
        "--difficulty",
        "0.0005",
        "--kernel",
        "portable",
        "--report-interval",
        "0.5",
        "--refuse-seconds",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let state_of = |body: &str| serde_json::from_str::<StateView>(body).ok();
    let wait_mining = |log: &'static str| async move {
        let deadline = tokio::time::Instant::now() + LONG;
        loop {
            let (_, body) = http_get(web, "/api/state").await;
            if let Some(st) = state_of(&body).filter(|st| mining(st, 1)) {
                return st;
            }
            assert!(tokio::time::Instant::now() < deadline, "{log}: not mining");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    };
    let mut first = Proc::spawn(&argv, dir.join("first.log"));
    let before = wait_mining("first scheduler").await;

    let mut second_args = argv.clone();
    let other_web = free_addr().to_string();
    if let Some(i) = second_args.iter().position(|a| *a == "--web-bind") {
        second_args[i + 1] = &other_web;
    }
    let mut second = Proc::spawn(&second_args, dir.join("second.log"));
    let status = second.terminate_or_wait(Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| !s.success()),
        "a second scheduler on the same dir must fail: {}",
        second.output()
    );
    assert!(second.output().contains("lock") || second.output().contains("use"));

    let launches = c.launch_history().len();
    let status = first
        .terminate(Duration::from_secs(20))
        .expect("exits on SIGTERM");
    assert!(status.success(), "{}", first.output());
    let mut again = Proc::spawn(&argv, dir.join("again.log"));
    let after = wait_mining("restarted scheduler").await;
    assert_eq!(after.framework_id, before.framework_id);
    assert_eq!(task_ids(&after), task_ids(&before));
    assert_eq!(c.launch_history().len(), launches, "none launched twice");
    let _ = again.terminate(Duration::from_secs(20));
    c.shutdown().await;
}
