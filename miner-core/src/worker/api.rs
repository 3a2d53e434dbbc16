//! `--api-bind HOST:PORT`: GET /summary answers the worker's [`Summary`] as JSON.

use std::time::Instant;

use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use super::stats::SharedStatus;
use super::stats::{Summary, lock};

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
    lock(status).summary(Instant::now())
}

/// Serves the API on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    status: SharedStatus,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(status))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}
