//! Scripted exchanges: lines a pool sends in, asserted lines and events out.

use std::time::Instant;

use serde_json::{Value, json};

use super::*;

mod handshake;
mod jobs;
use crate::envelope::{ErrorCode, Rejection};
use crate::methods::VersionRollingRequest;
use crate::methods::tests::BLOCK_100000_NOTIFY;
use crate::wire::Extranonce2;

pub(super) const AGENT: &str = "mesos-miner/0.1.0";
pub(super) const CKPOOL_SUBSCRIBE: &str =
    r#"{"result":[[["mining.notify","6b0886b3"]],"b386086b",8],"id":1,"error":null}"#;

pub(super) fn config() -> ClientConfig {
    ClientConfig::new(AGENT, "addr.w1", "x")
}

pub(super) fn sent(s: &mut ClientSession) -> Vec<Value> {
    std::iter::from_fn(|| s.poll_transmit())
        .map(|l| {
            assert!(l.ends_with('\n'));
            serde_json::from_str(&l).unwrap()
        })
        .collect()
}

pub(super) fn events(s: &mut ClientSession) -> Vec<ClientEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

pub(super) fn notify(job: &str, clean: bool) -> String {
    let params = json!([
        job,
        "00".repeat(32),
        "01",
        "02",
        [],
        "20000000",
        "207fffff",
        "4d1b2237",
        clean
    ]);
    json!({"id": null, "method": "mining.notify", "params": params}).to_string()
}

pub(super) fn set_difficulty(d: f64) -> String {
    json!({"id": null, "method": "mining.set_difficulty", "params": [d]}).to_string()
}

pub(super) fn reply(id: u64, result: Value) -> String {
    json!({"id": id, "result": result, "error": null}).to_string()
}

pub(super) fn share(job: &str, en2_size: usize) -> Share {
    Share {
        job_id: JobId::new(job).unwrap(),
        extranonce2: Extranonce2::from_counter(1, en2_size),
        ntime: 0x4d1b2237,
        nonce: 0x10572b0f,
        version: None,
    }
}

pub(super) fn new_job(e: &ClientEvent) -> &Job {
    match e {
        ClientEvent::NewJob(j) => j,
        other => panic!("expected NewJob, got {other:?}"),
    }
}

/// Subscribed and authorized against ckpool's answers; returns the session (events drained).
pub(super) fn ready(cfg: ClientConfig, now: Instant) -> ClientSession {
    let mut s = ClientSession::new(cfg, now);
    sent(&mut s);
    s.handle_line(CKPOOL_SUBSCRIBE, now);
    s.handle_line(&reply(2, json!(true)), now);
    events(&mut s);
    sent(&mut s);
    s
}

#[test]
fn ckpool_handshake_with_job_before_authorize_reply() {
    let t = Instant::now();
    let mut s = ClientSession::new(config(), t);
    assert_eq!(
        sent(&mut s),
        vec![json!({"id":1,"method":"mining.subscribe","params":[AGENT]})]
    );
    s.handle_line(CKPOOL_SUBSCRIBE, t);
    let expect_sub = ClientEvent::Subscribed {
        extranonce1: Extranonce1::from_hex("b386086b").unwrap(),
        extranonce2_size: 8,
        session_id: Some("6b0886b3".into()),
        resumed: false,
    };
    assert_eq!(events(&mut s), vec![expect_sub]);
    assert_eq!(
        sent(&mut s),
        vec![json!({"id":2,"method":"mining.authorize","params":["addr.w1","x"]})]
    );
    // ckpool order (observed): set_difficulty, notify, then the authorize reply.
    s.handle_line(&set_difficulty(2.0), t);
    s.handle_line(BLOCK_100000_NOTIFY, t);
    s.handle_line(&reply(2, json!(true)), t);
    let ev = events(&mut s);
    assert_eq!(ev.len(), 2);
    let job = new_job(&ev[0]);
    assert_eq!(job.difficulty.value(), 2.0);
    assert_eq!(job.extranonce1.to_hex(), "b386086b");
    assert_eq!(
        (job.extranonce2_size, job.clean, job.version_mask),
        (8, true, None)
    );
    assert_eq!(ev[1], ClientEvent::Authorized);
    assert!(s.is_ready());

    let id = s.submit(share("1", 8), t).unwrap();
    assert_eq!(
        sent(&mut s),
        vec![
            json!({"id":id,"method":"mining.submit","params":["addr.w1","1","0100000000000000","4d1b2237","10572b0f"]})
        ]
    );
    s.handle_line(&reply(id, json!(true)), t);
    let ev = events(&mut s);
    assert!(
        matches!(&ev[..], [ClientEvent::ShareResult { outcome: ShareOutcome::Accepted, difficulty, .. }] if difficulty.value() == 2.0)
    );
}

#[test]
fn a_huge_integer_id_of_a_pool_request_is_echoed_as_its_exact_token() {
    let t = Instant::now();
    let mut s = ready(config(), t);
    let id = "123456789012345678901234567890";
    s.handle_line(
        &format!(r#"{{"id":{id},"method":"mining.ping","params":[]}}"#),
        t,
    );
    let out = s.poll_transmit().unwrap();
    assert_eq!(
        out.trim_end(),
        format!(r#"{{"error":null,"id":{id},"result":"pong"}}"#)
    );
    // A reply with such an id matches nothing this session sent.
    s.handle_line(&format!(r#"{{"id":{id},"result":true,"error":null}}"#), t);
    assert!(matches!(
        &events(&mut s)[..],
        [ClientEvent::ProtocolError(ProtocolError::UnexpectedReply(Some(Id::Other(t))))] if t == id
    ));
}

#[test]
fn debug_output_never_shows_the_password() {
    let t = Instant::now();
    let mut s = ClientSession::new(ClientConfig::new(AGENT, "addr.w1", "hunter2-pw"), t);
    s.handle_line(CKPOOL_SUBSCRIBE, t);
    let printed = format!("{s:?} {:?}", s.poll_event());
    assert!(
        !printed.contains("hunter2-pw") && printed.contains("<redacted>"),
        "{printed}"
    );
    let authorize = crate::methods::Authorize {
        username: "u".into(),
        password: "hunter2-pw".into(),
    };
    assert!(!format!("{authorize:?}").contains("hunter2-pw"));
}
