//! Handshake variants, server requests and bad lines.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;

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
    s.handle_timeout(t + Duration::from_secs(1));
    assert_eq!(sent(&mut s), Vec::<Value>::new());
    s.handle_timeout(t + cfg.request_timeout);
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
    assert_eq!(s.session_id(), Some("6b0886b3"));
    assert_eq!(s.connection_lost().session_id.as_deref(), Some("6b0886b3"));
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
