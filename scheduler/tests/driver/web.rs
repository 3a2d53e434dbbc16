//! What the page shows, over HTTP on a real subscription: the hashrate history fills with
//! what the executors report, the state changes carry the agents' words, and both stay
//! served when the master is gone (the page must stay usable unsubscribed).

use scheduler::history::HistoryView;

use super::*;

async fn history(s: &Running, query: &str) -> Option<HistoryView> {
    s.get(&format!("/api/history{query}"))
        .await
        .json()
        .await
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_and_changes_follow_the_cluster_and_outlive_the_master() {
    let c = cluster(2, |_| {}).await;
    let mut cfg = config(vec![c.master_url()], temp_dir());
    cfg.history_interval = Duration::from_millis(200);
    let s = start(cfg).await;
    s.wait("server and two workers mining", |st| mining(st, 2))
        .await;
    // The stand-in executor reports 1000 H/s per worker: the cluster point is their sum,
    // and each agent's series holds its own worker's rate.
    let h = wait_for("a history point at 2000 H/s", || async {
        let h = history(&s, "").await?;
        h.cluster.iter().any(|p| p.1 == 2000.0).then_some(h)
    })
    .await;
    assert_eq!((h.interval_ms, h.capacity), (200, 2160));
    assert!(h.cluster.windows(2).all(|w| w[0].0 < w[1].0), "{h:?}");
    assert_eq!(h.agents.len(), 2, "{h:?}");
    let at = |t: u64| h.cluster.iter().any(|p| p.0 == t);
    for agent in &h.agents {
        assert!(agent.points.iter().any(|p| p.1 == 1000.0), "{agent:?}");
        assert!(
            agent.points.iter().all(|p| at(p.0)),
            "same t_ms as the cluster's"
        );
    }
    let last = h.cluster.last().map_or(0, |p| p.0);
    let tail = wait_for("a point after the last one", || async {
        history(&s, &format!("?since={last}"))
            .await
            .filter(|t| !t.cluster.is_empty())
    })
    .await;
    assert!(tail.cluster.iter().all(|p| p.0 > last), "{tail:?}");

    // Every task got to RUNNING, and the log says so with the executor's message.
    let state: StateView = s.get("/api/state").await.json().await.expect("state");
    assert_eq!(state.tasks.len(), 3);
    for t in &state.tasks {
        let change = state
            .changes
            .iter()
            .find(|c| c.task_id == t.task_id && c.state == "TASK_RUNNING")
            .unwrap_or_else(|| panic!("no RUNNING change for {}: {:?}", t.task_id, state.changes));
        assert_eq!(change.agent_id, t.agent_id);
        assert_ne!(change.from, "TASK_RUNNING");
    }

    // The cluster goes away (its tasks with it): unsubscribed, and the page, the log and
    // the history go on.
    c.shutdown().await;
    let gone = s.wait("unsubscribed", |st| !st.subscribed).await;
    let running = gone.changes.iter().filter(|c| c.state == "TASK_RUNNING");
    assert_eq!(running.count(), 3, "the log is kept: {:?}", gone.changes);
    let before = history(&s, "").await.expect("history").cluster.len();
    wait_for("more points while unsubscribed", || async {
        let n = history(&s, "").await?.cluster.len();
        (n > before).then_some(())
    })
    .await;
    let page = s.get("/").await.text().await.expect("page");
    assert!(page.contains("\"subscribed\":false") && page.contains("Cluster hashrate"));
    s.stop().await;
}
