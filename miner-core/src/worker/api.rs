//! `--api-bind HOST:PORT`: GET /summary answers the worker's [`Summary`] as JSON.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;

use super::stats::{Status, Summary};

/// The status the driver updates and the API reads.
pub type SharedStatus = Arc<Mutex<Status>>;

/// The routes: only `GET /summary`.
pub fn router(status: SharedStatus) -> Router {
    Router::new().route(
        "/summary",
        get(move || {
            let status = status.clone();
            async move { Json(snapshot(&status)) }
        }),
    )
}

/// The current summary.
pub fn snapshot(status: &SharedStatus) -> Summary {
    let s = status.lock().unwrap_or_else(PoisonError::into_inner);
    s.summary(Instant::now())
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    status: SharedStatus,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(status))
        .with_graceful_shutdown(shutdown)
        .await
}
