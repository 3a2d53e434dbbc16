//! Jobs, difficulty, extranonce and share submission.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;

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
fn timeouts_and_lost_connection_report_unanswered_submits() {
    let t = Instant::now();
    let cfg = config();
    let mut s = ready(cfg.clone(), t);
    s.handle_line(&notify("j1", true), t);
    events(&mut s);
    s.submit(share("j1", 8), t).unwrap();
    let later = t + Duration::from_secs(5);
    s.submit(share("j1", 8), later).unwrap();
    s.handle_timeout(t + cfg.request_timeout);
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
    s.handle_timeout(t + cfg.request_timeout);
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
