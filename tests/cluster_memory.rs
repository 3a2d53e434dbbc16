//! What one request may make the local cluster hold (issue 11 hole 8), measured on the real
//! `mesos-miner local --cluster-only` process: after calls that briefly need hundreds of MB
//! (a RECONCILE of 100,000 unknown tasks, SUBSCRIBEs with a 7 MB label) its resident memory
//! comes back down instead of staying at the high-water mark.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Proc, free_addr, temp_dir, wait_listening};

/// Resident set size of `pid` in MB.
fn rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// Waits up to 10 s for the RSS to drop under `limit` MB; returns the last reading.
fn settles_under(pid: u32, limit: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rss = rss_mb(pid);
        if rss < limit || Instant::now() > deadline {
            return rss;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// POSTs a JSON scheduler call; returns the connection positioned after the headers.
fn post(addr: SocketAddr, body: &Value, stream_id: Option<&str>) -> (u16, BufReader<TcpStream>) {
    let body = body.to_string();
    let mut s = TcpStream::connect(addr).expect("connect");
    let sid = stream_id.map_or(String::new(), |s| format!("Mesos-Stream-Id: {s}\r\n"));
    let head = format!(
        "POST /api/v1/scheduler HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\n{sid}Content-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("head");
    s.write_all(body.as_bytes()).expect("body");
    let mut r = BufReader::new(s);
    let mut status = String::new();
    r.read_line(&mut status).expect("status line");
    let code = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, r)
}

/// Reads the response headers; returns Mesos-Stream-Id if present.
fn headers(r: &mut BufReader<TcpStream>) -> Option<String> {
    let mut sid = None;
    loop {
        let mut line = String::new();
        r.read_line(&mut line).expect("header");
        if line.trim().is_empty() {
            return sid;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("mesos-stream-id")
        {
            sid = Some(v.trim().to_string());
        }
    }
}

/// SUBSCRIBEs `info`; returns the connection (after the headers), stream id and framework id.
fn subscribe(addr: SocketAddr, info: Value) -> (BufReader<TcpStream>, String, String) {
    let (code, mut r) = post(
        addr,
        &json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}),
        None,
    );
    assert_eq!(code, 200, "SUBSCRIBE answered 200");
    let sid = headers(&mut r).expect("Mesos-Stream-Id");
    // Chunked: a size line, then the first RecordIO record `len\n{json}`.
    let mut buf = Vec::new();
    let fid = loop {
        let mut chunk = [0u8; 4096];
        let n = r.read(&mut chunk).expect("read");
        assert!(n > 0, "stream ended before SUBSCRIBED");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        let key = "\"framework_id\":{\"value\":\"";
        if let Some(at) = text.find(key) {
            let rest = &text[at + key.len()..];
            if let Some(end) = rest.find('"') {
                break rest[..end].to_string();
            }
        }
    };
    (r, sid, fid)
}

#[test]
fn large_calls_do_not_leave_the_cluster_at_its_high_water_mark() {
    let dir = temp_dir("cluster-memory");
    let addr = free_addr();
    let port = addr.port().to_string();
    let work = dir.join("work");
    let cluster = Proc::spawn(
        &[
            "local",
            "--cluster-only",
            "--port",
            &port,
            "--work-dir",
            work.to_str().unwrap(),
        ],
        dir.join("cluster.log"),
    );
    let pid = cluster.child.id();
    wait_listening(addr, &cluster);

    // A scheduler that reads its stream, and five RECONCILEs of 100,000 unknown tasks.
    let (mut stream, sid, fid) = subscribe(addr, json!({"user": "root", "name": "probe"}));
    let drain = std::thread::spawn(move || {
        let mut sink = [0u8; 1 << 16];
        while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    });
    let tasks: Vec<Value> = (0..100_000)
        .map(|i| json!({"task_id": {"value": format!("t{i}")}}))
        .collect();
    let rec =
        json!({"type": "RECONCILE", "framework_id": {"value": fid}, "reconcile": {"tasks": tasks}});
    for _ in 0..5 {
        let (code, _) = post(addr, &rec, Some(&sid));
        assert_eq!(code, 202, "RECONCILE accepted");
    }
    // Without the release the process stays at 300-450 MB here.
    let rss = settles_under(pid, 120);
    assert!(rss < 120, "RSS after five 100k-task reconciles: {rss} MB");

    // Twenty frameworks with a 7 MB label each, gone again (failover_timeout 0).
    let label = "x".repeat(7_000_000);
    for i in 0..20 {
        let info = json!({"user": "root", "name": format!("big{i}"),
            "labels": {"labels": [{"key": "k", "value": label}]}});
        let (conn, _, _) = subscribe(addr, info);
        drop(conn);
    }
    let rss = settles_under(pid, 120);
    assert!(
        rss < 120,
        "RSS after twenty 7 MB-label frameworks left: {rss} MB"
    );
    drop(cluster);
    let _ = drain.join();
}
