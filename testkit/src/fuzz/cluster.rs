//! `cluster_http`: the local cluster's HTTP request handling as a function
//! (`local_cluster::fuzzing::HttpSim`: one master, one agent, no sockets), fed a script of
//! requests.
//!
//! Input: records separated by `\n%%\n` (at most [`MAX_RECORDS`]). A record's first line
//! is one of
//! - `m METHOD PATH [key=value ...]` or `a ...`: a request to the master's scheduler API or
//!   the agent's executor API; the rest of the record is the body. Keys: `ct`
//!   (Content-Type), `accept`, `sid` (Mesos-Stream-Id), `auth` (`basic:principal:secret`,
//!   or a literal value with `~` for spaces); `json` and `proto` abbreviate the two
//!   content types;
//! - `tick MILLISECONDS`: time passes; `close`: every stream's client goes away;
//! - `creds principal:secret[,...]`, first record only: the master requires HTTP Basic.
//!
//! In header values and bodies `$SID`, `$FID`, `$OFFER` and `$AGENT` become the latest
//! stream id, framework id, offer id and the agent id, so a script can follow a whole
//! framework life (subscribe, accept, executor subscribe, update, acknowledge).

use base64::Engine;
use local_cluster::fuzzing::{Endpoint, HttpSim, SimReply, SimRequest};
use std::time::Duration;

/// Most records run per input (keeps one execution short).
pub const MAX_RECORDS: usize = 64;

/// The record separator.
const SEPARATOR: &[u8] = b"\n%%\n";

/// `cluster_http`. Checks: every reply has a valid status code, a stream id only comes
/// with a 200, and the same script gives the same replies twice (the cores are
/// deterministic for a seed: `local_cluster`'s ids module).
pub fn http(data: &[u8]) {
    let records: Vec<&[u8]> = split(data, SEPARATOR).take(MAX_RECORDS).collect();
    let first = run(&records);
    for reply in &first {
        assert!((100..600).contains(&reply.code), "status {}", reply.code);
        if reply.mesos_stream_id.is_some() {
            assert_eq!(reply.code, 200, "a stream id with status {}", reply.code);
        }
    }
    assert_eq!(run(&records), first, "the same requests gave other replies");
}

fn run(records: &[&[u8]]) -> Vec<SimReply> {
    let first = records.first().map(|r| head(r).0).unwrap_or_default();
    let credentials = first
        .strip_prefix("creds ")
        .map(credentials)
        .unwrap_or_default();
    let mut sim = HttpSim::new(7, credentials);
    let mut stream_id: Option<String> = None;
    let mut replies = Vec::new();
    for record in records {
        let (line, body) = head(record);
        let mut words = line.split(' ');
        let to = match words.next() {
            Some("m") => Endpoint::Master,
            Some("a") => Endpoint::Agent,
            Some("tick") => {
                let ms = words.next().and_then(|w| w.parse().ok()).unwrap_or(1000u64);
                sim.advance(Duration::from_millis(ms.min(86_400_000)));
                continue;
            }
            Some("close") => {
                sim.close_streams();
                continue;
            }
            _ => continue,
        };
        let ids = Ids::of(&sim, stream_id.as_deref());
        let mut req = SimRequest {
            method: words.next().unwrap_or("POST").to_string(),
            path_and_query: words.next().unwrap_or("/").to_string(),
            body: ids.substitute(body),
            ..SimRequest::default()
        };
        for (key, value) in words.filter_map(|w| w.split_once('=')) {
            header(&mut req, key, &ids.substitute_str(value));
        }
        let reply = sim.request(to, req);
        if let Some(sid) = &reply.mesos_stream_id {
            stream_id = Some(sid.clone());
        }
        replies.push(reply);
    }
    replies
}

/// The ids a script refers to with `$` names, at the time of one request.
struct Ids {
    pairs: [(&'static str, String); 4],
}

impl Ids {
    fn of(sim: &HttpSim, stream_id: Option<&str>) -> Ids {
        let text = |v: Option<&str>| v.unwrap_or("none").to_string();
        Ids {
            pairs: [
                ("$SID", text(stream_id)),
                ("$FID", text(sim.framework_id())),
                ("$OFFER", text(sim.offer_id())),
                ("$AGENT", sim.agent_id().to_string()),
            ],
        }
    }

    fn substitute(&self, body: &[u8]) -> Vec<u8> {
        let mut out = body.to_vec();
        for (name, value) in &self.pairs {
            out = replace(&out, name.as_bytes(), value.as_bytes());
        }
        out
    }

    fn substitute_str(&self, text: &str) -> String {
        String::from_utf8_lossy(&self.substitute(text.as_bytes())).into_owned()
    }
}

fn header(req: &mut SimRequest, key: &str, value: &str) {
    let value = match value {
        "json" => "application/json".to_string(),
        "proto" => "application/x-protobuf".to_string(),
        v => v.replace('~', " "),
    };
    match key {
        "ct" => req.content_type = Some(value),
        "accept" => req.accept = Some(value),
        "sid" => req.stream_id = Some(value),
        "auth" => req.authorization = Some(authorization(&value)),
        _ => {}
    }
}

fn authorization(value: &str) -> String {
    match value.strip_prefix("basic:") {
        Some(pair) => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(pair);
            format!("Basic {b64}")
        }
        None => value.to_string(),
    }
}

fn credentials(list: &str) -> Vec<(String, String)> {
    list.split(',')
        .filter_map(|pair| pair.split_once(':'))
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

/// A record's first line (lossy text) and the bytes after it.
fn head(record: &[u8]) -> (String, &[u8]) {
    let (line, body) = match record.iter().position(|&b| b == b'\n') {
        Some(i) => (&record[..i], &record[i + 1..]),
        None => (record, &record[record.len()..]),
    };
    (String::from_utf8_lossy(line).into_owned(), body)
}

/// `data` split at every `sep`.
fn split<'a>(data: &'a [u8], sep: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let current = rest?;
        match find(current, sep) {
            Some(i) => {
                rest = Some(&current[i + sep.len()..]);
                Some(&current[..i])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    while let Some(i) = find(rest, from) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(to);
        rest = &rest[i + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}
