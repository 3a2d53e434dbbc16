use serde_json::{Value, json};

use super::*;
use crate::envelope::Message;
use crate::wire::*;

/// The block-100000 job of spec Part A.2 ("Stratum job A"), as a notify line.
pub(crate) const BLOCK_100000_NOTIFY: &str = r#"{"id":null,"method":"mining.notify","params":["1","1901125004612a1701c3a621d930d31d36b607df1fccc2160002d01c00000000","01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff08044c86041b02","ffffffff0100f2052a010000004341041b0e8c2567c12536aa13357b79a073dc4444acb83c4ec7a0e2f99dd7457516c5817242da796924ca4e99947d087fedf9ce467cb9f7c6287078f801df276fdf84ac00000000",["c40297f730dd7b5a99567eb8d27b78758f607507c52292d02d4031895b52f2ff","49aef42d78e3e9999c9e6ec9e1dddd6cb880bf3b076a03be1318ca789089308e"],"00000001","1b04864c","4d1b2237",true]}"#;

fn server_msg(line: &str) -> ServerMessage {
    let Ok(Message::Notification(n)) = Message::parse(line) else {
        panic!("{line}")
    };
    ServerMessage::parse(&n.method, &n.params).unwrap().unwrap()
}

fn round_trip<M: Method + PartialEq + std::fmt::Debug>(m: &M) {
    assert_eq!(&M::from_params(&m.to_params()).unwrap(), m);
}

#[test]
fn notify_block_100000() {
    let ServerMessage::Notify(n) = server_msg(BLOCK_100000_NOTIFY) else {
        panic!()
    };
    assert_eq!(n.job_id.as_str(), "1");
    assert_eq!(
        n.prevhash.to_display_hex(),
        "000000000002d01c1fccc21636b607dfd930d31d01c3a62104612a1719011250"
    );
    assert_eq!(n.coinb1.len(), 48);
    assert_eq!(n.coinb1[..4], [1, 0, 0, 0]);
    assert_eq!(n.merkle_branch.len(), 2);
    assert_eq!(n.merkle_branch[0][..2], [0xc4, 0x02]);
    assert_eq!((n.version, n.nbits, n.ntime), (1, 0x1b04864c, 0x4d1b2237));
    assert!(n.clean_jobs);
    // Serializing gives back the same params as the line.
    let Ok(Message::Notification(orig)) = Message::parse(BLOCK_100000_NOTIFY) else {
        panic!()
    };
    assert_eq!(n.to_params(), orig.params);
    assert_eq!(
        Message::from(n.to_notification()).to_json_string(),
        BLOCK_100000_NOTIFY.replace(' ', "")
    );
}

#[test]
fn notify_rejects_bad_params() {
    let Ok(Message::Notification(orig)) = Message::parse(BLOCK_100000_NOTIFY) else {
        panic!()
    };
    // (index to replace, replacement, param named in the error)
    let table: &[(usize, Value, &str)] = &[
        (0, json!(""), "job_id"),
        (1, json!("00"), "prevhash"),
        (2, json!("0g"), "coinb1"),
        (3, json!(5), "coinb2"),
        (4, json!(["00"]), "merkle_branch"),
        (4, json!("x"), "merkle_branch"),
        (5, json!("1"), "version"),
        (6, json!("zzzzzzzz"), "nbits"),
        (7, Value::Null, "ntime"),
        (8, json!("true"), "clean_jobs"),
    ];
    for (i, v, name) in table {
        let mut params = orig.params.clone();
        params[*i] = v.clone();
        let err = Notify::from_params(&params).unwrap_err();
        assert_eq!(err.param, *name, "{err}");
    }
    assert_eq!(
        Notify::from_params(&orig.params[..8]).unwrap_err().param,
        "clean_jobs"
    );
    // A long coinbase part is fine up to its own bound (not the free-text limit).
    let mut params = orig.params.clone();
    params[3] = json!("ab".repeat(3000));
    assert_eq!(Notify::from_params(&params).unwrap().coinb2.len(), 3000);
    params[3] = json!("ab".repeat(server::MAX_COINBASE_PART + 1));
    assert_eq!(Notify::from_params(&params).unwrap_err().param, "coinb2");
    let mut params = orig.params.clone();
    params[4] = Value::Array(vec![json!("00".repeat(32)); 33]);
    assert!(Notify::from_params(&params).is_err());
}

#[test]
fn set_difficulty_and_friends() {
    let ServerMessage::SetDifficulty(d) =
        server_msg(r#"{"id":null,"method":"mining.set_difficulty","params":[0.01]}"#)
    else {
        panic!()
    };
    assert_eq!(d.difficulty.value(), 0.01);
    for bad in [json!([0]), json!([-2]), json!(["1"]), json!([])] {
        let params: Vec<Value> = serde_json::from_value(bad.clone()).unwrap();
        assert!(SetDifficulty::from_params(&params).is_err(), "{bad}");
    }
    let e = server_msg(r#"{"id":null,"method":"mining.set_extranonce","params":["0a0b0c0d",4]}"#);
    let ServerMessage::SetExtranonce(e) = e else {
        panic!()
    };
    assert_eq!(
        (e.extranonce1.to_hex().as_str(), e.extranonce2_size),
        ("0a0b0c0d", 4)
    );
    for size in [0, 33] {
        assert!(SetExtranonce::from_params(&[json!("00"), json!(size)]).is_err());
    }
    let m = server_msg(r#"{"method":"mining.set_version_mask","params":["1fffe000"],"id":null}"#);
    assert_eq!(
        m,
        ServerMessage::SetVersionMask(SetVersionMask {
            mask: VersionMask::BIP320
        })
    );
    let m = server_msg(r#"{"method":"client.show_message","params":["hi"],"id":null}"#);
    assert_eq!(
        m,
        ServerMessage::ShowMessage(ShowMessage { text: "hi".into() })
    );
    assert_eq!(ServerMessage::parse("mining.unknown", &[]), Ok(None));
    assert_eq!(
        ServerMessage::parse("client.get_version", &[]),
        Ok(Some(ServerMessage::GetVersion))
    );
    assert_eq!(
        ServerMessage::parse("mining.ping", &[]),
        Ok(Some(ServerMessage::Ping))
    );
}

#[test]
fn reconnect_forms() {
    let table: &[(Value, Reconnect)] = &[
        (json!([]), Reconnect::default()),
        (json!(["", "", ""]), Reconnect::default()),
        (
            json!(["pool.example", 3333, 5]),
            Reconnect {
                host: Some("pool.example".into()),
                port: Some(3333),
                wait: Some(5),
            },
        ),
        (
            json!(["h", "3334"]),
            Reconnect {
                host: Some("h".into()),
                port: Some(3334),
                wait: None,
            },
        ),
    ];
    for (params, expected) in table {
        let params: Vec<Value> = serde_json::from_value(params.clone()).unwrap();
        assert_eq!(&Reconnect::from_params(&params).unwrap(), expected);
        round_trip(expected);
    }
    assert!(Reconnect::from_params(&[json!("h"), json!(70000)]).is_err());
    assert!(Reconnect::from_params(&[json!("h".repeat(300))]).is_err());
}

#[test]
fn subscribe_params_and_ckpool_result() {
    let table: &[(Value, Subscribe)] = &[
        (json!([]), Subscribe::default()),
        (
            json!(["cpuminer/2.5.1"]),
            Subscribe {
                user_agent: Some("cpuminer/2.5.1".into()),
                session_id: None,
            },
        ),
        (
            json!(["cpuminer/2.5.1", "6b0886b3"]),
            Subscribe {
                user_agent: Some("cpuminer/2.5.1".into()),
                session_id: Some("6b0886b3".into()),
            },
        ),
    ];
    for (params, expected) in table {
        let params: Vec<Value> = serde_json::from_value(params.clone()).unwrap();
        assert_eq!(&Subscribe::from_params(&params).unwrap(), expected);
        assert_eq!(expected.to_params(), params);
    }
    // Odd but real-world shapes are read leniently, never refused.
    let lenient: &[(Value, Option<&str>, Option<&str>)] = &[
        (
            json!(["agent/1", null, "pool.example", 3333]),
            Some("agent/1"),
            None,
        ),
        (json!([null, "6b0886b3"]), None, Some("6b0886b3")),
        (json!([42, 7]), None, None),
        (json!(["", ""]), None, None),
        (json!(["a".repeat(2000), "b".repeat(2000)]), None, None),
    ];
    for (params, agent, sid) in lenient {
        let params: Vec<Value> = serde_json::from_value(params.clone()).unwrap();
        let s = Subscribe::from_params(&params).unwrap();
        assert_eq!(
            (s.user_agent.as_deref(), s.session_id.as_deref()),
            (*agent, *sid)
        );
    }
    // Observed ckpool reply.
    let r = SubscribeResult::from_result(&json!([[["mining.notify", "6b0886b3"]], "b386086b", 8]))
        .unwrap();
    assert_eq!(r.session_id(), Some("6b0886b3"));
    assert_eq!(r.extranonce1.to_hex(), "b386086b");
    assert_eq!(r.extranonce2_size, 8);
    assert_eq!(SubscribeResult::from_result(&r.to_result()).unwrap(), r);
    // Slush style: the notify pair's id is the session id, whatever the order.
    let slush = json!([
        [["mining.set_difficulty", "a"], ["mining.notify", "b"]],
        "08000002",
        4
    ]);
    assert_eq!(
        SubscribeResult::from_result(&slush).unwrap().session_id(),
        Some("b")
    );
    // Flat single pair.
    let flat = json!([["mining.notify", "c"], "00", 4]);
    assert_eq!(
        SubscribeResult::from_result(&flat).unwrap().session_id(),
        Some("c")
    );
    for bad in [
        json!(null),
        json!([[], "b386086b", 0]),
        json!([[], "b386086b", 33]),
        json!([[], "xyz", 4]),
        json!([5, "00", 4]),
        json!([[]]),
    ] {
        assert!(SubscribeResult::from_result(&bad).is_err(), "{bad}");
    }
}

#[test]
fn submit_forms() {
    // Block 100000 job's solution (spec Part A.2).
    let params = json!(["w", "1", "02", "4d1b2237", "10572b0f"]);
    let params: Vec<Value> = serde_json::from_value(params).unwrap();
    let s = Submit::from_params(&params).unwrap();
    assert_eq!(s.nonce, 274_148_111);
    assert_eq!(s.ntime, 0x4d1b2237);
    assert_eq!(s.extranonce2.as_bytes(), &[2]);
    assert_eq!(s.version_bits, None);
    assert_eq!(s.to_params(), params);
    let mut six = params.clone();
    six.push(json!("1fffe000"));
    let s6 = Submit::from_params(&six).unwrap();
    assert_eq!(s6.version_bits, Some(0x1fffe000));
    assert_eq!(s6.to_params(), six);
    for (i, bad) in [
        (1, json!("")),
        (2, json!("0")),
        (3, json!("4d1b223")),
        (4, json!(7)),
        (5, json!("x")),
    ] {
        let mut p = six.clone();
        p[i] = bad;
        assert!(Submit::from_params(&p).is_err(), "{p:?}");
    }
    assert!(Submit::from_params(&params[..4]).is_err());
}

#[test]
fn configure_request_and_result() {
    let line = r#"{"id":1,"method":"mining.configure","params":[["version-rolling"],{"version-rolling.mask":"1fffe000","version-rolling.min-bit-count":2}]}"#;
    let Ok(Message::Request(r)) = Message::parse(line) else {
        panic!()
    };
    let Some(ClientRequest::Configure(c)) = ClientRequest::parse(&r.method, &r.params).unwrap()
    else {
        panic!()
    };
    let vr = VersionRollingRequest {
        mask: VersionMask::BIP320,
        min_bit_count: 2,
    };
    assert_eq!(c.version_rolling, Some(vr));
    assert_eq!(c.to_params(), r.params);
    let full = Configure {
        version_rolling: Some(vr),
        minimum_difficulty: Some(Difficulty::new(0.5).unwrap()),
        subscribe_extranonce: true,
        other: vec!["info".into()],
    };
    round_trip(&full);
    let res = ConfigureResult {
        version_rolling: Some(VersionMask(0x1fffe000)),
        ..Default::default()
    };
    let v = res.to_result(true);
    assert_eq!(
        v,
        json!({"version-rolling": true, "version-rolling.mask": "1fffe000"})
    );
    assert_eq!(ConfigureResult::from_result(&v).unwrap(), res);
    let refused = ConfigureResult::default().to_result(true);
    assert_eq!(refused, json!({"version-rolling": false}));
    assert_eq!(
        ConfigureResult::from_result(&refused)
            .unwrap()
            .version_rolling,
        None
    );
    assert!(ConfigureResult::from_result(&json!({"version-rolling": true})).is_err());
    assert!(Configure::from_params(&[json!("version-rolling")]).is_err());
}

#[test]
fn client_requests_dispatch() {
    let table: &[(&str, Value, ClientRequest)] = &[
        (
            "mining.authorize",
            json!(["addr.w1", "x"]),
            ClientRequest::Authorize(Authorize {
                username: "addr.w1".into(),
                password: "x".into(),
            }),
        ),
        (
            "mining.authorize",
            json!(["addr.w1", 1234]),
            ClientRequest::Authorize(Authorize {
                username: "addr.w1".into(),
                password: String::new(),
            }),
        ),
        (
            "mining.authorize",
            json!(["addr.w1"]),
            ClientRequest::Authorize(Authorize {
                username: "addr.w1".into(),
                password: String::new(),
            }),
        ),
        (
            "mining.suggest_difficulty",
            json!([2]),
            ClientRequest::SuggestDifficulty(SuggestDifficulty {
                difficulty: Difficulty::new(2.0).unwrap(),
            }),
        ),
        (
            "mining.extranonce.subscribe",
            json!([]),
            ClientRequest::ExtranonceSubscribe,
        ),
    ];
    for (method, params, expected) in table {
        let params: Vec<Value> = serde_json::from_value(params.clone()).unwrap();
        assert_eq!(
            ClientRequest::parse(method, &params),
            Ok(Some(expected.clone()))
        );
    }
    assert_eq!(ClientRequest::parse("mining.nope", &[]), Ok(None));
    assert!(ClientRequest::parse("mining.authorize", &[]).is_err());
    assert!(ClientRequest::parse("mining.authorize", &[json!("u".repeat(2000))]).is_err());
}
