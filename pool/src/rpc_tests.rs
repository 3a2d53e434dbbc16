//! The client against a scripted HTTP server on 127.0.0.1: chunked bodies without a trailing
//! newline (as the BSV node sends them, Part B.4), cookie auth, 401, retries of submitblock.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::blocks::{BlockStore, Outcome, submit_until_answered};

/// Serves one scripted reply per connection; returns the requests' Authorization headers.
async fn server(replies: Vec<String>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut auths = Vec::new();
        for reply in replies {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            // Read headers and the (small, Content-Length) body.
            loop {
                let n = sock.read(&mut buf).await.unwrap();
                req.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&req);
                if let Some(end) = text.find("\r\n\r\n") {
                    let len: usize = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if req.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let text = String::from_utf8_lossy(&req).to_string();
            auths.push(
                text.lines()
                    .find_map(|l| {
                        l.strip_prefix("authorization: ")
                            .or_else(|| l.strip_prefix("Authorization: "))
                    })
                    .unwrap_or("")
                    .to_string(),
            );
            sock.write_all(reply.as_bytes()).await.unwrap();
            sock.shutdown().await.unwrap();
        }
        auths
    });
    (url, task)
}

/// A chunked HTTP reply whose JSON body is split into two chunks, no trailing newline.
fn chunked(status: &str, body: &str) -> String {
    let (a, b) = body.split_at(body.len() / 2);
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    )
}

#[tokio::test]
async fn chunked_replies_and_cookie_auth() {
    let dir = std::env::temp_dir().join(format!("pool-rpc-{}", rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    let cookie = dir.join(".cookie");
    std::fs::write(&cookie, "__cookie__:c0ffee").unwrap();
    let (url, task) = server(vec![
        chunked(
            "200 OK",
            r#"{"result":{"chain":"regtest","blocks":7,"bestblockhash":"00"},"error":null,"id":1}"#,
        ),
        chunked(
            "500 Internal Server Error",
            r#"{"result":null,"error":{"code":-9,"message":"Bitcoin is not connected!"},"id":2}"#,
        ),
        "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
    ])
    .await;
    let rpc = RpcClient::new(&url, RpcAuth::Cookie(cookie), Duration::from_secs(10)).unwrap();
    let info = rpc.get_blockchain_info().await.unwrap();
    assert_eq!((info.chain.as_str(), info.blocks), ("regtest", 7));
    let err = rpc.get_block_count().await.unwrap_err();
    assert!(matches!(err, RpcError::Rpc { code: -9, .. }) && err.is_retryable());
    let err = rpc.get_block_count().await.unwrap_err();
    assert!(matches!(err, RpcError::Auth(401)) && !err.is_retryable());
    let auths = task.await.unwrap();
    assert_eq!(auths[0], "Basic X19jb29raWVfXzpjMGZmZWU=");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn submitblock_is_retried_until_the_node_answers() {
    let dir = std::env::temp_dir().join(format!("pool-submit-{}", rand::random::<u32>()));
    let store = BlockStore::open(&dir).unwrap();
    let block = store.save(&"ab".repeat(32), "00").unwrap();
    let (url, task) = server(vec![
        chunked("500 Internal Server Error", r#"{"result":null,"error":{"code":-10,"message":"Bitcoin is downloading blocks..."},"id":1}"#),
        chunked("200 OK", r#"{"result":null,"error":null,"id":2}"#),
    ])
    .await;
    let rpc = RpcClient::new(
        &url,
        RpcAuth::UserPass {
            user: "u".into(),
            password: "p".into(),
        },
        Duration::from_secs(10),
    )
    .unwrap();
    let outcome = submit_until_answered(&rpc, &store, &block, 5).await;
    assert_eq!(outcome, Some(Outcome::Accepted));
    assert!(store.pending().unwrap().is_empty());
    assert_eq!(task.await.unwrap().len(), 2);
    std::fs::remove_dir_all(dir).unwrap();
}
