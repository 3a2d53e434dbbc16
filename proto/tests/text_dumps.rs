//! The recordings also show many calls and events only as protobuf text dumps (KILL with a
//! kill_policy, calls of the recovery runs, the checks of 6-extra-scheduler-checks.txt).
//! Text format names every field and enum value, so parsing every dump with our descriptors
//! checks the names of our .proto against Mesos's; every dumped call must then be rebuilt
//! by the `proto::calls` builders to the same message.

use crate::common;

use common::rebuild::{rebuild_executor, rebuild_scheduler};
use common::{files_ending, is_executor_file, short};
use prost_reflect::{DynamicMessage, MessageDescriptor};
use proto::{Message, executor, scheduler};

/// A text dump and the nearest non-dump line above it (says CALL / EVENT / hex ...).
struct Dump {
    origin: String,
    header: String,
    text: String,
}

fn starts_field(line: &str) -> bool {
    // `hex: 0801...` lines of the event dumps are not text format.
    if line.starts_with("hex: ") {
        return false;
    }
    let name_len = line
        .bytes()
        .take_while(|b| b.is_ascii_lowercase() || *b == b'_')
        .count();
    name_len > 0 && (line[name_len..].starts_with(" {") || line[name_len..].starts_with(": "))
}

/// Top-level text-format blocks: runs of lines starting at column 0 with `name {` or
/// `name: value`, with their nested lines, until the braces close and no field follows.
fn dumps(path: &std::path::Path) -> Vec<Dump> {
    let text = std::fs::read_to_string(path).expect("readable .txt");
    let mut out = Vec::new();
    let (mut header, mut block, mut depth, mut start) = (String::new(), String::new(), 0i32, 0);
    for (n, line) in text.lines().enumerate() {
        let continues = depth > 0 || starts_field(line);
        if continues {
            if block.is_empty() {
                start = n + 1;
            }
            block.push_str(line);
            block.push('\n');
            let trimmed = line.trim();
            if trimmed.ends_with('{') {
                depth += 1;
            } else if trimmed == "}" {
                depth -= 1;
            }
            continue;
        }
        if !block.is_empty() {
            let origin = format!("{} line {start}", short(path));
            out.push(Dump {
                origin,
                header: header.clone(),
                text: std::mem::take(&mut block),
            });
        }
        if !line.trim().is_empty() {
            header = line.to_owned();
        }
    }
    if !block.is_empty() {
        out.push(Dump {
            origin: format!("{} line {start}", short(path)),
            header,
            text: block,
        });
    }
    out
}

fn descriptor(name: &str) -> MessageDescriptor {
    proto::json::descriptor_pool()
        .expect("pool")
        .get_message_by_name(name)
        .expect("known message")
}

/// Which message a dump is, from its header line; None for dumps of other things.
fn message_name(header: &str, executor_side: bool) -> Option<&'static str> {
    let is_call = ["CALL", "Call (text)", "Call:", "SUBSCRIBE attempt"]
        .iter()
        .any(|m| header.contains(m));
    let is_event = [
        "EVENT",
        "hex",
        "event #",
        "recordio header",
        "decoded first record",
    ]
    .iter()
    .any(|m| header.contains(m));
    match (is_call, is_event, executor_side) {
        (true, _, false) => Some("mesos.v1.scheduler.Call"),
        (true, _, true) => Some("mesos.v1.executor.Call"),
        (false, true, false) => Some("mesos.v1.scheduler.Event"),
        (false, true, true) => Some("mesos.v1.executor.Event"),
        _ => None,
    }
}

fn check(dump: &Dump, name: &str) -> Result<(), String> {
    let dynamic = DynamicMessage::parse_text_format(descriptor(name), &dump.text)
        .map_err(|e| format!("{name}: {e}"))?;
    let bytes = dynamic.encode_to_vec();
    let rebuilt = match name {
        "mesos.v1.scheduler.Call" => {
            let call = scheduler::Call::decode(bytes.as_slice()).map_err(|e| e.to_string())?;
            rebuild_scheduler(&call).map(|c| c == call)
        }
        "mesos.v1.executor.Call" => {
            let call = executor::Call::decode(bytes.as_slice()).map_err(|e| e.to_string())?;
            rebuild_executor(&call).map(|c| c == call)
        }
        "mesos.v1.scheduler.Event" => scheduler::Event::decode(bytes.as_slice())
            .map(|_| true)
            .ok(),
        _ => executor::Event::decode(bytes.as_slice()).map(|_| true).ok(),
    };
    match rebuilt {
        Some(true) => Ok(()),
        Some(false) => Err(format!("{name}: the builders make a different message")),
        None => Err(format!("{name}: no builder or no decode")),
    }
}

#[test]
fn every_text_dump_parses_with_our_names_and_calls_rebuild() {
    let mut failures = Vec::new();
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    let mut garbled = Vec::new();
    for path in files_ending(".txt") {
        for dump in dumps(&path) {
            let Some(name) = message_name(&dump.header, is_executor_file(&path)) else {
                continue;
            };
            if dump.text.contains("[20:") {
                // Two executors wrote the same log file at once (recovery/README.md: "one
                // line around 20:45:2x is garbled"); that event's hex dump is checked instead.
                garbled.push(dump.origin);
                continue;
            }
            match check(&dump, name) {
                Ok(()) => *counts.entry(name).or_default() += 1,
                Err(err) => {
                    failures.push(format!("{} (after {:?}): {err}", dump.origin, dump.header))
                }
            }
        }
    }
    println!("text dumps checked: {counts:?}; garbled and skipped: {garbled:?}");
    assert!(
        garbled.len() <= 1,
        "more garbled dumps than the README reports: {garbled:?}"
    );
    assert!(
        failures.is_empty(),
        "{} dumps failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let at_least = [
        ("mesos.v1.scheduler.Call", 100),
        ("mesos.v1.scheduler.Event", 80),
        ("mesos.v1.executor.Call", 25),
        ("mesos.v1.executor.Event", 30),
    ];
    for (name, min) in at_least {
        let n = counts.get(name).copied().unwrap_or(0);
        assert!(n >= min, "only {n} {name} dumps found");
    }
}
