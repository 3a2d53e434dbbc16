//! bitcoind JSON-RPC client over reqwest: getblocktemplate (plain and long-poll), submitblock
//! and the few reads the pool and its tests need.
//!
//! Errors are grouped by what the caller should do next ([`RpcError::is_retryable`]): a
//! transport failure or a node that is not ready (−9 "not connected", −10 "downloading
//! blocks", spec/stratum.md Part B.4) is retried; bad credentials are fatal.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::template::BlockTemplate;

/// Largest reply body we accept (a template of a full 128 MB BSV block is hex → 256 MB; we
/// stay far below and refuse more rather than exhaust memory).
pub const MAX_REPLY_BYTES: usize = 64 * 1024 * 1024;

/// RPC error code: the node has no peer (BSV regtest needs one for getblocktemplate).
pub const RPC_CLIENT_NOT_CONNECTED: i64 = -9;
/// RPC error code: initial block download (a brand-new regtest chain until one block exists).
pub const RPC_CLIENT_IN_INITIAL_DOWNLOAD: i64 = -10;
/// RPC error code: the warm-up phase after start ("Loading block index...").
pub const RPC_IN_WARMUP: i64 = -28;

/// How the pool proves itself to bitcoind.
#[derive(Clone)]
pub enum RpcAuth {
    /// `rpcuser`/`rpcpassword`; the password comes from a file or the environment, never argv.
    UserPass {
        /// `rpcuser`.
        user: String,
        /// `rpcpassword`.
        password: String,
    },
    /// The node's `.cookie` file (`__cookie__:<hex>`), read again on every call because the
    /// node rewrites it when it restarts.
    Cookie(PathBuf),
}

impl std::fmt::Debug for RpcAuth {
    // The secret must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RpcAuth::UserPass { user, .. } => write!(f, "UserPass({user}, <redacted>)"),
            RpcAuth::Cookie(path) => write!(f, "Cookie({})", path.display()),
        }
    }
}

/// Why a call failed, grouped by the reaction it needs.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// Connection refused, reset, timed out: retry later.
    #[error("bitcoind transport error: {0}")]
    Transport(String),
    /// 401/403: wrong user, password or cookie. Retrying will not help.
    #[error("bitcoind rejected the RPC credentials (HTTP {0})")]
    Auth(u16),
    /// The node answered with a JSON-RPC error.
    #[error("bitcoind RPC error {code}: {message}")]
    Rpc {
        /// The JSON-RPC error code (e.g. -28 warming up).
        code: i64,
        /// The node's error text.
        message: String,
    },
    /// The reply was not the JSON-RPC we expect (or too large).
    #[error("bad reply from bitcoind: {0}")]
    BadReply(String),
    /// The cookie file could not be read.
    #[error("cannot read RPC cookie file {path}: {source}")]
    Cookie {
        /// The cookie file's path.
        path: PathBuf,
        /// The read error.
        source: std::io::Error,
    },
}

impl RpcError {
    /// True when the same call may succeed later without a change of configuration.
    pub fn is_retryable(&self) -> bool {
        match self {
            RpcError::Transport(_) | RpcError::Cookie { .. } => true,
            RpcError::Rpc { code, .. } => matches!(
                *code,
                RPC_CLIENT_NOT_CONNECTED | RPC_CLIENT_IN_INITIAL_DOWNLOAD | RPC_IN_WARMUP
            ),
            RpcError::Auth(_) | RpcError::BadReply(_) => false,
        }
    }
}

/// What `getblockchaininfo` says about the chain (only the fields we use).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ChainInfo {
    /// "main", "test", "regtest" (or "signet" on Bitcoin Core).
    pub chain: String,
    /// Height of the node's best validated block.
    pub blocks: u64,
    /// Display-order hash of that block.
    pub bestblockhash: String,
}

/// A JSON-RPC 1.0 client for one node.
pub struct RpcClient {
    http: reqwest::Client,
    url: String,
    auth: RpcAuth,
    next_id: AtomicU64,
    timeout: Duration,
}

impl RpcClient {
    /// `url` like `http://127.0.0.1:18332/`. `timeout` bounds each ordinary call; long-poll
    /// calls get their own bound.
    pub fn new(url: &str, auth: RpcAuth, timeout: Duration) -> Result<Self, RpcError> {
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| RpcError::Transport(e.to_string()))?;
        Ok(RpcClient {
            http,
            url: url.to_string(),
            auth,
            next_id: AtomicU64::new(1),
            timeout,
        })
    }

    /// The node's URL for a log line: without user and password, if the URL had any.
    pub fn url_for_logs(&self) -> String {
        url_for_logs(&self.url)
    }

    /// Calls `method` with `params` and decodes the `result`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<T, RpcError> {
        self.call_with_timeout(method, params, self.timeout).await
    }

    async fn call_with_timeout<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<T, RpcError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "1.0", "id": id, "method": method, "params": params});
        let (user, password) = self.credentials()?;
        let reply = self
            .http
            .post(&self.url)
            .basic_auth(user, Some(password))
            .timeout(timeout)
            .json(&body)
            .send()
            .await
            .map_err(transport)?;
        let status = reply.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(RpcError::Auth(status.as_u16()));
        }
        // bitcoind answers RPC errors with HTTP 500/404 and a JSON body, so parse any status.
        // The body may be chunked (Part B.4); reqwest reassembles it.
        let bytes = read_bounded(reply).await?;
        decode_reply(&bytes, status.as_u16())
    }

    fn credentials(&self) -> Result<(String, String), RpcError> {
        match &self.auth {
            RpcAuth::UserPass { user, password } => Ok((user.clone(), password.clone())),
            RpcAuth::Cookie(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| RpcError::Cookie {
                    path: path.clone(),
                    source,
                })?;
                let (user, pass) = text.trim().split_once(':').ok_or_else(|| {
                    RpcError::BadReply(format!("cookie file {} has no ':'", path.display()))
                })?;
                Ok((user.to_string(), pass.to_string()))
            }
        }
    }

    /// `getblocktemplate`. With `longpollid`, the node holds the call until the template
    /// changes (BIP22 long polling); `wait` bounds how long we wait for that.
    pub async fn get_block_template(
        &self,
        longpollid: Option<&str>,
        wait: Duration,
    ) -> Result<BlockTemplate, RpcError> {
        // Bitcoin Core requires the segwit rule; the BSV node ignores it (Part B.4).
        let mut request = json!({"rules": ["segwit"], "capabilities": ["longpoll"]});
        match longpollid {
            Some(id) => {
                request["longpollid"] = json!(id);
                self.call_with_timeout("getblocktemplate", json!([request]), wait)
                    .await
            }
            None => self.call("getblocktemplate", json!([request])).await,
        }
    }

    /// `submitblock`: `Ok(None)` when the node accepted the block, `Ok(Some(reason))` when it
    /// answered with a rejection string such as `duplicate` or `high-hash`.
    pub async fn submit_block(&self, block_hex: &str) -> Result<Option<String>, RpcError> {
        self.call("submitblock", json!([block_hex])).await
    }

    /// `getblockcount`: the height of the node's tip.
    pub async fn get_block_count(&self) -> Result<u64, RpcError> {
        self.call("getblockcount", json!([])).await
    }

    /// `getbestblockhash`: the tip's hash, display order.
    pub async fn get_best_block_hash(&self) -> Result<String, RpcError> {
        self.call("getbestblockhash", json!([])).await
    }

    /// `getblockchaininfo`: the chain name, height and tip.
    pub async fn get_blockchain_info(&self) -> Result<ChainInfo, RpcError> {
        self.call("getblockchaininfo", json!([])).await
    }
}

/// `url` without its user and password (a URL may carry them; they must not reach a log).
pub fn url_for_logs(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "(not a URL)".to_string(),
    }
}

/// A transport error with its causes, down to the OS error ("Connection refused (os error
/// 111)"), which reqwest's own message leaves out; the URL is left out (it is logged apart,
/// without credentials).
fn transport(e: reqwest::Error) -> RpcError {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    RpcError::Transport(text)
}

async fn read_bounded(mut reply: reqwest::Response) -> Result<Vec<u8>, RpcError> {
    let mut body = Vec::new();
    while let Some(chunk) = reply.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_REPLY_BYTES {
            return Err(RpcError::BadReply(format!(
                "reply larger than {MAX_REPLY_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Decodes a JSON-RPC 1.0 reply body: `{"result": .., "error": null|{code,message}, "id": ..}`.
pub fn decode_reply<T: DeserializeOwned>(body: &[u8], http_status: u16) -> Result<T, RpcError> {
    #[derive(serde::Deserialize)]
    struct Reply {
        #[serde(default)]
        result: Value,
        #[serde(default)]
        error: Option<ErrorObj>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorObj {
        code: i64,
        #[serde(default)]
        message: String,
    }
    let reply: Reply = serde_json::from_slice(body).map_err(|e| {
        RpcError::BadReply(format!("HTTP {http_status}, body is not JSON-RPC ({e})"))
    })?;
    if let Some(err) = reply.error {
        return Err(RpcError::Rpc {
            code: err.code,
            message: err.message,
        });
    }
    serde_json::from_value(reply.result)
        .map_err(|e| RpcError::BadReply(format!("unexpected result shape: {e}")))
}

#[cfg(test)]
#[path = "rpc_tests.rs"]
mod http_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_results_and_errors() {
        let ok: u64 = decode_reply(br#"{"result":105,"error":null,"id":1}"#, 200).unwrap();
        assert_eq!(ok, 105);
        let accepted: Option<String> =
            decode_reply(br#"{"result":null,"error":null,"id":1}"#, 200).unwrap();
        assert_eq!(accepted, None);
        let dup: Option<String> =
            decode_reply(br#"{"result":"duplicate","error":null,"id":1}"#, 200).unwrap();
        assert_eq!(dup.as_deref(), Some("duplicate"));
        let err = decode_reply::<Value>(
            br#"{"result":null,"error":{"code":-10,"message":"Bitcoin is downloading blocks..."},"id":1}"#,
            500,
        )
        .unwrap_err();
        assert!(matches!(err, RpcError::Rpc { code: -10, .. }));
        assert!(err.is_retryable());
        let err = decode_reply::<Value>(
            br#"{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":1}"#,
            404,
        )
        .unwrap_err();
        assert!(!err.is_retryable());
        assert!(matches!(
            decode_reply::<Value>(b"<html>", 500),
            Err(RpcError::BadReply(_))
        ));
        assert!(matches!(
            decode_reply::<u64>(br#"{"result":"x","error":null}"#, 200),
            Err(RpcError::BadReply(_))
        ));
    }

    #[test]
    fn classification() {
        assert!(RpcError::Transport("refused".into()).is_retryable());
        assert!(!RpcError::Auth(401).is_retryable());
        let not_connected = RpcError::Rpc {
            code: -9,
            message: "Bitcoin is not connected!".into(),
        };
        assert!(not_connected.is_retryable());
    }

    #[test]
    fn auth_debug_hides_password() {
        let auth = RpcAuth::UserPass {
            user: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{auth:?}").contains("hunter2"));
    }
}
