//! Subscribe, launch the server and one worker per agent, aggregate reports, serve the web.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_and_workers_run_and_reports_show_on_every_page() {
    let c = cluster(2, |_| {}).await;
    let s = start(config(vec![c.master_url()], temp_dir())).await;
    let state = s
        .wait("server and two workers mining", |st| mining(st, 2))
        .await;
    assert_eq!(state.cluster.hashrate_10s, 2000.0);
    assert_eq!(state.master.as_deref(), Some(c.master_url().as_str()));
    assert_eq!(state.server.kind, "builtin");
    let url = state.server.url.clone().expect("server url");
    assert!(url.starts_with("stratum+tcp://127.0.0.1:"), "{url}");
    assert_eq!(state.agents.len(), 2);
    let worker = state
        .tasks
        .iter()
        .find(|t| t.task_id.starts_with("worker-"))
        .expect("a worker");
    assert_eq!(
        worker.executor_id.as_deref(),
        Some(format!("exec-{}", worker.task_id).as_str())
    );
    assert_eq!(worker.kernel.as_deref(), Some("test"));
    // The same over HTTP.
    let json: serde_json::Value = s.get("/api/state").await.json().await.expect("json");
    for key in [
        "framework_id",
        "subscribed",
        "master",
        "server",
        "cluster",
        "agents",
        "tasks",
    ] {
        assert!(json.get(key).is_some(), "/api/state lacks {key}");
    }
    assert_eq!(
        json["framework_id"],
        serde_json::json!(s.handle.framework_id())
    );
    let metrics = s.get("/metrics").await.text().await.expect("metrics");
    for name in [
        "mesos_miner_cluster_hashrate_hashes_per_second{window=\"10s\"}",
        "mesos_miner_task_hashrate_hashes_per_second{task_id=",
        "mesos_miner_shares_total{result=\"accepted\"}",
        "mesos_miner_blocks_found_total",
        "mesos_miner_tasks{kind=\"worker\",state=\"TASK_RUNNING\"} 2",
        "mesos_miner_offers_total{outcome=\"accepted\"}",
        "mesos_miner_subscribed 1",
    ] {
        assert!(metrics.contains(name), "/metrics lacks {name}:\n{metrics}");
    }
    let page = s.get("/").await.text().await.expect("page");
    assert!(page.contains("Cluster hashrate") && page.contains(&worker.task_id));
    // The executor the agents fetched: our binary, with its length.
    let bytes = std::fs::read(EXECUTOR).expect("executor binary");
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let resp = s.get(&format!("/executor/{sha}/mesos-miner")).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.content_length(), Some(bytes.len() as u64));
    assert_eq!(resp.bytes().await.expect("body").len(), bytes.len());
    assert_eq!(
        s.get("/executor/0000/mesos-miner").await.status().as_u16(),
        404
    );
    assert_no_double_launch(&c);
    s.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_pool_runs_workers_only() {
    let c = cluster(1, |_| {}).await;
    let mut cfg = config(vec![c.master_url()], temp_dir());
    cfg.server = scheduler::ServerConfig::External {
        pool_url: "stratum+tcp://pool.invalid:3333".into(),
    };
    let s = start(cfg).await;
    let state = s
        .wait("one worker mining", |st| {
            st.cluster.workers == 1 && st.cluster.hashrate_10s > 0.0
        })
        .await;
    assert_eq!(state.server.kind, "external");
    assert_eq!(
        state.server.url.as_deref(),
        Some("stratum+tcp://pool.invalid:3333")
    );
    assert!(state.tasks.iter().all(|t| t.task_id.starts_with("worker-")));
    s.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p2pool_refused_by_the_cluster_is_retried_with_backoff_not_crashed() {
    let c = cluster(1, |_| {}).await;
    let mut cfg = config(vec![c.master_url()], temp_dir());
    cfg.server = scheduler::ServerConfig::P2pool(scheduler::P2poolServer {
        image: scheduler::P2POOL_IMAGE.into(),
        bitcoind_address: "127.0.0.1".into(),
        rpc_user: "user".into(),
        rpc_password: scheduler::Secret::new("pass"),
        cpus: 1.0,
        mem: 256.0,
    });
    let s = start(cfg).await;
    // Docker is refused (TASK_FAILED / REASON_CONTAINER_LAUNCH_FAILED): each attempt gets a
    // new id, the scheduler keeps running and no worker starts without a server.
    wait_for("three p2pool attempts", || async {
        let servers = c
            .launch_history()
            .iter()
            .filter(|r| r.task_id.starts_with("server-"))
            .count();
        (servers >= 3).then_some(())
    })
    .await;
    assert_no_double_launch(&c);
    let state = s.handle.state();
    assert!(state.subscribed);
    assert_eq!(state.cluster.workers, 0);
    assert_eq!(state.server.kind, "p2pool");
    s.stop().await;
    c.shutdown().await;
}
