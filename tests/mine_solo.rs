//! Solo mining as cpuminer users write it, `mesos-miner mine -a sha256d -o http://NODE
//! -O USER:PASS --coinbase-addr ADDR`, against the regtest nodes (`testkit::regtest`): the
//! node accepts the blocks, its best block pays ADDR, the blocks were written to the data
//! dir first, and the RPC password is in no log line. Then the same with the node's cookie
//! file, and the usage errors.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use testkit::regtest::RegtestNodes;

use crate::support::{BIN, Proc, temp_dir};

/// Mines with `args` until the node's height reaches `height`; returns the miner's log.
async fn mine_until(nodes: &RegtestNodes, args: &[&str], height: u64, log: &Path) -> String {
    let mut miner = Proc::spawn(args, log.to_owned());
    let deadline = Instant::now() + Duration::from_secs(240);
    while nodes.rpc().block_count().await.unwrap() < height {
        assert!(Instant::now() < deadline, "no blocks:\n{}", miner.output());
        assert!(
            miner.child.try_wait().unwrap().is_none(),
            "miner exited:\n{}",
            miner.output()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let status = miner.terminate(Duration::from_secs(30));
    assert!(status.is_some_and(|s| s.success()), "{}", miner.output());
    miner.output()
}

/// The best block's coinbase (verbose transaction).
async fn best_coinbase(nodes: &RegtestNodes) -> serde_json::Value {
    let best = nodes.rpc().best_block_hash().await.unwrap();
    let block = nodes
        .rpc()
        .call("getblock", json!([best, 2]))
        .await
        .unwrap();
    block["tx"][0].clone()
}

fn usage_error(args: &[&str], text: &str) -> String {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(text), "{args:?}: {stderr}");
    stderr.into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solo_mining_gets_blocks_into_the_node() {
    let nodes = RegtestNodes::start()
        .await
        .expect("regtest nodes (scripts/regtest-node.sh)");
    let password = std::fs::read_to_string(nodes.password_file()).unwrap();
    let password = password.trim().to_owned();
    let userpass = format!("{}:{password}", nodes.rpc_user());
    let address = nodes.rpc().new_address().await.unwrap();
    let url = nodes.rpc_url();
    let dir = temp_dir("solo");
    let data = dir.join("solo-data");
    let data_text = data.display().to_string();
    let start = nodes.rpc().block_count().await.unwrap();
    // What every miner below shares. Normal priority: `mine` defaults to SCHED_IDLE, which
    // gets no CPU on a test machine kept busy by the other tests (1.5 kH/s seen on CI).
    let common = [
        "--data-dir",
        &data_text,
        "-t",
        "1",
        "--kernel",
        "portable",
        "--cpu-priority",
        "2",
    ];

    let head = ["mine", "-a", "sha256d", "-o", &url, "-O", &userpass];
    let args = [&head[..], &["--coinbase-addr", &address], &common].concat();
    let log = mine_until(&nodes, &args, start + 2, &dir.join("userpass.log")).await;
    let coinbase = best_coinbase(&nodes).await;
    assert!(
        coinbase["vout"].to_string().contains(&address),
        "{coinbase}"
    );
    assert!(log.contains("solo mining on"), "{log}");
    assert!(
        !log.contains(&password),
        "the RPC password is in the log:\n{log}"
    );
    // Written to disk before submitblock, renamed once the node accepted: the tip is there.
    let best = nodes.rpc().best_block_hash().await.unwrap();
    let stored = data.join("blocks").join(format!("{best}.accepted"));
    assert!(stored.is_file(), "{} missing\n{log}", stored.display());

    // The node's cookie file instead of a user and password (bitcoind's `user:password`).
    let cookie = dir.join(".cookie");
    std::fs::write(&cookie, &userpass).unwrap();
    let cookie_text = cookie.display().to_string();
    let height = nodes.rpc().block_count().await.unwrap();
    let head = ["mine", "-o", &url, "--rpc-cookie-file", &cookie_text];
    let args = [&head[..], &["--coinbase-addr", &address], &common].concat();
    let log = mine_until(&nodes, &args, height + 1, &dir.join("cookie.log")).await;
    assert!(!log.contains(&password), "{log}");
    let coinbase = best_coinbase(&nodes).await;
    assert!(
        coinbase["vout"].to_string().contains(&address),
        "{coinbase}"
    );

    // An address the node's chain refuses is a usage error once the node answered.
    let head = ["mine", "-o", &url, "-O", &userpass];
    let args = [&head[..], &["--coinbase-addr", "notanaddress"], &common].concat();
    let stderr = usage_error(&args, "coinbase-addr: ");
    assert!(!stderr.contains(&password), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn solo_usage_errors() {
    let node = "http://127.0.0.1:8332/";
    usage_error(
        &["mine", "-o", node, "-O", "u:p"],
        "solo mining on http://127.0.0.1:8332/ needs --coinbase-addr ADDRESS",
    );
    usage_error(
        &["mine", "-o", node, "--coinbase-addr", "bcrt1q"],
        "give the node's RPC credentials as -u USER -p PASS",
    );
    usage_error(
        &[
            "mine",
            "-o",
            node,
            "--coinbase-addr",
            "a",
            "--rpc-cookie-file",
            "/nonexistent/.cookie",
        ],
        "rpc-cookie-file /nonexistent/.cookie: No such file",
    );
    usage_error(
        &[
            "mine",
            "-o",
            node,
            "-o",
            "http://127.0.0.1:1/",
            "-O",
            "u:p",
            "--coinbase-addr",
            "a",
        ],
        "solo mining takes one node URL",
    );
    usage_error(
        &[
            "mine",
            "-o",
            "stratum+tcp://127.0.0.1:1",
            "--coinbase-addr",
            "a",
        ],
        "coinbase-addr and rpc-cookie-file are for solo mining",
    );
    usage_error(
        &[
            "mine",
            "-o",
            "http://exa mple:8332/",
            "-O",
            "u:p",
            "--coinbase-addr",
            "a",
        ],
        "-o http://exa mple:8332/: not a usable node URL",
    );
    // The password of a rejected command line is not echoed.
    let stderr = usage_error(
        &["mine", "-o", "http://me:s3cret@127.0.0.1:8332/"],
        "solo mining on http://127.0.0.1:8332/ needs",
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
}
