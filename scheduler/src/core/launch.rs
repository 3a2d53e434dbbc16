//! TaskInfos as the executor contract (`proto::framework`) and the original framework want
//! them: worker and builtin-server tasks on our custom executor (one executor per task,
//! `exec-<task id>`), the p2pool server as the original's Docker task. With
//! `--docker-image` the executor itself runs in the project's image instead of being fetched.

use proto::framework::{ServerSpec, TaskKind, TaskSpec, WorkerSpec};
use proto::resources::{allocate, cpus, mem, ports};
use proto::v1::command_info::Uri;
use proto::v1::container_info::docker_info::Network;
use proto::v1::container_info::{DockerInfo, Type as ContainerType};
use proto::v1::executor_info::Type as ExecutorType;
use proto::v1::{
    AgentId, CommandInfo, ContainerInfo, ExecutorId, ExecutorInfo, FrameworkId, Offer, TaskId,
    TaskInfo, TaskState,
};

use super::CoreConfig;
use super::task::TaskRecord;
use crate::config::ServerConfig;

/// The CommandInfo that fetches the executor from `uri` and runs it without a shell (a real
/// agent resolves `./mesos-miner` against the sandbox: recovery/9-bare-command-shell-false).
pub fn executor_command(uri: &str) -> CommandInfo {
    CommandInfo {
        uris: vec![Uri {
            value: uri.to_owned(),
            executable: Some(true),
            extract: Some(false),
            cache: Some(true),
            output_file: Some("mesos-miner".into()),
        }],
        shell: Some(false),
        value: Some("./mesos-miner".into()),
        arguments: vec!["mesos-miner".into(), "executor".into()],
        ..CommandInfo::default()
    }
}

/// The executor's CommandInfo inside the project's image. Mesos's Docker containerizer runs
/// `docker run … IMAGE [value] [arguments…]` when shell is false, so the image's
/// `ENTRYPOINT ["mesos-miner"]` gets `executor`: the same `mesos-miner executor` as the
/// fetched binary, with nothing to fetch (Mesos `src/docker/docker.cpp`, `RunOptions::create`).
pub fn docker_executor_command() -> CommandInfo {
    CommandInfo {
        shell: Some(false),
        arguments: vec!["executor".into()],
        ..CommandInfo::default()
    }
}

/// `ExecutorInfo.container` for `image`: DOCKER with host networking, so the executor reaches
/// the agent at `MESOS_AGENT_ENDPOINT` and the builtin server's Stratum port is the offered
/// host port, exactly as with the fetched binary.
pub fn docker_container(image: &str) -> ContainerInfo {
    ContainerInfo {
        r#type: ContainerType::Docker as i32,
        docker: Some(DockerInfo {
            image: image.to_owned(),
            network: Some(Network::Host as i32),
            ..DockerInfo::default()
        }),
        ..ContainerInfo::default()
    }
}

/// `exec-<task id>`: one executor per task, so one crash takes only its own task.
pub fn executor_id(task_id: &str) -> String {
    format!("exec-{task_id}")
}

fn role(cfg: &CoreConfig, offer: &Offer) -> String {
    offer
        .allocation_info
        .as_ref()
        .and_then(|a| a.role.clone())
        .unwrap_or_else(|| cfg.role.clone())
}

fn executor(cfg: &CoreConfig, fid: &FrameworkId, task_id: &str, role: &str) -> ExecutorInfo {
    let (c, m) = cfg.sizes.executor;
    ExecutorInfo {
        r#type: Some(ExecutorType::Custom as i32),
        executor_id: ExecutorId::new(executor_id(task_id)),
        framework_id: Some(fid.clone()),
        command: Some(cfg.executor_command.clone()),
        container: cfg.executor_container.clone(),
        resources: allocate(vec![cpus(c), mem(m)], role),
        name: Some("mesos-miner executor".into()),
        ..ExecutorInfo::default()
    }
}

fn record(offer: &Offer, task_id: &str, kind: TaskKind, pool_url: String) -> TaskRecord {
    TaskRecord {
        task_id: task_id.to_owned(),
        kind,
        agent_id: offer.agent_id.value.clone(),
        hostname: offer.hostname.clone(),
        executor_id: None,
        pool_url,
        ports: Vec::new(),
        state: TaskState::TaskStaging.as_str_name().to_owned(),
        replaced: false,
        kill: false,
    }
}

/// `TaskInfo.data` of a worker mining on `pool_url` (the same for every worker).
pub fn worker_spec(cfg: &CoreConfig, pool_url: &str) -> Vec<u8> {
    TaskSpec::Worker(WorkerSpec {
        pool_url: pool_url.to_owned(),
        user: cfg.worker.user.clone(),
        password: cfg.worker.password.clone(),
        kernel: cfg.worker.kernel.clone(),
        threads: None,
        report_interval_ms: cfg.report_interval_ms,
    })
    .to_bytes()
}

/// A worker task of `task_cpus` mining on `pool_url`; `data` is [`worker_spec`]'s.
pub fn worker(
    cfg: &CoreConfig,
    fid: &FrameworkId,
    offer: &Offer,
    task_id: &str,
    task_cpus: f64,
    pool_url: &str,
    data: Vec<u8>,
) -> (TaskInfo, TaskRecord) {
    let role = role(cfg, offer);
    let info = TaskInfo {
        name: "mesos-miner worker".into(),
        task_id: TaskId::new(task_id),
        agent_id: offer.agent_id.clone(),
        resources: allocate(vec![cpus(task_cpus), mem(cfg.worker.mem)], &role),
        executor: Some(executor(cfg, fid, task_id, &role)),
        data: Some(data),
        ..TaskInfo::default()
    };
    let mut rec = record(offer, task_id, TaskKind::Worker, pool_url.to_owned());
    rec.executor_id = Some(executor_id(task_id));
    (info, rec)
}

/// The server task on `offer` with `taken` ports, or `None` for an external pool.
pub fn server(
    cfg: &CoreConfig,
    fid: &FrameworkId,
    offer: &Offer,
    task_id: &str,
    taken: &[u64],
) -> Option<(TaskInfo, TaskRecord)> {
    let role = role(cfg, offer);
    let ports16: Vec<u16> = taken
        .iter()
        .filter_map(|p| u16::try_from(*p).ok())
        .collect();
    match &cfg.server {
        ServerConfig::External { .. } => None,
        ServerConfig::Builtin(b) => {
            let port = *ports16.first()?;
            let url = format!("stratum+tcp://{}:{port}", offer.hostname);
            let spec = TaskSpec::Server(ServerSpec {
                demo: b.demo,
                bitcoind: b.bitcoind.clone(),
                difficulty: b.difficulty,
                stratum_port: Some(port),
                report_interval_ms: cfg.report_interval_ms,
            });
            let info = TaskInfo {
                name: "mesos-miner server".into(),
                task_id: TaskId::new(task_id),
                agent_id: offer.agent_id.clone(),
                resources: allocate(vec![cpus(b.cpus), mem(b.mem), ports(taken)], &role),
                executor: Some(executor(cfg, fid, task_id, &role)),
                data: Some(spec.to_bytes()),
                ..TaskInfo::default()
            };
            let mut rec = record(offer, task_id, TaskKind::Server, url);
            rec.executor_id = Some(executor_id(task_id));
            rec.ports = ports16;
            Some((info, rec))
        }
        ServerConfig::P2pool(p) => {
            let (&p2pool_port, &worker_port) = (ports16.first()?, ports16.get(1)?);
            let url = format!("stratum+tcp://{}:{worker_port}", offer.hostname);
            // As the original Go framework: the image's entrypoint (run_p2pool.py) gets
            // these arguments; shell false, no command value.
            let arguments = vec![
                "--bitcoind-address".to_owned(),
                p.bitcoind_address.clone(),
                "--p2pool-port".into(),
                p2pool_port.to_string(),
                "-w".into(),
                worker_port.to_string(),
                p.rpc_user.clone(),
                p.rpc_password.expose().to_owned(),
            ];
            let info = TaskInfo {
                name: format!("task-{task_id}"),
                task_id: TaskId::new(task_id),
                agent_id: AgentId::new(offer.agent_id.value.clone()),
                resources: allocate(vec![cpus(p.cpus), mem(p.mem), ports(taken)], &role),
                command: Some(CommandInfo {
                    shell: Some(false),
                    arguments,
                    ..CommandInfo::default()
                }),
                container: Some(ContainerInfo {
                    r#type: ContainerType::Docker as i32,
                    docker: Some(DockerInfo {
                        image: p.image.clone(),
                        ..DockerInfo::default()
                    }),
                    ..ContainerInfo::default()
                }),
                ..TaskInfo::default()
            };
            let mut rec = record(offer, task_id, TaskKind::Server, url);
            rec.ports = ports16;
            Some((info, rec))
        }
    }
}
