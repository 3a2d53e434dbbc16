//! Properties: encode/parse round trips, framing independent of how bytes are split, and no
//! panic on any input from the network.

use std::time::Instant;

use proptest::prelude::*;
use serde_json::{Value, json};
use stratum::client::{ClientConfig, ClientSession};
use stratum::methods::server::Notify;
use stratum::methods::{Method, Submit};
use stratum::server::{ServerConfig, ServerHooks, ServerSession, ShareCheck, SubscribeGrant};
use stratum::{Extranonce1, Extranonce2, JobId, LineCodec, Message, PrevHash, RpcError};

struct AcceptAll;

impl ServerHooks for AcceptAll {
    fn subscribe(&mut self, _: Option<&str>, _: Option<&str>) -> Result<SubscribeGrant, RpcError> {
        let extranonce1 = Extranonce1::from_hex("01020304").unwrap();
        Ok(SubscribeGrant {
            extranonce1,
            session_id: "s".into(),
        })
    }
    fn authorize(&mut self, _: &str, _: &str) -> bool {
        true
    }
    fn check_share(&mut self, _: &ShareCheck) -> Result<(), RpcError> {
        Ok(())
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[0-9a-f]{0,70}".prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop::collection::vec(inner, 0..6).prop_map(Value::Array)
    })
}

const METHODS: &[&str] = &[
    "mining.subscribe",
    "mining.authorize",
    "mining.configure",
    "mining.submit",
    "mining.suggest_difficulty",
    "mining.extranonce.subscribe",
    "mining.notify",
    "mining.set_difficulty",
    "mining.set_extranonce",
    "mining.set_version_mask",
    "client.reconnect",
    "client.get_version",
    "client.show_message",
    "mining.ping",
    "x",
];

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,200}",
        (
            prop::sample::select(METHODS),
            prop::collection::vec(json_value(), 0..10),
            prop::option::of(0u64..5)
        )
            .prop_map(|(m, p, id)| json!({"id": id, "method": m, "params": p}).to_string()),
        (0u64..8, json_value(), json_value())
            .prop_map(|(id, r, e)| json!({"id": id, "result": r, "error": e}).to_string()),
    ]
}

proptest! {
    #[test]
    fn sessions_never_panic_on_any_line(lines in prop::collection::vec(line(), 1..30)) {
        let t = Instant::now();
        let mut client = ClientSession::new(ClientConfig::new("a/1", "u", "p"), t);
        let mut server = ServerSession::new(ServerConfig::default(), t);
        for l in &lines {
            let _ = Message::parse(l);
            client.handle_line(l, t);
            server.handle_line(l, t, &mut AcceptAll);
        }
        while client.poll_transmit().is_some() || client.poll_event().is_some() {}
        while server.poll_transmit().is_some() || server.poll_event().is_some() {}
    }

    #[test]
    fn codec_output_does_not_depend_on_splits(
        data in prop::collection::vec(prop_oneof![Just(b'\n'), Just(b'\r'), Just(b'a'), any::<u8>()], 0..300),
        cuts in prop::collection::vec(0usize..300, 0..8),
        max in 1usize..40,
    ) {
        let mut whole = LineCodec::new(max);
        whole.feed(&data);
        let expected: Vec<_> = std::iter::from_fn(|| whole.next_line()).collect();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        cuts.sort_unstable();
        let mut split = LineCodec::new(max);
        let mut got = Vec::new();
        let mut at = 0;
        for c in cuts.into_iter().chain([data.len()]) {
            split.feed(&data[at..c]);
            at = c;
            got.extend(std::iter::from_fn(|| split.next_line()));
            prop_assert!(split.buffered() <= max + 1);
        }
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn submit_round_trips(
        worker in "[a-zA-Z0-9._]{1,40}",
        job in "[0-9a-f]{1,16}",
        en2 in prop::collection::vec(any::<u8>(), 1..=32),
        ntime in any::<u32>(),
        nonce in any::<u32>(),
        version_bits in prop::option::of(any::<u32>()),
    ) {
        let s = Submit {
            worker,
            job_id: JobId::new(job).unwrap(),
            extranonce2: Extranonce2::from_bytes(en2).unwrap(),
            ntime,
            nonce,
            version_bits,
        };
        let line = Message::from(s.to_request(stratum::Id::Num(4))).to_line();
        let Ok(Message::Request(r)) = Message::parse(line.trim_end()) else { panic!("{line}") };
        prop_assert_eq!(Submit::from_params(&r.params).unwrap(), s);
    }

    #[test]
    fn notify_round_trips(
        prev in any::<[u8; 32]>(),
        coinb1 in prop::collection::vec(any::<u8>(), 0..120),
        coinb2 in prop::collection::vec(any::<u8>(), 0..120),
        branch in prop::collection::vec(any::<[u8; 32]>(), 0..12),
        version in any::<u32>(), nbits in any::<u32>(), ntime in any::<u32>(), clean in any::<bool>(),
    ) {
        let n = Notify {
            job_id: JobId::new("6b0887b300000001").unwrap(),
            prevhash: PrevHash::from_internal(prev),
            coinb1, coinb2, merkle_branch: branch, version, nbits, ntime, clean_jobs: clean,
        };
        let line = Message::from(n.to_notification()).to_line();
        let Ok(Message::Notification(m)) = Message::parse(line.trim_end()) else { panic!("{line}") };
        prop_assert_eq!(Notify::from_params(&m.params).unwrap(), n);
    }
}
