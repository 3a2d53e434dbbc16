//! The miner's side of the worker tests: a worker on this runtime against the fake pools
//! of `testkit::stratum` (which speak raw JSON lines and check every share's proof of work
//! on their own), with quick retries and two portable threads.

use std::sync::Arc;
use std::time::Duration;

use miner_core::kernels::Portable;
use miner_core::worker::{self, PoolUrl, RetryPolicy, Stopped, WorkerConfig};
use miner_core::{Miner, worker::api::SharedStatus};
use testkit::stratum::lines::PATIENCE;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A low difficulty so a CPU thread finds shares many times a second.
pub(crate) const EASY: f64 = 0.0002;

/// A worker running against `urls` in this runtime, stopped by [`Running::stop`].
pub(crate) struct Running {
    pub(crate) status: SharedStatus,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Stopped>,
}

impl Running {
    /// Waits for the worker to end by itself.
    pub(crate) async fn wait(self) -> Stopped {
        // Dropping the sender would be a shutdown: keep it until the worker ends.
        let Running { stop, task, .. } = self;
        let stopped = task.await.expect("worker task did not panic");
        drop(stop);
        stopped
    }

    /// Shuts the worker down and waits for it.
    pub(crate) async fn stop(mut self) -> Stopped {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("worker stops in time")
            .expect("worker task did not panic")
    }
}

/// Test defaults: quick retries, short failback, two portable threads.
pub(crate) fn config(urls: &[String]) -> WorkerConfig {
    let pools = urls.iter().map(|u| PoolUrl::parse(u).unwrap()).collect();
    let mut c = WorkerConfig::new(pools, "tester.1", "x");
    c.retry = RetryPolicy {
        retries: None,
        max_pause: Duration::from_millis(200),
        first_pause: Duration::from_millis(50),
    };
    c.timeout = Duration::from_secs(20);
    c.failback_interval = Duration::from_millis(300);
    c
}

/// Starts a worker with `config` on two portable search threads.
pub(crate) fn start(config: WorkerConfig) -> Running {
    let miner = Arc::new(Miner::new(2, &Portable).unwrap());
    let status = worker::shared_status("portable", 2);
    let (tx, rx) = oneshot::channel::<()>();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let cancel = shutdown.clone();
    tokio::spawn(async move {
        let _ = rx.await;
        cancel.cancel();
    });
    let task = tokio::spawn(worker::run(config, miner, status.clone(), shutdown));
    Running {
        status,
        stop: Some(tx),
        task,
    }
}
