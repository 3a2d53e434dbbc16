//! Dialling a pool (TCP, optionally TLS) and probing whether a pool answers, for failback.

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use stratum::envelope::{Id, Message};
use stratum::methods::Subscribe;
use stratum::{LineCodec, Method};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::tls::{self, TlsError};
use super::url::PoolUrl;

/// A byte stream to a pool, plain or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A connection to a pool.
pub type Stream = Box<dyn Io>;

/// Why a pool could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// TCP connect plus TLS handshake did not finish in time (the URL is given).
    #[error("connecting to {0}: timed out")]
    Timeout(String),
    /// The TCP connection failed (name resolution, refused, reset).
    #[error("connecting to {url}: {source}")]
    Io {
        /// The pool URL.
        url: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// The TLS handshake or setup failed.
    #[error("{url}: {source}")]
    Tls {
        /// The pool URL.
        url: String,
        /// What TLS objected to.
        source: TlsError,
    },
    /// A `stratum+ssl://` URL with no [`WorkerConfig::tls`](super::WorkerConfig::tls) set.
    #[error("{0} is a TLS pool but no TLS configuration was given")]
    NoTlsConfig(String),
}

/// Opens a connection to `url` within `timeout` (TCP connect plus the TLS handshake).
pub async fn dial(
    url: &PoolUrl,
    tls_config: Option<&Arc<ClientConfig>>,
    timeout: Duration,
) -> Result<Stream, ConnectError> {
    let shown = url.to_string();
    let attempt = async {
        let tcp = TcpStream::connect(url.authority())
            .await
            .map_err(|source| ConnectError::Io {
                url: shown.clone(),
                source,
            })?;
        // Shares are small and latency matters more than packet count.
        let _ = tcp.set_nodelay(true);
        if !url.tls {
            return Ok(Box::new(tcp) as Stream);
        }
        let config = tls_config.ok_or_else(|| ConnectError::NoTlsConfig(shown.clone()))?;
        let stream = tls::connect(config.clone(), &url.host, tcp)
            .await
            .map_err(|source| ConnectError::Tls {
                url: shown.clone(),
                source,
            })?;
        Ok(Box::new(stream) as Stream)
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .map_err(|_| ConnectError::Timeout(shown.clone()))?
}

/// True when `url` accepts a connection and answers a plain `mining.subscribe` with a
/// result (not an error) within `timeout`. Only a subscribe is sent: a pool that closes
/// connections on `mining.configure` still passes.
pub async fn probe(
    url: &PoolUrl,
    tls_config: Option<&Arc<ClientConfig>>,
    timeout: Duration,
    user_agent: &str,
) -> bool {
    let attempt = async {
        let Ok(mut stream) = dial(url, tls_config, timeout).await else {
            return false;
        };
        let subscribe = Subscribe {
            user_agent: Some(user_agent.to_owned()),
            session_id: None,
        };
        let line = Message::from(subscribe.to_request(Id::Num(1))).to_line();
        if stream.write_all(line.as_bytes()).await.is_err() {
            return false;
        }
        let mut codec = LineCodec::default();
        let mut buf = vec![0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => codec.feed(&buf[..n]),
            }
            while let Some(line) = codec.next_line() {
                if let Ok(Ok(Message::Response(r))) = line.as_deref().map(Message::parse)
                    && r.id == Some(Id::Num(1))
                {
                    return r.error.is_none() && !r.result.is_null();
                }
            }
        }
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or(false)
}
