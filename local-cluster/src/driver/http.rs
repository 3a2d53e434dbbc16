//! axum routes: `/api/v1/scheduler` (+ `/master/...` alias) on each master listener,
//! `/api/v1/executor` (+ `/slave(1)/...` alias) on each agent listener. Handlers only turn
//! HTTP into [`Request`]s and [`Reply`]s into HTTP; subscription bodies are channels whose
//! drop tells the core that the client went away.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use tokio::sync::mpsc;

use super::Shared;
use crate::wire::{self, Reply, Request};

/// Which core endpoint a listener serves.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub shared: Arc<Shared>,
    pub target: Target,
}

#[derive(Clone)]
pub(crate) enum Target {
    /// Master number `n`.
    Master(usize),
    /// The agent with this id.
    Agent(String),
}

/// Routes of a master listener.
pub(crate) fn master_router(shared: Arc<Shared>, index: usize) -> Router {
    let ep = Endpoint {
        shared,
        target: Target::Master(index),
    };
    Router::new()
        .route("/api/v1/scheduler", axum::routing::any(handle))
        .route("/master/api/v1/scheduler", axum::routing::any(handle))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(wire::MAX_BODY))
        .with_state(ep)
}

/// Routes of an agent listener.
pub(crate) fn agent_router(shared: Arc<Shared>, agent_id: String) -> Router {
    let ep = Endpoint {
        shared,
        target: Target::Agent(agent_id),
    };
    Router::new()
        .route("/api/v1/executor", axum::routing::any(handle))
        .route("/slave(1)/api/v1/executor", axum::routing::any(handle))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(wire::MAX_BODY))
        .with_state(ep)
}

async fn not_found() -> Response {
    text(404, "404 Not Found.")
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn handle(
    State(ep): State<Endpoint>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = Request {
        method: method.as_str().to_string(),
        path_and_query: uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        content_type: header_str(&headers, "content-type"),
        accept: header_str(&headers, "accept"),
        stream_id: header_str(&headers, "mesos-stream-id"),
        authorization: header_str(&headers, "authorization"),
        body,
    };
    let shared = ep.shared.clone();
    let mut st = shared.lock();
    if req.body.len() >= super::LARGE_REQUEST {
        st.trim_due = true;
    }
    let now = super::now();
    let reply = match &ep.target {
        Target::Master(i) => st.core.scheduler_request(*i, &req, now),
        Target::Agent(id) => st.core.executor_request(id, &req, now),
    };
    let response = match reply {
        Reply::Plain {
            code,
            body,
            headers,
        } => plain(code, body, headers),
        Reply::Stream {
            id,
            format,
            mesos_stream_id,
        } => stream(&mut st, &shared, id, format, mesos_stream_id),
    };
    st.dispatch(&shared);
    response
}

/// A subscription response: 200 and a body fed by the stream's channel.
fn stream(
    st: &mut super::State,
    shared: &Arc<Shared>,
    id: u64,
    format: wire::Format,
    mesos_stream_id: Option<String>,
) -> Response {
    let (rx, backlog) = st.open_stream(id, format);
    let body = Body::from_stream(Watched {
        rx,
        backlog,
        id,
        shared: Some(shared.clone()),
    });
    let mut b = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, format.content_type());
    if let Some(sid) = mesos_stream_id {
        b = b.header("Mesos-Stream-Id", sid);
    }
    b.body(body).unwrap_or_else(|_| text(500, "response"))
}

fn plain(code: u16, body: String, headers: Vec<(&'static str, String)>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut b = Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(k, v);
    }
    if !body.is_empty() {
        b = b.header(header::CONTENT_TYPE, wire::TEXT);
    }
    b.body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn text(code: u16, body: &str) -> Response {
    plain(code, body.to_string(), Vec::new())
}

/// A subscription body. When hyper drops it (client gone, or stream ended) the core hears
/// `stream_closed`; for streams the core itself closed that is a no-op.
struct Watched {
    rx: mpsc::UnboundedReceiver<Result<Bytes, io::Error>>,
    backlog: super::Backlog,
    id: u64,
    shared: Option<Arc<Shared>>,
}

impl Stream for Watched {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = self.rx.poll_recv(cx);
        if let Poll::Ready(Some(Ok(bytes))) = &item {
            self.backlog
                .fetch_sub(bytes.len(), std::sync::atomic::Ordering::Relaxed);
        }
        item
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            let id = self.id;
            // Not from inside the drop: the lock may be held by whoever dropped us.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let mut st = shared.lock();
                    st.core.stream_closed(id, super::now());
                    st.trim_due = true;
                    st.dispatch(&shared);
                });
            }
        }
    }
}
