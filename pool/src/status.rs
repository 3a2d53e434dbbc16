//! `GET /status` (axum): per-worker hashrate estimate, shares and blocks found, as JSON.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use tokio_util::sync::CancellationToken;

use crate::server::StatusSource;
use crate::stats::PoolStatus;

/// The API routes; serve them with [`serve`] or test them without a port.
pub fn router(source: StatusSource) -> Router {
    Router::new()
        .route("/status", get(status))
        .with_state(source)
}

async fn status(State(source): State<StatusSource>) -> Json<PoolStatus> {
    Json(source.status())
}

/// Serves [`router`] on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: tokio::net::TcpListener,
    source: StatusSource,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(source))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}
