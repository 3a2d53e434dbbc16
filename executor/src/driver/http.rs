//! The executor's HTTP to the agent (spec §1): protobuf in both directions
//! (`Content-Type`/`Accept: application/x-protobuf`, compared byte for byte by Mesos),
//! `Authorization: Bearer` when the agent gave a token. The subscription has its own client
//! and connection; calls go through another (spec §1.5). A stream ends on the chunk
//! terminator, a plain TCP EOF (what an agent restart gives: `recovery/exec-ar-exec.log.txt`)
//! or any error alike.

use std::time::Duration;

use proto::Message;
use proto::executor::{Call, Event};
use proto::stream::{Codec, EventDecoder, StreamError};
use proto::wire::{CONTENT_TYPE_PROTOBUF, EXECUTOR_PATH};
use reqwest::StatusCode;
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::env::Secret;

/// Largest event record accepted (a LAUNCH with a big TaskInfo is a few KiB).
pub const MAX_RECORD: usize = 16 * 1024 * 1024;
/// Attempts per call before it is left to the next SUBSCRIBE (updates) or dropped (messages).
const CALL_ATTEMPTS: u32 = 3;
/// Pause between call attempts.
const CALL_RETRY: Duration = Duration::from_millis(250);
/// Bound of one call.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound of connecting (SUBSCRIBE and calls).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest error body kept for a log line.
const MAX_ERROR_BODY: usize = 512;

/// What a subscription stream says, tagged with the subscription's generation.
#[derive(Debug)]
pub(crate) enum StreamMsg {
    /// One event.
    Event(Box<Event>),
    /// The subscription is over (or never started): why.
    Ended(String),
}

/// The agent's executor endpoint.
#[derive(Clone)]
pub(crate) struct Agent {
    url: String,
    stream: reqwest::Client,
    calls: reqwest::Client,
    token: Option<Secret>,
}

impl Agent {
    /// The endpoint at `http://{endpoint}/api/v1/executor`.
    pub(crate) fn new(endpoint: &str, token: Option<Secret>) -> Result<Agent, reqwest::Error> {
        let stream = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_max_idle_per_host(0)
            .tcp_nodelay(true)
            .build()?;
        let calls = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .tcp_nodelay(true)
            .build()?;
        Ok(Agent {
            url: format!("http://{endpoint}{EXECUTOR_PATH}"),
            stream,
            calls,
            token,
        })
    }

    fn request(&self, client: &reqwest::Client, call: &Call) -> reqwest::RequestBuilder {
        let mut request = client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE_PROTOBUF)
            .header(reqwest::header::ACCEPT, CONTENT_TYPE_PROTOBUF)
            .body(call.encode_to_vec());
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose());
        }
        request
    }

    /// SUBSCRIBEs with `call` and forwards the stream's events until it ends; always ends
    /// with one [`StreamMsg::Ended`].
    pub(crate) async fn subscribe(
        self,
        call: Call,
        generation: u64,
        out: mpsc::Sender<(u64, StreamMsg)>,
    ) {
        let reason = self.read_stream(call, generation, &out).await;
        let _ = out.send((generation, StreamMsg::Ended(reason))).await;
    }

    async fn read_stream(
        &self,
        call: Call,
        generation: u64,
        out: &mpsc::Sender<(u64, StreamMsg)>,
    ) -> String {
        let mut response = match self.request(&self.stream, &call).send().await {
            Ok(r) => r,
            Err(e) => return format!("SUBSCRIBE failed: {e}"),
        };
        if response.status() != StatusCode::OK {
            // 503 "Agent has not finished recovery" is normal right after an agent restart.
            return format!(
                "SUBSCRIBE answered {}: {}",
                response.status(),
                body_text(response).await
            );
        }
        let codec = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(Codec::from_content_type)
            .unwrap_or(Codec::Protobuf);
        let mut decoder = EventDecoder::<Event>::new(codec, MAX_RECORD);
        loop {
            loop {
                match decoder.next_event() {
                    Ok(Some(event)) => {
                        if out
                            .send((generation, StreamMsg::Event(Box::new(event))))
                            .await
                            .is_err()
                        {
                            return "the executor stopped reading".into();
                        }
                    }
                    Ok(None) => break,
                    Err(StreamError::Event { len, source }) => {
                        warn!(len, error = %source, "undecodable event skipped");
                    }
                    Err(e @ StreamError::Framing(_)) => return format!("broken stream: {e}"),
                }
            }
            match response.chunk().await {
                Ok(Some(bytes)) => decoder.feed(&bytes),
                // The chunk terminator: the agent ended the subscription.
                Ok(None) => return "the agent ended the stream".into(),
                // A plain TCP close (agent restart) or any other error.
                Err(e) => return format!("stream lost: {e}"),
            }
        }
    }

    /// Posts calls in order, each up to a few times while the agent answers 5xx or the
    /// connection fails; 202 is success. What still fails stays unacknowledged in the core
    /// and goes with the next SUBSCRIBE.
    pub(crate) async fn post_calls(self, mut calls: mpsc::UnboundedReceiver<Call>) {
        while let Some(call) = calls.recv().await {
            self.post(&call).await;
        }
    }

    async fn post(&self, call: &Call) {
        let kind = call.r#type().as_str_name();
        for attempt in 1..=CALL_ATTEMPTS {
            match self.request(&self.calls, call).send().await {
                Ok(r) if r.status() == StatusCode::ACCEPTED => {
                    debug!(kind, "call accepted");
                    return;
                }
                Ok(r) if r.status().is_client_error() => {
                    let status = r.status();
                    let body = body_text(r).await;
                    warn!(kind, %status, %body, "call refused");
                    return;
                }
                Ok(r) => warn!(kind, status = %r.status(), attempt, "call not accepted"),
                Err(e) => warn!(kind, error = %e, attempt, "call failed"),
            }
            tokio::time::sleep(CALL_RETRY).await;
        }
    }
}

async fn body_text(response: reqwest::Response) -> String {
    let bytes = response.bytes().await.unwrap_or_default();
    let cut = &bytes[..bytes.len().min(MAX_ERROR_BODY)];
    String::from_utf8_lossy(cut).into_owned()
}
