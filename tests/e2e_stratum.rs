//! End to end on loopback: two regtest bitcoind nodes, `mesos-miner pool` on them, and
//! `mesos-miner mine -t 2` on the pool. The node must accept at least 3 blocks mined this
//! way (its best block carries our pool's coinbase), including blocks with mempool
//! transactions, and the miner must see no rejected share.

use std::path::Path;
use std::time::{Duration, Instant};

use testkit::regtest::RegtestNodes;

use crate::support::{Proc, free_addr, get_json, temp_dir, wait_listening};
use serde_json::json;

async fn send_transactions(nodes: &RegtestNodes, n: usize) -> Vec<String> {
    let mut txids = Vec::new();
    for _ in 0..n {
        let to = nodes.rpc().new_address().await.unwrap();
        let txid = nodes
            .rpc()
            .call("sendtoaddress", json!([to, 1.0]))
            .await
            .unwrap();
        txids.push(txid.as_str().unwrap().to_owned());
    }
    txids
}

fn pool_args<'a>(
    nodes: &'a RegtestNodes,
    listen: &'a str,
    payout: &'a str,
    data: &'a Path,
    tag: &'a str,
) -> Vec<String> {
    [
        "pool",
        "--listen",
        listen,
        "--bitcoind-url",
        &nodes.rpc_url(),
        "--rpc-user",
        nodes.rpc_user(),
        "--rpc-password-file",
        &nodes.password_file().display().to_string(),
        "--payout-address",
        payout,
        "--data-dir",
        &data.display().to_string(),
        "--pool-tag",
        tag,
        "--start-diff",
        "0.02",
        "--min-diff",
        "0.02",
        "--poll-interval",
        "0.5",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn miner_and_pool_get_blocks_into_a_real_node() {
    let nodes = RegtestNodes::start()
        .await
        .expect("regtest nodes (scripts/regtest-node.sh)");
    // Mature coins for the wallet (Part B.4), then transactions waiting in the mempool.
    nodes.rpc().call("generate", json!([101])).await.unwrap();
    let mut txids = send_transactions(&nodes, 3).await;
    let start = nodes.rpc().block_count().await.unwrap();

    let dir = temp_dir("e2e");
    let payout = nodes.rpc().new_address().await.unwrap();
    let tag = format!("/e2e-{}/", std::process::id());
    let listen = free_addr().to_string();
    let args = pool_args(&nodes, &listen, &payout, &dir.join("pool-data"), &tag);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let pool = Proc::spawn(&args, dir.join("pool.log"));
    wait_listening(listen.parse().unwrap(), &pool);

    let api = free_addr();
    let url = format!("stratum+tcp://{listen}");
    let api_text = api.to_string();
    let mut miner = Proc::spawn(
        &[
            "mine",
            "-o",
            &url,
            "-u",
            &payout,
            "-p",
            "x",
            "-t",
            "2",
            "--report-interval",
            "2",
            "--api-bind",
            &api_text,
            "-R",
            "1",
            // Normal priority: `mine` defaults to SCHED_IDLE, which gets no CPU at all on
            // a test machine kept busy by the other tests.
            "--cpu-priority",
            "2",
        ],
        dir.join("miner.log"),
    );

    // Three blocks or more; more transactions after the first, so later blocks carry them too.
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut sent_more = false;
    loop {
        let height = nodes.rpc().block_count().await.unwrap();
        if height > start && !sent_more {
            txids.extend(send_transactions(&nodes, 2).await);
            sent_more = true;
        }
        let confirmed = confirmed_all(&nodes, &txids).await;
        if height >= start + 3 && confirmed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "height {height} (start {start}), txs confirmed: {confirmed}\npool:\n{}\nminer:\n{}",
            pool.output(),
            miner.output()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // The best block is ours: its coinbase carries our pool tag and pays our address.
    let best = nodes
        .rpc()
        .call("getbestblockhash", json!([]))
        .await
        .unwrap();
    let block = nodes
        .rpc()
        .call("getblock", json!([best, 2]))
        .await
        .unwrap();
    let coinbase = &block["tx"][0];
    let script_sig = coinbase["vin"][0]["coinbase"].as_str().unwrap();
    assert!(
        script_sig.contains(&hex::encode(&tag)),
        "best block coinbase {coinbase}"
    );
    assert!(
        coinbase["vout"].to_string().contains(&payout),
        "payout in {coinbase}"
    );
    // Blocks with mempool transactions: every sent transaction is in a block we mined.
    let mut with_txs = 0;
    let mut hash = best.clone();
    for _ in start..nodes.rpc().block_count().await.unwrap() {
        let b = nodes
            .rpc()
            .call("getblock", json!([hash, 1]))
            .await
            .unwrap();
        if b["tx"].as_array().is_some_and(|t| t.len() > 1) {
            with_txs += 1;
        }
        hash = b["previousblockhash"].clone();
    }
    assert!(with_txs >= 1, "no mined block carried mempool transactions");

    let summary = get_json(api, "/summary");
    assert_eq!(
        summary["rejected"],
        0,
        "rejected shares: {summary}\n{}",
        miner.output()
    );
    assert!(summary["accepted"].as_u64().unwrap_or(0) >= 3, "{summary}");
    let status = miner.terminate(Duration::from_secs(5));
    assert!(
        status.is_some_and(|s| s.success()),
        "miner did not stop on SIGTERM in time"
    );
    let out = miner.output();
    assert!(out.contains("summary: accepted"), "{out}");
    assert!(
        out.contains(", dropped "),
        "the summary counts dropped shares:\n{out}"
    );
    assert!(!out.contains("booooo"), "a share was rejected:\n{out}");
    drop(pool);
    let _ = std::fs::remove_dir_all(&dir);
}

async fn confirmed_all(nodes: &RegtestNodes, txids: &[String]) -> bool {
    for txid in txids {
        let tx = nodes.rpc().call("gettransaction", json!([txid])).await;
        let confirmations = tx
            .ok()
            .and_then(|t| t["confirmations"].as_i64())
            .unwrap_or(0);
        if confirmations < 1 {
            return false;
        }
    }
    true
}
