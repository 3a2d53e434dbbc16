//! Agent behaviour seen through the protocol: executor environment, fetcher, executor exit,
//! SHUTDOWN with the executor's cooperation.

use crate::common;

use std::time::Duration;

use common::*;
use proto::scheduler::event::Type as EventType;
use proto::v1::{self, TaskState, framework_info::capability::Type as Cap, task_status::Reason};

fn custom(id: &str, offer: &v1::Offer, value: &str) -> v1::TaskInfo {
    let mut t = executor_task(id, &format!("{id}-exec"), offer, "run");
    if let Some(cmd) = t.executor.as_mut().and_then(|e| e.command.as_mut()) {
        cmd.uris.clear();
        cmd.value = Some(value.into());
        cmd.environment = Some(v1::Environment {
            variables: vec![v1::environment::Variable {
                name: "MY_VAR".into(),
                value: Some("42".into()),
                ..Default::default()
            }],
        });
    }
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_gets_only_the_mesos_environment_and_its_exit_fails_its_tasks() {
    let work = std::env::temp_dir().join(format!("lc-env-{}", std::process::id()));
    let c = cluster_with(1, |cfg| cfg.work_dir = work.clone()).await;
    let mut sub = Sub::open(&c.master_url(), framework("env", &[Cap::PartitionAware])).await;
    let offer = sub.offer().await;
    let task = custom("env1", &offer, "env > env.txt; pwd > pwd.txt; exit 3");
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![task]))
            .await
            .0,
        202
    );
    // The executor died without sending anything: TASK_FAILED from the agent, and FAILURE.
    let st = sub.update("env1", true).await;
    assert_eq!(st.state, TaskState::TaskFailed as i32);
    assert_eq!(st.reason, Some(Reason::ExecutorTerminated as i32));
    assert_eq!(st.source, Some(v1::task_status::Source::Agent as i32));
    let failure = sub
        .expect(EventType::Failure)
        .await
        .failure
        .expect("failure");
    assert_eq!(failure.status, Some(3 << 8), "raw wait status of exit 3");
    let env_file = find(&work, "env.txt").expect("env.txt written in the sandbox");
    let env = std::fs::read_to_string(&env_file).expect("env");
    let get = |k: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")).map(String::from))
    };
    let sandbox = env_file.parent().expect("dir").display().to_string();
    assert_eq!(
        get("MESOS_FRAMEWORK_ID"),
        Some(sub.framework_id.value.clone())
    );
    assert_eq!(get("MESOS_EXECUTOR_ID"), Some("env1-exec".into()));
    assert_eq!(get("MESOS_SLAVE_ID"), Some(offer.agent_id.value.clone()));
    let port = c
        .agent_url(&offer.agent_id.value)
        .expect("url")
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        get("MESOS_AGENT_ENDPOINT"),
        Some(format!("127.0.0.1:{port}"))
    );
    assert_eq!(
        get("MESOS_SLAVE_PID"),
        Some(format!("slave(1)@127.0.0.1:{port}"))
    );
    assert_eq!(get("MESOS_DIRECTORY"), Some(sandbox.clone()));
    assert_eq!(get("MESOS_SANDBOX"), Some(sandbox.clone()));
    assert_eq!(
        std::fs::read_to_string(env_file.with_file_name("pwd.txt"))
            .map(|s| s.trim().to_string())
            .ok(),
        Some(sandbox.clone())
    );
    assert_eq!(get("MESOS_CHECKPOINT"), Some("0".into()));
    assert_eq!(
        get("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"),
        Some("5secs".into())
    );
    assert_eq!(get("MESOS_HTTP_COMMAND_EXECUTOR"), Some("0".into()));
    assert_eq!(get("LIBPROCESS_PORT"), Some("0".into()));
    assert_eq!(get("MY_VAR"), Some("42".into()));
    // Recorded: only with checkpointing; and nothing of the agent's own environment.
    assert_eq!(get("MESOS_RECOVERY_TIMEOUT"), None);
    assert_eq!(get("HOME"), None);
    assert!(sandbox.contains(&format!(
        "/slaves/{}/frameworks/{}/executors/env1-exec/runs/",
        offer.agent_id.value, sub.framework_id.value
    )));
    c.shutdown().await;
    let _ = std::fs::remove_dir_all(&work);
}

fn find(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let p = entry.path();
        if p.is_dir() {
            if let Some(f) = find(&p, name) {
                return Some(f);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
    }
    None
}

/// Serves `body` once per connection over plain HTTP on 127.0.0.1.
async fn serve_file(body: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&body).await;
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetcher_downloads_copies_marks_executable_and_extracts() {
    let dir = std::env::temp_dir().join(format!("lc-fetch-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("pkg")).expect("dir");
    std::fs::write(dir.join("pkg/inside.txt"), "packed").expect("write");
    std::fs::write(dir.join("tool.sh"), "#!/bin/sh\necho tool\n").expect("write");
    let ok = std::process::Command::new("tar")
        .arg("-C")
        .arg(&dir)
        .arg("-czf")
        .arg(dir.join("bundle.tar.gz"))
        .arg("pkg")
        .status();
    assert!(ok.is_ok_and(|s| s.success()), "tar available");
    let url = serve_file(b"downloaded".to_vec()).await;
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("fetch", &[])).await;
    let offer = sub.offer().await;
    let mut task = command_task(
        "f1",
        &offer,
        "test \"$(cat data.bin)\" = downloaded && test -x tool.sh && ./tool.sh && test \"$(cat pkg/inside.txt)\" = packed",
    );
    let uri = |value: String, executable: bool, output: Option<&str>| v1::command_info::Uri {
        value,
        executable: Some(executable),
        output_file: output.map(String::from),
        ..Default::default()
    };
    if let Some(cmd) = task.command.as_mut() {
        cmd.uris = vec![
            uri(format!("{url}/file"), false, Some("data.bin")),
            uri(dir.join("tool.sh").display().to_string(), true, None),
            uri(dir.join("bundle.tar.gz").display().to_string(), false, None),
        ];
    }
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![task]))
            .await
            .0,
        202
    );
    let mut last = sub.update("f1", true).await;
    while last.state != TaskState::TaskFinished as i32 && last.state != TaskState::TaskFailed as i32
    {
        last = sub.update("f1", true).await;
    }
    assert_eq!(last.state, TaskState::TaskFinished as i32, "{last:?}");
    // A URI that cannot be fetched fails the launch with a clear message.
    let offer = sub.offer().await;
    let mut bad = command_task("f2", &offer, "true");
    if let Some(cmd) = bad.command.as_mut() {
        cmd.uris = vec![uri("/no/such/file".into(), false, None)];
    }
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![bad]))
            .await
            .0,
        202
    );
    let st = sub.update("f2", true).await;
    assert_eq!(st.state, TaskState::TaskFailed as i32);
    assert_eq!(st.reason, Some(Reason::ContainerLaunchFailed as i32));
    assert!(
        st.message
            .unwrap_or_default()
            .contains("Failed to fetch '/no/such/file'")
    );
    c.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_reaches_the_executor_which_kills_its_tasks_and_exits() {
    let c = cluster(1).await;
    let mut sub = Sub::open(
        &c.master_url(),
        framework("shutdown", &[Cap::PartitionAware]),
    )
    .await;
    let offer = sub.offer().await;
    let task = executor_task("s1", "exec-s", &offer, "run");
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![task]))
            .await
            .0,
        202
    );
    assert_eq!(
        sub.update("s1", true).await.state,
        TaskState::TaskRunning as i32
    );
    let shutdown = proto::calls::scheduler::shutdown(
        &sub.framework_id,
        v1::ExecutorId {
            value: "exec-s".into(),
        },
        offer.agent_id.clone(),
    );
    assert_eq!(sub.call(&shutdown).await.0, 202);
    let st = sub.update("s1", true).await;
    assert_eq!(st.state, TaskState::TaskKilled as i32);
    assert_eq!(st.source, Some(v1::task_status::Source::Executor as i32));
    let failure = tokio::time::timeout(Duration::from_secs(10), sub.expect(EventType::Failure))
        .await
        .expect("executor exits");
    assert_eq!(
        failure.failure.and_then(|f| f.executor_id).map(|e| e.value),
        Some("exec-s".into())
    );
    c.shutdown().await;
}
