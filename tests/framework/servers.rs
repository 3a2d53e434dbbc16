//! The three server kinds: `external` (workers mine a pool given by URL), `p2pool` (the
//! original framework's Docker task, refused here as the local cluster has no Docker), and
//! `builtin` on a real regtest node, whose blocks found through Mesos the node accepts.

use std::time::Duration;

use proto::framework::{NodeSpec, TaskKind};
use proto::v1::container_info::Type as ContainerType;
use scheduler::{P2poolServer, Secret, ServerConfig};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_pool_is_mined_without_a_server_task() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut pool_cfg =
        pool::PoolConfig::new(pool::Backend::Demo, None, temp_dir("fw-external-pool"));
    pool_cfg.session.initial_difficulty = stratum::Difficulty::new(0.0005).expect("difficulty");
    let pool = pool::Pool::start(listener, pool_cfg).await.expect("pool");
    let url = format!("stratum+tcp://{}", pool.local_addr());

    let c = cluster(1, 1.0, |_| {}).await;
    let mut cfg = config(&c, "external");
    cfg.server = ServerConfig::External {
        pool_url: url.clone(),
    };
    let s = Sched::start(cfg).await;
    let state = s
        .wait("a worker mining the external pool", LONG, |st| {
            running(st, TaskKind::Worker)
                .iter()
                .any(|t| t.shares_accepted > 0)
        })
        .await;
    assert_eq!(state.server.kind, "external");
    assert!(
        state.tasks.iter().all(|t| t.kind == TaskKind::Worker),
        "no server task"
    );
    assert!(
        pool.status().shares_accepted > 0,
        "the external pool counted the shares"
    );
    for launch in c.launch_history() {
        let data = launch.task.data.as_deref().unwrap_or_default();
        let spec = proto::framework::TaskSpec::parse(data).expect("task spec");
        assert!(
            matches!(&spec, proto::framework::TaskSpec::Worker(w) if w.pool_url == url),
            "{spec:?}"
        );
    }
    s.stop().await;
    c.shutdown().await;
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p2pool_server_is_the_original_docker_task_and_its_refusal_is_not_a_crash_loop() {
    let c = cluster(1, 4.0, |_| {}).await;
    let mut cfg = config(&c, "p2pool");
    cfg.timing.backoff_min = Duration::from_millis(500);
    cfg.timing.backoff_max = Duration::from_secs(5);
    cfg.server = ServerConfig::P2pool(P2poolServer {
        image: scheduler::P2POOL_IMAGE.into(),
        bitcoind_address: "127.0.0.1".into(),
        rpc_user: "rpcuser".into(),
        rpc_password: Secret::new("rpcpass"),
        cpus: 1.0,
        mem: 256.0,
    });
    let s = Sched::start(cfg).await;
    s.wait("the p2pool task refused", LONG, |st| {
        st.server.state.as_deref() == Some("TASK_FAILED")
    })
    .await;
    let first = c.launch_history();
    let launch = first.first().expect("a p2pool launch");
    let task = &launch.task;
    let container = task.container.as_ref().expect("container");
    assert_eq!(container.r#type, ContainerType::Docker as i32);
    assert_eq!(
        container.docker.as_ref().map(|d| d.image.as_str()),
        Some("derekchiang/p2pool")
    );
    assert!(
        task.executor.is_none(),
        "the original ran p2pool as a Docker task"
    );
    let ports = proto::resources::ranges_of(&task.resources, "ports");
    let ports: Vec<u64> = ports.iter().flat_map(|r| r.clone()).collect();
    assert_eq!(ports.len(), 2, "two ports from the offer");
    let args = &task.command.as_ref().expect("command").arguments;
    let (p2pool_port, worker_port) = (ports[0].to_string(), ports[1].to_string());
    assert_eq!(
        args,
        &[
            "--bitcoind-address",
            "127.0.0.1",
            "--p2pool-port",
            p2pool_port.as_str(),
            "-w",
            worker_port.as_str(),
            "rpcuser",
            "rpcpass"
        ]
    );
    assert_eq!(proto::resources::sum_scalar(&task.resources, "cpus"), 1.0);
    assert_eq!(proto::resources::sum_scalar(&task.resources, "mem"), 256.0);
    // Refused again and again, it is retried with a growing backoff, never in a tight
    // loop: over 6 s a crash loop would launch hundreds of times.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let launches = c.launch_history().len();
    assert!(launches <= 8, "{launches} p2pool launches in ~6 s");
    assert!(
        s.state().tasks.iter().all(|t| t.kind == TaskKind::Server),
        "no worker without a server"
    );
    s.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_found_by_mesos_launched_workers_are_accepted_by_the_node() {
    let nodes = testkit::regtest::RegtestNodes::start()
        .await
        .expect("regtest nodes");
    let payout = nodes.rpc().new_address().await.expect("address");
    let height_before = nodes.rpc().block_count().await.expect("height");
    let c = cluster(1, 1.0, |_| {}).await;
    let mut cfg = config(&c, "regtest");
    if let ServerConfig::Builtin(b) = &mut cfg.server {
        b.demo = false;
        b.difficulty = None;
        b.bitcoind = Some(NodeSpec {
            url: nodes.rpc_url(),
            user: Some(nodes.rpc_user().to_owned()),
            password: None,
            password_file: Some(nodes.password_file().display().to_string()),
            cookie_file: None,
            payout_address: payout.clone(),
        });
    }
    let s = Sched::start(cfg).await;
    let state = s
        .wait("two blocks found through Mesos", LONG, |st| {
            st.server.blocks_found >= 2
        })
        .await;
    assert!(running(&state, TaskKind::Worker).len() == 1);
    let height = nodes.rpc().block_count().await.expect("height");
    assert!(
        height >= height_before + 2,
        "node height {height_before} -> {height}"
    );
    // The node's best block pays our payout address.
    let best = nodes.rpc().best_block_hash().await.expect("best");
    let block = nodes
        .rpc()
        .call("getblock", serde_json::json!([best, 2]))
        .await
        .expect("getblock");
    let coinbase = &block["tx"][0]["vout"];
    let pays_us = coinbase
        .as_array()
        .into_iter()
        .flatten()
        .any(|o| o["scriptPubKey"].to_string().contains(&payout));
    assert!(pays_us, "coinbase outputs {coinbase}");
    s.stop().await;
    c.shutdown().await;
}
