//! Faults injected into the cluster while the framework mines: executors SIGKILLed, an agent
//! restarted, killed or partitioned, the master failing over, a half-open stream.

use std::collections::BTreeSet;

use proto::framework::TaskKind;

use super::*;

fn ids(state: &StateView, kind: TaskKind) -> BTreeSet<String> {
    running(state, kind)
        .iter()
        .map(|t| t.task_id.clone())
        .collect()
}

fn task<'a>(state: &'a StateView, id: &str) -> &'a scheduler::view::TaskView {
    state
        .tasks
        .iter()
        .find(|t| t.task_id == id)
        .unwrap_or_else(|| panic!("no task {id}"))
}

/// Whether task `id` still runs (ended tasks leave the state document).
fn still_running(state: &StateView, id: &str) -> bool {
    state
        .tasks
        .iter()
        .any(|t| t.task_id == id && t.state == "TASK_RUNNING")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_executors_are_replaced_and_a_lost_server_takes_the_workers_along() {
    let c = cluster(2, 1.0, |_| {}).await;
    let s = Sched::start(config(&c, "kill-exec")).await;
    let before = s.wait("mining", LONG, |st| mining(st, 2)).await;
    let fid = before.framework_id.clone().expect("framework id");

    // A worker's executor dies: a new worker comes, the server is untouched.
    let server = ids(&before, TaskKind::Server);
    let victim = before
        .tasks
        .iter()
        .find(|t| t.kind == TaskKind::Worker && t.state == "TASK_RUNNING")
        .expect("a worker")
        .clone();
    let exec = victim.executor_id.clone().expect("executor id");
    assert!(c.kill_executor(&victim.agent_id, &fid, &exec));
    let after = s
        .wait("a replacement worker", LONG, |st| {
            mining(st, 2) && !ids(st, TaskKind::Worker).contains(&victim.task_id)
        })
        .await;
    assert_eq!(ids(&after, TaskKind::Server), server, "server untouched");
    assert!(!still_running(&after, &victim.task_id));

    // The server's executor dies: every worker is killed and relaunched against a new
    // server, and shares are accepted again.
    let old_server = after.server.task_id.clone().expect("server task");
    let server_agent = task(&after, &old_server).agent_id.clone();
    let server_exec = task(&after, &old_server).executor_id.clone().expect("exec");
    let old_workers = ids(&after, TaskKind::Worker);
    assert!(c.kill_executor(&server_agent, &fid, &server_exec));
    let accepted_before = after.cluster.shares_accepted;
    let last = s
        .wait("a new server and new workers mining", LONG, |st| {
            mining(st, 2)
                && st.server.task_id.as_deref() != Some(old_server.as_str())
                && ids(st, TaskKind::Worker).is_disjoint(&old_workers)
                && st.cluster.shares_accepted > accepted_before
        })
        .await;
    for w in &old_workers {
        assert!(!still_running(&last, w), "old worker {w} left running");
    }
    assert!(launched_twice(&c.launch_history()).is_empty());
    s.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_restart_keeps_every_task_and_a_killed_agent_is_mined_elsewhere() {
    let c = cluster(3, 1.0, |cfg| {
        cfg.agent_template.recovery_phase = Duration::from_millis(300);
    })
    .await;
    let mut cfg = config(&c, "agent-faults");
    cfg.worker.max_workers = Some(2);
    let s = Sched::start(cfg).await;
    let before = s.wait("mining", LONG, |st| mining(st, 2)).await;
    let launches = c.launch_history().len();

    // Restart (checkpointed framework): executors re-subscribe, nothing is relaunched.
    let agent = running(&before, TaskKind::Worker)[0].agent_id.clone();
    c.restart_agent(&agent, Duration::from_millis(500))
        .await
        .expect("restart");
    let hashes_seen = before.cluster.shares_accepted;
    let after = s
        .wait("mining on after the restart", LONG, |st| {
            mining(st, 2) && st.cluster.shares_accepted > hashes_seen
        })
        .await;
    assert_eq!(
        ids(&after, TaskKind::Worker),
        ids(&before, TaskKind::Worker)
    );
    assert_eq!(
        ids(&after, TaskKind::Server),
        ids(&before, TaskKind::Server)
    );
    assert_eq!(c.launch_history().len(), launches, "nothing relaunched");

    // Kill an agent that runs a worker but not the server: its worker moves to the agent
    // that has none.
    let server_agent = running(&after, TaskKind::Server)[0].agent_id.clone();
    let doomed = running(&after, TaskKind::Worker)
        .iter()
        .map(|t| (t.agent_id.clone(), t.task_id.clone()))
        .find(|(a, _)| *a != server_agent)
        .expect("a worker away from the server");
    c.kill_agent(&doomed.0).await;
    let moved = s
        .wait("the worker relaunched on another agent", LONG, |st| {
            mining(st, 2)
                && running(st, TaskKind::Worker)
                    .iter()
                    .all(|t| t.agent_id != doomed.0)
        })
        .await;
    assert!(!ids(&moved, TaskKind::Worker).contains(&doomed.1));
    assert!(launched_twice(&c.launch_history()).is_empty());
    s.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_worker_is_replaced_and_its_return_leaves_no_duplicate() {
    // Three agents, two workers: the replacement always finds an agent without one.
    let c = cluster(3, 1.0, |_| {}).await;
    let mut cfg = config(&c, "partition");
    cfg.worker.max_workers = Some(2);
    let s = Sched::start(cfg).await;
    let before = s.wait("mining", LONG, |st| mining(st, 2)).await;
    let server_agent = running(&before, TaskKind::Server)[0].agent_id.clone();
    let Some(victim) = running(&before, TaskKind::Worker)
        .into_iter()
        .find(|t| t.agent_id != server_agent)
        .cloned()
    else {
        panic!("one agent cannot hold both workers: {before:?}");
    };
    assert!(c.partition_agent(&victim.agent_id));
    s.wait("the partitioned worker replaced", LONG, |st| {
        running(st, TaskKind::Worker)
            .iter()
            .filter(|t| t.task_id != victim.task_id)
            .count()
            == 2
    })
    .await;
    assert!(c.heal_agent(&victim.agent_id));
    let healed = s
        .wait("the returned original killed", LONG, |st| {
            let t = st.tasks.iter().find(|t| t.task_id == victim.task_id);
            t.is_some_and(|t| t.state == "TASK_KILLED" || t.state == "TASK_FAILED") || t.is_none()
        })
        .await;
    assert_eq!(
        running(&healed, TaskKind::Worker).len(),
        2,
        "no duplicate left"
    );
    s.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_failover_and_a_half_open_stream_lose_nothing() {
    let c = cluster(1, 1.0, |cfg| {
        cfg.standby_masters = 1;
        cfg.failover_recovery = Duration::from_millis(800);
    })
    .await;
    let s = Sched::start(config(&c, "master-failover")).await;
    let before = s.wait("mining", LONG, |st| mining(st, 1)).await;
    let fid = before.framework_id.clone().expect("framework id");
    let launches = c.launch_history().len();

    let new_leader = c.failover_master().await.expect("failover");
    let accepted = before.cluster.shares_accepted;
    let after = s
        .wait("subscribed to the new leader, mining on", LONG, |st| {
            st.subscribed
                && st.master.as_deref() == Some(new_leader.as_str())
                && mining(st, 1)
                && st.cluster.shares_accepted > accepted
        })
        .await;
    assert_eq!(after.framework_id.as_deref(), Some(fid.as_str()));
    assert_eq!(
        ids(&after, TaskKind::Worker),
        ids(&before, TaskKind::Worker)
    );
    assert_eq!(c.launch_history().len(), launches, "nothing launched twice");

    // Half-open: the stream goes silent with TCP open. The watchdog (5 heartbeats of
    // 500 ms) must notice and re-subscribe; proven by a fault handled afterwards.
    assert!(c.stall_stream(&fid));
    tokio::time::sleep(Duration::from_secs(4)).await;
    let worker = running(&after, TaskKind::Worker)[0].clone();
    assert!(c.kill_executor(
        &worker.agent_id,
        &fid,
        worker.executor_id.as_deref().unwrap()
    ));
    s.wait("a new worker after the stall", LONG, |st| {
        mining(st, 1) && !ids(st, TaskKind::Worker).contains(&worker.task_id)
    })
    .await;
    assert!(launched_twice(&c.launch_history()).is_empty());
    s.stop().await;
    c.shutdown().await;
}
