//! The executor driven end to end against a fake agent on loopback (real protobuf, RecordIO
//! in HTTP chunks): a demo pool task and a worker task mining on it, each in its own
//! executor, through SUBSCRIBE, LAUNCH, updates, reports, ACKNOWLEDGED, a stream cut by a
//! plain TCP close (agent restart) with 503s before the re-SUBSCRIBE, KILL and SHUTDOWN;
//! and what it logs at trace level (`redaction`: no password of `TaskInfo.data`).

mod redaction;
mod util;

use std::path::PathBuf;
use std::time::Duration;

use executor::{CancellationToken, Config, ExitReason, Options};
use proto::events::executor as ev;
use proto::executor::call::Type as CallType;
use proto::framework::{ServerSpec, TaskSpec, WorkerSpec};
use proto::v1::{AgentInfo, ExecutorInfo, FrameworkInfo, TaskInfo, TaskState};
use util::{FakeAgent, PATIENCE};

fn sandbox(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("executor-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn config(agent: &FakeAgent, executor: &str, checkpoint: bool) -> Config {
    Config {
        framework_id: "fw-1".into(),
        executor_id: executor.into(),
        agent_endpoint: agent.endpoint.clone(),
        agent_id: Some("agent-1".into()),
        sandbox: sandbox(executor),
        directory: None,
        checkpoint,
        recovery_timeout: Duration::from_secs(60),
        subscription_backoff_max: Duration::from_millis(200),
        shutdown_grace_period: Duration::from_secs(5),
        auth_token: None,
    }
}

fn start(config: Config) -> tokio::task::JoinHandle<ExitReason> {
    tokio::spawn(async move {
        let options = Options {
            default_kill_grace: Duration::from_secs(10),
            ..Options::default()
        };
        executor::run_with(config, options, CancellationToken::new())
            .await
            .unwrap()
    })
}

fn subscribed() -> proto::executor::Event {
    let framework = FrameworkInfo {
        id: Some("fw-1".into()),
        checkpoint: Some(true),
        ..FrameworkInfo::default()
    };
    let agent = AgentInfo {
        hostname: "127.0.0.1".into(),
        id: Some("agent-1".into()),
        ..AgentInfo::default()
    };
    ev::subscribed(ExecutorInfo::default(), framework, agent, None)
}

fn task(id: &str, spec: &TaskSpec) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: id.into(),
        agent_id: "agent-1".into(),
        resources: vec![proto::resources::cpus(1.0)],
        data: Some(spec.to_bytes()),
        ..TaskInfo::default()
    }
}

/// SUBSCRIBE → SUBSCRIBED → LAUNCH → STARTING, RUNNING (both acknowledged unless told).
async fn launch(agent: &FakeAgent, exec: &str, task: TaskInfo, ack_running: bool) -> usize {
    agent.wait_stream(exec).await;
    agent.send(exec, subscribed());
    let id = task.task_id.value.clone();
    agent.send(exec, ev::launch(task));
    let (_, starting) = agent
        .wait_update(exec, 0, &id, TaskState::TaskStarting)
        .await;
    agent.ack(exec, &starting);
    let (i, running) = agent
        .wait_update(exec, 0, &id, TaskState::TaskRunning)
        .await;
    assert!(running.message.as_ref().is_some_and(|m| !m.is_empty()));
    if ack_running {
        agent.ack(exec, &running);
    }
    i
}

async fn exit_of(handle: tokio::task::JoinHandle<ExitReason>) -> ExitReason {
    tokio::time::timeout(PATIENCE, handle)
        .await
        .expect("executor exits")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_task_and_a_worker_task_mine_report_survive_an_agent_restart_and_stop() {
    let agent = FakeAgent::start().await;
    let server = start(config(&agent, "server-1.exec", false));
    let server_spec = TaskSpec::Server(ServerSpec {
        demo: true,
        bitcoind: None,
        difficulty: Some(0.0001),
        stratum_port: Some(0),
        report_interval_ms: 200,
    });
    launch(
        &agent,
        "server-1.exec",
        task("server-1", &server_spec),
        true,
    )
    .await;
    let (_, report) = agent
        .wait_report("server-1.exec", 0, "a server report", |r| {
            r.server.is_some()
        })
        .await;
    let pool_url = report.server.unwrap().url;
    assert!(
        pool_url.starts_with("stratum+tcp://127.0.0.1:"),
        "{pool_url}"
    );

    let worker = start(config(&agent, "worker-1.exec", true));
    let worker_spec = TaskSpec::Worker(WorkerSpec {
        pool_url,
        user: "w1".into(),
        password: "not-logged".into(),
        kernel: "auto".into(),
        threads: Some(1),
        report_interval_ms: 200,
    });
    // RUNNING stays unacknowledged: it must come back in the re-SUBSCRIBE.
    let w = "worker-1.exec";
    launch(&agent, w, task("worker-1", &worker_spec), false).await;
    let (_, first) = agent
        .wait_report(w, 0, "a report with accepted shares", |r| {
            r.accepted > 0 && r.hashes > 0
        })
        .await;
    assert_eq!((first.task_id.as_str(), first.threads), ("worker-1", 1));
    assert_eq!(
        first.pool.as_ref().map(|p| p.state.as_str()),
        Some("connected")
    );
    let (_, later) = agent
        .wait_report(w, 0, "a later report", |r| {
            r.seq > first.seq && r.hashes > first.hashes
        })
        .await;
    assert!(later.accepted >= first.accepted);
    let (_, pool_report) = agent
        .wait_report("server-1.exec", 0, "shares at the pool", |r| {
            r.server
                .as_ref()
                .is_some_and(|s| s.shares_accepted > 0 && s.connections == 1)
        })
        .await;
    assert_eq!(pool_report.kind, proto::framework::TaskKind::Server);

    // Agent restart: a plain TCP close, then two 503s, then a stream again.
    agent.refuse_subscribes(w, 2);
    agent.cut_stream(w);
    agent.wait_stream(w).await;
    let subscribes = agent.calls(w, |c| c.r#type() == CallType::Subscribe);
    assert_eq!(subscribes.len(), 4, "first, two refused, the accepted one");
    for resub in &subscribes[1..] {
        let carried = &resub.subscribe.as_ref().unwrap().unacknowledged_updates;
        assert_eq!(carried.len(), 1, "{carried:?}");
        assert_eq!(carried[0].status.state(), TaskState::TaskRunning);
        assert!(
            resub
                .subscribe
                .as_ref()
                .unwrap()
                .unacknowledged_tasks
                .is_empty()
        );
    }
    let carried = subscribes[3]
        .subscribe
        .clone()
        .unwrap()
        .unacknowledged_updates;
    agent.send(w, subscribed());
    agent.ack(w, &carried[0].status);
    // The miner never stopped: hashes keep counting from where they were.
    let mark = agent.call_count();
    let (_, after) = agent
        .wait_report(w, mark, "a report after re-subscribing", |r| {
            r.hashes > later.hashes
        })
        .await;
    assert!(after.seq > later.seq);

    // KILL → TASK_KILLED (no TASK_KILLING: the framework lacks the capability) → exit.
    agent.send(w, ev::kill("worker-1".into(), None));
    let (_, killed) = agent
        .wait_update(w, mark, "worker-1", TaskState::TaskKilled)
        .await;
    assert_eq!(agent.count(w, |c| is_update(c, TaskState::TaskKilling)), 0);
    agent.ack(w, &killed);
    assert_eq!(exit_of(worker).await, ExitReason::Done);

    // SHUTDOWN → TASK_KILLED for the pool → exit after the ack.
    agent.send("server-1.exec", ev::shutdown());
    let (_, killed) = agent
        .wait_update("server-1.exec", 0, "server-1", TaskState::TaskKilled)
        .await;
    agent.ack("server-1.exec", &killed);
    assert_eq!(exit_of(server).await, ExitReason::Done);
}

fn is_update(c: &proto::executor::Call, state: TaskState) -> bool {
    c.update.as_ref().is_some_and(|u| u.status.state() == state)
}

#[tokio::test]
async fn a_bad_task_fails_and_a_chunk_terminator_without_checkpoint_ends_the_executor() {
    let agent = FakeAgent::start().await;
    let e = "bad-1.exec";
    let handle = start(config(&agent, e, false));
    agent.wait_stream(e).await;
    agent.send(e, subscribed());
    let mut bad = task(
        "bad-1",
        &TaskSpec::Worker(WorkerSpec {
            pool_url: "x".into(),
            user: "u".into(),
            password: String::new(),
            kernel: "auto".into(),
            threads: None,
            report_interval_ms: 200,
        }),
    );
    bad.data = Some(b"task-data-bytes".to_vec());
    agent.send(e, ev::launch(bad));
    let (_, failed) = agent
        .wait_update(e, 0, "bad-1", TaskState::TaskFailed)
        .await;
    assert!(failed.message.unwrap().contains("not a task spec"));
    assert_eq!(failed.uuid.map(|u| u.len()), Some(16));
    // The agent ends the stream cleanly before acknowledging: without checkpointing the
    // executor does not retry.
    agent.terminate_stream(e);
    assert_eq!(exit_of(handle).await, ExitReason::Disconnected);
}
