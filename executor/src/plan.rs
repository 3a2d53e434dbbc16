//! What a launched task will run, decided from its `TaskInfo` alone (pure): the
//! [`TaskSpec`] in `TaskInfo.data`, the worker's thread count (the spec's, else the task's
//! `cpus` rounded, at least 1) and the server's Stratum port (the spec's, else the first
//! port of the task's `ports` resource). A `TaskInfo` that says too little is refused with
//! a message that goes into the TASK_FAILED update.

use std::fmt;
use std::time::Duration;

use proto::framework::{ServerSpec, TaskSpec, WorkerSpec};
use proto::v1::TaskInfo;

/// Shortest report interval accepted (a faster one would flood the scheduler).
pub const MIN_REPORT_INTERVAL: Duration = Duration::from_millis(100);

/// A worker to start.
#[derive(Clone, PartialEq)]
pub struct WorkerPlan {
    /// The spec, as sent.
    pub spec: WorkerSpec,
    /// Search threads (at least 1).
    pub threads: usize,
}

/// A pool server to start.
#[derive(Clone, PartialEq)]
pub struct ServerPlan {
    /// The spec, as sent.
    pub spec: ServerSpec,
    /// The Stratum port to listen on (0.0.0.0).
    pub port: u16,
}

/// What a task runs.
#[derive(Clone, PartialEq)]
pub enum TaskPlan {
    /// A Stratum worker.
    Worker(WorkerPlan),
    /// The built-in pool.
    Server(ServerPlan),
}

impl TaskPlan {
    /// The interval between the task's reports.
    pub fn report_interval(&self) -> Duration {
        let ms = match self {
            TaskPlan::Worker(w) => w.spec.report_interval_ms,
            TaskPlan::Server(s) => s.spec.report_interval_ms,
        };
        Duration::from_millis(ms).max(MIN_REPORT_INTERVAL)
    }

    /// Worker or server.
    pub fn kind(&self) -> proto::framework::TaskKind {
        match self {
            TaskPlan::Worker(_) => proto::framework::TaskKind::Worker,
            TaskPlan::Server(_) => proto::framework::TaskKind::Server,
        }
    }
}

impl fmt::Debug for TaskPlan {
    /// Without the passwords the specs carry.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskPlan::Worker(w) => f
                .debug_struct("Worker")
                .field("pool_url", &w.spec.pool_url)
                .field("user", &w.spec.user)
                .field("kernel", &w.spec.kernel)
                .field("threads", &w.threads)
                .finish_non_exhaustive(),
            TaskPlan::Server(s) => f
                .debug_struct("Server")
                .field("demo", &s.spec.demo)
                .field("node", &s.spec.bitcoind.as_ref().map(|n| &n.url))
                .field("port", &s.port)
                .finish_non_exhaustive(),
        }
    }
}

/// The most threads a task's cpus can ask for.
const MAX_THREADS: usize = miner_core::worker::MAX_THREADS;

/// Decides what `task` runs, or why it cannot run.
pub fn plan(task: &TaskInfo) -> Result<TaskPlan, String> {
    let data = task.data.as_deref().unwrap_or_default();
    let spec =
        TaskSpec::parse(data).map_err(|e| format!("TaskInfo.data is not a task spec: {e}"))?;
    match spec {
        TaskSpec::Worker(spec) => {
            let threads = match spec.threads {
                Some(0) => return Err("threads must be at least 1".into()),
                Some(n) => n.min(MAX_THREADS),
                None => threads_of_cpus(proto::resources::sum_scalar(&task.resources, "cpus")),
            };
            if spec.pool_url.is_empty() {
                return Err("the worker spec has no pool_url".into());
            }
            Ok(TaskPlan::Worker(WorkerPlan { spec, threads }))
        }
        TaskSpec::Server(spec) => {
            if spec.demo == spec.bitcoind.is_some() {
                return Err("a server spec needs exactly one of demo or bitcoind".into());
            }
            let port = match spec.stratum_port {
                Some(p) => p,
                None => first_port(task).ok_or(
                    "no stratum_port in the spec and no port in the task's ports resource",
                )?,
            };
            Ok(TaskPlan::Server(ServerPlan { spec, port }))
        }
    }
}

/// The task's cpus rounded, at least 1 (DESIGN.md: threads follow the task's cpus).
pub fn threads_of_cpus(cpus: f64) -> usize {
    if cpus.is_finite() && cpus >= 1.0 {
        (cpus.round() as usize).clamp(1, MAX_THREADS)
    } else {
        1
    }
}

fn first_port(task: &TaskInfo) -> Option<u16> {
    proto::resources::ranges_of(&task.resources, "ports")
        .first()
        .and_then(|r| u16::try_from(*r.start()).ok())
        .filter(|p| *p != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::resources::{cpus, ports};

    fn task(data: &str, resources: Vec<proto::v1::Resource>) -> TaskInfo {
        TaskInfo {
            name: "t".into(),
            task_id: "worker-1".into(),
            agent_id: "a".into(),
            resources,
            data: Some(data.as_bytes().to_vec()),
            ..TaskInfo::default()
        }
    }

    #[test]
    fn plans_from_specs_and_resources() {
        let w = r#"{"kind":"worker","pool_url":"stratum+tcp://h:1","user":"u","password":"pw"}"#;
        let w3 = r#"{"kind":"worker","pool_url":"stratum+tcp://h:1","user":"u","threads":3}"#;
        let demo = r#"{"kind":"server","demo":true}"#;
        let demo_port = r#"{"kind":"server","demo":true,"stratum_port":3333}"#;
        let cases: Vec<(&str, Vec<proto::v1::Resource>, Result<&str, &str>)> = vec![
            (w, vec![cpus(2.6)], Ok("threads: 3")),
            (w, vec![cpus(0.1)], Ok("threads: 1")),
            (w, vec![], Ok("threads: 1")),
            (w3, vec![cpus(1.0)], Ok("threads: 3")),
            (
                demo,
                vec![cpus(0.1), ports(&[31005, 31006])],
                Ok("port: 31005"),
            ),
            (demo_port, vec![ports(&[31005])], Ok("port: 3333")),
            (demo, vec![cpus(0.1)], Err("no stratum_port")),
            (
                r#"{"kind":"server"}"#,
                vec![],
                Err("exactly one of demo or bitcoind"),
            ),
            (
                r#"{"kind":"worker","pool_url":"","user":"u"}"#,
                vec![],
                Err("no pool_url"),
            ),
            (
                r#"{"kind":"worker","pool_url":"x","user":"u","threads":0}"#,
                vec![],
                Err("at least 1"),
            ),
            (
                "task-data-bytes",
                vec![],
                Err("TaskInfo.data is not a task spec"),
            ),
            (
                r#"{"kind":"miner"}"#,
                vec![],
                Err("TaskInfo.data is not a task spec"),
            ),
        ];
        for (data, resources, want) in cases {
            let got = plan(&task(data, resources)).map(|p| format!("{p:?}"));
            match (&got, want) {
                (Ok(p), Ok(part)) => assert!(p.contains(part), "{data}: {p}"),
                (Err(e), Err(part)) => assert!(e.contains(part), "{data}: {e}"),
                _ => panic!("{data}: {got:?} vs {want:?}"),
            }
        }
        let p = plan(&task(w, vec![])).unwrap();
        assert!(!format!("{p:?}").contains("pw"));
        assert_eq!(p.report_interval(), Duration::from_secs(5));
    }

    #[test]
    fn cpus_round_to_threads() {
        for (cpus, threads) in [
            (0.0, 1),
            (0.5, 1),
            (1.49, 1),
            (1.5, 2),
            (7.9, 8),
            (f64::NAN, 1),
        ] {
            assert_eq!(threads_of_cpus(cpus), threads, "{cpus}");
        }
    }
}
