//! Scripted exchanges with the server session: raw miner lines in, lines and events out.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{Value, json};

use super::*;

mod difficulty;
use crate::envelope::ErrorCode;
use crate::methods::server::Notify;
use crate::wire::PrevHash;

/// A pool stand-in: extranonce1 = counter, resumes known ids, password "x", and a share
/// "meets the target" when its nonce is below 0x8000_0000.
#[derive(Default)]
pub(super) struct FakePool {
    next: u32,
    known: HashMap<String, Extranonce1>,
    pub(super) checked: Vec<ShareCheck>,
}

impl ServerHooks for FakePool {
    fn subscribe(
        &mut self,
        resume: Option<&str>,
        _: Option<&str>,
    ) -> Result<SubscribeGrant, RpcError> {
        if let Some((sid, en1)) = resume.and_then(|r| self.known.get_key_value(r)) {
            return Ok(SubscribeGrant {
                extranonce1: en1.clone(),
                session_id: sid.clone(),
            });
        }
        self.next += 1;
        let extranonce1 = Extranonce1::from_bytes(self.next.to_be_bytes().to_vec()).unwrap();
        let session_id = format!("s{}", self.next);
        self.known.insert(session_id.clone(), extranonce1.clone());
        Ok(SubscribeGrant {
            extranonce1,
            session_id,
        })
    }

    fn authorize(&mut self, _: &str, password: &str) -> bool {
        password == "x"
    }

    fn check_share(&mut self, share: &ShareCheck) -> Result<(), RpcError> {
        self.checked.push(share.clone());
        if share.nonce < 0x8000_0000 {
            Ok(())
        } else {
            Err(RpcError::new(
                ErrorCode::LowDifficulty,
                "Low difficulty share",
            ))
        }
    }
}

pub(super) fn job(id: &str, clean: bool) -> Notify {
    Notify {
        job_id: JobId::new(id).unwrap(),
        prevhash: PrevHash::from_internal([7; 32]),
        coinb1: vec![1, 2],
        coinb2: vec![3],
        merkle_branch: vec![[9; 32]],
        version: 0x2000_0000,
        nbits: 0x1703_a30c,
        ntime: 1_000_000,
        clean_jobs: clean,
    }
}

pub(super) fn sent(s: &mut ServerSession) -> Vec<Value> {
    std::iter::from_fn(|| s.poll_transmit())
        .map(|l| serde_json::from_str(&l).unwrap())
        .collect()
}

pub(super) fn events(s: &mut ServerSession) -> Vec<ServerEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

pub(super) fn fixed() -> ServerConfig {
    ServerConfig {
        vardiff: None,
        extranonce2_size: 4,
        ..ServerConfig::default()
    }
}

pub(super) fn submit_line(
    id: u64,
    worker: &str,
    job: &str,
    en2: &str,
    ntime: u32,
    nonce: u32,
    vbits: Option<u32>,
) -> String {
    let mut p = vec![
        json!(worker),
        json!(job),
        json!(en2),
        json!(format!("{ntime:08x}")),
        json!(format!("{nonce:08x}")),
    ];
    if let Some(v) = vbits {
        p.push(json!(format!("{v:08x}")));
    }
    json!({"id": id, "method": "mining.submit", "params": p}).to_string()
}

/// Subscribed + authorized as "w1" with job "j1" sent; output drained.
pub(super) fn ready(cfg: ServerConfig, t: Instant, pool: &mut FakePool) -> ServerSession {
    let mut s = ServerSession::new(cfg, t);
    s.handle_line(
        r#"{"id":1,"method":"mining.subscribe","params":["test/1"]}"#,
        t,
        pool,
    );
    s.handle_line(
        r#"{"id":2,"method":"mining.authorize","params":["w1","x"]}"#,
        t,
        pool,
    );
    s.send_job(&job("j1", true), t);
    sent(&mut s);
    events(&mut s);
    s
}

#[test]
fn handshake_then_difficulty_before_first_job() {
    let t = Instant::now();
    let mut pool = FakePool::default();
    let mut s = ServerSession::new(fixed(), t);
    s.send_job(&job("j1", false), t); // kept until subscribed and authorized
    assert_eq!(sent(&mut s), Vec::<Value>::new());
    s.handle_line(
        r#"{"id":1,"method":"mining.subscribe","params":["test/1"]}"#,
        t,
        &mut pool,
    );
    assert_eq!(
        sent(&mut s),
        vec![
            json!({"id":1,"result":[[["mining.set_difficulty","s1"],["mining.notify","s1"]],"00000001",4],"error":null})
        ]
    );
    s.handle_line(
        r#"{"id":2,"method":"mining.authorize","params":["w1","x"]}"#,
        t,
        &mut pool,
    );
    let out = sent(&mut s);
    assert_eq!(out[0], json!({"id":2,"result":true,"error":null}));
    assert_eq!(
        out[1],
        json!({"id":null,"method":"mining.set_difficulty","params":[0.01]})
    );
    assert_eq!(out[2]["method"], json!("mining.notify"));
    assert_eq!(out[2]["params"][8], json!(true), "first job is clean");
    let ev = events(&mut s);
    assert!(matches!(
        &ev[0],
        ServerEvent::Subscribed { resumed: false, .. }
    ));
    assert_eq!(ev[1], ServerEvent::Authorized("w1".into()));
    // Next jobs: no set_difficulty when unchanged.
    s.send_job(&job("j2", false), t);
    let out = sent(&mut s);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["params"][8], json!(false));
}

#[test]
fn every_rejection_code() {
    let t = Instant::now();
    let mut pool = FakePool::default();
    let n = 1_000_000;
    // Not subscribed (25).
    let mut fresh = ServerSession::new(fixed(), t);
    fresh.handle_line(
        &submit_line(9, "w1", "j1", "00000000", n, 1, None),
        t,
        &mut pool,
    );
    assert_eq!(
        sent(&mut fresh)[0]["error"],
        json!([25, "Not subscribed", null])
    );

    let mut s = ready(fixed(), t, &mut pool);
    // (line, expected error or null for success)
    let table: Vec<(String, Value)> = vec![
        (
            submit_line(3, "w1", "j1", "00000000", n, 1, None),
            Value::Null,
        ),
        (
            submit_line(4, "w1", "j1", "00000000", n, 1, None),
            json!([22, "Duplicate share", null]),
        ),
        (
            submit_line(5, "w2", "j1", "00000000", n, 2, None),
            json!([24, "Unauthorized worker", null]),
        ),
        (
            submit_line(6, "w1", "zz", "00000000", n, 2, None),
            json!([21, "Job not found", null]),
        ),
        (
            submit_line(7, "w1", "j1", "000000", n, 2, None),
            json!([20, "Invalid extranonce2 length", null]),
        ),
        (
            submit_line(8, "w1", "j1", "00000000", n - 1, 2, None),
            json!([20, "Ntime out of range", null]),
        ),
        (
            submit_line(9, "w1", "j1", "00000000", n + 7001, 2, None),
            json!([20, "Ntime out of range", null]),
        ),
        (
            submit_line(10, "w1", "j1", "00000000", n + 7000, 2, None),
            Value::Null,
        ),
        (
            submit_line(11, "w1", "j1", "00000000", n, 2, Some(0x2000)),
            json!([20, "Version rolling not negotiated", null]),
        ),
        (
            submit_line(12, "w1", "j1", "00000001", n, 0x9000_0000, None),
            json!([23, "Low difficulty share", null]),
        ),
        // The low-difficulty share was not recorded: resubmitting it is judged again (ckpool).
        (
            submit_line(13, "w1", "j1", "00000001", n, 0x9000_0000, None),
            json!([23, "Low difficulty share", null]),
        ),
        (
            r#"{"id":14,"method":"mining.submit","params":["w1","j1"]}"#.into(),
            json!([
                20,
                "Invalid params: mining.submit: extranonce2: missing",
                null
            ]),
        ),
    ];
    for (line, expected) in &table {
        s.handle_line(line, t, &mut pool);
        let out = sent(&mut s);
        assert_eq!(out.len(), 1, "{line}");
        assert_eq!(out[0]["error"], *expected, "{line}");
        let ok = if expected.is_null() {
            json!(true)
        } else {
            Value::Null
        };
        assert_eq!(out[0]["result"], ok, "{line}");
    }
    let st = s.stats();
    assert_eq!((st.accepted, st.rejected, st.protocol_errors), (2, 10, 1));
    // A clean job makes j1 stale.
    s.send_job(&job("j3", true), t);
    s.handle_line(
        &submit_line(15, "w1", "j1", "00000000", n, 3, None),
        t,
        &mut pool,
    );
    assert_eq!(
        sent(&mut s).last().unwrap()["error"],
        json!([21, "Job not found", null])
    );
    // What the pool was asked to check.
    let c = &pool.checked[0];
    assert_eq!(
        (c.worker.as_str(), c.job_id.as_str(), c.nonce, c.version),
        ("w1", "j1", 1, 0x2000_0000)
    );
    assert_eq!(c.extranonce1.to_hex(), "00000001");
    assert_eq!(c.difficulty.value(), 0.01);
}

#[test]
fn resume_unknown_methods_and_garbage() {
    let t = Instant::now();
    let mut pool = FakePool::default();
    let first = ready(fixed(), t, &mut pool);
    let sid = first.grant().unwrap().session_id.clone();
    let mut s = ServerSession::new(fixed(), t);
    let line = json!({"id":1,"method":"mining.subscribe","params":["test/1", sid]}).to_string();
    s.handle_line(&line, t, &mut pool);
    assert!(matches!(
        &events(&mut s)[..],
        [ServerEvent::Subscribed { resumed: true, .. }]
    ));
    assert_eq!(s.grant(), first.grant());
    s.handle_line(
        r#"{"id":2,"method":"mining.authorize","params":["w1","bad"]}"#,
        t,
        &mut pool,
    );
    assert_eq!(
        sent(&mut s)[1]["error"],
        json!([24, "Unauthorized worker", null])
    );
    s.handle_line(
        r#"{"id":3,"method":"mining.nonsense","params":[]}"#,
        t,
        &mut pool,
    );
    assert_eq!(
        sent(&mut s)[0]["error"],
        json!([20, "Method not found", null])
    );
    for bad in [
        "{",
        "[]",
        r#"{"id":5,"result":true,"error":null}"#,
        r#"{"id":null,"method":"mining.bogus"}"#,
    ] {
        s.handle_line(bad, t, &mut pool);
    }
    s.handle_codec_error(crate::CodecError::InvalidUtf8);
    assert_eq!(
        sent(&mut s),
        Vec::<Value>::new(),
        "nothing to answer without an id"
    );
    assert_eq!(s.stats().protocol_errors, 6);
}

#[test]
fn any_json_id_is_echoed_exactly_and_odd_subscribes_are_granted() {
    let t = Instant::now();
    let mut pool = FakePool::default();
    let mut s = ServerSession::new(fixed(), t);
    let lines = [
        (
            r#"{"id":-5,"method":"mining.subscribe","params":[null,7,"host",3333]}"#,
            json!(-5),
        ),
        (
            r#"{"id":1.5,"method":"mining.extranonce.subscribe","params":[]}"#,
            json!(1.5),
        ),
        (
            r#"{"id":"a-1","method":"mining.authorize","params":["w1","x"]}"#,
            json!("a-1"),
        ),
    ];
    for (line, id) in lines {
        s.handle_line(line, t, &mut pool);
        let out = sent(&mut s);
        assert_eq!(out[0]["id"], id, "{line}");
        assert_eq!(out[0]["error"], Value::Null, "{line}");
    }
    assert_eq!(s.stats().protocol_errors, 0);
}

#[test]
fn a_huge_integer_id_is_echoed_as_its_exact_token() {
    let t = Instant::now();
    let mut pool = FakePool::default();
    let mut s = ServerSession::new(fixed(), t);
    for id in [
        "123456789012345678901234567890",
        "-18446744073709551617",
        "1e3",
        "1.50",
    ] {
        let line = format!(r#"{{"id":{id},"method":"mining.subscribe","params":[]}}"#);
        s.handle_line(&line, t, &mut pool);
        let out = s.poll_transmit().unwrap();
        assert!(out.contains(&format!(r#""id":{id},"#)), "{id}: {out}");
        while s.poll_transmit().is_some() {}
    }
}
