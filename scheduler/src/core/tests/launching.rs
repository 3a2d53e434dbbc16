//! Subscribing, launching, offers, suppress/revive, reports, restart.

use proto::events::scheduler as ev;
use proto::framework::TaskSpec;
use proto::resources::sum_scalar;
use proto::scheduler::call::Type as CallType;
use proto::v1::{FrameworkId, TaskState};

use super::*;
use crate::config::{P2poolServer, Secret, ServerConfig};
use crate::core::task::TaskRecord;

#[test]
fn first_subscribe_persists_the_id_before_anything_else() {
    let mut h = Harness::new(config(|_| {}));
    let out = h.subscribe();
    assert_eq!(out[0], Action::Persist(StoreOp::FrameworkId(FID.into())));
    // Nothing known: implicit reconciliation; the server is wanted, so no SUPPRESS.
    assert_eq!(types(&out), vec![CallType::Reconcile]);
    assert!(calls(&out)[0].reconcile.as_ref().unwrap().tasks.is_empty());
    assert_eq!(h.state.framework_id(), Some(FID));
    // A re-subscription with the same id persists nothing new.
    h.event(ev::heartbeat());
    let again = h.subscribe();
    assert!(persisted(&again).is_empty());
}

#[test]
fn server_first_then_one_worker_per_agent() {
    let mut h = Harness::new(config(|_| {}));
    h.subscribe();
    // Server: persisted before the ACCEPT; one port; its executor's share on top.
    let out = h.event(ev::offers(vec![offer(
        "o1",
        "a0",
        4.0,
        4096.0,
        &[31000, 31001],
    )]));
    let tasks = launched(&out);
    assert_eq!(tasks.len(), 1);
    let server = &tasks[0];
    assert!(server.task_id.value.starts_with("server-"));
    let put = position(&out, |a| matches!(a, Action::Persist(StoreOp::PutTask(_))));
    let accept = position(&out, |a| matches!(a, Action::Call(c) if c.accept.is_some()));
    assert!(put < accept, "{out:?}");
    let TaskSpec::Server(spec) = TaskSpec::parse(server.data.as_deref().unwrap()).unwrap() else {
        panic!("not a server spec")
    };
    assert_eq!(spec.stratum_port, Some(31000));
    assert!(spec.demo);
    let exec = server.executor.as_ref().unwrap();
    assert_eq!(
        exec.executor_id.value,
        format!("exec-{}", server.task_id.value)
    );
    let cmd = exec.command.as_ref().unwrap();
    assert_eq!(cmd.value.as_deref(), Some("./mesos-miner"));
    assert_eq!(cmd.arguments, vec!["mesos-miner", "executor"]);
    assert_eq!(cmd.shell, Some(false));
    assert_eq!(cmd.uris[0].executable, Some(true));
    assert_eq!(cmd.uris[0].cache, Some(true));
    assert_eq!(sum_scalar(&server.resources, "cpus"), 0.1);
    // Nothing more wanted until the server runs: SUPPRESS.
    assert!(types(&out).contains(&CallType::Suppress));
    let id = server.task_id.value.clone();
    let out = h.event(ev::offers(vec![offer("o2", "a1", 4.0, 4096.0, &[])]));
    assert_eq!(types(&out), vec![CallType::Decline]);
    // RUNNING: persisted, then acknowledged, then REVIVE for the workers.
    let out = h.event(ev::update(status(
        &id,
        "a0",
        TaskState::TaskRunning,
        Some(7),
    )));
    assert_eq!(types(&out), vec![CallType::Acknowledge, CallType::Revive]);
    assert!(position(&out, |a| matches!(a, Action::Persist(_))) < 1);
    // Worker: all cpus left after its executor; pool URL from the server's offer.
    let out = h.event(ev::offers(vec![
        offer("o3", "a1", 4.0, 4096.0, &[]),
        offer("o4", "a1", 2.0, 4096.0, &[]),
    ]));
    let workers = launched(&out);
    assert_eq!(workers.len(), 1, "one worker per agent");
    assert_eq!(sum_scalar(&workers[0].resources, "cpus"), 3.95);
    assert_eq!(sum_scalar(&workers[0].resources, "mem"), 128.0);
    let TaskSpec::Worker(w) = TaskSpec::parse(workers[0].data.as_deref().unwrap()).unwrap() else {
        panic!("not a worker spec")
    };
    assert_eq!(w.pool_url, "stratum+tcp://host-a0:31000");
    let decline = calls(&out)
        .into_iter()
        .find(|c| c.decline.is_some())
        .unwrap();
    let decline = decline.decline.as_ref().unwrap();
    assert_eq!(decline.offer_ids[0].value, "o4");
    assert_eq!(
        decline.filters.as_ref().unwrap().refuse_seconds,
        Some(120.0)
    );
    assert_eq!(h.state.stats().offers_accepted, 2);
    assert_eq!(h.state.stats().offers_declined, 2);
}

#[test]
fn max_workers_reached_suppresses_and_a_lost_worker_revives() {
    let mut h = Harness::new(config(|c| c.worker.max_workers = Some(1)));
    h.with_running_server();
    let out = h.event(ev::offers(vec![offer("o", "a1", 2.0, 1024.0, &[])]));
    let worker = launched(&out)[0].task_id.value.clone();
    assert!(types(&out).contains(&CallType::Suppress));
    h.at(10.0);
    let out = h.event(ev::update(status(
        &worker,
        "a1",
        TaskState::TaskFailed,
        Some(2),
    )));
    // Backoff 1 s: not wanted yet, nothing to revive.
    assert_eq!(types(&out), vec![CallType::Acknowledge]);
    assert_eq!(persisted(&out), vec![&StoreOp::RemoveTask(worker.clone())]);
    let out = h.tick(11.0);
    assert_eq!(types(&out), vec![CallType::Revive]);
}

#[test]
fn revive_is_rate_limited() {
    let mut h = Harness::new(config(|_| {}));
    let server = h.with_running_server(); // REVIVE at t=0
    let out = h.event(ev::offers(vec![offer("o", "a1", 2.0, 1024.0, &[])]));
    let worker = launched(&out)[0].task_id.value.clone();
    h.at(2.0);
    let out = h.event(ev::update(status(
        &worker,
        "a1",
        TaskState::TaskKilled,
        Some(3),
    )));
    assert!(!types(&out).contains(&CallType::Revive));
    assert!(types(&h.tick(4.0)).is_empty());
    assert_eq!(types(&h.tick(5.0)), vec![CallType::Revive]);
    assert!(h.state.tasks.contains_key(&server));
}

#[test]
fn duplicate_update_is_acknowledged_but_not_applied() {
    let mut h = Harness::new(config(|_| {}));
    let server = h.with_running_server();
    let out = h.event(ev::update(status(
        &server,
        "a0",
        TaskState::TaskRunning,
        Some(1),
    )));
    assert_eq!(types(&out), vec![CallType::Acknowledge]);
    assert!(persisted(&out).is_empty());
    assert_eq!(h.state.stats().duplicate_updates, 1);
}

#[test]
fn reports_keep_the_highest_seq_and_bad_ones_are_counted() {
    let mut h = Harness::new(config(|_| {}));
    h.with_running_server();
    let out = h.event(ev::offers(vec![offer("o", "a1", 2.0, 1024.0, &[])]));
    let w = launched(&out)[0].task_id.value.clone();
    h.event(message(&w, report(&w, 5, 100.0).to_bytes()));
    h.event(message(&w, report(&w, 4, 1.0).to_bytes()));
    let sample = h.state.tasks[&w].sample.clone().unwrap();
    assert_eq!((sample.seq, sample.hashrate[0]), (5, 100.0));
    h.event(message(&w, b"{not json".to_vec()));
    h.event(message(&w, vec![b' '; 70_000]));
    h.event(message(
        "worker-nope",
        report("worker-nope", 1, 1.0).to_bytes(),
    ));
    let mut other = message(&w, report(&w, 9, 1.0).to_bytes());
    other.message.as_mut().unwrap().executor_id.value = "exec-other".into();
    h.event(other);
    assert_eq!(h.state.stats().bad_messages, 4);
    assert_eq!(h.state.tasks[&w].sample.as_ref().unwrap().seq, 5);
}

#[test]
fn restart_takes_tasks_back_and_launches_none_twice() {
    let rec = |id: &str, kind, agent: &str| TaskRecord {
        task_id: id.into(),
        kind,
        agent_id: agent.into(),
        hostname: format!("host-{agent}"),
        executor_id: Some(format!("exec-{id}")),
        pool_url: "stratum+tcp://host-a0:31000".into(),
        ports: vec![],
        state: "TASK_RUNNING".into(),
        replaced: false,
        kill: false,
    };
    let persisted = Persisted {
        framework_id: Some(FID.into()),
        tasks: vec![
            rec("server-1", proto::framework::TaskKind::Server, "a0"),
            rec("worker-1", proto::framework::TaskKind::Worker, "a1"),
        ],
    };
    let mut h = Harness::recovered(config(|c| c.worker.max_workers = Some(1)), persisted);
    assert_eq!(
        h.state.subscribe_call().framework_id,
        Some(FrameworkId::new(FID))
    );
    let out = h.subscribe();
    assert!(persisted_is_empty(&out));
    let rc = calls(&out)[0].reconcile.as_ref().unwrap();
    let ids: Vec<&str> = rc.tasks.iter().map(|t| t.task_id.value.as_str()).collect();
    assert_eq!(ids, vec!["server-1", "worker-1"]);
    assert!(types(&out).contains(&CallType::Suppress));
    let out = h.event(ev::offers(vec![offer("o", "a2", 4.0, 4096.0, &[31000])]));
    assert!(launched(&out).is_empty());
}

fn persisted_is_empty(out: &[Action]) -> bool {
    persisted(out).is_empty()
}

#[test]
fn external_pool_needs_no_server() {
    let mut h = Harness::new(config(|c| {
        c.server = ServerConfig::External {
            pool_url: "stratum+tcp://pool.example:3333".into(),
        }
    }));
    h.subscribe();
    let out = h.event(ev::offers(vec![offer("o", "a1", 2.0, 1024.0, &[31000])]));
    let tasks = launched(&out);
    assert_eq!(tasks.len(), 1);
    assert!(tasks[0].task_id.value.starts_with("worker-"));
}

#[test]
fn p2pool_is_the_original_docker_task_and_its_refusal_backs_off() {
    let mut h = Harness::new(config(|c| {
        c.server = ServerConfig::P2pool(P2poolServer {
            image: crate::config::P2POOL_IMAGE.into(),
            bitcoind_address: "10.0.0.5".into(),
            rpc_user: "rpcuser".into(),
            rpc_password: Secret::new("rpcpass"),
            cpus: 1.0,
            mem: 256.0,
        })
    }));
    h.subscribe();
    let mut last_gap = 0.0;
    let mut t = 0.0;
    for round in 0..4 {
        let out = h.event(ev::offers(vec![offer(
            "o",
            "a0",
            2.0,
            1024.0,
            &[31000, 31002],
        )]));
        let task = launched(&out)
            .pop()
            .unwrap_or_else(|| panic!("round {round}: {out:?}"));
        assert!(task.executor.is_none());
        let docker = task.container.as_ref().unwrap().docker.as_ref().unwrap();
        assert_eq!(docker.image, "derekchiang/p2pool");
        let cmd = task.command.as_ref().unwrap();
        assert_eq!(cmd.shell, Some(false));
        assert_eq!(cmd.value, None);
        assert_eq!(
            cmd.arguments,
            vec![
                "--bitcoind-address",
                "10.0.0.5",
                "--p2pool-port",
                "31000",
                "-w",
                "31002",
                "rpcuser",
                "rpcpass"
            ]
        );
        assert_eq!(
            proto::resources::take_ports(&proto::resources::port_ranges(&task.resources), 3),
            None
        );
        let mut st = status(
            &task.task_id.value,
            "a0",
            TaskState::TaskFailed,
            Some(round),
        );
        st.reason = Some(proto::v1::task_status::Reason::ContainerLaunchFailed as i32);
        h.event(ev::update(st));
        // Not relaunched at once; the wait grows each time.
        assert!(
            launched(&h.event(ev::offers(vec![offer(
                "o2",
                "a0",
                2.0,
                1024.0,
                &[31000, 31002]
            )])))
            .is_empty()
        );
        let gap = h.state.backoff[0]
            .not_before()
            .unwrap()
            .duration_since(h.now)
            .as_secs_f64();
        assert!(gap > last_gap, "round {round}: {gap} after {last_gap}");
        last_gap = gap;
        t += 10.0;
        h.tick(t);
    }
}

#[test]
fn docker_image_runs_the_executor_in_the_image_without_a_fetch() {
    let mut h = Harness::new(config(|c| {
        c.executor.docker_image = Some("localhost/mesos-miner:dev".into());
    }));
    h.subscribe();
    let out = h.event(ev::offers(vec![offer(
        "o1",
        "a0",
        4.0,
        4096.0,
        &[31000, 31001],
    )]));
    let server = launched(&out).pop().expect("the server task");
    let exec = server.executor.as_ref().expect("our executor");
    let container = exec.container.as_ref().expect("ExecutorInfo.container");
    assert_eq!(
        container.r#type,
        proto::v1::container_info::Type::Docker as i32
    );
    let docker = container.docker.as_ref().expect("DockerInfo");
    assert_eq!(docker.image, "localhost/mesos-miner:dev");
    assert_eq!(
        docker.network,
        Some(proto::v1::container_info::docker_info::Network::Host as i32)
    );
    // `docker run IMAGE executor` under ENTRYPOINT ["mesos-miner"]: nothing fetched.
    let cmd = exec.command.as_ref().unwrap();
    assert_eq!(cmd.shell, Some(false));
    assert_eq!(cmd.value, None);
    assert_eq!(cmd.arguments, vec!["executor"]);
    assert!(cmd.uris.is_empty(), "{:?}", cmd.uris);
    // The task itself stays a plain task on that executor.
    assert!(server.container.is_none());
    assert!(server.command.is_none());
}

#[test]
fn without_docker_image_the_executor_has_no_container() {
    let mut h = Harness::new(config(|_| {}));
    h.subscribe();
    let out = h.event(ev::offers(vec![offer("o1", "a0", 4.0, 4096.0, &[31000])]));
    let server = launched(&out).pop().expect("the server task");
    assert!(server.executor.as_ref().unwrap().container.is_none());
}
