//! Replays the requests recorded against a real Mesos (`shared/spec/mesos-transcripts/`)
//! against the local cluster and compares status codes, content types, error texts,
//! headers and event order. Recorded ids are swapped for live ones of the same length, so
//! protobuf bodies stay valid byte for byte.

mod common;

use common::transcript::{self, Exchange, Http, replace};
use common::*;
use proto::Message;
use proto::recordio::Decoder;
use proto::scheduler::Event;

const REC_FID: &str = "35ada085-ef6a-4112-924c-74ca01b7d200-0001";
const REC_STREAM: &str = "0a2b4172-e4e4-4a90-a09b-61388b30070d";

/// Sends a recorded request (ids substituted) and returns the live response.
async fn replay(
    base: &str,
    req: &Http,
    subs: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let method = reqwest::Method::from_bytes(req.method().as_bytes()).expect("method");
    let mut body = req.body.clone();
    for (from, to) in subs {
        body = replace(&body, from, to);
    }
    let mut r = client
        .request(method, format!("{base}{}", req.target()))
        .body(body);
    for (k, v) in &req.headers {
        if k.eq_ignore_ascii_case("host") || k.eq_ignore_ascii_case("content-length") {
            continue;
        }
        let mut v = v.clone();
        for (from, to) in subs {
            v = v.replace(from, to);
        }
        r = r.header(k.as_str(), v);
    }
    let resp = r.send().await.expect("sent");
    let code = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    (
        code,
        headers,
        resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
    )
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Compares one live answer with the recorded one.
async fn check(base: &str, ex: &Exchange, subs: &[(&str, &str)]) {
    let (code, headers, body) = replay(base, &ex.request, subs).await;
    let want = &ex.response;
    let mut want_body = want.body.clone();
    for (from, to) in subs {
        want_body = replace(&want_body, from, to);
    }
    assert_eq!(code, want.status(), "{}: status", ex.title);
    assert_eq!(
        String::from_utf8_lossy(&body),
        String::from_utf8_lossy(&want_body),
        "{}: body",
        ex.title
    );
    assert_eq!(
        header(&headers, "content-type"),
        want.header("content-type"),
        "{}: content type",
        ex.title
    );
    for name in ["allow", "location", "www-authenticate"] {
        assert_eq!(
            header(&headers, name),
            want.header(name),
            "{}: {name}",
            ex.title
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_matrix_matches_recorded_answers() {
    let c = cluster(1).await;
    let sub = Sub::open(&c.master_url(), framework("fidelity", &[])).await;
    let subs = [
        (REC_FID, sub.framework_id.value.as_str()),
        (REC_STREAM, sub.stream_id.as_str()),
    ];
    let exchanges = transcript::exchanges("3-error-responses.txt");
    assert!(
        exchanges.len() >= 17,
        "parsed {} exchanges",
        exchanges.len()
    );
    for ex in &exchanges {
        check(&c.master_url(), ex, &subs).await;
    }
    // Startup probe's last answer (validation error) and the live stream still serves.
    let probe = transcript::exchanges("0-master-startup-probe.txt");
    check(&c.master_url(), probe.last().expect("probe"), &subs).await;
    let rec = proto::calls::scheduler::reconcile(&sub.framework_id, vec![]);
    assert_eq!(sub.call(&rec).await.0, 202);
}

fn event_types(records: &[u8]) -> Vec<i32> {
    proto::recordio::decode_all(records, 1 << 20)
        .expect("recorded records")
        .into_iter()
        .map(|r| Event::decode(r).expect("event").r#type.unwrap_or(0))
        .collect()
}

/// Reads `n` records from a live stream.
async fn records(resp: &mut reqwest::Response, n: usize) -> Vec<bytes::Bytes> {
    let mut dec = Decoder::new(1 << 24);
    let mut out = Vec::new();
    while out.len() < n {
        while let Ok(Some(r)) = dec.decode() {
            out.push(r);
        }
        if out.len() >= n {
            break;
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), resp.chunk()).await;
        match chunk {
            Ok(Ok(Some(c))) => dec.feed(&c),
            _ => break,
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_subscribe_gives_recorded_head_and_event_order() {
    let c = cluster(1).await;
    let req = transcript::parse_http(&transcript::read("1-proto-subscribe.request.bin"));
    let recorded = transcript::parse_http(&transcript::read("1-proto-subscribe.raw-socket.bin"));
    let client = reqwest::Client::new();
    let mut r = client
        .post(format!("{}{}", c.master_url(), req.target()))
        .body(transcript::read("1-proto-subscribe.request-body.bin"));
    for (k, v) in req
        .headers
        .iter()
        .filter(|(k, _)| k != "Host" && k != "Content-Length")
    {
        r = r.header(k.as_str(), v.as_str());
    }
    let mut resp = r.send().await.expect("subscribe");
    assert_eq!(resp.status().as_u16(), recorded.status());
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        recorded.header("content-type")
    );
    assert_eq!(
        resp.headers()
            .get("transfer-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("chunked")
    );
    let sid = resp
        .headers()
        .get("mesos-stream-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(
        sid.len(),
        recorded
            .header("mesos-stream-id")
            .map(str::len)
            .unwrap_or(0)
    );
    // Recorded: SUBSCRIBED, HEARTBEAT (at once), OFFERS, HEARTBEAT.
    let want = event_types(&transcript::read("1-proto-first-records.bin"));
    let got: Vec<i32> = records(&mut resp, want.len())
        .await
        .into_iter()
        .map(|r| Event::decode(r).expect("event").r#type.unwrap_or(0))
        .collect();
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_subscribe_gives_recorded_types_and_heartbeat_bytes() {
    let c = cluster(1).await;
    // Recorded without an Accept header: a JSON stream anyway (JSON is tested first).
    let text =
        String::from_utf8_lossy(&transcript::read("2b-json-subscribe-noaccept.txt")).to_string();
    let block = text
        .split("request:\n")
        .nth(1)
        .and_then(|t| t.split("\n\nresponse head:").next())
        .expect("request block");
    let req = transcript::parse_http(block.as_bytes());
    assert_eq!(req.header("accept"), None);
    let resp = post(
        &format!("{}{}", c.master_url(), req.target()),
        req.body.clone(),
        &[("Content-Type", "application/json")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let mut resp = resp;
    let recorded =
        proto::recordio::decode_all(&transcript::read("2-json-first-records.bin"), 1 << 20)
            .expect("records");
    let live = records(&mut resp, 3).await;
    let kind = |r: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(r)
            .ok()
            .and_then(|v| v["type"].as_str().map(String::from))
    };
    let want: Vec<_> = recorded.iter().take(3).map(|r| kind(r)).collect();
    let got: Vec<_> = live.iter().map(|r| kind(r)).collect();
    assert_eq!(got, want);
    // The HEARTBEAT record is byte-identical: `20\n{"type":"HEARTBEAT"}`.
    assert_eq!(live[1], recorded[1]);
}
