use super::*;

#[test]
fn parses_the_three_shapes() {
    let sub = Message::parse(r#"{"id":1,"method":"mining.subscribe","params":["x/1"]}"#);
    assert_eq!(
        sub,
        Ok(Message::Request(Request {
            id: Id::Num(1),
            method: "mining.subscribe".into(),
            params: vec![json!("x/1")],
        }))
    );
    let n = Message::parse(r#"{"id":null,"method":"mining.set_difficulty","params":[0.01]}"#);
    assert!(matches!(n, Ok(Message::Notification(ref n)) if n.params == vec![json!(0.01)]));
    // A notification without any id key, and without params.
    let n = Message::parse(r#"{"method":"mining.ping"}"#).unwrap();
    assert!(matches!(n, Message::Notification(ref n) if n.params.is_empty()));
    // ckpool's subscribe reply (observed).
    let r = Message::parse(
        r#"{"result":[[["mining.notify","6b0886b3"]],"b386086b",8],"id":1,"error":null}"#,
    );
    let Ok(Message::Response(r)) = r else {
        panic!("not a response: {r:?}")
    };
    assert_eq!(r.id, Some(Id::Num(1)));
    assert_eq!(r.error, None);
    assert_eq!(r.result[1], json!("b386086b"));
}

#[test]
fn error_forms() {
    // (line, expected bool outcome)
    let table: &[(&str, Result<(), Rejection>)] = &[
        (r#"{"id":4,"result":true,"error":null}"#, Ok(())),
        (
            r#"{"id":4,"result":null,"error":[23,"Low difficulty share",null]}"#,
            Err(Rejection {
                code: Some(23),
                reason: "Low difficulty share".into(),
            }),
        ),
        (
            r#"{"id":4,"result":false,"error":null,"reject-reason":"Above target"}"#,
            Err(Rejection {
                code: None,
                reason: "Above target".into(),
            }),
        ),
        (
            r#"{"id":4,"result":null,"error":{"code":21,"message":"Job not found"}}"#,
            Err(Rejection {
                code: Some(21),
                reason: "Job not found".into(),
            }),
        ),
        (
            r#"{"id":4,"result":false,"error":"Stale"}"#,
            Err(Rejection {
                code: Some(20),
                reason: "Stale".into(),
            }),
        ),
        (
            r#"{"id":4,"result":false,"error":null}"#,
            Err(Rejection {
                code: None,
                reason: "result false".into(),
            }),
        ),
    ];
    for (line, expected) in table {
        let Ok(Message::Response(r)) = Message::parse(line) else {
            panic!("{line}")
        };
        assert_eq!(&r.bool_outcome(), expected, "{line}");
    }
    let r = Rejection {
        code: Some(23),
        reason: "x".into(),
    };
    assert_eq!(r.kind(), Some(ErrorCode::LowDifficulty));
}

#[test]
fn rejects_malformed() {
    let table: &[(&str, MessageError)] = &[
        ("[1,2]", MessageError::NotObject),
        (r#"{"id":true,"result":true}"#, MessageError::BadId),
        (r#"{"id":[1],"result":true}"#, MessageError::BadId),
        (r#"{"id":1,"method":5}"#, MessageError::BadMethod),
        (
            r#"{"id":1,"method":"a","params":{"x":1}}"#,
            MessageError::ParamsNotArray,
        ),
        (
            r#"{"id":1,"result":null,"error":["x"]}"#,
            MessageError::BadError,
        ),
        (r#"{"id":1}"#, MessageError::Unrecognised),
    ];
    for (line, expected) in table {
        assert_eq!(&Message::parse(line).unwrap_err(), expected, "{line}");
    }
    assert!(matches!(Message::parse("{"), Err(MessageError::Json(_))));
    assert!(matches!(Message::parse(""), Err(MessageError::Json(_))));
}

#[test]
fn serializes_and_round_trips() {
    let msgs = vec![
        Message::Request(Request {
            id: Id::Num(7),
            method: "m".into(),
            params: vec![json!(1)],
        }),
        Message::Notification(Notification {
            method: "n".into(),
            params: vec![],
        }),
        Message::Response(Response::ok(Id::Str("a".into()), json!(true))),
        Message::Response(Response::err(
            Some(Id::Num(3)),
            RpcError::new(ErrorCode::Duplicate, "Duplicate share"),
        )),
    ];
    for m in msgs {
        let line = m.to_line();
        assert!(line.ends_with('\n') && !line[..line.len() - 1].contains('\n'));
        assert_eq!(Message::parse(line.trim_end()), Ok(m));
    }
    let e = Message::Response(Response::err(
        None,
        RpcError::new(ErrorCode::LowDifficulty, "Low"),
    ));
    assert_eq!(
        e.to_json_string(),
        r#"{"error":[23,"Low",null],"id":null,"result":null}"#
    );
    let n = Message::Notification(Notification {
        method: "x".into(),
        params: vec![],
    });
    assert_eq!(
        n.to_json_string(),
        r#"{"id":null,"method":"x","params":[]}"#
    );
}

#[test]
fn numeric_ids_beyond_u64_keep_their_exact_text() {
    let line = r#"{"id":123456789012345678901234567890,"method":"mining.ping","params":[]}"#;
    let Ok(Message::Request(r)) = Message::parse(line) else {
        panic!("{line}")
    };
    assert_eq!(r.id, Id::Other("123456789012345678901234567890".into()));
    let reply = Message::Response(Response::ok(r.id, json!("pong")));
    assert_eq!(
        reply.to_json_string(),
        r#"{"error":null,"id":123456789012345678901234567890,"result":"pong"}"#
    );
    let request = Message::Request(Request {
        id: Id::Other("-0.5e-3".into()),
        method: "m".into(),
        params: vec![json!(1)],
    });
    assert_eq!(
        request.to_json_string(),
        r#"{"id":-0.5e-3,"method":"m","params":[1]}"#
    );
    let long = format!(r#"{{"id":{},"result":true}}"#, "9".repeat(65));
    assert_eq!(Message::parse(&long), Err(MessageError::BadId));
    // The last of duplicate members wins, for the id as for everything else.
    let dup = r#"{"id":1,"id":99999999999999999999,"result":true}"#;
    let Ok(Message::Response(r)) = Message::parse(dup) else {
        panic!("{dup}")
    };
    assert_eq!(r.id, Some(Id::Other("99999999999999999999".into())));
}
