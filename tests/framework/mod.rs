//! The framework end to end, on real processes on 127.0.0.1: the local cluster (a Mesos
//! master and agents that answer as the recorded Mesos did), the scheduler library driving
//! it over HTTP, and the real `mesos-miner` binary, served by the scheduler, fetched by the
//! agents and run as the custom executor. Nothing is faked: tasks mine, executors report
//! through framework messages, and faults are injected into the cluster.

mod basic;
mod docker;
mod faults;
mod restart;
mod servers;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use local_cluster::{ClusterConfig, LaunchRecord, LocalCluster};
use scheduler::{SchedulerConfig, SchedulerHandle, StateView};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use crate::support::{BIN, temp_dir};

/// A cluster of `agents` agents with `cpus` each, with test-speed timers.
pub(crate) async fn cluster(
    agents: usize,
    cpus: f64,
    tweak: impl FnOnce(&mut ClusterConfig),
) -> LocalCluster {
    let mut cfg = ClusterConfig {
        agents,
        cpus,
        mem: 2048.0,
        disk: 2048.0,
        ..ClusterConfig::default()
    };
    cfg.master.heartbeat = Duration::from_millis(500);
    cfg.agent_template.update_retry_min = Duration::from_millis(500);
    // Tests run side by side on one host: each cluster offers its own port range (a real
    // cluster's agents each own theirs), so two pool servers never want the same port.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    cfg.ports_count = 50;
    cfg.ports_first = 36_000 + (n % 100) * 200;
    // An executor whose agent is gone for good gives up soon (Mesos: 15 min).
    cfg.agent_template.recovery_timeout = Duration::from_secs(20);
    tweak(&mut cfg);
    LocalCluster::start(cfg).await.expect("cluster starts")
}

/// A scheduler configuration for `cluster`: every master URL, a fresh state dir, the real
/// binary as the executor, a demo pool at a low difficulty, fast timers.
pub(crate) fn config(cluster: &LocalCluster, name: &str) -> SchedulerConfig {
    let mut cfg = SchedulerConfig {
        masters: cluster.master_urls(),
        state_dir: temp_dir(&format!("fw-{name}")).join("state"),
        web_bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        report_interval: Duration::from_millis(500),
        ..SchedulerConfig::default()
    };
    cfg.framework.name = format!("mesos-miner-test-{name}");
    cfg.executor.binary = Some(PathBuf::from(BIN));
    if let scheduler::ServerConfig::Builtin(b) = &mut cfg.server {
        b.difficulty = Some(0.0005);
    }
    // The portable kernel needs no start-up trial: the executor runs as fast as it can here.
    cfg.worker.kernel = "portable".into();
    let t = &mut cfg.timing;
    t.refuse = Duration::from_secs(1);
    t.revive_interval = Duration::from_millis(500);
    t.backoff_min = Duration::from_millis(300);
    t.backoff_max = Duration::from_secs(3);
    t.resubscribe_min = Duration::from_millis(200);
    t.resubscribe_max = Duration::from_secs(1);
    t.reconcile_retry = Duration::from_millis(500);
    t.reconcile_retry_max = Duration::from_secs(2);
    t.kill_retry = Duration::from_secs(1);
    t.kill_retry_max = Duration::from_secs(3);
    t.unreachable_grace = Duration::from_secs(2);
    t.subscribe_timeout = Duration::from_secs(5);
    t.tick = Duration::from_millis(100);
    cfg
}

/// A scheduler running in this process (it ends with the test's runtime).
pub(crate) struct Sched {
    pub(crate) handle: SchedulerHandle,
    pub(crate) token: CancellationToken,
}

impl Sched {
    pub(crate) async fn start(cfg: SchedulerConfig) -> Sched {
        let token = CancellationToken::new();
        let handle = scheduler::start(cfg, token.clone())
            .await
            .expect("scheduler starts");
        Sched { handle, token }
    }

    pub(crate) fn state(&self) -> StateView {
        self.handle.state()
    }

    /// Polls the state until `pred` holds; panics with the last state after `limit`.
    pub(crate) async fn wait(
        &self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&StateView) -> bool,
    ) -> StateView {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let state = self.state();
            if pred(&state) {
                return state;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; state:\n{}",
                serde_json::to_string_pretty(&state).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Stops as SIGTERM does (no teardown) and waits for the end.
    pub(crate) async fn stop(self) {
        self.token.cancel();
        let _ = self.handle.join().await;
    }
}

/// RUNNING tasks of a kind in a state document.
pub(crate) fn running(
    state: &StateView,
    kind: proto::framework::TaskKind,
) -> Vec<&scheduler::view::TaskView> {
    state
        .tasks
        .iter()
        .filter(|t| t.kind == kind && t.state == "TASK_RUNNING")
        .collect()
}

/// Whether the builtin server and `workers` workers all run, and every worker mined and
/// had a share accepted.
pub(crate) fn mining(state: &StateView, workers: usize) -> bool {
    use proto::framework::TaskKind;
    running(state, TaskKind::Server).len() == 1
        && running(state, TaskKind::Worker).len() == workers
        && running(state, TaskKind::Worker)
            .iter()
            .all(|t| t.hashrate_10s > 0.0 && t.shares_accepted > 0)
}

/// Task ids launched more than once (a task id must never be launched twice).
pub(crate) fn launched_twice(history: &[LaunchRecord]) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    history
        .iter()
        .filter(|r| !seen.insert(r.task_id.clone()))
        .map(|r| r.task_id.clone())
        .collect()
}

/// `GET path` on `addr`: status code and body.
pub(crate) async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return (0, String::new());
    };
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return (0, String::new());
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (code, body)
}

/// Generous bound for things that take a few seconds on an idle machine.
pub(crate) const LONG: Duration = Duration::from_secs(120);
