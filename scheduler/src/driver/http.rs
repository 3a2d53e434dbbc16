//! HTTP to the masters (spec §1): SUBSCRIBE following 307s for a few hops, and the poster
//! of every other call — one task, in order, on its own connection, with the stream id —
//! that reports a lost subscription (403, 307) back to the driver.

use std::time::Duration;

use bytes::Bytes;
use proto::Message;
use proto::scheduler::Call;
use proto::wire::{CONTENT_TYPE_PROTOBUF, SCHEDULER_PATH, STREAM_ID_HEADER};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, LOCATION};
use reqwest::{Client, StatusCode};
use tokio::sync::mpsc;

use super::master::redirect_target;

/// An open subscription.
pub struct Subscription {
    /// The master that answered 200.
    pub master: String,
    /// `Mesos-Stream-Id` of this subscription.
    pub stream_id: String,
    /// The streaming response.
    pub response: reqwest::Response,
}

/// Why a SUBSCRIBE attempt failed; each means "try later, maybe elsewhere".
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Connection refused, reset, DNS…
    #[error("{master}: {source}")]
    Transport {
        /// Where.
        master: String,
        /// What.
        source: reqwest::Error,
    },
    /// No answer in time.
    #[error("{0}: no answer to SUBSCRIBE in time")]
    Timeout(String),
    /// Too many 307 hops, or a Location we cannot follow.
    #[error("{0}: redirect not followed")]
    Redirect(String),
    /// Any other status (503 = no leader / recovering; 401 = credentials; 400 = refused).
    #[error("{master}: SUBSCRIBE answered {status}: {body}")]
    Status {
        /// Where.
        master: String,
        /// The status.
        status: StatusCode,
        /// The body (bounded).
        body: String,
    },
}

/// HTTP clients and credentials for one scheduler.
#[derive(Clone, Debug)]
pub struct MasterClient {
    stream: Client,
    calls: Client,
    auth: Option<HeaderValue>,
    subscribe_timeout: Duration,
    max_redirects: usize,
}

async fn short_body(response: reqwest::Response) -> String {
    let text = response.text().await.unwrap_or_default();
    crate::core::task::truncate(&text, 512).to_owned()
}

impl MasterClient {
    /// Clients with our timeouts; `auth` is the whole `Authorization` value.
    pub fn new(
        auth: Option<HeaderValue>,
        subscribe_timeout: Duration,
        call_timeout: Duration,
        max_redirects: usize,
    ) -> Result<MasterClient, reqwest::Error> {
        let stream = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .tcp_keepalive(Duration::from_secs(30))
            .build()?;
        let calls = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(call_timeout)
            .build()?;
        Ok(MasterClient {
            stream,
            calls,
            auth,
            subscribe_timeout,
            max_redirects,
        })
    }

    fn request(&self, client: &Client, master: &str, body: Bytes) -> reqwest::RequestBuilder {
        let mut req = client
            .post(format!("{master}{SCHEDULER_PATH}"))
            .header(CONTENT_TYPE, CONTENT_TYPE_PROTOBUF)
            .header(ACCEPT, CONTENT_TYPE_PROTOBUF)
            .body(body);
        if let Some(auth) = &self.auth {
            req = req.header(AUTHORIZATION, auth.clone());
        }
        req
    }

    /// SUBSCRIBE at `master`, following 307s (both Location forms) for a few hops.
    pub async fn subscribe(&self, master: &str, call: &Call) -> Result<Subscription, ConnectError> {
        let body = Bytes::from(call.encode_to_vec());
        let mut at = master.to_owned();
        for _ in 0..=self.max_redirects {
            let send = self.request(&self.stream, &at, body.clone()).send();
            let response = match tokio::time::timeout(self.subscribe_timeout, send).await {
                Err(_) => return Err(ConnectError::Timeout(at)),
                Ok(Err(source)) => return Err(ConnectError::Transport { master: at, source }),
                Ok(Ok(r)) => r,
            };
            match response.status() {
                StatusCode::OK => {
                    let stream_id = response
                        .headers()
                        .get(STREAM_ID_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    return Ok(Subscription {
                        master: at,
                        stream_id,
                        response,
                    });
                }
                StatusCode::TEMPORARY_REDIRECT => {
                    let location = response
                        .headers()
                        .get(LOCATION)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    match redirect_target(&at, location) {
                        Some(next) => {
                            tracing::info!(from = %at, to = %next, "master redirected SUBSCRIBE to the leader");
                            at = next;
                        }
                        None => return Err(ConnectError::Redirect(at)),
                    }
                }
                status => {
                    let body = short_body(response).await;
                    return Err(ConnectError::Status {
                        master: at,
                        status,
                        body,
                    });
                }
            }
        }
        Err(ConnectError::Redirect(at))
    }

    /// POSTs one call of the subscription `session`.
    pub async fn post(&self, session: &Session, call: &Call) -> Posted {
        let body = Bytes::from(call.encode_to_vec());
        let req = self
            .request(&self.calls, &session.master, body)
            .header(STREAM_ID_HEADER, session.stream_id.as_str());
        let kind = call.r#type().as_str_name();
        match req.send().await {
            Ok(r) if r.status().is_success() => Posted::Accepted,
            Ok(r)
                if matches!(
                    r.status(),
                    StatusCode::FORBIDDEN | StatusCode::TEMPORARY_REDIRECT
                ) =>
            {
                let status = r.status();
                let body = short_body(r).await;
                tracing::warn!(call = kind, %status, %body, "call refused: subscription lost");
                Posted::Lost
            }
            Ok(r) => {
                let status = r.status();
                let body = short_body(r).await;
                tracing::warn!(call = kind, %status, %body, "call refused");
                Posted::Refused
            }
            Err(e) => {
                tracing::warn!(call = kind, error = %e, "call not delivered");
                Posted::Refused
            }
        }
    }
}

/// What became of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Posted {
    /// 202 (or 200).
    Accepted,
    /// Refused or not delivered; the reducer's timers retry what matters.
    Refused,
    /// The subscription is gone (403 "Framework is not subscribed", or a 307: that master
    /// lost leadership): subscribe again.
    Lost,
}

/// Where calls of the current subscription go.
#[derive(Clone, Debug)]
pub struct Session {
    /// Counts subscriptions; stale messages carry an old one.
    pub generation: u64,
    /// The master holding the stream.
    pub master: String,
    /// Its stream id.
    pub stream_id: String,
}

/// Input of the call poster.
pub enum ToCaller {
    /// A new subscription (`None`: none; drop calls until the next).
    Session(Option<Session>),
    /// Post this.
    Call(Box<Call>),
}

/// The call poster: posts in order; reports the generation of a lost subscription.
pub async fn run_caller(
    client: MasterClient,
    mut input: mpsc::UnboundedReceiver<ToCaller>,
    lost: mpsc::UnboundedSender<u64>,
) {
    let mut session: Option<Session> = None;
    while let Some(msg) = input.recv().await {
        match msg {
            ToCaller::Session(s) => session = s,
            ToCaller::Call(call) => {
                let Some(s) = &session else { continue };
                if client.post(s, &call).await == Posted::Lost {
                    let _ = lost.send(s.generation);
                    session = None;
                }
            }
        }
    }
}
