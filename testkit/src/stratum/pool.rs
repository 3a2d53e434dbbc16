//! A scripted fake pool for miner tests: it sends jobs, answers the handshake as told, and
//! checks every submitted share's proof of work with [`super::header`], not with the
//! miner's code.

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};

use super::header::{meets_difficulty, sha256d, work};
use super::lines::JsonLines;

/// A job as the fake pool sends it.
#[derive(Clone, Debug)]
pub struct FakeJob {
    /// `job_id`.
    pub id: String,
    /// Coinbase part before the extranonces.
    pub coinb1: Vec<u8>,
    /// Coinbase part after the extranonces.
    pub coinb2: Vec<u8>,
    /// Merkle branch hashes.
    pub branch: Vec<[u8; 32]>,
    /// Block version.
    pub version: u32,
    /// Compact network target.
    pub nbits: u32,
    /// Block time.
    pub ntime: u32,
    /// Previous block hash, internal byte order.
    pub prevhash: [u8; 32],
}

impl FakeJob {
    /// A job whose every field is derived from `seed`.
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

    /// The job's `mining.notify` params.
    pub fn params(&self, clean: bool) -> Value {
        let mut prev = self.prevhash;
        for w in prev.chunks_exact_mut(4) {
            w.reverse();
        }
        json!([
            self.id,
            hex::encode(prev),
            hex::encode(&self.coinb1),
            hex::encode(&self.coinb2),
            self.branch.iter().map(hex::encode).collect::<Vec<_>>(),
            format!("{:08x}", self.version),
            format!("{:08x}", self.nbits),
            format!("{:08x}", self.ntime),
            clean
        ])
    }

    /// The job's `mining.notify` line.
    pub fn notify(&self, clean: bool) -> Value {
        json!({"id": null, "method": "mining.notify", "params": self.params(clean)})
    }

    /// The header hash of a submitted share; `mask` is the version-rolling mask granted.
    pub fn share_hash(&self, en1: &[u8], share: &Submitted, mask: u32) -> [u8; 32] {
        let mut header = work(&self.params(false), en1, &share.extranonce2).header;
        let version = match share.version_bits {
            Some(bits) => (self.version & !mask) | (bits & mask),
            None => self.version,
        };
        header[0..4].copy_from_slice(&version.to_le_bytes());
        header[68..72].copy_from_slice(&share.ntime.to_le_bytes());
        header[76..80].copy_from_slice(&share.nonce.to_le_bytes());
        sha256d(&header)
    }
}

/// A `mining.submit` as received.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Submitted {
    /// `job_id`.
    pub job_id: String,
    /// The extranonce2 bytes.
    pub extranonce2: Vec<u8>,
    /// ntime.
    pub ntime: u32,
    /// nonce.
    pub nonce: u32,
    /// The rolled version bits (BIP310), when sent.
    pub version_bits: Option<u32>,
}

impl Submitted {
    /// Reads submit params; panics on a malformed share (a miner bug to report).
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

/// One connection the fake pool accepted.
pub struct PoolConn<S> {
    lines: JsonLines<S>,
}

impl<S: AsyncRead + AsyncWrite> PoolConn<S> {
    /// The pool's side of `stream`.
    pub fn new(stream: S) -> Self {
        PoolConn {
            lines: JsonLines::new(stream),
        }
    }

    /// The next JSON line from the miner, `None` on EOF.
    pub async fn recv(&mut self) -> Option<Value> {
        self.lines.recv().await
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

    /// Writes `v` as one line.
    pub async fn send(&mut self, v: &Value) {
        self.lines.send(v).await;
    }

    /// Writes text as it is (bad lines, partial lines).
    pub async fn send_raw(&mut self, text: &str) {
        let _ = self.lines.send_raw(text.as_bytes()).await;
    }

    /// A JSON-RPC reply to request `id`.
    pub async fn reply(&mut self, id: &Value, result: Value) {
        self.lines.reply(id, result).await;
    }

    /// `mining.set_difficulty`.
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

    /// Reads until `n` submits arrived, answering each `true` after checking it is valid for
    /// one of `jobs` at `diff` (panics if not). Other requests get `true`. Panics on EOF.
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
            let params = v["params"].as_array().expect("submit params are a list");
            let s = Submitted::parse(params);
            let job = jobs.iter().find(|j| j.id == s.job_id);
            let ok = job.is_some_and(|j| meets_difficulty(&j.share_hash(en1, &s, mask), diff));
            assert!(ok, "invalid share {s:?}");
            self.reply(&id, json!(true)).await;
            got.push(s);
        }
        got
    }
}
