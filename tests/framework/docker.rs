//! DOCKER containers on the local cluster, for real: the executor in the project's image
//! (`--docker-image`) mines through Mesos, and `--server p2pool` launches its container
//! task. No p2pool image can be had here (p2pool is Python 2 and its image is not
//! reachable), so the p2pool test runs `scripts/container/p2pool-standin`: the project's
//! image with an entrypoint that accepts only p2pool's original argument list and serves
//! Stratum (demo jobs) on the `-w` port.
//!
//! Both images come from `scripts/container-test.sh` (`--test` runs these tests with its
//! containers.conf). Where no podman/docker can run the image, the tests say why and pass
//! without checking anything; the names are `MESOS_MINER_IMAGE` and
//! `MESOS_MINER_P2POOL_IMAGE` (defaults as the script's).

use std::process::{Command, Stdio};

use proto::framework::TaskKind;
use proto::v1::container_info::Type as ContainerType;
use scheduler::{P2poolServer, Secret, ServerConfig};

use super::*;

const IMAGE: &str = "localhost/mesos-miner:dev";
const STANDIN: &str = "localhost/mesos-miner-p2pool-standin:dev";

/// The image named by `var` (default `default`) if a container of it runs here: the CLI
/// the agents will use (MESOS_MINER_DOCKER, else podman, else docker) runs
/// `IMAGE --version`, the way the agents run it (host network, no pull).
fn usable_image(var: &str, default: &str, entrypoint: Option<&str>) -> Option<String> {
    let image = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    let clis = match std::env::var("MESOS_MINER_DOCKER") {
        Ok(c) if c == "none" => vec![],
        Ok(c) => vec![c],
        Err(_) => vec!["podman".to_owned(), "docker".to_owned()],
    };
    let runs = |cli: &String| {
        let mut cmd = Command::new(cli);
        cmd.args(["run", "--rm", "--net=host", "--pull=never"]);
        if let Some(e) = entrypoint {
            cmd.args(["--entrypoint", e]);
        }
        cmd.args([image.as_str(), "--version"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if clis.iter().any(runs) {
        return Some(image);
    }
    eprintln!(
        "SKIPPED: no podman/docker here can run {image} (build it with \
         scripts/container-test.sh; run these tests with `scripts/container-test.sh --test`, \
         which sets CONTAINERS_CONF for this host's cgroups)"
    );
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_in_the_project_image_mines_through_the_local_cluster() {
    let Some(image) = usable_image("MESOS_MINER_IMAGE", IMAGE, None) else {
        return;
    };
    let c = cluster(1, 2.0, |_| {}).await;
    let mut cfg = config(&c, "docker-executor");
    cfg.executor.binary = None;
    cfg.executor.docker_image = Some(image.clone());
    let s = Sched::start(cfg).await;
    s.wait("server and worker mining in the image", LONG, |st| {
        mining(st, 1)
    })
    .await;
    let history = c.launch_history();
    assert!(history.len() >= 2, "{} launches", history.len());
    for launch in &history {
        let exec = launch.task.executor.as_ref().expect("our executor");
        let container = exec.container.as_ref().expect("ExecutorInfo.container");
        assert_eq!(container.r#type, ContainerType::Docker as i32);
        assert_eq!(
            container.docker.as_ref().map(|d| d.image.as_str()),
            Some(image.as_str())
        );
        let cmd = exec.command.as_ref().expect("command");
        assert!(cmd.uris.is_empty(), "nothing fetched: {:?}", cmd.uris);
    }
    s.stop().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p2pool_container_task_runs_the_standin_and_workers_mine_on_it() {
    let Some(standin) = usable_image("MESOS_MINER_P2POOL_IMAGE", STANDIN, Some("mesos-miner"))
    else {
        return;
    };
    let c = cluster(1, 3.0, |_| {}).await;
    let mut cfg = config(&c, "docker-p2pool");
    cfg.server = ServerConfig::P2pool(P2poolServer {
        image: standin,
        bitcoind_address: "127.0.0.1".into(),
        rpc_user: "rpcuser".into(),
        rpc_password: Secret::new("rpcpass"),
        cpus: 1.0,
        mem: 256.0,
    });
    let s = Sched::start(cfg).await;
    let state = s
        .wait(
            "a worker with shares accepted by the p2pool container",
            LONG,
            |st| {
                running(st, TaskKind::Server).len() == 1
                    && running(st, TaskKind::Worker)
                        .iter()
                        .any(|t| t.shares_accepted > 0)
            },
        )
        .await;
    assert_eq!(state.server.kind, "p2pool");
    let server = c
        .launch_history()
        .into_iter()
        .find(|l| l.task.executor.is_none())
        .expect("the p2pool launch");
    assert_eq!(
        server.task.container.as_ref().map(|c| c.r#type),
        Some(ContainerType::Docker as i32)
    );
    s.stop().await;
    c.shutdown().await;
}
