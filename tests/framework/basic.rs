//! The happy path: the server and one worker per agent launched through Mesos on our
//! executor, reports aggregated and shown on `/api/state`, `/metrics` and `/`.

use proto::framework::TaskKind;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_and_workers_mine_and_every_surface_shows_it() {
    let c = cluster(2, 1.0, |_| {}).await;
    let s = Sched::start(config(&c, "basic")).await;
    let state = s
        .wait("server + 2 mining workers", LONG, |st| mining(st, 2))
        .await;
    assert!(state.subscribed);
    assert!(state.cluster.hashrate_10s > 0.0);
    assert!(state.cluster.shares_accepted > 0);
    assert_eq!(state.cluster.workers, 2);
    assert_eq!(state.server.kind, "builtin");
    let url = state.server.url.clone().expect("server url");
    assert!(url.starts_with("stratum+tcp://"), "{url}");
    // One worker per agent, each with the agent's cpus minus the executor's: 1 thread.
    let agents: std::collections::BTreeSet<_> = running(&state, TaskKind::Worker)
        .iter()
        .map(|t| t.agent_id.clone())
        .collect();
    assert_eq!(agents.len(), 2, "one worker on each agent");
    for w in running(&state, TaskKind::Worker) {
        assert_eq!(w.threads, Some(1));
        assert_eq!(w.kernel.as_deref(), Some("portable"));
        assert!(w.task_id.starts_with("worker-"), "{}", w.task_id);
    }
    // Every task was launched once, on our custom executor, never the command executor.
    let history = c.launch_history();
    assert!(launched_twice(&history).is_empty(), "{history:?}");
    for launch in &history {
        let exec = launch.task.executor.as_ref().expect("custom executor");
        let cmd = exec.command.as_ref().expect("command");
        assert_eq!(cmd.value.as_deref(), Some("./mesos-miner"));
        assert_eq!(cmd.shell, Some(false));
        assert_eq!(cmd.arguments, ["mesos-miner", "executor"]);
        assert!(launch.task.command.is_none());
    }

    let web = s.handle.web_addr();
    let (code, body) = http_get(web, "/api/state").await;
    assert_eq!(code, 200);
    let json: serde_json::Value = serde_json::from_str(&body).expect("state JSON");
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
    assert!(json["cluster"]["hashrate_10s"].as_f64().unwrap_or(0.0) > 0.0);
    assert_eq!(json["tasks"].as_array().map(Vec::len), Some(3));

    let (code, metrics) = http_get(web, "/metrics").await;
    assert_eq!(code, 200);
    let value = |prefix: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} in /metrics:\n{metrics}"))
    };
    assert!(value("mesos_miner_cluster_hashrate_hashes_per_second{window=\"10s\"}") > 0.0);
    assert!(value("mesos_miner_shares_total{result=\"accepted\"}") > 0.0);
    assert_eq!(value("mesos_miner_subscribed"), 1.0);
    assert!(metrics.contains("mesos_miner_task_hashrate_hashes_per_second{"));
    assert!(metrics.contains("mesos_miner_tasks{"));
    assert!(metrics.contains("mesos_miner_offers_total{"));
    assert!(metrics.contains("mesos_miner_blocks_found_total"));

    let (code, page) = http_get(web, "/").await;
    assert_eq!(code, 200);
    for t in &state.tasks {
        assert!(page.contains(&t.task_id), "the page lists {}", t.task_id);
    }
    s.stop().await;
    c.shutdown().await;
}
