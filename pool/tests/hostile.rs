//! The pool against a hostile client (issue 11): replayed shares through session resume
//! (hole 2) and lockout from one address (hole 6), in demo mode on 127.0.0.1.

use std::time::Duration;

use miner_core::{Difficulty as Diff, Target};
use pool::{Backend, Pool, PoolConfig};
use serde_json::{Value, json};
use stratum::Difficulty;
use testkit::stratum::header::{nonce_where, work};
use testkit::stratum::miner::{Client, submit_params};
use tokio::net::TcpListener;

const DIFF: f64 = 1e-7;

async fn demo_pool(tweak: impl FnOnce(&mut PoolConfig)) -> Pool {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = PoolConfig::new(Backend::Demo, None, std::env::temp_dir());
    config.session.vardiff = None;
    config.session.initial_difficulty = Difficulty::new(DIFF).unwrap();
    config.session.min_difficulty = Difficulty::new(DIFF).unwrap();
    tweak(&mut config);
    Pool::start(listener, config).await.unwrap()
}

/// Waits until the pool counts `n` open connections (a closed client is released by the
/// pool's task, not at once).
async fn until_connections(pool: &Pool, n: usize) {
    while pool.status().connections != n {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// subscribe offering `resume` as the session id; the granted extranonce1 (hex).
async fn subscribe(c: &mut Client, resume: Option<&str>) -> String {
    let params = match resume {
        Some(id) => json!(["x", id]),
        None => json!(["x"]),
    };
    let reply = c.request("mining.subscribe", params).await;
    let en1 = reply["result"][1]
        .as_str()
        .expect("extranonce1")
        .to_string();
    c.extranonce1 = hex::decode(&en1).unwrap();
    en1
}

async fn authorize(c: &mut Client, worker: &str) -> Value {
    let reply = c.request("mining.authorize", json!([worker, "x"])).await;
    assert_eq!(reply["result"], json!(true), "{reply}");
    c.next_notify(|_| true).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_replayed_through_a_resumed_session_is_a_duplicate() {
    let pool = demo_pool(|_| {}).await;
    let addr = pool.local_addr();
    let mut first = Client::connect(addr).await;
    let en1 = subscribe(&mut first, None).await;
    let params = authorize(&mut first, "honest.w").await;
    let en2 = [7u8; 8];
    let w = work(&params, &first.extranonce1.clone(), &en2);
    let target = Target::from_difficulty(Diff::new(DIFF).unwrap());
    let (nonce, _) = nonce_where(&w.header, |h| target.is_met_by(h));
    let share = |worker: &str| submit_params(worker, &params, &en2, w.ntime, nonce);
    let reply = first.request("mining.submit", share("honest.w")).await;
    assert_eq!(reply["result"], json!(true), "{reply}");
    drop(first);
    until_connections(&pool, 0).await;
    // The issue's input: reconnect, resume the old extranonce1, submit the same share under
    // the same and under other worker names.
    for worker in ["honest.w", "replayer", "replayer2"] {
        let mut again = Client::connect(addr).await;
        assert_eq!(
            subscribe(&mut again, Some(&en1)).await,
            en1,
            "session resumed"
        );
        authorize(&mut again, worker).await;
        let reply = again.request("mining.submit", share(worker)).await;
        assert_eq!(reply["error"][0], json!(22), "{worker}: {reply}");
        drop(again);
        until_connections(&pool, 0).await;
    }
    let status = pool.status();
    assert_eq!(status.shares_accepted, 1);
    assert_eq!(status.shares_rejected, 3);
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_authorizes_is_dropped_at_the_handshake_deadline() {
    let pool = demo_pool(|c| c.limits.handshake_timeout = Duration::from_secs(2)).await;
    let addr = pool.local_addr();
    let mut idle = Client::connect(addr).await;
    let mut subscribed_only = Client::connect(addr).await;
    subscribe(&mut subscribed_only, None).await;
    let mut miner = Client::connect(addr).await;
    subscribe(&mut miner, None).await;
    authorize(&mut miner, "w").await;
    // Both half-done clients are closed by the pool (the idle timeout is 600 s).
    while idle.line().await.is_some() {}
    while subscribed_only.line().await.is_some() {}
    // The one that finished its handshake is still served after that deadline.
    let reply = miner.request("mining.authorize", json!(["w2", "x"])).await;
    assert_eq!(reply["result"], json!(true), "{reply}");
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_trickled_one_byte_at_a_time_is_dropped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let pool = demo_pool(|c| {
        c.limits.line_timeout = Duration::from_millis(500);
        // Only the line deadline can end this connection within the test.
        c.limits.handshake_timeout = Duration::from_secs(600);
    })
    .await;
    let mut miner = Client::connect(pool.local_addr()).await;
    subscribe(&mut miner, None).await;
    authorize(&mut miner, "w").await;
    let mut loris = tokio::net::TcpStream::connect(pool.local_addr())
        .await
        .unwrap();
    let line = br#"{"id":1,"method":"mining.subscribe","params":["slow-loris/1"]}"#;
    let mut buf = [0u8; 4096];
    let mut dropped = false;
    // One byte every 100 ms, never the newline: each byte would restart a per-read timer.
    for &byte in line.iter().cycle().take(600) {
        if loris.write_all(&[byte]).await.is_err() {
            dropped = true;
            break;
        }
        let read = tokio::time::timeout(Duration::from_millis(100), loris.read(&mut buf)).await;
        if matches!(read, Ok(Ok(0)) | Ok(Err(_))) {
            dropped = true;
            break;
        }
    }
    assert!(dropped, "the trickling client was never dropped");
    // Complete lines, however slow between them, are fine: the miner is still served.
    let reply = miner.request("mining.authorize", json!(["w2", "x"])).await;
    assert_eq!(reply["result"], json!(true), "{reply}");
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_gets_at_most_its_share_of_connections() {
    let pool = demo_pool(|c| c.max_connections_per_ip = 3).await;
    let addr = pool.local_addr();
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = Client::connect(addr).await;
        subscribe(&mut c, None).await;
        held.push(c);
    }
    // Loopback is held to the cap unless asked otherwise.
    let mut fourth = Client::connect(addr).await;
    assert!(fourth.line().await.is_none(), "fourth connection refused");
    // A closed connection gives its place back.
    drop(held.pop());
    until_connections(&pool, 2).await;
    let mut again = Client::connect(addr).await;
    subscribe(&mut again, None).await;
    pool.shutdown().await;

    let pool = demo_pool(|c| {
        c.max_connections_per_ip = 3;
        c.loopback_unlimited = true;
    })
    .await;
    let mut many = Vec::new();
    for _ in 0..6 {
        let mut c = Client::connect(pool.local_addr()).await;
        subscribe(&mut c, None).await;
        many.push(c);
    }
    assert_eq!(pool.status().connections, 6);
    pool.shutdown().await;
}
