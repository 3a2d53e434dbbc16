//! A raw Stratum client, as a miner speaks to a pool: requests matched to replies by id,
//! notifications kept for later, and `mining.submit` params from plain values.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpStream;

use super::lines::JsonLines;

/// How long the client waits for a line from the pool.
pub const WAIT: Duration = Duration::from_secs(60);

/// One client connection to a pool.
pub struct Client {
    lines: JsonLines<TcpStream>,
    next_id: u64,
    /// Notifications received while waiting for replies.
    pub notes: VecDeque<Value>,
    /// Granted by `mining.subscribe` (after [`Client::handshake`]).
    pub extranonce1: Vec<u8>,
    /// Granted by `mining.subscribe` (after [`Client::handshake`]).
    pub extranonce2_size: usize,
}

impl Client {
    /// Connects to `addr`; panics if that fails.
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect to pool");
        Client {
            lines: JsonLines::with_patience(stream, WAIT),
            next_id: 1,
            notes: VecDeque::new(),
            extranonce1: Vec::new(),
            extranonce2_size: 0,
        }
    }

    /// Writes bytes as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.lines.send_raw(bytes).await
    }

    /// The next line as JSON; `None` when the pool closed the connection.
    pub async fn line(&mut self) -> Option<Value> {
        self.lines.recv().await
    }

    /// Sends a request and returns its reply (by id), queueing notifications.
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let line = json!({"id": id, "method": method, "params": params}).to_string() + "\n";
        self.send_raw(line.as_bytes()).await.expect("write");
        loop {
            let msg = self.line().await.expect("connection open");
            if msg["id"] == json!(id) {
                return msg;
            }
            self.notes.push_back(msg);
        }
    }

    /// subscribe + authorize; returns the first job's notify params.
    pub async fn handshake(&mut self, worker: &str) -> Value {
        let reply = self
            .request("mining.subscribe", json!(["test-client/1"]))
            .await;
        let result = &reply["result"];
        let en1 = result[1].as_str().expect("extranonce1 in the reply");
        self.extranonce1 = hex::decode(en1).expect("hex extranonce1");
        let size = result[2].as_u64().expect("extranonce2 size in the reply");
        self.extranonce2_size = usize::try_from(size).expect("a small extranonce2 size");
        let auth = self.request("mining.authorize", json!([worker, "x"])).await;
        assert_eq!(auth["result"], json!(true), "{auth}");
        self.next_notify(|_| true).await
    }

    /// The next mining.notify whose params satisfy `pred`.
    pub async fn next_notify(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let msg = match self.notes.pop_front() {
                Some(m) => m,
                None => self.line().await.expect("connection open"),
            };
            if msg["method"] == "mining.notify" && pred(&msg["params"]) {
                return msg["params"].clone();
            }
        }
    }
}

/// `mining.submit` params for a share of the job in `params`.
pub fn submit_params(worker: &str, params: &Value, en2: &[u8], ntime: u32, nonce: u32) -> Value {
    json!([
        worker,
        params[0],
        hex::encode(en2),
        format!("{ntime:08x}"),
        format!("{nonce:08x}")
    ])
}
