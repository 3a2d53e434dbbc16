//! Replays the requests recorded against a real Mesos (`testdata/mesos-transcripts/`)
//! against the local cluster and compares status codes, content types, error texts,
//! headers and event order. Recorded ids are swapped for live ones of the same length, so
//! protobuf bodies stay valid byte for byte.

use crate::common;

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

fn exec_types(records: &[bytes::Bytes]) -> Vec<i32> {
    records
        .iter()
        .map(|r| {
            proto::executor::Event::decode(r.clone())
                .expect("event")
                .r#type
                .unwrap_or(0)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_calls_match_recorded_answers_and_acknowledgements() {
    use proto::executor::event::Type as Ev;
    let c = cluster(1).await;
    let mut sub = Sub::open(&c.master_url(), framework("fidelity-exec", &[])).await;
    let offer = sub.offer().await;
    // The recorded executor is played by this test: the process itself never subscribes.
    let mut task = executor_task("py-1", "pyexec-1", &offer, "x");
    if let Some(cmd) = task.executor.as_mut().and_then(|e| e.command.as_mut()) {
        cmd.uris.clear();
        cmd.value = Some("sleep 30".into());
    }
    assert_eq!(
        sub.call(&launch(&sub.framework_id, &offer, vec![task]))
            .await
            .0,
        202
    );
    let agent = c.agent_url(&offer.agent_id.value).expect("agent url");
    let fid = sub.framework_id.value.clone();
    let subs = [(REC_FID, fid.as_str())];
    let exchanges = transcript::exchanges("5-executor-calls.txt");
    assert!(exchanges.len() >= 11, "parsed {}", exchanges.len());
    // 1. MESSAGE before SUBSCRIBE: 403 "Executor is not subscribed" (may race the launch).
    for _ in 0..50 {
        let (code, _, _) = replay(&agent, &exchanges[0].request, &subs).await;
        if code == 403 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    check(&agent, &exchanges[0], &subs).await;
    // 2. The recorded SUBSCRIBE: same head (no Mesos-Stream-Id), SUBSCRIBED then LAUNCH.
    let head = String::from_utf8_lossy(&transcript::read("5-executor-subscribe.response-head.txt"))
        .to_string();
    let literal = head.split("request:\n").nth(1).expect("request");
    let (raw, _) = transcript::py_bytes(literal).expect("bytes literal");
    let req = transcript::parse_http(&raw);
    let client = reqwest::Client::new();
    let mut r = client
        .post(format!("{agent}{}", req.target()))
        .body(replace(&req.body, REC_FID, &fid));
    for (k, v) in req
        .headers
        .iter()
        .filter(|(k, _)| k != "Host" && k != "Content-Length")
    {
        r = r.header(k.as_str(), v.as_str());
    }
    let mut stream = r.send().await.expect("subscribe");
    assert_eq!(stream.status().as_u16(), 200);
    assert_eq!(
        stream
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some(PB)
    );
    assert!(stream.headers().get("mesos-stream-id").is_none());
    let recorded =
        proto::recordio::decode_all(&transcript::read("5-executor-subscribe.body.bin"), 1 << 20)
            .expect("records");
    let first = records(&mut stream, 2).await;
    assert_eq!(exec_types(&first), exec_types(&recorded[..2]));
    // 3. Every other recorded call, in order: 202s, validation 400s, 415.
    for ex in &exchanges[1..] {
        check(&agent, ex, &subs).await;
    }
    // 4. ACKNOWLEDGED for each accepted UPDATE, with its uuid, as recorded (the recorded
    //    stream also had a scheduler MESSAGE in between; we sent none).
    let acks = records(&mut stream, 3).await;
    let want: Vec<i32> = exec_types(&recorded[2..])
        .into_iter()
        .filter(|t| *t != Ev::Message as i32)
        .collect();
    assert_eq!(exec_types(&acks), want);
    let recorded_uuids: Vec<Vec<u8>> = recorded[2..]
        .iter()
        .filter_map(|r| {
            proto::executor::Event::decode(r.clone())
                .ok()?
                .acknowledged
                .map(|a| a.uuid)
        })
        .collect();
    let live_uuids: Vec<Vec<u8>> = acks
        .iter()
        .filter_map(|r| {
            proto::executor::Event::decode(r.clone())
                .ok()?
                .acknowledged
                .map(|a| a.uuid)
        })
        .collect();
    assert_eq!(live_uuids, recorded_uuids);
    // 5. The framework got the three updates, with the executor's uuids, and messages.
    for uuid in &recorded_uuids {
        let st = sub.update("py-1", true).await;
        assert_eq!(st.uuid.as_ref(), Some(uuid));
    }
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_master_redirects_as_recorded_after_failover() {
    let c = cluster(1).await;
    let old = c.master_url();
    let new = c.failover_master().await.expect("failover");
    let port = new.rsplit(':').next().unwrap_or_default().to_string();
    let leader = format!("127.0.0.1:{port}");
    for ex in transcript::exchanges("3n-redirect-307-non-leader.txt") {
        let (code, headers, body) = replay(&old, &ex.request, &[]).await;
        assert_eq!(code, 307, "{}", ex.title);
        assert!(body.is_empty(), "{}: empty body", ex.title);
        let want = ex
            .response
            .header("location")
            .expect("recorded location")
            .replace("localhost:5060", &leader);
        assert_eq!(
            header(&headers, "location"),
            Some(want.as_str()),
            "{}",
            ex.title
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_negotiation_matches_recorded_outcomes() {
    let c = cluster(1).await;
    let text = String::from_utf8_lossy(&transcript::read("2d-accept-negotiation.txt")).to_string();
    let body = proto::calls::scheduler::subscribe(framework("negotiation", &[])).encode_to_vec();
    let mut checked = 0;
    for section in text.split("### ").skip(1) {
        let Some(hline) = section.lines().find(|l| l.starts_with("request headers: ")) else {
            continue;
        };
        // `[('Content-Type', 'application/x-protobuf'), ('Accept', '*/*')]`
        let pairs: Vec<(String, String)> = hline
            .split("('")
            .skip(1)
            .filter_map(|p| {
                let (k, rest) = p.split_once("', '")?;
                Some((k.to_string(), rest.split("')").next()?.to_string()))
            })
            .collect();
        let head = section.split("response head:\n").nth(1).unwrap_or("");
        let want = transcript::parse_http(
            head.split("\n\nfirst record")
                .next()
                .unwrap_or("")
                .as_bytes(),
        );
        let headers: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let resp = post(
            &format!("{}/api/v1/scheduler", c.master_url()),
            body.clone(),
            &headers,
        )
        .await;
        assert_eq!(resp.status().as_u16(), want.status(), "{section}");
        assert_eq!(
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            want.header("content-type"),
            "{section}"
        );
        checked += 1;
    }
    assert_eq!(checked, 6);
}

const REC_AGENT: &str = "57b9e4b5-f6ed-424f-8b89-cac804692f47-S0";

/// The recorded offer id in a title like `ACCEPT offer(s) ['<id>']: …`.
fn title_offer(title: &str) -> Option<String> {
    Some(title.split("['").nth(1)?.split('\'').next()?.to_string())
}

/// Removes HTTP/1.1 chunked framing from a recorded body.
fn dechunk(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..i]).unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&rest[i + 2..i + 2 + size]);
        rest = &rest[i + 2 + size + 2..];
    }
    out
}

/// Replays every recorded scheduler call of `4-proto-calls.txt` in order, with the live
/// framework, stream, agent and offer ids and the live update uuids in each ACKNOWLEDGE.
/// The Python executor task (py-1) cannot run here: its ACCEPT is left out, its other
/// calls are replayed as recorded (202 either way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_scheduler_calls_replay_with_recorded_answers() {
    let c = cluster(1).await;
    let sub_call = proto::scheduler::Call::decode(
        transcript::read("1-proto-subscribe.request-body.bin").as_slice(),
    )
    .expect("call");
    let info = sub_call.subscribe.expect("subscribe").framework_info;
    let mut sub = Sub::open(&c.master_url(), info).await;
    let fid = sub.framework_id.value.clone();
    let sid = sub.stream_id.clone();
    let agent = c.agent_ids()[0].clone();
    let mut subs: Vec<(String, String)> = vec![
        (REC_FID.into(), fid.clone()),
        (REC_STREAM.into(), sid),
        (REC_AGENT.into(), agent),
    ];
    let exchanges = transcript::exchanges("4-proto-calls.txt");
    assert_eq!(exchanges.len(), 19, "every recorded call parsed");
    for ex in exchanges {
        let t = ex.title.clone();
        if t.contains("LAUNCH task py-1") {
            continue;
        }
        if (t.starts_with("DECLINE offer(s)") || t.starts_with("ACCEPT offer(s)"))
            && !t.contains("unknown")
        {
            let offer = sub.offer().await;
            subs.push((title_offer(&t).expect("offer id"), offer.id.value.clone()));
        }
        if let Some(rest) = t.strip_prefix("ACKNOWLEDGE sleep") {
            let mut words = rest.split(' ');
            let task = format!("sleep{}", words.next().unwrap_or_default());
            let state = words.next().unwrap_or_default().to_string();
            let hex = t
                .split("uuid=")
                .nth(1)
                .and_then(|u| u.split(' ').next())
                .unwrap_or_default();
            let rec_uuid: Vec<u8> = (0..16)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0))
                .collect();
            let live = loop {
                let st = sub.update(&task, false).await;
                if proto::v1::TaskState::try_from(st.state)
                    .map(|s| s.as_str_name() == state)
                    .unwrap_or(false)
                {
                    break st;
                }
            };
            let live_uuid = live.uuid.expect("reliable update");
            let mut body = ex.request.body.clone();
            body = replace_bytes(&body, &rec_uuid, &live_uuid);
            let mut ex2 = ex.clone();
            ex2.request.body = body;
            let s: Vec<(&str, &str)> = subs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            check(&c.master_url(), &ex2, &s).await;
            continue;
        }
        let s: Vec<(&str, &str)> = subs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        if t.starts_with("re-SUBSCRIBE") {
            let (code, headers, body) = replay(&c.master_url(), &ex.request, &s).await;
            assert_eq!(code, 200);
            assert_eq!(header(&headers, "content-type"), Some(PB));
            assert_eq!(
                body,
                dechunk(&ex.response.body),
                "ERROR event bytes as recorded"
            );
            continue;
        }
        check(&c.master_url(), &ex, &s).await;
        if t.starts_with("RECONCILE explicit") {
            compare_reconciliation(&mut sub, 0, 5).await;
        }
        if t.starts_with("RECONCILE implicit") {
            compare_reconciliation(&mut sub, 5, 1).await;
        }
    }
}

/// The live reconciliation answers against the recorded ones (`1-proto-stream.body.bin`):
/// same tasks, states, messages, reasons, source, agent id presence, and no uuid.
async fn compare_reconciliation(sub: &mut Sub, skip: usize, n: usize) {
    use proto::v1::task_status::Reason;
    let recorded: Vec<proto::v1::TaskStatus> =
        proto::recordio::decode_all(&transcript::read("1-proto-stream.body.bin"), 1 << 20)
            .expect("records")
            .into_iter()
            .filter_map(|r| Event::decode(r).ok()?.update.map(|u| u.status))
            .filter(|st| st.reason == Some(Reason::Reconciliation as i32))
            .skip(skip)
            .take(n)
            .collect();
    assert_eq!(recorded.len(), n);
    let key = |st: &proto::v1::TaskStatus| {
        (
            st.task_id.value.clone(),
            st.state,
            st.message.clone(),
            st.source,
            st.agent_id.is_some(),
            st.uuid.clone(),
        )
    };
    for want in &recorded {
        let got = loop {
            let ev = sub.expect(proto::scheduler::event::Type::Update).await;
            let st = ev.update.expect("update").status;
            if st.reason == Some(Reason::Reconciliation as i32) {
                break st;
            }
        };
        assert_eq!(key(&got), key(want));
    }
}

fn replace_bytes(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    if let Some(i) = out.windows(from.len()).position(|w| w == from) {
        out[i..i + from.len()].copy_from_slice(to);
    }
    out
}
