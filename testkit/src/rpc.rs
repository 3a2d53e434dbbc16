//! A minimal bitcoind JSON-RPC client for the harness: one `call`, HTTP Basic auth. The
//! pool's own client (`pool::rpc`) is the code under test; this one only drives the nodes.

use std::time::Duration;

use serde_json::{Value, json};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// No answer (node not up yet, connection refused or reset, timeout).
    #[error("bitcoind transport error: {0}")]
    Transport(#[from] reqwest::Error),
    /// The node answered with a JSON-RPC error.
    #[error("bitcoind RPC error {code}: {message}")]
    Rpc {
        /// The JSON-RPC error code (e.g. -8 invalid parameter).
        code: i64,
        /// The node's error text.
        message: String,
    },
    /// The answer was not JSON-RPC.
    #[error("bad reply from bitcoind (HTTP {status}): {body}")]
    BadReply {
        /// HTTP status of the reply.
        status: u16,
        /// The reply body as text.
        body: String,
    },
}

/// A JSON-RPC client of one node.
#[derive(Clone, Debug)]
pub struct Rpc {
    http: reqwest::Client,
    url: String,
    user: String,
    password: String,
}

impl Rpc {
    /// A client of `url` with `user` / `password`; each call times out after `timeout`.
    pub fn new(url: &str, user: &str, password: &str, timeout: Duration) -> Result<Rpc, RpcError> {
        let http = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(Rpc {
            http,
            url: url.into(),
            user: user.into(),
            password: password.into(),
        })
    }

    /// Calls `method` with positional `params`; returns `result`.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let body = json!({"jsonrpc": "1.0", "id": "testkit", "method": method, "params": params});
        let resp = self
            .http
            .post(&self.url)
            .basic_auth(&self.user, Some(&self.password))
            .json(&body)
            .send()
            .await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        let reply: Value = serde_json::from_str(&text).map_err(|_| RpcError::BadReply {
            status,
            body: text.chars().take(200).collect(),
        })?;
        match reply.get("error").filter(|e| !e.is_null()) {
            Some(e) => Err(RpcError::Rpc {
                code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .into(),
            }),
            None => Ok(reply.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// `getblockcount`.
    pub async fn block_count(&self) -> Result<u64, RpcError> {
        let v = self.call("getblockcount", json!([])).await?;
        v.as_u64().ok_or_else(|| RpcError::BadReply {
            status: 200,
            body: v.to_string(),
        })
    }

    /// `getbestblockhash`.
    pub async fn best_block_hash(&self) -> Result<String, RpcError> {
        let v = self.call("getbestblockhash", json!([])).await?;
        v.as_str()
            .map(String::from)
            .ok_or_else(|| RpcError::BadReply {
                status: 200,
                body: v.to_string(),
            })
    }

    /// `getnewaddress` of the node's wallet.
    pub async fn new_address(&self) -> Result<String, RpcError> {
        let v = self.call("getnewaddress", json!([])).await?;
        v.as_str()
            .map(String::from)
            .ok_or_else(|| RpcError::BadReply {
                status: 200,
                body: v.to_string(),
            })
    }
}
