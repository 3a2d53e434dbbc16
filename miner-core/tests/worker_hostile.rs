//! The worker against pools that behave as attackers would (issue 11, the miner's holes),
//! each with the probe's input: `client.reconnect` to another host (ignored unless
//! `--allow-redirect`; a redirect that fails falls back to the `-o` list), `set_difficulty
//! [1e-300]` (a difficulty floor, a submit rate limit, bounded queues), 20,000 stray
//! replies (a few warning lines, not 20,000).
//!
//! Bounds on submit counts are the token bucket's own: at most one second's worth plus the
//! rate times the time the test measured, whatever the machine's speed.

use std::time::{Duration, Instant};

use crate::support::{EASY, accept, capture_logs, config, start};
use miner_core::worker::api::snapshot;
use serde_json::json;
use testkit::stratum::header::meets_difficulty;
use testkit::stratum::lines::PATIENCE;
use testkit::stratum::pool::{FakeJob, PoolConn, Submitted};
use tokio::net::{TcpListener, TcpStream};

const EN1: [u8; 4] = [0x11, 0x22, 0x33, 0x44];

async fn listen() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("stratum+tcp://{}", l.local_addr().unwrap());
    (l, url)
}

/// Asks `client.get_version` on `p` and answers everything else until the reply: `true`
/// when the miner is still on this connection.
async fn still_connected(p: &mut PoolConn<TcpStream>) -> bool {
    p.send(&json!({"id": 900, "method": "client.get_version", "params": []}))
        .await;
    while let Some(v) = p.recv().await {
        if v["id"] == 900 && v.get("method").is_none() {
            return true;
        }
        p.reply(&v["id"], json!(true)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_to_another_host_is_ignored_by_default() {
    let (l, url) = listen().await;
    let w = start(config(&[url]));
    let mut p = accept(&l).await;
    p.handshake("h1", &EN1, None).await;
    for host in ["192.0.2.1", "pool.example.invalid"] {
        p.send(&json!({"id": null, "method": "client.reconnect", "params": [host, 3333, 0]}))
            .await;
        assert!(
            still_connected(&mut p).await,
            "followed a redirect to {host}"
        );
    }
    let job = FakeJob::new("h", 1);
    p.difficulty(EASY).await;
    p.send(&job.notify(true)).await;
    p.collect(2, &[&job], &EN1, EASY, 0).await;
    w.stop().await;
}

/// A pool on the configured slot sends the miner to `host`:`dead port`; the miner must come
/// back to the configured pool.
async fn redirect_to_a_dead_port_comes_back(host: &str, allow_redirect: bool) {
    let (l, url) = listen().await;
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let mut c = config(&[url]);
    c.allow_redirect = allow_redirect;
    let w = start(c);
    let mut p = accept(&l).await;
    p.handshake("d1", &EN1, None).await;
    p.send(&json!({"id": null, "method": "client.reconnect", "params": [host, dead_port, 0]}))
        .await;
    assert!(p.recv().await.is_none(), "the miner follows the redirect");
    let mut back = accept(&l).await;
    back.handshake("d2", &EN1, None).await;
    let job = FakeJob::new("d", 2);
    back.difficulty(EASY).await;
    back.send(&job.notify(true)).await;
    back.collect(2, &[&job], &EN1, EASY, 0).await;
    assert_eq!(
        snapshot(&w.status).pool.as_deref(),
        Some(format!("stratum+tcp://{}", l.local_addr().unwrap()).as_str())
    );
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_redirect_on_the_same_host_falls_back_to_the_configured_pool() {
    redirect_to_a_dead_port_comes_back("127.0.0.1", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_redirect_to_another_host_that_fails_falls_back_too() {
    redirect_to_a_dead_port_comes_back("localhost", true).await;
}

/// Submits allowed from a bucket of `rate` a second in `elapsed`.
fn bucket_bound(rate: u32, elapsed: Duration) -> usize {
    (f64::from(rate) * (1.0 + elapsed.as_secs_f64())).ceil() as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_difficulty_1e_300_is_floored_and_submits_are_rate_limited() {
    let (l, url) = listen().await;
    let mut c = config(&[url]);
    c.max_submits_per_second = 5;
    let floor = c.min_difficulty;
    let t0 = Instant::now();
    let w = start(c);
    let mut p = accept(&l).await;
    p.handshake("f1", &EN1, None).await;
    let job = FakeJob::new("f", 3);
    p.difficulty(1e-300).await;
    p.send(&job.notify(true)).await;
    let mut submits = 0;
    while snapshot(&w.status).dropped < 20 {
        let v = tokio::time::timeout(PATIENCE, p.recv())
            .await
            .expect("the miner keeps submitting")
            .expect("connection open");
        if v["method"] == "mining.submit" {
            let s = Submitted::parse(v["params"].as_array().unwrap());
            let hash = job.share_hash(&EN1, &s, 0);
            assert!(meets_difficulty(&hash, floor), "a share under the floor");
            submits += 1;
        }
        p.reply(&v["id"], json!(true)).await;
    }
    assert!(
        submits <= bucket_bound(5, t0.elapsed()),
        "{submits} submits"
    );
    assert!(snapshot(&w.status).accepted >= 1);
    w.stop().await;
}

/// Resident memory of this test process, in bytes (Linux), if known.
fn rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_pool_flooded_with_shares_gets_few_submits_in_bounded_memory() {
    let (l, url) = listen().await;
    let mut c = config(&[url]);
    c.max_submits_per_second = 5;
    // No floor: every hash is a share, the worst flood the search can make.
    c.min_difficulty = 0.0;
    let t0 = Instant::now();
    let w = start(c);
    let mut p = accept(&l).await;
    p.handshake("s1", &EN1, None).await;
    let job = FakeJob::new("s", 4);
    p.difficulty(1e-300).await;
    p.send(&job.notify(true)).await;
    let before = rss();
    // The pool reads every line and answers none of the submits.
    let reader = tokio::spawn(async move {
        let mut submits = 0usize;
        while let Some(v) = p.recv().await {
            if v["method"] == "mining.submit" {
                submits += 1;
            }
        }
        submits
    });
    let deadline = Instant::now() + PATIENCE;
    while snapshot(&w.status).dropped < 200_000 {
        assert!(Instant::now() < deadline, "{:?}", snapshot(&w.status));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let grown = rss().zip(before).map(|(a, b)| a.saturating_sub(b));
    let elapsed = t0.elapsed();
    assert!(
        grown.is_none_or(|g| g < 256 << 20),
        "memory grew by {grown:?} bytes"
    );
    w.stop().await;
    let submits = reader.await.unwrap();
    assert!(submits <= bucket_bound(5, elapsed), "{submits} submits");
}

#[tokio::test]
async fn twenty_thousand_stray_replies_give_a_few_warning_lines() {
    let (logs, _guard) = capture_logs();
    let (l, url) = listen().await;
    let t0 = Instant::now();
    let w = start(config(&[url]));
    let mut p = accept(&l).await;
    p.handshake("x1", &EN1, None).await;
    let mut flood = String::new();
    for id in 1000..21_000 {
        flood.push_str(&format!("{{\"id\":{id},\"result\":true,\"error\":null}}\n"));
    }
    p.send_raw(&flood).await;
    assert!(still_connected(&mut p).await);
    let elapsed = t0.elapsed();
    w.stop().await;
    let text = logs.text();
    let warnings = text.matches("reply to unknown request id").count();
    let allowed = 2 + (elapsed.as_secs() / 10) as usize;
    assert!(
        (1..=allowed).contains(&warnings),
        "{warnings} warning lines"
    );
    assert!(
        text.contains("more bad lines skipped"),
        "the rest is counted"
    );
}

#[tokio::test]
async fn shares_faster_than_one_can_read_are_summarized() {
    let (logs, _guard) = capture_logs();
    let (l, url) = listen().await;
    let t0 = Instant::now();
    let w = start(config(&[url]));
    let mut p = accept(&l).await;
    p.handshake("r1", &EN1, None).await;
    p.difficulty(1e-300).await;
    p.send(&FakeJob::new("r", 5).notify(true)).await;
    let mut answered = 0;
    while answered < 300 {
        let v = tokio::time::timeout(PATIENCE, p.recv())
            .await
            .expect("the miner keeps submitting")
            .expect("connection open");
        if v["method"] == "mining.submit" {
            answered += 1;
        }
        p.reply(&v["id"], json!(true)).await;
    }
    let elapsed = t0.elapsed();
    let status = w.status.clone();
    w.stop().await;
    let accepted = snapshot(&status).accepted;
    let text = logs.text();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("accepted: ")).collect();
    let one_each = lines.iter().filter(|l| l.ends_with("yes!")).count();
    let summaries = lines
        .iter()
        .filter(|l| l.contains("since the last line"))
        .count();
    // Five lines a window at most before summarizing starts, and it does not stop while
    // the flood goes on: hundreds of shares, a few lines.
    assert!(
        one_each <= 5,
        "{one_each} share lines for {accepted} shares"
    );
    let windows = 2 + (elapsed.as_secs() / 5) as usize;
    assert!(
        (1..=windows).contains(&summaries),
        "{summaries} summaries in {elapsed:?}"
    );
    // The last line's total is every accepted share: the summary at the end lost none.
    let last = lines.last().expect("a result line");
    assert!(
        last.contains(&format!("accepted: {accepted}/{accepted} ")),
        "{last} (accepted {accepted})"
    );
}
