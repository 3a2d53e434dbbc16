//! DOCKER command tasks on the agents, run for real with the host's podman or docker: the
//! container's life as status updates (RUNNING once it runs, FINISHED / FAILED by its exit
//! code, KILLED on kill), the sandbox mounted at `/mnt/mesos/sandbox` with `MESOS_SANDBOX`
//! pointing there, and no container left afterwards.
//!
//! The image is the project's (`scripts/container-test.sh` builds it; `MESOS_MINER_IMAGE`
//! names another with a `/bin/sh`). Where no CLI here can run it, the test says why and
//! passes without checking anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proto::v1::framework_info::capability::Type as Cap;
use proto::v1::{self, TaskState};

use crate::common::*;

/// The CLI the agents will pick (MESOS_MINER_DOCKER, else podman, else docker) and the
/// image, if a shell in that image runs here.
fn usable() -> Option<(String, String)> {
    let image = std::env::var("MESOS_MINER_IMAGE")
        .unwrap_or_else(|_| "localhost/mesos-miner:dev".to_owned());
    let clis = match std::env::var("MESOS_MINER_DOCKER") {
        Ok(c) if c == "none" => vec![],
        Ok(c) => vec![c],
        Err(_) => vec!["podman".to_owned(), "docker".to_owned()],
    };
    let works = |cli: &String| {
        Command::new(cli)
            .args(["run", "--rm", "--net=host", "--pull=never"])
            .args(["--entrypoint", "/bin/sh", image.as_str(), "-c", "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    // Only the first CLI that answers `info` is the agents' one.
    let first = clis.into_iter().find(|cli| {
        Command::new(cli)
            .arg("info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if let Some(cli) = first.filter(works) {
        return Some((cli, image));
    }
    eprintln!(
        "SKIPPED: no podman/docker here can run {image} (build it with \
         scripts/container-test.sh and set CONTAINERS_CONF=target/container/containers.conf)"
    );
    None
}

fn in_image(mut task: v1::TaskInfo, image: &str) -> v1::TaskInfo {
    task.container = Some(v1::ContainerInfo {
        r#type: v1::container_info::Type::Docker as i32,
        docker: Some(v1::container_info::DockerInfo {
            image: image.into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    task
}

/// `<work>/slaves/*/frameworks/*/executors/<task>/runs/<container>` of a command task.
fn sandbox_of(work: &Path, task: &str) -> Option<PathBuf> {
    let dirs = |p: PathBuf| -> Vec<PathBuf> {
        std::fs::read_dir(p)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    };
    for agent in dirs(work.join("slaves")) {
        for fw in dirs(agent.join("frameworks")) {
            let runs = fw.join("executors").join(task).join("runs");
            if let Some(run) = dirs(runs).into_iter().next() {
                return Some(run);
            }
        }
    }
    None
}

/// Reads updates (acknowledging each) until `done` holds for the states seen per task.
async fn until(
    sub: &mut Sub,
    seen: &mut BTreeMap<String, Vec<v1::TaskStatus>>,
    done: impl Fn(&BTreeMap<String, Vec<v1::TaskStatus>>) -> bool,
) {
    while !done(seen) {
        let ev = sub.expect(proto::scheduler::event::Type::Update).await;
        let st = ev.update.expect("update").status;
        if let Some(ack) = proto::calls::scheduler::acknowledge_status(&sub.framework_id, &st) {
            assert_eq!(sub.call(&ack).await.0, 202);
        }
        seen.entry(st.task_id.value.clone()).or_default().push(st);
    }
}

fn last(seen: &BTreeMap<String, Vec<v1::TaskStatus>>, task: &str) -> Option<TaskState> {
    let st = seen.get(task)?.last()?;
    TaskState::try_from(st.state).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_command_tasks_live_in_their_container_and_are_removed_after() {
    let Some((cli, image)) = usable() else {
        return;
    };
    let work = std::env::temp_dir().join(format!("lc-docker-{}", std::process::id()));
    let c = cluster_with(1, |cfg| {
        cfg.work_dir = work.clone();
        cfg.remove_work_dir = true;
    })
    .await;
    let caps = [Cap::PartitionAware, Cap::TaskKillingState];
    let mut sub = Sub::open(&c.master_url(), framework("docker", &caps)).await;
    let offer = sub.offer().await;
    let proof = r#"test "$MESOS_SANDBOX" = /mnt/mesos/sandbox && test -n "$MESOS_FRAMEWORK_ID" && echo in-container > "$MESOS_SANDBOX/proof""#;
    let tasks = vec![
        in_image(command_task("ok", &offer, proof), &image),
        in_image(command_task("fail", &offer, "exit 3"), &image),
        // PID 1 ignores SIGTERM without a handler: the kill ends with SIGKILL and `rm -f`.
        in_image(command_task("sleep", &offer, "exec sleep 600"), &image),
    ];
    let (code, body) = sub.call(&launch(&sub.framework_id, &offer, tasks)).await;
    assert_eq!(code, 202, "{body}");
    let mut seen = BTreeMap::new();
    until(&mut sub, &mut seen, |s| {
        last(s, "ok") == Some(TaskState::TaskFinished)
            && last(s, "fail") == Some(TaskState::TaskFailed)
            && last(s, "sleep") == Some(TaskState::TaskRunning)
    })
    .await;
    for task in ["ok", "fail", "sleep"] {
        let states: Vec<i32> = seen[task].iter().map(|s| s.state).collect();
        assert_eq!(
            &states[..2],
            [
                TaskState::TaskStarting as i32,
                TaskState::TaskRunning as i32
            ],
            "{task}: {states:?}"
        );
    }
    let failed = seen["fail"].last().and_then(|s| s.message.clone());
    assert_eq!(failed.as_deref(), Some("Command exited with status 3"));
    let ok_sandbox = sandbox_of(&work, "ok").expect("the ok task's sandbox");
    let written = std::fs::read_to_string(ok_sandbox.join("proof")).unwrap_or_default();
    assert_eq!(written.trim(), "in-container", "written through the mount");

    let kill = proto::calls::scheduler::kill(
        &sub.framework_id,
        v1::TaskId {
            value: "sleep".into(),
        },
        Some(offer.agent_id.clone()),
        None,
    );
    assert_eq!(sub.call(&kill).await.0, 202);
    until(&mut sub, &mut seen, |s| {
        last(s, "sleep") == Some(TaskState::TaskKilled)
    })
    .await;
    for task in ["ok", "fail", "sleep"] {
        let sandbox = sandbox_of(&work, task).expect("sandbox");
        let id = sandbox.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let name = format!("mesos-{id}");
        let exists = Command::new(&cli)
            .args(["inspect", "--", &name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(!exists, "{task}'s container {name} was removed");
    }
    c.shutdown().await;
}
