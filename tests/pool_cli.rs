//! `mesos-miner pool` as operators meet it (issue 9, issue 11 holes 7 and 9): bad settings
//! are usage errors at once, a listen address in use names itself and its flag, banners
//! come once, `/status` answers while the node is down and the retry line names the URL and
//! the OS error, and no secret (RPC password, its auth header, the cookie, a Stratum
//! password) reaches the log even at `RUST_LOG=trace`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{BIN, Proc, free_addr, get_json, temp_dir, wait_listening};

/// A mainnet P2WPKH address (refused by a regtest node, but well formed).
const ADDR: &str = "bc1qx9t2l3pyny2spqpqlye8svce70nppwtaxwdrp4";
const LIMIT: Duration = Duration::from_secs(60);

fn pool(args: &[&str], name: &str) -> Proc {
    let dir = temp_dir(name);
    let data = dir.join("data");
    let mut all = vec!["pool", "--data-dir", data.to_str().unwrap()];
    all.extend_from_slice(args);
    Proc::spawn(&all, dir.join("out.log"))
}

/// The pool with `RUST_LOG=trace`, its whole output in `log`.
fn traced_pool(args: &[&str], log: &Path) -> Child {
    let out = std::fs::File::create(log).unwrap();
    let data = log.with_extension("data");
    Command::new(BIN)
        .arg("pool")
        .args(["--data-dir", data.to_str().unwrap()])
        .args(args)
        .env("RUST_LOG", "trace")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap()
}

/// Waits until `text` is in the output of `p` (panics with the output after [`LIMIT`]).
fn wait_for(p: &Proc, text: &str) {
    let deadline = Instant::now() + LIMIT;
    while !p.output().contains(text) {
        assert!(Instant::now() < deadline, "no {text:?} in:\n{}", p.output());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn exit_code(p: &mut Proc) -> Option<i32> {
    p.terminate_or_wait(LIMIT).and_then(|s| s.code())
}

#[test]
fn bad_pool_settings_are_usage_errors_at_once() {
    let dir = temp_dir("pool-usage");
    let cookie = dir.join(".cookie");
    std::fs::write(&cookie, "__cookie__:x\n").unwrap();
    let cookie = cookie.to_str().unwrap();
    // (flags, the flag the one-line error must name); no node runs anywhere here.
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "--bitcoind-url",
                "localhost:8332",
                "--rpc-cookie-file",
                cookie,
                "--payout-address",
                ADDR,
            ],
            "--bitcoind-url",
        ),
        (
            &[
                "--bitcoind-url",
                "http://",
                "--rpc-cookie-file",
                cookie,
                "--payout-address",
                ADDR,
            ],
            "--bitcoind-url",
        ),
        (
            &[
                "--rpc-cookie-file",
                "/nonexistent/.cookie",
                "--payout-address",
                ADDR,
            ],
            "--rpc-cookie-file",
        ),
        (
            &[
                "--rpc-cookie-file",
                cookie,
                "--payout-address",
                "bc1qnotanaddress",
            ],
            "--payout-address",
        ),
    ];
    for (i, (args, flag)) in cases.into_iter().enumerate() {
        let mut p = pool(args, &format!("pool-usage-{i}"));
        assert_eq!(exit_code(&mut p), Some(2), "{args:?}:\n{}", p.output());
        let out = p.output();
        assert!(out.contains(flag), "{args:?}: {out}");
        assert_eq!(out.trim().lines().count(), 1, "one line: {out}");
    }
}

#[test]
fn a_listen_address_in_use_names_the_address_and_the_flag() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut p = pool(&["--demo", "--listen", &addr], "pool-in-use");
    assert_eq!(exit_code(&mut p), Some(2), "{}", p.output());
    let out = p.output();
    assert!(out.contains(&addr) && out.contains("--listen"), "{out}");
    assert!(out.contains("in use"), "{out}");
    let api = taken.local_addr().unwrap().to_string();
    let mut p = pool(
        &["--demo", "--listen", "127.0.0.1:0", "--api-bind", &api],
        "pool-api-in-use",
    );
    assert_eq!(exit_code(&mut p), Some(2), "{}", p.output());
    assert!(p.output().contains("--api-bind"), "{}", p.output());
}

#[test]
fn demo_banners_are_printed_once() {
    let api = free_addr().to_string();
    let mut p = pool(
        &["--demo", "--listen", "127.0.0.1:0", "--api-bind", &api],
        "pool-banners",
    );
    // The first job comes after every start-up line.
    wait_for(&p, "new job");
    let out = p.output();
    for banner in ["DEMO MODE", "stratum listening", "status api on"] {
        assert_eq!(out.matches(banner).count(), 1, "{banner}:\n{out}");
    }
    p.terminate(LIMIT);
}

#[test]
fn status_is_served_while_the_node_is_down_and_the_retry_names_url_and_os_error() {
    let dir = temp_dir("pool-node-down");
    let cookie = dir.join(".cookie");
    std::fs::write(&cookie, "__cookie__:x\n").unwrap();
    // Bound and released: nothing listens there.
    let dead = free_addr();
    let url = format!("http://{dead}/");
    let api = free_addr();
    let api_text = api.to_string();
    let args = [
        "--bitcoind-url",
        &url,
        "--rpc-cookie-file",
        cookie.to_str().unwrap(),
        "--payout-address",
        ADDR,
        "--listen",
        "127.0.0.1:0",
        "--api-bind",
        &api_text,
    ];
    let mut p = pool(&args, "pool-node-down-run");
    wait_listening(api, &p);
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        let status = get_json(api, "/status");
        let node = status["node"].as_str().unwrap_or_default().to_string();
        if node.starts_with("error:") {
            break status;
        }
        assert!(
            node == "connecting" && Instant::now() < deadline,
            "{status}\n{}",
            p.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status["node"].as_str().unwrap().contains("os error"),
        "{status}"
    );
    assert!(status["template_age_secs"].is_null(), "{status}");
    assert_eq!(status["height"], serde_json::Value::Null, "{status}");
    wait_for(&p, "retrying");
    let out = p.output();
    let line = out.lines().find(|l| l.contains("retrying")).unwrap();
    assert!(line.contains(&url) && line.contains("os error"), "{line}");
    p.terminate(LIMIT);
}

/// A node that answers every call "warming up" (-28, retried by the pool), keeping each
/// request's text.
fn warming_node() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Some(request) = answer_warming(stream) {
                keep.lock().unwrap().push(request);
            }
        }
    });
    (addr, seen)
}

fn answer_warming(mut stream: TcpStream) -> Option<String> {
    stream.set_read_timeout(Some(LIMIT)).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut head = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    reader.read_exact(&mut body).ok()?;
    let reply = r#"{"result":null,"error":{"code":-28,"message":"Loading block index..."},"id":1}"#;
    let http = format!(
        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    );
    stream.write_all(http.as_bytes()).ok()?;
    Some(head)
}

/// The `Authorization` header value the node received.
fn auth_header(requests: &Mutex<Vec<String>>) -> String {
    let deadline = Instant::now() + LIMIT;
    loop {
        let seen = requests.lock().unwrap().clone();
        let header = seen.iter().find_map(|r| {
            r.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("authorization")
                    .then(|| value.trim().to_string())
            })
        });
        if let Some(v) = header
            && seen.len() >= 2
        {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "the pool never called the node twice"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_secret_free(log: &Path, secrets: &[&str]) {
    let out = std::fs::read_to_string(log).unwrap();
    assert!(out.contains("DEBUG"), "debug logging is on:\n{out}");
    for secret in secrets {
        assert!(!out.contains(secret), "{secret:?} in the log:\n{out}");
    }
}

#[test]
fn rpc_credentials_never_reach_the_log_at_trace() {
    let dir = temp_dir("pool-rpc-secret");
    let password = "rpc-Pa55-w0rd-7319";
    let pw_file = dir.join("pw");
    std::fs::write(&pw_file, format!("{password}\n")).unwrap();
    let cookie_secret = "c00kie-secret-5521";
    let cookie = dir.join(".cookie");
    std::fs::write(&cookie, format!("__cookie__:{cookie_secret}\n")).unwrap();
    let auth_user = [
        "--rpc-user",
        "miner",
        "--rpc-password-file",
        pw_file.to_str().unwrap(),
    ];
    let auth_cookie = ["--rpc-cookie-file", cookie.to_str().unwrap()];
    for (i, (auth, secret)) in [
        (&auth_user[..], password),
        (&auth_cookie[..], cookie_secret),
    ]
    .into_iter()
    .enumerate()
    {
        let (node, requests) = warming_node();
        let url = format!("http://{node}/");
        let mut args = vec!["--bitcoind-url", &url, "--payout-address", ADDR];
        args.extend_from_slice(&["--listen", "127.0.0.1:0"]);
        args.extend_from_slice(auth);
        let log = dir.join(format!("trace-{i}.log"));
        let mut child = traced_pool(&args, &log);
        let header = auth_header(&requests);
        let token = header.trim_start_matches("Basic ").to_string();
        assert!(!token.is_empty(), "{header}");
        let _ = child.kill();
        let _ = child.wait();
        assert_secret_free(&log, &[secret, &token]);
    }
}

#[test]
fn stratum_passwords_never_reach_the_log_at_trace() {
    let dir = temp_dir("pool-stratum-secret");
    let log = dir.join("trace.log");
    let listen = free_addr();
    let listen_text = listen.to_string();
    let mut child = traced_pool(&["--demo", "--listen", &listen_text], &log);
    let deadline = Instant::now() + LIMIT;
    let stream = loop {
        if let Ok(s) = TcpStream::connect(listen) {
            break s;
        }
        assert!(Instant::now() < deadline, "the pool never listened");
        std::thread::sleep(Duration::from_millis(100));
    };
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    let secret = "stratum-Pa55-8842";
    let mut writer = stream.try_clone().unwrap();
    let lines = format!(
        "{{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}}\n\
         {{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"w\",\"{secret}\"]}}\n\
         {{\"id\":3,\"method\":\"mining.authorize\",\"params\":[\"bad name \",\"{secret}\"]}}\n\
         {{\"id\":4,\"method\":\"mining.authorize\",\"params\":[\"w2\",\"{secret}\",\"extra\"]}}\n"
    );
    writer.write_all(lines.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let mut replies = 0;
    while replies < 3 {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "pool closed");
        replies += usize::from(
            line.contains("\"id\":2") || line.contains("\"id\":3") || line.contains("\"id\":4"),
        );
    }
    drop(reader);
    drop(writer);
    // Let the pool log the close of the connection too.
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    assert_secret_free(&log, &[secret]);
}
