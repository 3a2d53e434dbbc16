//! A scripted fake Stratum pool on 127.0.0.1 for the worker tests: it speaks raw JSON lines,
//! checks every submitted share's proof of work on its own, and records what it got.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use miner_core::kernels::{Portable, sha256d};
use miner_core::target::{Difficulty, Target};
use miner_core::worker::{self, PoolUrl, RetryPolicy, Stopped, WorkerConfig};
use miner_core::{Miner, worker::api::SharedStatus};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a test waits for any single expected thing before failing.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A low difficulty so a CPU thread finds shares many times a second.
pub const EASY: f64 = 0.0002;

/// A job as the fake pool sends it.
#[derive(Clone, Debug)]
pub struct FakeJob {
    pub id: String,
    pub coinb1: Vec<u8>,
    pub coinb2: Vec<u8>,
    pub branch: Vec<[u8; 32]>,
    pub version: u32,
    pub nbits: u32,
    pub ntime: u32,
    pub prevhash: [u8; 32],
}

impl FakeJob {
    pub fn new(id: &str, seed: u8) -> Self {
        FakeJob {
            id: id.to_owned(),
            coinb1: vec![0x01, 0x00, 0x00, 0x00, seed, 0x11, 0x22],
            coinb2: vec![0xff, 0xff, 0xff, 0xff, seed, 0x00, 0x00, 0x00, 0x00],
            branch: vec![[seed; 32]],
            version: 0x2000_0000,
            nbits: 0x1d00_ffff,
            ntime: 0x6500_0000 + u32::from(seed),
            prevhash: [seed ^ 0x5a; 32],
        }
    }

    pub fn notify(&self, clean: bool) -> Value {
        let mut prev = self.prevhash;
        for w in prev.chunks_exact_mut(4) {
            w.reverse();
        }
        json!({"id": null, "method": "mining.notify", "params": [
            self.id, hex::encode(prev), hex::encode(&self.coinb1), hex::encode(&self.coinb2),
            self.branch.iter().map(hex::encode).collect::<Vec<_>>(),
            format!("{:08x}", self.version), format!("{:08x}", self.nbits),
            format!("{:08x}", self.ntime), clean]})
    }

    /// The header hash of a submitted share, rebuilt here independently of the miner.
    pub fn share_hash(&self, en1: &[u8], p: &Submitted, mask: u32) -> [u8; 32] {
        let mut coinbase = self.coinb1.clone();
        coinbase.extend_from_slice(en1);
        coinbase.extend_from_slice(&p.extranonce2);
        coinbase.extend_from_slice(&self.coinb2);
        let mut root = sha256d(&coinbase);
        for b in &self.branch {
            root = sha256d(&[root.as_slice(), b.as_slice()].concat());
        }
        let version = match p.version_bits {
            Some(bits) => (self.version & !mask) | (bits & mask),
            None => self.version,
        };
        let mut h = Vec::with_capacity(80);
        h.extend_from_slice(&version.to_le_bytes());
        h.extend_from_slice(&self.prevhash);
        h.extend_from_slice(&root);
        h.extend_from_slice(&p.ntime.to_le_bytes());
        h.extend_from_slice(&self.nbits.to_le_bytes());
        h.extend_from_slice(&p.nonce.to_le_bytes());
        sha256d(&h)
    }
}

/// A `mining.submit` as received.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Submitted {
    pub job_id: String,
    pub extranonce2: Vec<u8>,
    pub ntime: u32,
    pub nonce: u32,
    pub version_bits: Option<u32>,
}

impl Submitted {
    pub fn parse(params: &[Value]) -> Submitted {
        let s = |i: usize| {
            params[i]
                .as_str()
                .expect("submit param is a string")
                .to_owned()
        };
        let u = |i: usize| u32::from_str_radix(&s(i), 16).expect("hex u32");
        Submitted {
            job_id: s(1),
            extranonce2: hex::decode(s(2)).expect("hex extranonce2"),
            ntime: u(3),
            nonce: u(4),
            version_bits: params.get(5).map(|_| u(5)),
        }
    }
}

/// True when `hash` meets difficulty `diff`.
pub fn meets(hash: &[u8; 32], diff: f64) -> bool {
    Target::from_difficulty(Difficulty::new(diff).unwrap()).is_met_by(hash)
}

/// One accepted connection, read and written line by line.
pub struct PoolConn<S> {
    lines: tokio::io::Lines<BufReader<tokio::io::ReadHalf<S>>>,
    writer: tokio::io::WriteHalf<S>,
}

impl<S: AsyncRead + AsyncWrite> PoolConn<S> {
    pub fn new(stream: S) -> Self {
        let (r, writer) = tokio::io::split(stream);
        PoolConn {
            lines: BufReader::new(r).lines(),
            writer,
        }
    }

    /// The next JSON line from the miner, `None` on EOF.
    pub async fn recv(&mut self) -> Option<Value> {
        let line = tokio::time::timeout(PATIENCE, self.lines.next_line())
            .await
            .expect("miner said nothing in time")
            .ok()??;
        Some(serde_json::from_str(&line).expect("miner sent valid JSON"))
    }

    /// The next request, which must be `method`: (id, params).
    pub async fn expect(&mut self, method: &str) -> (Value, Vec<Value>) {
        let v = self.recv().await.expect("connection open");
        assert_eq!(v["method"], method, "unexpected message {v}");
        (
            v["id"].clone(),
            v["params"].as_array().cloned().unwrap_or_default(),
        )
    }

    pub async fn send(&mut self, v: &Value) {
        self.send_raw(&format!("{v}\n")).await;
    }

    pub async fn send_raw(&mut self, text: &str) {
        let _ = self.writer.write_all(text.as_bytes()).await;
    }

    pub async fn reply(&mut self, id: &Value, result: Value) {
        self.send(&json!({"id": id, "result": result, "error": null}))
            .await;
    }

    pub async fn difficulty(&mut self, diff: f64) {
        self.send(&json!({"id": null, "method": "mining.set_difficulty", "params": [diff]}))
            .await;
    }

    /// Answers requests until `mining.authorize`; `configure` says what to do with a
    /// `mining.configure` (Some(mask) = accept, None = refuse). Returns the subscribe params.
    pub async fn handshake(
        &mut self,
        session_id: &str,
        en1: &[u8],
        configure: Option<u32>,
    ) -> Vec<Value> {
        let mut subscribe = Vec::new();
        loop {
            let v = self.recv().await.expect("handshake: connection open");
            let id = v["id"].clone();
            let params = v["params"].as_array().cloned().unwrap_or_default();
            match v["method"].as_str().unwrap_or_default() {
                "mining.configure" => {
                    let result = match configure {
                        Some(mask) => json!({"version-rolling": true,
                            "version-rolling.mask": format!("{mask:08x}")}),
                        None => json!({"version-rolling": false}),
                    };
                    self.reply(&id, result).await;
                }
                "mining.subscribe" => {
                    subscribe = params;
                    let result = json!([[["mining.notify", session_id]], hex::encode(en1), 4]);
                    self.reply(&id, result).await;
                }
                "mining.extranonce.subscribe" | "mining.suggest_difficulty" => {
                    self.reply(&id, json!(true)).await;
                }
                "mining.authorize" => {
                    self.reply(&id, json!(true)).await;
                    return subscribe;
                }
                other => panic!("unexpected {other} in handshake"),
            }
        }
    }

    /// Reads until `n` submits arrived, answering each (true if valid for `jobs` at `diff`).
    /// Other requests get `true`. Returns the submits; panics on EOF.
    pub async fn collect(
        &mut self,
        n: usize,
        jobs: &[&FakeJob],
        en1: &[u8],
        diff: f64,
        mask: u32,
    ) -> Vec<Submitted> {
        let mut got = Vec::new();
        while got.len() < n {
            let v = self.recv().await.expect("connection open while collecting");
            let id = v["id"].clone();
            if v["method"] != "mining.submit" {
                self.reply(&id, json!(true)).await;
                continue;
            }
            let s = Submitted::parse(v["params"].as_array().unwrap());
            let job = jobs.iter().find(|j| j.id == s.job_id);
            let ok = job.is_some_and(|j| meets(&j.share_hash(en1, &s, mask), diff));
            assert!(ok, "invalid share {s:?}");
            self.reply(&id, json!(true)).await;
            got.push(s);
        }
        got
    }
}

/// A worker running against `urls` in this runtime, stopped by [`Running::stop`].
pub struct Running {
    pub status: SharedStatus,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Stopped>,
}

impl Running {
    /// Waits for the worker to end by itself.
    pub async fn wait(self) -> Stopped {
        // Dropping the sender would be a shutdown: keep it until the worker ends.
        let Running { stop, task, .. } = self;
        let stopped = task.await.expect("worker task did not panic");
        drop(stop);
        stopped
    }

    pub async fn stop(mut self) -> Stopped {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("worker stops in time")
            .expect("worker task did not panic")
    }
}

/// Test defaults: quick retries, short failback, two portable threads.
pub fn config(urls: &[String]) -> WorkerConfig {
    let pools = urls.iter().map(|u| PoolUrl::parse(u).unwrap()).collect();
    let mut c = WorkerConfig::new(pools, "tester.1", "x");
    c.retry = RetryPolicy {
        retries: None,
        max_pause: Duration::from_millis(200),
        first_pause: Duration::from_millis(50),
    };
    c.timeout = Duration::from_secs(20);
    c.failback_interval = Duration::from_millis(300);
    c
}

pub fn start(config: WorkerConfig) -> Running {
    let miner = Arc::new(Miner::new(2, &Portable).unwrap());
    let status = worker::shared_status("portable", 2);
    let (tx, rx) = oneshot::channel::<()>();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let cancel = shutdown.clone();
    tokio::spawn(async move {
        let _ = rx.await;
        cancel.cancel();
    });
    let task = tokio::spawn(worker::run(config, miner, status.clone(), shutdown));
    Running {
        status,
        stop: Some(tx),
        task,
    }
}
