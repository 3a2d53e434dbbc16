//! Scripted exchanges: lines a pool sends in, asserted lines and events out.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;
use crate::envelope::{ErrorCode, Rejection};
use crate::methods::VersionRollingRequest;
use crate::methods::tests::BLOCK_100000_NOTIFY;
use crate::wire::Extranonce2;

const AGENT: &str = "mesos-miner/0.1.0";
const CKPOOL_SUBSCRIBE: &str =
    r#"{"result":[[["mining.notify","6b0886b3"]],"b386086b",8],"id":1,"error":null}"#;

fn config() -> ClientConfig {
    ClientConfig::new(AGENT, "addr.w1", "x")
}

fn sent(s: &mut ClientSession) -> Vec<Value> {
    std::iter::from_fn(|| s.poll_transmit())
        .map(|l| {
            assert!(l.ends_with('\n'));
            serde_json::from_str(&l).unwrap()
        })
        .collect()
}

fn events(s: &mut ClientSession) -> Vec<ClientEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn notify(job: &str, clean: bool) -> String {
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

fn set_difficulty(d: f64) -> String {
    json!({"id": null, "method": "mining.set_difficulty", "params": [d]}).to_string()
}

fn reply(id: u64, result: Value) -> String {
    json!({"id": id, "result": result, "error": null}).to_string()
}

fn share(job: &str, en2_size: usize) -> Share {
    Share {
        job_id: JobId::new(job).unwrap(),
        extranonce2: Extranonce2::from_counter(1, en2_size),
        ntime: 0x4d1b2237,
        nonce: 0x10572b0f,
        version: None,
    }
}

fn new_job(e: &ClientEvent) -> &Job {
    match e {
        ClientEvent::NewJob(j) => j,
        other => panic!("expected NewJob, got {other:?}"),
    }
}

/// Subscribed and authorized against ckpool's answers; returns the session (events drained).
fn ready(cfg: ClientConfig, now: Instant) -> ClientSession {
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
fn share_rejections_carry_the_reason_in_both_forms() {
    let t = Instant::now();
    let mut s = ready(config(), t);
    s.handle_line(&notify("j1", true), t);
    events(&mut s);
    let table: &[(&str, Rejection)] = &[
        (
            r#""result":false,"error":null,"reject-reason":"Above target""#,
            Rejection {
                code: None,
                reason: "Above target".into(),
            },
        ),
        (
            r#""result":null,"error":[23,"Low difficulty share",null]"#,
            Rejection {
                code: Some(23),
                reason: "Low difficulty share".into(),
            },
        ),
        (
            r#""result":null,"error":[21,"Job not found",null]"#,
            Rejection {
                code: Some(21),
                reason: "Job not found".into(),
            },
        ),
    ];
    for (tail, expected) in table {
        let id = s.submit(share("j1", 8), t).unwrap();
        s.handle_line(&format!(r#"{{"id":{id},{tail}}}"#), t);
        let ev = events(&mut s);
        let [
            ClientEvent::ShareResult {
                outcome: ShareOutcome::Rejected(r),
                submit,
                ..
            },
        ] = &ev[..]
        else {
            panic!("{ev:?}")
        };
        assert_eq!(r, expected);
        assert_eq!(submit.job_id.as_str(), "j1");
    }
    assert_eq!(s.stats().rejected, 3);
    assert_eq!(table[1].1.kind(), Some(ErrorCode::LowDifficulty));
}

#[test]
fn difficulty_applies_from_the_next_notify() {
    let t = Instant::now();
    let mut s = ready(config(), t);
    s.handle_line(&notify("j1", true), t);
    s.handle_line(&set_difficulty(0.01), t);
    assert_eq!(new_job(&events(&mut s)[0]).difficulty, Difficulty::ONE);
    // A share of j1 is still at the old difficulty.
    let id = s.submit(share("j1", 8), t).unwrap();
    s.handle_line(&reply(id, json!(true)), t);
    assert!(
        matches!(&events(&mut s)[..], [ClientEvent::ShareResult { difficulty, .. }] if *difficulty == Difficulty::ONE)
    );
    s.handle_line(&notify("j2", false), t);
    assert_eq!(new_job(&events(&mut s)[0]).difficulty.value(), 0.01);
    assert_eq!(s.difficulty().value(), 0.01);
}

#[test]
fn clean_jobs_voids_earlier_jobs() {
    let t = Instant::now();
    let mut s = ready(config(), t);
    s.handle_line(&notify("j1", true), t);
    s.handle_line(&notify("j2", false), t);
    let ev = events(&mut s);
    assert!(!new_job(&ev[1]).clean);
    assert!(s.submit(share("j1", 8), t).is_ok());
    s.handle_line(&notify("j3", true), t);
    assert!(new_job(&events(&mut s)[0]).clean);
    sent(&mut s);
    for old in ["j1", "j2", "never-seen"] {
        assert_eq!(
            s.submit(share(old, 8), t),
            Err(SubmitError::Stale(JobId::new(old).unwrap()))
        );
    }
    assert_eq!(
        sent(&mut s),
        Vec::<Value>::new(),
        "no stale share may be sent"
    );
    assert_eq!(s.stats().stale, 3);
    assert!(s.submit(share("j3", 8), t).is_ok());
    assert_eq!(
        s.submit(share("j3", 4), t),
        Err(SubmitError::Extranonce2Size {
            expected: 8,
            got: 4
        })
    );
}

#[test]
fn resume_with_session_id_and_fallback() {
    let t = Instant::now();
    let mut cfg = config();
    cfg.resume_session_id = Some("6b0886b3".into());
    // Accepted resume.
    let mut s = ClientSession::new(cfg.clone(), t);
    assert_eq!(sent(&mut s)[0]["params"], json!([AGENT, "6b0886b3"]));
    s.handle_line(CKPOOL_SUBSCRIBE, t);
    assert!(matches!(
        events(&mut s)[0],
        ClientEvent::Subscribed { resumed: true, .. }
    ));
    // Refused resume: one retry with `[]`, then authorize.
    let mut s = ClientSession::new(cfg, t);
    sent(&mut s);
    s.handle_line(
        r#"{"id":1,"result":null,"error":[20,"Invalid session",null]}"#,
        t,
    );
    let ev = events(&mut s);
    assert_eq!(
        ev,
        vec![ClientEvent::ResumeRefused(Rejection {
            code: Some(20),
            reason: "Invalid session".into()
        })]
    );
    assert_eq!(
        sent(&mut s),
        vec![json!({"id":2,"method":"mining.subscribe","params":[]})]
    );
    s.handle_line(&CKPOOL_SUBSCRIBE.replace(r#""id":1"#, r#""id":2"#), t);
    assert!(matches!(
        events(&mut s)[0],
        ClientEvent::Subscribed { resumed: false, .. }
    ));
    assert_eq!(sent(&mut s)[0]["method"], json!("mining.authorize"));
    // A second refusal of a fresh subscribe ends the session.
    let mut s = ClientSession::new(config(), t);
    s.handle_line(r#"{"id":1,"result":null,"error":[20,"Busy",null]}"#, t);
    assert!(matches!(
        &events(&mut s)[..],
        [ClientEvent::HandshakeFailed(_)]
    ));
}

#[test]
fn server_requests_and_bad_lines_are_answered_or_skipped() {
    let t = Instant::now();
    let mut s = ready(config(), t);
    s.handle_line(r#"{"id":7,"method":"client.get_version","params":[]}"#, t);
    s.handle_line(r#"{"id":8,"method":"mining.ping","params":[]}"#, t);
    s.handle_line(r#"{"id":9,"method":"mining.bogus","params":[]}"#, t);
    assert_eq!(
        sent(&mut s),
        vec![
            json!({"id":7,"result":AGENT,"error":null}),
            json!({"id":8,"result":"pong","error":null}),
            json!({"id":9,"result":null,"error":[20,"Method not found",null]}),
        ]
    );
    let bad_lines = [
        r#"{"id":null,"method":"mining.unknown","params":[]}"#,
        "not json",
        r#"{"id":null,"method":"mining.notify","params":["j"]}"#,
        r#"{"id":null,"method":"mining.set_difficulty","params":[-1]}"#,
        r#"{"id":99,"result":true,"error":null}"#,
    ];
    for line in bad_lines {
        s.handle_line(line, t);
    }
    s.handle_codec_error(CodecError::LineTooLong { limit: 16 }, t);
    let ev = events(&mut s);
    assert_eq!(ev.len(), 7);
    assert!(
        ev.iter()
            .all(|e| matches!(e, ClientEvent::ProtocolError(_))),
        "{ev:?}"
    );
    // Still working afterwards.
    s.handle_line(&notify("j1", true), t);
    assert!(matches!(events(&mut s)[0], ClientEvent::NewJob(_)));
    s.handle_line(
        r#"{"id":null,"method":"client.reconnect","params":["h",3334,2]}"#,
        t,
    );
    s.handle_line(
        r#"{"id":null,"method":"client.show_message","params":["maintenance"]}"#,
        t,
    );
    let r = crate::methods::Reconnect {
        host: Some("h".into()),
        port: Some(3334),
        wait: Some(2),
    };
    assert_eq!(
        events(&mut s),
        vec![
            ClientEvent::Reconnect(r),
            ClientEvent::ShowMessage("maintenance".into())
        ]
    );
}

#[test]
fn version_rolling_negotiated_and_checked() {
    let t = Instant::now();
    let mut cfg = config();
    cfg.version_rolling = Some(VersionRollingRequest {
        mask: VersionMask(0xffff_ffff),
        min_bit_count: 2,
    });
    let mut s = ClientSession::new(cfg, t);
    let out = sent(&mut s);
    assert_eq!(out[0]["method"], json!("mining.configure"));
    assert_eq!(
        out[0]["params"][1]["version-rolling.mask"],
        json!("ffffffff")
    );
    s.handle_line(
        &reply(
            1,
            json!({"version-rolling": true, "version-rolling.mask": "1fffe000"}),
        ),
        t,
    );
    assert_eq!(
        events(&mut s),
        vec![ClientEvent::VersionRolling(Some(VersionMask::BIP320))]
    );
    assert_eq!(sent(&mut s)[0]["method"], json!("mining.subscribe"));
    s.handle_line(&CKPOOL_SUBSCRIBE.replace(r#""id":1"#, r#""id":2"#), t);
    s.handle_line(&reply(3, json!(true)), t);
    s.handle_line(&notify("j1", true), t);
    let ev = events(&mut s);
    assert_eq!(new_job(&ev[2]).version_mask, Some(VersionMask::BIP320));
    sent(&mut s);
    let mut sh = share("j1", 8);
    sh.version = Some(0x3fff_e000);
    s.submit(sh.clone(), t).unwrap();
    assert_eq!(sent(&mut s)[0]["params"][5], json!("1fffe000"));
    s.submit(share("j1", 8), t).unwrap();
    assert_eq!(
        sent(&mut s)[0]["params"][5],
        json!("00000000"),
        "version_bits always sent when rolling"
    );
    sh.version = Some(0x2000_0001);
    assert_eq!(
        s.submit(sh.clone(), t),
        Err(SubmitError::VersionNotAllowed(0x2000_0001))
    );
    // set_version_mask replaces the mask at once.
    s.handle_line(
        r#"{"id":null,"method":"mining.set_version_mask","params":["00000001"]}"#,
        t,
    );
    assert_eq!(
        events(&mut s),
        vec![ClientEvent::VersionMask(VersionMask(1))]
    );
    assert!(s.submit(sh, t).is_ok());
}

#[test]
fn configure_refused_or_ignored_falls_back_to_plain_mining() {
    let t = Instant::now();
    let mut cfg = config();
    cfg.version_rolling = Some(VersionRollingRequest {
        mask: VersionMask::BIP320,
        min_bit_count: 2,
    });
    let mut s = ClientSession::new(cfg.clone(), t);
    sent(&mut s);
    s.handle_line(
        r#"{"id":1,"result":null,"error":[20,"Method not found",null]}"#,
        t,
    );
    assert_eq!(events(&mut s), vec![ClientEvent::VersionRolling(None)]);
    assert_eq!(sent(&mut s)[0]["method"], json!("mining.subscribe"));
    // No answer: after the timeout, subscribe without rolling.
    let mut s = ClientSession::new(cfg.clone(), t);
    sent(&mut s);
    assert_eq!(s.next_timeout(), Some(t + cfg.request_timeout));
    s.poll_timeout(t + Duration::from_secs(1));
    assert_eq!(sent(&mut s), Vec::<Value>::new());
    s.poll_timeout(t + cfg.request_timeout);
    assert_eq!(events(&mut s), vec![ClientEvent::VersionRolling(None)]);
    assert_eq!(sent(&mut s)[0]["method"], json!("mining.subscribe"));
    // Connection closed while configure was unanswered (2017 ckpool): skip it next time.
    let mut s = ClientSession::new(cfg.clone(), t);
    let info = s.connection_lost();
    assert_eq!(
        info,
        ResumeInfo {
            session_id: None,
            skip_configure: true
        }
    );
    cfg.skip_configure = info.skip_configure;
    let mut s = ClientSession::new(cfg, t);
    assert_eq!(sent(&mut s)[0]["method"], json!("mining.subscribe"));
    s.handle_line(CKPOOL_SUBSCRIBE, t);
    assert_eq!(s.connection_lost().session_id.as_deref(), Some("6b0886b3"));
}

#[test]
fn timeouts_and_lost_connection_report_unanswered_submits() {
    let t = Instant::now();
    let cfg = config();
    let mut s = ready(cfg.clone(), t);
    s.handle_line(&notify("j1", true), t);
    events(&mut s);
    s.submit(share("j1", 8), t).unwrap();
    let later = t + Duration::from_secs(5);
    s.submit(share("j1", 8), later).unwrap();
    s.poll_timeout(t + cfg.request_timeout);
    let ev = events(&mut s);
    assert!(
        matches!(
            &ev[..],
            [ClientEvent::ShareResult {
                outcome: ShareOutcome::TimedOut,
                ..
            }]
        ),
        "{ev:?}"
    );
    let info = s.connection_lost();
    assert!(matches!(
        &events(&mut s)[..],
        [ClientEvent::ShareResult {
            outcome: ShareOutcome::ConnectionLost,
            ..
        }]
    ));
    assert_eq!(s.stats().unanswered, 2);
    assert_eq!(info.session_id.as_deref(), Some("6b0886b3"));
    assert_eq!(s.submit(share("j1", 8), later), Err(SubmitError::NotReady));
    // A subscribe that never gets an answer ends the session.
    let mut s = ClientSession::new(cfg.clone(), t);
    s.poll_timeout(t + cfg.request_timeout);
    assert!(matches!(
        &events(&mut s)[..],
        [ClientEvent::HandshakeFailed(_)]
    ));
}

#[test]
fn set_extranonce_applies_with_the_next_job_and_voids_old_ones() {
    let t = Instant::now();
    let mut s = ready(config(), t);
    s.handle_line(&notify("j1", true), t);
    s.handle_line(
        r#"{"id":null,"method":"mining.set_extranonce","params":["0a0b",4]}"#,
        t,
    );
    let ev = events(&mut s);
    assert!(matches!(
        ev[1],
        ClientEvent::ExtranonceChanged {
            extranonce2_size: 4,
            ..
        }
    ));
    assert!(
        s.submit(share("j1", 8), t).is_ok(),
        "old job still valid until the next notify"
    );
    s.handle_line(&notify("j2", false), t);
    let ev = events(&mut s);
    let job = new_job(&ev[0]);
    assert_eq!(
        (
            job.extranonce1.to_hex().as_str(),
            job.extranonce2_size,
            job.clean
        ),
        ("0a0b", 4, true)
    );
    assert!(matches!(
        s.submit(share("j1", 8), t),
        Err(SubmitError::Stale(_))
    ));
    assert!(s.submit(share("j2", 4), t).is_ok());
}

#[test]
fn early_notify_auth_failure_and_extras() {
    let t = Instant::now();
    let mut cfg = config();
    cfg.extranonce_subscribe = true;
    cfg.suggest_difficulty = Some(Difficulty::new(0.5).unwrap());
    let mut s = ClientSession::new(cfg, t);
    sent(&mut s);
    // A job before the subscribe reply is delivered once extranonce1 is known.
    s.handle_line(&notify("j0", true), t);
    assert_eq!(events(&mut s), vec![]);
    s.handle_line(CKPOOL_SUBSCRIBE, t);
    let ev = events(&mut s);
    assert!(matches!(
        ev[..],
        [ClientEvent::Subscribed { .. }, ClientEvent::NewJob(_)]
    ));
    let out = sent(&mut s);
    assert_eq!(
        out[0],
        json!({"id":2,"method":"mining.extranonce.subscribe","params":[]})
    );
    assert_eq!(out[1]["method"], json!("mining.authorize"));
    s.handle_line(&reply(3, json!(true)), t);
    assert_eq!(
        sent(&mut s),
        vec![json!({"id":4,"method":"mining.suggest_difficulty","params":[0.5]})]
    );
    // Authorization refused: shares are not sent.
    let mut s = ClientSession::new(config(), t);
    s.handle_line(CKPOOL_SUBSCRIBE, t);
    s.handle_line(&notify("j1", true), t);
    s.handle_line(r#"{"id":2,"result":false,"error":null}"#, t);
    assert!(matches!(
        events(&mut s).last(),
        Some(ClientEvent::AuthFailed(_))
    ));
    assert_eq!(s.submit(share("j1", 8), t), Err(SubmitError::NotReady));
}
