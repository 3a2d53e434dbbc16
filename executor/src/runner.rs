//! Runs one task's work on the runtime: a Stratum worker (miner-core) or the built-in pool
//! server (`pool`, listening on 0.0.0.0). Each run tells the driver when it started (with a
//! [`Probe`] for reports) and how it ended; a pool that stops on its own and a worker that
//! gives up end as failures, so the task becomes TASK_FAILED instead of hanging.

use std::path::PathBuf;

use miner_core::worker::{MinerConfig, Stopped, WorkerProbe};
use pool::credentials::{CredentialSources, rpc_auth};
use pool::{Backend, Pool, PoolConfig, StatusSource};
use proto::framework::ServerSpec;
use proto::v1::TaskId;
use stratum::Difficulty;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::core::TaskOutcome;
use crate::plan::{ServerPlan, TaskPlan, WorkerPlan};

/// Reads a running task's figures.
#[derive(Clone)]
pub enum Probe {
    /// A worker.
    Worker(WorkerProbe),
    /// The pool; `url` is what workers dial.
    Server {
        /// The pool's status.
        source: StatusSource,
        /// `stratum+tcp://host:port`.
        url: String,
    },
}

/// What a run tells the driver.
pub enum RunnerEvent {
    /// The task is up: TASK_RUNNING with `message`.
    Started {
        /// The task.
        task_id: TaskId,
        /// For the update.
        message: String,
        /// For reports.
        probe: Probe,
    },
    /// The run is over.
    Ended {
        /// The task.
        task_id: TaskId,
        /// How.
        outcome: TaskOutcome,
    },
}

/// Where a run happens.
#[derive(Clone, Debug)]
pub struct RunContext {
    /// The sandbox (the pool keeps found blocks under `pool-data` there).
    pub sandbox: PathBuf,
    /// The host workers reach this agent at (for the pool's URL).
    pub advertise_host: String,
}

/// A started run.
pub struct Runner {
    /// Cancelled to stop the task gracefully.
    pub cancel: CancellationToken,
    /// Aborted when the kill grace is over.
    pub join: tokio::task::JoinHandle<()>,
}

/// Starts `plan` for `task_id`; events go to `events`. The run is instrumented with `span`.
pub fn start(
    task_id: TaskId,
    plan: TaskPlan,
    ctx: RunContext,
    events: mpsc::UnboundedSender<RunnerEvent>,
    span: tracing::Span,
) -> Runner {
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    let join = tokio::spawn(
        async move {
            let outcome = match plan {
                TaskPlan::Worker(w) => run_worker(&task_id, w, token, &events).await,
                TaskPlan::Server(s) => run_server(&task_id, s, ctx, token, &events).await,
            };
            let _ = events.send(RunnerEvent::Ended { task_id, outcome });
        }
        .instrument(span),
    );
    Runner { cancel, join }
}

async fn run_worker(
    task_id: &TaskId,
    w: WorkerPlan,
    cancel: CancellationToken,
    events: &mpsc::UnboundedSender<RunnerEvent>,
) -> TaskOutcome {
    let spec = &w.spec;
    let config = match MinerConfig::new(
        &spec.pool_url,
        &spec.user,
        &spec.password,
        w.threads,
        &spec.kernel,
    ) {
        Ok(c) => c,
        Err(e) => return TaskOutcome::Failed(format!("worker settings: {e}")),
    };
    // `auto` times the kernels for a moment: off the async threads.
    let token = cancel.clone();
    let spawned =
        tokio::task::spawn_blocking(move || miner_core::worker::spawn(config, token)).await;
    let handle = match spawned {
        Ok(Ok(handle)) => handle,
        Ok(Err(e)) => return TaskOutcome::Failed(format!("worker: {e}")),
        Err(e) => return TaskOutcome::Failed(format!("worker start panicked: {e}")),
    };
    let status = handle.status();
    let message = format!(
        "mining on {} as {} with {} threads, kernel {}",
        spec.pool_url, spec.user, status.threads, status.kernel
    );
    tracing::info!(%message, "worker started");
    let probe = Probe::Worker(handle.probe());
    let _ = events.send(RunnerEvent::Started {
        task_id: task_id.clone(),
        message,
        probe,
    });
    match handle.join().await {
        Stopped::Shutdown => TaskOutcome::Finished("worker stopped".into()),
        Stopped::GaveUp => TaskOutcome::Failed("the worker gave up: no pool could be mined".into()),
    }
}

/// The pool's settings from the spec (reads a password file now; errors name no secret).
pub fn pool_config(spec: &ServerSpec, sandbox: &std::path::Path) -> Result<PoolConfig, String> {
    let (backend, payout) = match (&spec.bitcoind, spec.demo) {
        (None, true) => (Backend::Demo, None),
        (Some(node), false) => {
            let sources = CredentialSources {
                user: node.user.as_deref(),
                password: node.password.as_deref(),
                password_file: node.password_file.as_deref().map(std::path::Path::new),
                cookie_file: node.cookie_file.as_deref().map(std::path::Path::new),
            };
            let auth = rpc_auth(sources).map_err(|e| format!("bitcoind credentials: {e}"))?;
            let backend = Backend::Node {
                url: node.url.clone(),
                auth,
            };
            (backend, Some(node.payout_address.clone()))
        }
        _ => return Err("a server spec needs exactly one of demo or bitcoind".into()),
    };
    let mut config = PoolConfig::new(backend, payout, sandbox.join("pool-data"));
    // As `mesos-miner pool`: demo shares at once on a CPU, 0.01 against a node.
    let start = spec
        .difficulty
        .unwrap_or(if spec.demo { 0.0001 } else { 0.01 });
    let start = Difficulty::new(start).map_err(|e| format!("difficulty: {e}"))?;
    config.session.initial_difficulty = start;
    if start < config.session.min_difficulty {
        config.session.min_difficulty = start;
    }
    Ok(config)
}

async fn run_server(
    task_id: &TaskId,
    s: ServerPlan,
    ctx: RunContext,
    cancel: CancellationToken,
    events: &mpsc::UnboundedSender<RunnerEvent>,
) -> TaskOutcome {
    let config = match pool_config(&s.spec, &ctx.sandbox) {
        Ok(c) => c,
        Err(e) => return TaskOutcome::Failed(e),
    };
    let listener = match tokio::net::TcpListener::bind(("0.0.0.0", s.port)).await {
        Ok(l) => l,
        Err(e) => return TaskOutcome::Failed(format!("cannot listen on 0.0.0.0:{}: {e}", s.port)),
    };
    let mut pool = tokio::select! {
        p = Pool::start(listener, config) => match p {
            Ok(p) => p,
            Err(e) => return TaskOutcome::Failed(format!("the pool did not start: {e}")),
        },
        _ = cancel.cancelled() => return TaskOutcome::Finished("stopped before the pool started".into()),
    };
    let port = pool.local_addr().port();
    let url = format!("stratum+tcp://{}:{port}", ctx.advertise_host);
    let message = format!("pool listening on 0.0.0.0:{port}, workers use {url}");
    tracing::info!(%message, "pool started");
    let probe = Probe::Server {
        source: pool.status_source(),
        url,
    };
    let _ = events.send(RunnerEvent::Started {
        task_id: task_id.clone(),
        message,
        probe,
    });
    let outcome = tokio::select! {
        closed = pool.closed() => TaskOutcome::Failed(closed.to_string()),
        _ = cancel.cancelled() => TaskOutcome::Finished("pool stopped".into()),
    };
    pool.shutdown().await;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::framework::NodeSpec;

    fn spec(demo: bool, node: Option<NodeSpec>, difficulty: Option<f64>) -> ServerSpec {
        ServerSpec {
            demo,
            bitcoind: node,
            difficulty,
            stratum_port: None,
            report_interval_ms: 5000,
        }
    }

    #[test]
    fn pool_settings_from_the_spec() {
        let dir = std::path::Path::new("/sandbox");
        let c = pool_config(&spec(true, None, None), dir).unwrap();
        assert!(matches!(c.backend, Backend::Demo));
        assert_eq!(c.session.initial_difficulty.value(), 0.0001);
        assert_eq!(c.data_dir, dir.join("pool-data"));
        let c = pool_config(&spec(true, None, Some(0.00001)), dir).unwrap();
        assert_eq!(c.session.min_difficulty.value(), 0.00001);
        let node = NodeSpec {
            url: "http://127.0.0.1:18443/".into(),
            user: Some("rpc".into()),
            password: Some("hunter2".into()),
            password_file: None,
            cookie_file: None,
            payout_address: "bcrt1qxyz".into(),
        };
        let c = pool_config(&spec(false, Some(node.clone()), None), dir).unwrap();
        assert_eq!(c.payout_address.as_deref(), Some("bcrt1qxyz"));
        assert!(!format!("{:?}", c.backend).contains("hunter2"));
        let no_creds = NodeSpec {
            password: None,
            ..node.clone()
        };
        let err = pool_config(&spec(false, Some(no_creds), None), dir).unwrap_err();
        assert!(err.contains("bitcoind credentials"), "{err}");
        let missing = NodeSpec {
            password: None,
            password_file: Some("/nonexistent/pw".into()),
            ..node
        };
        let err = pool_config(&spec(false, Some(missing), None), dir).unwrap_err();
        assert!(
            err.contains("/nonexistent/pw") && !err.contains("hunter2"),
            "{err}"
        );
        assert!(pool_config(&spec(true, None, Some(0.0)), dir).is_err());
    }
}
