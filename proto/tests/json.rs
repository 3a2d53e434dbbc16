//! The JSON codec against a real Mesos: every JSON event a master streamed and every JSON
//! call a client sent in the recordings decodes with our field and enum names, and encodes
//! back to the same JSON (the same bytes for Mesos's own compact events; the same JSON value
//! for the Python-written calls, whose spacing and number style differ).

use crate::common;

use common::{Http, files_ending, short};
use proto::json::{from_json, to_json};
use proto::{executor, recordio, scheduler};
use serde_json::Value;

/// JSON events of a recorded JSON subscription, from de-chunked bodies and raw sockets.
fn recorded_json_events() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for path in files_ending(".bin") {
        let name = short(&path);
        let raw = std::fs::read(&path).expect("readable .bin");
        let body = if name.ends_with("raw-socket.bin") {
            let http = Http::parse(&raw).unwrap_or_else(|e| panic!("{name}: {e}"));
            if http.status() != 200 || http.header("content-type") != Some("application/json") {
                continue;
            }
            http.body
        } else if name.starts_with("2")
            && (name.ends_with("body.bin") || name.ends_with("first-records.bin"))
        {
            raw
        } else {
            continue;
        };
        let records = recordio::decode_all(&body, recordio::DEFAULT_MAX_RECORD)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (i, record) in records.into_iter().enumerate() {
            out.push((format!("{name} record #{i}"), record.to_vec()));
        }
    }
    out
}

/// Some recorded timestamps (`recovery/8-*`, `recovery/9-*`) end one digit above the
/// shortest form of their double (`…3700884` where the double's shortest and `%.17g` forms
/// are `…3700883`): both texts parse to the same IEEE double, so the bytes may differ only in
/// such a token. Anything else must be identical.
fn same_but_float_digits(ours: &[u8], recorded: &[u8]) -> bool {
    let (Ok(a), Ok(b)) = (
        serde_json::from_slice::<Value>(ours),
        serde_json::from_slice::<Value>(recorded),
    ) else {
        return false;
    };
    a == b && ours.len() == recorded.len()
}

#[test]
fn every_recorded_json_event_decodes_and_re_encodes_byte_for_byte() {
    let events = recorded_json_events();
    let mut failures = Vec::new();
    let mut same_value = 0;
    for (origin, json) in &events {
        // `recovery/exec-*` are executor subscriptions; everything else is a scheduler's.
        let round_trip = if origin.contains("exec-") {
            from_json::<executor::Event>(json).and_then(|event| to_json(&event))
        } else {
            from_json::<scheduler::Event>(json).and_then(|event| to_json(&event))
        };
        match round_trip {
            Ok(ours) if &ours == json => {}
            Ok(ours) if same_but_float_digits(&ours, json) => same_value += 1,
            Ok(ours) => failures.push(format!(
                "{origin}:\n  recorded {}\n  ours     {}",
                String::from_utf8_lossy(json),
                String::from_utf8_lossy(&ours)
            )),
            Err(err) => failures.push(format!("{origin}: {err}")),
        }
    }
    println!(
        "{} recorded JSON events, {same_value} equal but for a float's last digit",
        events.len()
    );
    assert!(
        failures.is_empty(),
        "{} JSON events differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        events.len() >= 10,
        "only {} JSON events found",
        events.len()
    );
}

#[test]
fn json_events_carry_what_mesos_meant() {
    let events = recorded_json_events();
    let offers = events
        .iter()
        .filter_map(|(_, json)| from_json::<scheduler::Event>(json).ok())
        .find_map(|e| e.offers)
        .expect("a recorded OFFERS event");
    let offer = &offers.offers[0];
    let ports = proto::resources::port_ranges(&offer.resources);
    assert_eq!(ports, vec![31000..=32000]);
    assert!(proto::resources::sum_scalar(&offer.resources, "cpus") > 0.0);
}

/// JSON bodies of recorded requests: a `{"type": ...}` line of a .txt file.
fn recorded_json_calls() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for path in files_ending(".txt") {
        let text = std::fs::read_to_string(&path).expect("readable .txt");
        for (n, line) in text.lines().enumerate() {
            if line.starts_with("{\"type\"") {
                out.push((
                    format!("{} line {}", short(&path), n + 1),
                    line.as_bytes().to_vec(),
                ));
            }
        }
    }
    out
}

/// Numbers compare by value (Python wrote `2`, we write `2.0` for a double).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn every_recorded_json_call_decodes_and_re_encodes_to_the_same_json() {
    let calls = recorded_json_calls();
    let mut failures = Vec::new();
    for (origin, json) in &calls {
        let recorded: Value = serde_json::from_slice(json).expect("recorded call is JSON");
        match from_json::<scheduler::Call>(json).and_then(|call| to_json(&call)) {
            Ok(ours) => {
                let ours: Value = serde_json::from_slice(&ours).expect("our JSON parses");
                if !same_json(&recorded, &ours) {
                    failures.push(format!(
                        "{origin}:\n  recorded {recorded}\n  ours     {ours}"
                    ));
                }
            }
            Err(err) => failures.push(format!("{origin}: {err}")),
        }
    }
    println!("{} recorded JSON calls", calls.len());
    assert!(
        failures.is_empty(),
        "{} JSON calls differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(calls.len() >= 10, "only {} JSON calls found", calls.len());
}
