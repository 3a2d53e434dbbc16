//! Shared helpers: a fast cluster, a scheduler configuration for it, polling.

mod faults;
mod launch;
mod restart;
mod web;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use local_cluster::{ClusterConfig, LocalCluster};
use scheduler::{SchedulerConfig, SchedulerHandle, StateView};
use tokio_util::sync::CancellationToken;

pub(crate) const EXECUTOR: &str = env!("CARGO_BIN_EXE_scheduler-test-executor");

/// A cluster with short heartbeats and retries.
pub(crate) async fn cluster(agents: usize, tweak: impl FnOnce(&mut ClusterConfig)) -> LocalCluster {
    let mut cfg = ClusterConfig {
        agents,
        cpus: 2.0,
        mem: 2048.0,
        disk: 1024.0,
        ..ClusterConfig::default()
    };
    cfg.master.heartbeat = Duration::from_millis(300);
    cfg.agent_template.update_retry_min = Duration::from_millis(500);
    tweak(&mut cfg);
    LocalCluster::start(cfg).await.expect("cluster starts")
}

pub(crate) fn temp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("scheduler-test-{}", uuid::Uuid::new_v4()))
}

/// A scheduler configuration for `masters` with fast timers and the stand-in executor.
pub(crate) fn config(masters: Vec<String>, state_dir: PathBuf) -> SchedulerConfig {
    let mut cfg = SchedulerConfig {
        masters,
        state_dir,
        web_bind: "127.0.0.1:0".parse().expect("address"),
        report_interval: Duration::from_millis(200),
        ..SchedulerConfig::default()
    };
    cfg.executor.binary = Some(EXECUTOR.into());
    let t = &mut cfg.timing;
    t.tick = Duration::from_millis(50);
    t.resubscribe_min = Duration::from_millis(100);
    t.resubscribe_max = Duration::from_millis(500);
    t.revive_interval = Duration::from_millis(200);
    t.backoff_min = Duration::from_millis(200);
    t.reconcile_retry = Duration::from_millis(500);
    t.kill_retry = Duration::from_millis(500);
    t.subscribe_timeout = Duration::from_secs(5);
    cfg
}

pub(crate) struct Running {
    pub(crate) handle: SchedulerHandle,
    pub(crate) shutdown: CancellationToken,
}

pub(crate) async fn start(cfg: SchedulerConfig) -> Running {
    let shutdown = CancellationToken::new();
    let handle = scheduler::start(cfg, shutdown.clone())
        .await
        .expect("scheduler starts");
    Running { handle, shutdown }
}

impl Running {
    /// Polls the state until `f` holds (panics after 60 s with the last state).
    pub(crate) async fn wait(&self, what: &str, f: impl Fn(&StateView) -> bool) -> StateView {
        wait_for(what, || async {
            Some(self.handle.state()).filter(|s| f(s))
        })
        .await
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        let url = format!("http://{}{path}", self.handle.web_addr());
        reqwest::get(url).await.expect("web answers")
    }

    pub(crate) async fn metric(&self, name: &str) -> f64 {
        let text = self.get("/metrics").await.text().await.unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0.0)
    }

    pub(crate) async fn stop(self) {
        self.shutdown.cancel();
        let exit = self.handle.join().await.expect("clean stop");
        assert_eq!(exit, scheduler::Exit::Shutdown);
    }
}

/// Retries `f` every 50 ms until it yields a value (60 s at most).
pub(crate) async fn wait_for<T, F, Fut>(what: &str, f: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Server RUNNING and `workers` workers RUNNING with fresh reports.
pub(crate) fn mining(s: &StateView, workers: usize) -> bool {
    s.subscribed
        && s.server.state.as_deref() == Some("TASK_RUNNING")
        && s.cluster.workers == workers
        && s.cluster.hashrate_10s >= 1000.0 * workers as f64
}

pub(crate) fn task_ids(s: &StateView) -> Vec<String> {
    let mut ids: Vec<String> = s.tasks.iter().map(|t| t.task_id.clone()).collect();
    ids.sort();
    ids
}

/// No task id was launched twice on the cluster.
pub(crate) fn assert_no_double_launch(cluster: &LocalCluster) {
    let mut ids: Vec<String> = cluster
        .launch_history()
        .into_iter()
        .map(|r| r.task_id)
        .collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "a task was launched twice");
}
