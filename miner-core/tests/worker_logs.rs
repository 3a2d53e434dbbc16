//! What the worker logs at `RUST_LOG=trace` (issue 11 hole 7): never the Stratum password,
//! neither in the lines it sends nor when a pool echoes it back, and lines stay readable
//! with the customary password `x`. Current-thread tests: the worker's tasks run on the
//! test thread, whose events [`capture_logs`] keeps.

use serde_json::json;
use testkit::stratum::pool::{FakeJob, PoolConn};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{EASY, accept, capture_logs, config, start};

const EN1: [u8; 4] = [0x0a, 0x0b, 0x0c, 0x0d];

/// Answers the handshake, refusing the authorize with an error that quotes `password`.
async fn refuse_quoting(p: &mut PoolConn<TcpStream>, password: &str) {
    while let Some(v) = p.recv().await {
        let id = v["id"].clone();
        let result = match v["method"].as_str().unwrap_or_default() {
            "mining.configure" => json!({"version-rolling": false}),
            "mining.subscribe" => json!([[["mining.notify", "l1"]], hex::encode(EN1), 4]),
            "mining.authorize" => {
                let error = json!([24, format!("no worker with password {password}"), null]);
                p.send(&json!({"id": id, "result": null, "error": error}))
                    .await;
                return;
            }
            _ => json!(true),
        };
        p.reply(&id, result).await;
    }
}

#[tokio::test]
async fn trace_logs_never_show_the_password_even_when_the_pool_echoes_it() {
    let secret = "s3cr3t-P4ss";
    let (logs, _guard) = capture_logs();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut c = config(&[format!("stratum+tcp://{}", l.local_addr().unwrap())]);
    c.password = secret.into();
    let w = start(c);
    let mut p = accept(&l).await;
    refuse_quoting(&mut p, secret).await;
    let mut p = accept(&l).await;
    p.handshake("l2", &EN1, None).await;
    let job = FakeJob::new("l", 5);
    p.difficulty(EASY).await;
    p.send(&job.notify(true)).await;
    p.collect(1, &[&job], &EN1, EASY, 0).await;
    w.stop().await;
    let text = logs.text();
    assert!(
        text.contains("mining.authorize"),
        "the sent lines are logged"
    );
    assert!(
        text.contains("no worker with password <redacted>"),
        "{text}"
    );
    assert!(!text.contains(secret), "{text}");
}

#[tokio::test]
async fn with_the_password_x_the_logged_lines_stay_readable() {
    let (logs, _guard) = capture_logs();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let w = start(config(&[format!(
        "stratum+tcp://{}",
        l.local_addr().unwrap()
    )]));
    let mut p = accept(&l).await;
    p.handshake("l3", &EN1, None).await;
    w.stop().await;
    let text = logs.text();
    assert!(
        text.contains(r#""method":"mining.extranonce.subscribe""#),
        "{text}"
    );
    assert!(
        text.contains(r#""params":["tester.1","<redacted>"]"#),
        "{text}"
    );
}
