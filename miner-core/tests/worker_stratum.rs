//! The Stratum worker against scripted fake pools on 127.0.0.1: clean_jobs, reconnect with
//! resume, a pool that drops the connection on mining.configure, bad lines, failover and
//! failback, TLS, and the /summary API.

use std::collections::HashSet;
use std::time::Duration;

use crate::support::{EASY, accept, config, start};
use miner_core::worker::Stopped;
use serde_json::json;
use testkit::stratum::lines::PATIENCE;
use testkit::stratum::pool::{FakeJob, Submitted};
use tokio::net::TcpListener;

const EN1: [u8; 4] = [0xaa, 0xbb, 0xcc, 0xdd];

async fn listen() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("stratum+tcp://{}", l.local_addr().unwrap());
    (l, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_jobs_voids_old_shares() {
    let (l, url) = listen().await;
    let w = start(config(&[url]));
    let mut p = accept(&l).await;
    p.handshake("s1", &EN1, None).await;
    let (j1, j2) = (FakeJob::new("j1", 1), FakeJob::new("j2", 2));
    p.difficulty(EASY).await;
    p.send(&j1.notify(true)).await;
    p.collect(3, &[&j1], &EN1, EASY, 0).await;
    p.send(&j2.notify(true)).await;
    // Lines are handled in order: once the miner answers this, it has seen j2.
    p.send(&json!({"id": 900, "method": "client.get_version", "params": []}))
        .await;
    loop {
        let v = p.recv().await.unwrap();
        if v["id"] == 900 {
            assert!(v["result"].as_str().unwrap().starts_with("mesos-miner/"));
            break;
        }
        p.reply(&v["id"], json!(true)).await;
    }
    let after = p.collect(5, &[&j2], &EN1, EASY, 0).await;
    assert!(after.iter().all(|s| s.job_id == "j2"));
    assert_eq!(w.stop().await, Stopped::Shutdown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_resumes_and_never_repeats_a_share() {
    let (l, url) = listen().await;
    let addr = l.local_addr().unwrap();
    let w = start(config(&[url]));
    let job = FakeJob::new("j1", 3);
    let mut p = accept(&l).await;
    let first = p.handshake("sess-1", &EN1, Some(0x1fff_e000)).await;
    assert_eq!(first.len(), 1, "a fresh session offers no session id");
    p.difficulty(EASY).await;
    p.send(&job.notify(true)).await;
    let mut all = p.collect(5, &[&job], &EN1, EASY, 0x1fff_e000).await;
    // The pool restarts: connection and listener gone, then back on the same port.
    drop(p);
    drop(l);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let l = TcpListener::bind(addr).await.unwrap();
    let mut p = accept(&l).await;
    let second = p.handshake("sess-1", &EN1, Some(0x1fff_e000)).await;
    assert_eq!(second[1], "sess-1", "the old session id is offered");
    p.difficulty(EASY).await;
    p.send(&job.notify(false)).await;
    all.extend(p.collect(5, &[&job], &EN1, EASY, 0x1fff_e000).await);
    let unique: HashSet<&Submitted> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "a share was sent twice");
    assert!(all.iter().all(|s| s.version_bits.is_some()));
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_closing_on_configure_is_still_mined() {
    let (l, url) = listen().await;
    let w = start(config(&[url]));
    let mut p = accept(&l).await;
    p.expect("mining.configure").await;
    drop(p);
    let mut p = accept(&l).await;
    let (id, params) = p.expect("mining.subscribe").await;
    assert!(params.len() <= 2);
    p.reply(&id, json!([[["mining.notify", "c1"]], hex::encode(EN1), 4]))
        .await;
    p.handshake("c1", &EN1, None).await;
    let job = FakeJob::new("j", 4);
    p.difficulty(EASY).await;
    p.send(&job.notify(true)).await;
    let got = p.collect(3, &[&job], &EN1, EASY, 0).await;
    assert!(got.iter().all(|s| s.version_bits.is_none()));
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_overlong_lines_are_skipped() {
    let (l, url) = listen().await;
    let w = start(config(&[url]));
    let mut p = accept(&l).await;
    p.handshake("m1", &EN1, None).await;
    p.send_raw("this is not json\n{\"id\":\n[1,2,3]\n\n").await;
    p.send_raw(&format!("{}\n", "x".repeat(200_000))).await;
    p.send(&json!({"id": null, "method": "mining.no_such_thing", "params": []}))
        .await;
    p.send(&json!({"id": null, "method": "mining.notify", "params": ["bad"]}))
        .await;
    p.send(&json!({"id": 77, "result": true, "error": null}))
        .await;
    let job = FakeJob::new("j", 5);
    p.difficulty(EASY).await;
    p.send(&job.notify(true)).await;
    // Still the same connection, still mining.
    p.collect(3, &[&job], &EN1, EASY, 0).await;
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_over_and_back() {
    let (la, url_a) = listen().await;
    let addr_a = la.local_addr().unwrap();
    let (lb, url_b) = listen().await;
    let w = start(config(&[url_a, url_b]));
    let job = FakeJob::new("a", 6);
    let mut a = accept(&la).await;
    a.handshake("a1", &EN1, None).await;
    a.difficulty(EASY).await;
    a.send(&job.notify(true)).await;
    a.collect(2, &[&job], &EN1, EASY, 0).await;
    drop(a);
    drop(la);
    // A is down: the miner moves to B.
    let mut b = accept(&lb).await;
    let en1b = [1, 2, 3, 4];
    b.handshake("b1", &en1b, None).await;
    let jb = FakeJob::new("b", 7);
    b.difficulty(EASY).await;
    b.send(&jb.notify(true)).await;
    b.collect(2, &[&jb], &en1b, EASY, 0).await;
    // A is back: a probe finds it and the miner returns to it.
    let la = TcpListener::bind(addr_a).await.unwrap();
    let mut back = loop {
        let mut c = accept(&la).await;
        let v = c.recv().await.expect("probe or session");
        if v["method"] == "mining.subscribe" && v["params"].as_array().map(Vec::len) == Some(1) {
            // Could be the probe (plain subscribe) or the session without a resume id.
            c.reply(
                &v["id"],
                json!([[["mining.notify", "a2"]], hex::encode(EN1), 4]),
            )
            .await;
            if c.recv().await.is_none() {
                continue; // the probe hung up
            }
            break c;
        }
        if v["method"] == "mining.configure" {
            c.reply(&v["id"], json!({"version-rolling": false})).await;
            break c;
        }
        break c;
    };
    back.handshake("a2", &EN1, None).await;
    back.difficulty(EASY).await;
    back.send(&job.notify(true)).await;
    back.collect(2, &[&job], &EN1, EASY, 0).await;
    // B's connection is closed by the miner.
    let rest = tokio::time::timeout(PATIENCE, async { while b.recv().await.is_some() {} }).await;
    assert!(rest.is_ok(), "the miner left pool B");
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_reconnect_moves_to_the_named_server() {
    let (l1, url) = listen().await;
    let (l2, _) = listen().await;
    let port2 = l2.local_addr().unwrap().port();
    let w = start(config(&[url]));
    let mut p = accept(&l1).await;
    p.handshake("r1", &EN1, None).await;
    p.send(&json!({"id": null, "method": "client.reconnect", "params": ["127.0.0.1", port2, 0]}))
        .await;
    let mut q = accept(&l2).await;
    q.handshake("r2", &EN1, None).await;
    let job = FakeJob::new("r", 11);
    q.difficulty(EASY).await;
    q.send(&job.notify(true)).await;
    q.collect(2, &[&job], &EN1, EASY, 0).await;
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gives_up_after_the_allowed_retries() {
    let (l, url) = listen().await;
    drop(l);
    let mut c = config(&[url]);
    c.retry.retries = Some(2);
    let w = start(c);
    let stopped = tokio::time::timeout(PATIENCE, w.wait()).await;
    assert_eq!(stopped.expect("gave up in time"), Stopped::GaveUp);
}
