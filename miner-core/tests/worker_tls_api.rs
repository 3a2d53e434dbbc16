//! TLS to a pool with a self-signed certificate (`--cert`), and the /summary API.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::support::{EASY, config, start};
use miner_core::worker::{PoolUrl, api, conn, tls};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use testkit::stratum::lines::PATIENCE;
use testkit::stratum::pool::{FakeJob, PoolConn};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

const EN1: [u8; 4] = [9, 8, 7, 6];

/// A self-signed certificate for 127.0.0.1: the acceptor, and the PEM written to a file.
fn self_signed(name: &str) -> (TlsAcceptor, PathBuf) {
    let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let path = std::env::temp_dir().join(format!("{name}-{}.pem", std::process::id()));
    std::fs::write(&path, key.cert.pem()).unwrap();
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![key.cert.der().clone()], der)
        .unwrap();
    (TlsAcceptor::from(Arc::new(server)), path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mines_over_tls_with_a_self_signed_cert() {
    let (acceptor, cert) = self_signed("pool-cert");
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("stratum+ssl://{}", l.local_addr().unwrap());
    let mut c = config(&[url]);
    c.tls = Some(tls::client_config(Some(&cert)).unwrap());
    let w = start(c);
    let (tcp, _) = tokio::time::timeout(PATIENCE, l.accept())
        .await
        .unwrap()
        .unwrap();
    let stream = acceptor.accept(tcp).await.expect("TLS handshake");
    let mut p = PoolConn::new(stream);
    p.handshake("t1", &EN1, None).await;
    let job = FakeJob::new("tls", 9);
    p.difficulty(EASY).await;
    p.send(&job.notify(true)).await;
    p.collect(3, &[&job], &EN1, EASY, 0).await;
    w.stop().await;
    let _ = std::fs::remove_file(cert);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_refuses_a_certificate_it_was_not_given() {
    let (acceptor, cert) = self_signed("pool-real");
    let (_, other) = self_signed("pool-other");
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = PoolUrl::parse(&format!("stratum+ssl://{}", l.local_addr().unwrap())).unwrap();
    tokio::spawn(async move {
        if let Ok((tcp, _)) = l.accept().await {
            let _ = acceptor.accept(tcp).await;
        }
    });
    let wrong = tls::client_config(Some(&other)).unwrap();
    let err = conn::dial(&url, Some(&wrong), PATIENCE).await.err();
    let text = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(text.contains("TLS handshake"), "got {text:?}");
    assert!(tls::client_config(Some(std::path::Path::new("/nonexistent/cert.pem"))).is_err());
    let _ = std::fs::remove_file(cert);
    let _ = std::fs::remove_file(other);
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_reports_shares_pool_and_hashrate() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("stratum+tcp://{}", l.local_addr().unwrap());
    let w = start(config(std::slice::from_ref(&url)));
    let api_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_addr = api_listener.local_addr().unwrap();
    tokio::spawn(api::serve(
        api_listener,
        w.status.clone(),
        tokio_util::sync::CancellationToken::new(),
    ));
    let (tcp, _) = tokio::time::timeout(PATIENCE, l.accept())
        .await
        .unwrap()
        .unwrap();
    let mut p = PoolConn::new(tcp);
    p.handshake("api", &EN1, None).await;
    let job = FakeJob::new("api", 10);
    p.difficulty(EASY).await;
    p.send(&job.notify(true)).await;
    p.collect(4, &[&job], &EN1, EASY, 0).await;
    // Let the last answer be counted and a couple of hashrate samples be taken.
    let mut summary = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (head, body) = get(api_addr, "/summary").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        summary = serde_json::from_str(body.trim()).unwrap_or(Value::Null);
        if summary["accepted"] == 4 && summary["hashrate_10s"].as_f64().is_some_and(|r| r > 0.0) {
            break;
        }
    }
    assert_eq!(summary["accepted"], 4, "{summary}");
    assert_eq!(summary["rejected"], 0);
    assert!(summary["hashrate_10s"].as_f64().unwrap() > 0.0);
    assert_eq!(summary["pool"], url);
    assert_eq!(summary["difficulty"], EASY);
    assert_eq!(summary["kernel"], "portable");
    assert!(summary["uptime_seconds"].as_f64().unwrap() > 0.0);
    let (head, _) = get(api_addr, "/nope").await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    w.stop().await;
}
