//! The miner's side of the worker tests: a worker on this runtime against the fake pools
//! of `testkit::stratum` (which speak raw JSON lines and check every share's proof of work
//! on their own), with quick retries and two portable threads; and the log lines it writes
//! ([`capture_logs`]).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use miner_core::kernels::Portable;
use miner_core::worker::{self, PoolUrl, RetryPolicy, Stopped, WorkerConfig};
use miner_core::{Miner, worker::api::SharedStatus};
use testkit::stratum::lines::PATIENCE;
use testkit::stratum::pool::PoolConn;
use tokio::net::{TcpListener, TcpStream};
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

/// Log output written to memory, as the binary's subscriber would write it.
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Everything logged so far.
    pub(crate) fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

/// Installs, once per process, a global subscriber that enables every event and writes
/// nothing. Without it, a callsite first reached by a sibling test's thread (no subscriber)
/// is cached as disabled for every thread while only one dispatcher exists, and the capture
/// below misses it (tracing-core's single-dispatcher fast path, tokio-rs/tracing#3611).
fn enable_every_callsite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Only fails if a global subscriber is set already, which serves as well.
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    });
}

/// Captures every event of this thread at TRACE level (as `RUST_LOG=trace`) until the guard
/// is dropped. Use it in a current-thread test: the worker's tasks then run on this thread.
pub(crate) fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    enable_every_callsite();
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

/// The miner's next connection to the pool stand-in listening on `l`.
pub(crate) async fn accept(l: &TcpListener) -> PoolConn<TcpStream> {
    let (s, _) = tokio::time::timeout(PATIENCE, l.accept())
        .await
        .expect("miner connects in time")
        .unwrap();
    PoolConn::new(s)
}
