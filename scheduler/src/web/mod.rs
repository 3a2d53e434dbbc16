//! The scheduler's HTTP surface (`--web-bind`): `/` (the live page, [`page`]), `/api/state`
//! (JSON, [`crate::view`]), `/api/history` (JSON, [`crate::history`]; `?since=<ms>`),
//! `/metrics` (Prometheus text) and `/executor/<sha256>/mesos-miner`, our own executable
//! for the agents' fetcher (with Content-Length; the hash in the path keeps the fetcher
//! cache right when the binary changes).

pub mod metrics;
pub mod page;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;

use crate::core::State;
use crate::history::{History, HistoryView};
use crate::view::StateView;

/// The executable served to agents.
#[derive(Clone, Debug)]
pub struct ExecutorFile {
    /// Lowercase hex SHA-256 of `bytes`.
    pub sha256: String,
    /// The file.
    pub bytes: Bytes,
}

impl ExecutorFile {
    /// Wraps file contents, hashing them.
    pub fn new(bytes: Bytes) -> ExecutorFile {
        use sha2::Digest;
        let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
        ExecutorFile { sha256, bytes }
    }
}

/// What the driver and the web handlers share.
#[derive(Debug)]
pub struct Shared {
    core: Mutex<State>,
    /// Its own lock: a page reading six hours of points does not hold the reducer up.
    history: Mutex<History>,
    executor: Option<ExecutorFile>,
}

impl Shared {
    /// Shares `core`, serving `executor` if given, with a history sampled every
    /// `history_interval`.
    pub fn new(
        core: State,
        executor: Option<ExecutorFile>,
        history_interval: Duration,
    ) -> Arc<Shared> {
        Arc::new(Shared {
            core: Mutex::new(core),
            history: Mutex::new(History::new(history_interval)),
            executor,
        })
    }

    /// The hashrate history (poisoning is taken over as for [`Shared::core`]).
    pub fn history(&self) -> MutexGuard<'_, History> {
        self.history.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The reducer (a poisoned lock is taken over: the state itself stays consistent,
    /// because every handler finishes its changes before it can panic on I/O).
    pub fn core(&self) -> MutexGuard<'_, State> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The `/api/state` document now.
    pub fn view(&self) -> StateView {
        self.core().view(Instant::now())
    }
}

/// Serves the router on `listener` until `stop`.
pub fn spawn(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    stop: tokio_util::sync::CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let served =
            axum::serve(listener, router(shared)).with_graceful_shutdown(stop.cancelled_owned());
        if let Err(e) = served.await {
            tracing::error!(error = %e, "web server failed");
        }
    })
}

/// The router over `shared`.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/api/state", get(api_state))
        .route("/api/history", get(api_history))
        .route("/metrics", get(metrics_text))
        .route("/executor/{sha}/mesos-miner", get(executor))
        .with_state(shared)
}

async fn index(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    let html = page::render(&shared.view());
    // The page is the state at this moment: never cached, always asked for again.
    ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

async fn api_state(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(shared.view()),
    )
        .into_response()
}

/// `?since=<ms>` of `/api/history`.
#[derive(Debug, serde::Deserialize)]
struct Since {
    since: Option<u64>,
}

async fn api_history(
    AxumState(shared): AxumState<Arc<Shared>>,
    Query(q): Query<Since>,
) -> Response {
    let view: HistoryView = shared.history().view(q.since);
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(view)).into_response()
}

async fn metrics_text(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    let text = metrics::render(&shared.core(), Instant::now());
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
}

async fn executor(AxumState(shared): AxumState<Arc<Shared>>, Path(sha): Path<String>) -> Response {
    match &shared.executor {
        Some(file) if file.sha256 == sha => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            file.bytes.clone(),
        )
            .into_response(),
        _ => (StatusCode::NOT_FOUND, "no such executor\n").into_response(),
    }
}

#[cfg(test)]
mod tests;
