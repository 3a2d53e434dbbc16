//! The pool in `--demo` mode (no node): shares, version rolling, suggested difficulty and the
//! connection limits, through a raw Stratum client on 127.0.0.1.

use std::time::Duration;

use miner_core::{Difficulty as Diff, Target};
use pool::{Backend, Pool, PoolConfig};
use serde_json::json;
use stratum::Difficulty;
use testkit::stratum::header::{be_u32, hash_with, nonce_where, work};
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

fn share_target(diff: f64) -> Target {
    Target::from_difficulty(Diff::new(diff).unwrap())
}

/// The first nonce from 0 whose header hash meets `target` (the pool's own `Target`).
fn nonce_meeting(header: &[u8; 80], target: &Target) -> (u32, [u8; 32]) {
    nonce_where(header, |hash| target.is_met_by(hash))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_pool_accepts_shares_without_a_node() {
    let pool = demo_pool(|_| {}).await;
    let mut c = Client::connect(pool.local_addr()).await;
    let params = c.handshake("demo.w").await;
    let en2 = [0u8; 8];
    let w = work(&params, &c.extranonce1.clone(), &en2);
    let (nonce, hash) = nonce_meeting(&w.header, &share_target(DIFF));
    // The demo target is difficulty 1: no share of this test is a "block".
    assert!(!Target::from_compact(0x1d00ffff).unwrap().is_met_by(&hash));
    let reply = c
        .request(
            "mining.submit",
            submit_params("demo.w", &params, &en2, w.ntime, nonce),
        )
        .await;
    assert_eq!(reply["result"], json!(true), "{reply}");
    let status = pool.status();
    assert!(status.demo);
    assert_eq!(status.node, "demo");
    assert_eq!((status.shares_accepted, status.blocks_found), (1, 0));
    // Still working: `closed` has nothing to say before a shutdown.
    let mut pool = pool;
    tokio::select! {
        biased;
        closed = pool.closed() => panic!("pool closed on its own: {closed}"),
        _ = std::future::ready(()) => {}
    }
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_rolling_shares_are_checked_with_the_rolled_version() {
    let pool = demo_pool(|_| {}).await;
    let mut c = Client::connect(pool.local_addr()).await;
    let reply = c
        .request(
            "mining.configure",
            json!([["version-rolling"], {"version-rolling.mask": "ffffffff", "version-rolling.min-bit-count": 2}]),
        )
        .await;
    assert_eq!(reply["result"]["version-rolling"], json!(true), "{reply}");
    assert_eq!(reply["result"]["version-rolling.mask"], json!("1fffe000"));
    let params = c.handshake("w").await;
    let en2 = [1u8; 8];
    let mut w = work(&params, &c.extranonce1.clone(), &en2);
    let job_version = u32::from_str_radix(params[5].as_str().unwrap(), 16).unwrap();
    let bits = 0x0aaa_a000u32;
    w.header[0..4].copy_from_slice(&((job_version & !0x1fff_e000) | bits).to_le_bytes());
    let target = share_target(DIFF);
    let (nonce, _) = nonce_meeting(&w.header, &target);
    let mut p = submit_params("w", &params, &en2, w.ntime, nonce);
    p.as_array_mut().unwrap().push(json!(format!("{bits:08x}")));
    assert_eq!(
        c.request("mining.submit", p.clone()).await["result"],
        json!(true)
    );
    // Other version bits with the same nonce: a different header that misses the target.
    let other = (1u32..)
        .map(|i| (i << 13) & 0x1fff_e000)
        .find(|b| {
            let mut h = w.header;
            h[0..4].copy_from_slice(&((job_version & !0x1fff_e000) | b).to_le_bytes());
            *b != 0 && !target.is_met_by(&hash_with(&h, nonce))
        })
        .unwrap();
    p[5] = json!(format!("{other:08x}"));
    assert_eq!(
        c.request("mining.submit", p.clone()).await["error"][0],
        json!(23)
    );
    // Bits outside the mask: 20.
    p[5] = json!("00000001");
    assert_eq!(c.request("mining.submit", p).await["error"][0], json!(20));
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggested_difficulty_is_honoured_within_limits() {
    let pool = demo_pool(|c| c.job_refresh = Duration::from_millis(300)).await;
    let mut c = Client::connect(pool.local_addr()).await;
    c.handshake("w").await;
    let next_difficulty = async |c: &mut Client| loop {
        let msg = c.line().await.expect("open");
        if msg["method"] == "mining.set_difficulty" {
            return msg["params"][0].as_f64().unwrap();
        }
    };
    assert_eq!(
        c.request("mining.suggest_difficulty", json!([0.5])).await["result"],
        json!(true)
    );
    c.notes.clear();
    assert_eq!(next_difficulty(&mut c).await, 0.5);
    // Below the pool minimum: clamped to it.
    c.request("mining.suggest_difficulty", json!([1e-12])).await;
    c.notes.clear();
    assert_eq!(next_difficulty(&mut c).await, DIFF);
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vardiff_moves_a_fast_miner_at_once_with_the_job_re_sent() {
    // No job refresh for an hour: whatever comes after the shares is vardiff's doing.
    let pool = demo_pool(|c| {
        c.session.vardiff = Some(stratum::server::VardiffConfig::default());
        c.job_refresh = Duration::from_secs(3600);
    })
    .await;
    let mut c = Client::connect(pool.local_addr()).await;
    let params = c.handshake("w").await;
    let target = share_target(DIFF);
    // 20 real shares at once (a 10 s target wants one per 10 s): a precise estimate.
    for i in 0..20u64 {
        let en2 = i.to_be_bytes();
        let w = work(&params, &c.extranonce1.clone(), &en2);
        let (nonce, _) = nonce_meeting(&w.header, &target);
        let reply = c
            .request(
                "mining.submit",
                submit_params("w", &params, &en2, w.ntime, nonce),
            )
            .await;
        assert_eq!(reply["result"], json!(true), "{reply}");
    }
    let set = loop {
        let msg = match c.notes.pop_front() {
            Some(m) => m,
            None => c.line().await.expect("open"),
        };
        if msg["method"] == "mining.set_difficulty" {
            break msg["params"][0].as_f64().unwrap();
        }
    };
    assert!(set > DIFF * 100.0, "up by far more than ×4: {set}");
    // Then the same job under a new id, ntime one second on, not clean.
    let again = c.next_notify(|_| true).await;
    assert_ne!(again[0], params[0]);
    for i in 1..7 {
        assert_eq!(again[i], params[i], "param {i}");
    }
    let ntime = be_u32(&params[7]);
    assert_eq!(be_u32(&again[7]), ntime + 1);
    assert_eq!(again[8], json!(false));
    // A share of it at the new difficulty counts; one at the old difficulty no longer.
    let en2 = 99u64.to_be_bytes();
    let w = work(&again, &c.extranonce1.clone(), &en2);
    let (nonce, _) = nonce_meeting(&w.header, &share_target(set));
    let reply = c
        .request(
            "mining.submit",
            submit_params("w", &again, &en2, w.ntime, nonce),
        )
        .await;
    assert_eq!(reply["result"], json!(true), "{reply}");
    let (easy, _) = nonce_where(&w.header, |h| {
        target.is_met_by(h) && !share_target(set).is_met_by(h)
    });
    let reply = c
        .request(
            "mining.submit",
            submit_params("w", &again, &en2, w.ntime, easy),
        )
        .await;
    assert_eq!(reply["error"][0], json!(23), "{reply}");
    assert_eq!(pool.status().shares_accepted, 21);
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_surplus_connections_are_closed() {
    let pool = demo_pool(|c| {
        c.limits.idle_timeout = Duration::from_millis(500);
        c.max_connections = 2;
    })
    .await;
    let addr = pool.local_addr();
    let mut a = Client::connect(addr).await;
    let mut b = Client::connect(addr).await;
    a.request("mining.subscribe", json!([])).await;
    b.request("mining.subscribe", json!([])).await;
    let mut surplus = Client::connect(addr).await;
    assert!(surplus.line().await.is_none(), "third connection refused");
    // Silent clients are dropped after the idle timeout.
    while a.line().await.is_some() {}
    while b.line().await.is_some() {}
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_clients_are_dropped_even_while_jobs_flow() {
    // Jobs every 100 ms used to restart the per-read idle timeout, so a client that never
    // sent a line after the handshake (or never subscribed) held its slot forever.
    let pool = demo_pool(|c| {
        c.limits.idle_timeout = Duration::from_millis(1500);
        c.job_refresh = Duration::from_millis(100);
    })
    .await;
    let mut never_spoke = Client::connect(pool.local_addr()).await;
    let mut mining = Client::connect(pool.local_addr()).await;
    mining.handshake("demo.w").await;
    assert!(never_spoke.line().await.is_none(), "silent client dropped");
    let mut notifies = 0;
    while let Some(msg) = mining.line().await {
        notifies += usize::from(msg["method"] == "mining.notify");
    }
    assert!(notifies > 1, "jobs kept flowing until the drop");
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_worker_names_do_not_enter_the_worker_table() {
    let pool = demo_pool(|_| {}).await;
    let mut c = Client::connect(pool.local_addr()).await;
    let params = c.handshake("real.w").await;
    for i in 0..50u32 {
        let name = format!("bogus{i}");
        let reply = c
            .request(
                "mining.submit",
                submit_params(&name, &params, &[0; 8], 0, i),
            )
            .await;
        assert_eq!(reply["error"][0], json!(24), "{reply}");
    }
    let status = pool.status();
    let names: Vec<&str> = status.workers.iter().map(|w| w.name.as_str()).collect();
    assert!(names.iter().all(|n| *n == "real.w"), "{names:?}");
    assert_eq!(status.shares_rejected, 50);
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggested_difficulty_as_a_string_is_honoured() {
    // cpuminer-opt --stratum-keepalive sends `["%f"]`; it used to get 20 "expected a number".
    let pool = demo_pool(|c| c.job_refresh = Duration::from_millis(300)).await;
    let mut c = Client::connect(pool.local_addr()).await;
    c.handshake("w").await;
    let reply = c
        .request("mining.suggest_difficulty", json!(["0.000100"]))
        .await;
    assert_eq!(reply["result"], json!(true), "{reply}");
    c.notes.clear();
    loop {
        let msg = c.line().await.expect("open");
        if msg["method"] == "mining.set_difficulty" {
            assert_eq!(msg["params"][0].as_f64(), Some(0.0001), "{msg}");
            break;
        }
    }
    // Not a number in a string: still an error reply, and the connection stays.
    let reply = c
        .request("mining.suggest_difficulty", json!(["fast"]))
        .await;
    assert_eq!(reply["error"][0], json!(20), "{reply}");
    pool.shutdown().await;
}
