//! A tiny raw Stratum test client: JSON lines over TCP, and the header arithmetic of
//! spec/stratum.md written out again independently of the pool's code.

use std::collections::VecDeque;
use std::time::Duration;

use miner_core::Target;
use miner_core::kernels::sha256d;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

pub const WAIT: Duration = Duration::from_secs(60);

pub struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    next_id: u64,
    /// Notifications received while waiting for replies.
    pub notes: VecDeque<Value>,
    pub extranonce1: Vec<u8>,
    pub extranonce2_size: usize,
}

impl Client {
    pub async fn connect(addr: std::net::SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect to pool");
        let (r, w) = stream.into_split();
        Client {
            reader: BufReader::new(r),
            writer: w,
            next_id: 1,
            notes: VecDeque::new(),
            extranonce1: Vec::new(),
            extranonce2_size: 0,
        }
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(bytes).await
    }

    /// The next line as JSON; `None` when the pool closed the connection.
    pub async fn line(&mut self) -> Option<Value> {
        let mut line = String::new();
        let n = tokio::time::timeout(WAIT, self.reader.read_line(&mut line))
            .await
            .expect("pool answered in time")
            .ok()?;
        if n == 0 {
            return None;
        }
        Some(serde_json::from_str(&line).expect("pool sends JSON lines"))
    }

    /// Sends a request and returns its reply (by id), queueing notifications.
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let line = json!({"id": id, "method": method, "params": params}).to_string() + "\n";
        self.writer.write_all(line.as_bytes()).await.expect("write");
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
        self.extranonce1 = hex::decode(result[1].as_str().expect("en1")).expect("hex en1");
        self.extranonce2_size = result[2].as_u64().expect("en2 size") as usize;
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

fn be_u32(v: &Value) -> u32 {
    u32::from_str_radix(v.as_str().expect("hex"), 16).expect("u32")
}

/// A header built from notify params (Part A.1 "mining.notify", "Merkle root", "Header").
pub struct Work {
    pub header: [u8; 80],
    pub coinbase: Vec<u8>,
    pub ntime: u32,
}

pub fn work(params: &Value, en1: &[u8], en2: &[u8]) -> Work {
    let mut prev: [u8; 32] = hex::decode(params[1].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    for word in prev.chunks_mut(4) {
        word.reverse();
    }
    let mut coinbase = hex::decode(params[2].as_str().unwrap()).unwrap();
    coinbase.extend_from_slice(en1);
    coinbase.extend_from_slice(en2);
    coinbase.extend(hex::decode(params[3].as_str().unwrap()).unwrap());
    let mut root = sha256d(&coinbase);
    for b in params[4].as_array().unwrap() {
        let mut buf = root.to_vec();
        buf.extend(hex::decode(b.as_str().unwrap()).unwrap());
        root = sha256d(&buf);
    }
    let ntime = be_u32(&params[7]);
    let mut header = [0u8; 80];
    header[0..4].copy_from_slice(&be_u32(&params[5]).to_le_bytes());
    header[4..36].copy_from_slice(&prev);
    header[36..68].copy_from_slice(&root);
    header[68..72].copy_from_slice(&ntime.to_le_bytes());
    header[72..76].copy_from_slice(&be_u32(&params[6]).to_le_bytes());
    Work {
        header,
        coinbase,
        ntime,
    }
}

/// The first nonce whose header hash does (`want = true`) or does not meet the notify's
/// network target; with the header and its hash (internal order).
pub fn find_nonce(params: &Value, w: &Work, want: bool) -> (u32, [u8; 32]) {
    let target = Target::from_compact(be_u32(&params[6])).unwrap();
    let mut header = w.header;
    for nonce in 0u32.. {
        header[76..80].copy_from_slice(&nonce.to_le_bytes());
        let hash = sha256d(&header);
        if target.is_met_by(&hash) == want {
            return (nonce, hash);
        }
    }
    unreachable!("some nonce qualifies")
}

pub fn display(hash: [u8; 32]) -> String {
    let mut h = hash;
    h.reverse();
    hex::encode(h)
}

/// mining.submit params for a share.
pub fn submit_params(worker: &str, params: &Value, en2: &[u8], ntime: u32, nonce: u32) -> Value {
    json!([
        worker,
        params[0],
        hex::encode(en2),
        format!("{ntime:08x}"),
        format!("{nonce:08x}")
    ])
}

/// The first nonce from 0 whose header hash meets `target`.
pub fn nonce_meeting(header: &[u8; 80], target: &Target) -> (u32, [u8; 32]) {
    let mut header = *header;
    for nonce in 0u32.. {
        header[76..80].copy_from_slice(&nonce.to_le_bytes());
        let hash = sha256d(&header);
        if target.is_met_by(&hash) {
            return (nonce, hash);
        }
    }
    unreachable!("some nonce qualifies")
}

/// The hash of `header` with `nonce`.
pub fn hash_with(header: &[u8; 80], nonce: u32) -> [u8; 32] {
    let mut header = *header;
    header[76..80].copy_from_slice(&nonce.to_le_bytes());
    sha256d(&header)
}
