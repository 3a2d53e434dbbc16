//! The pool against real Bitcoin SV regtest nodes (spec/stratum.md Part B.4), driven by a raw
//! Stratum client. Needs the node from scripts/regtest-node.sh (or MESOS_MINER_BITCOIND).

use std::path::{Path, PathBuf};
use std::time::Duration;

use miner_core::Target;
use pool::rpc::{RpcAuth, RpcError};
use pool::{Backend, Pool, PoolConfig, PoolError};
use serde_json::{Value, json};
use stratum::Difficulty;
use testkit::regtest::RegtestNodes;
use testkit::stratum::header::{Work, display, nonce_where, work};
use testkit::stratum::miner::{Client, submit_params};
use tokio::net::TcpListener;

pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "pool-test-{name}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) async fn nodes() -> RegtestNodes {
    match RegtestNodes::start().await {
        Ok(n) => n,
        Err(e) => panic!("cannot start regtest nodes: {e}"),
    }
}

/// The pool's credentials for the node, read from the node's password file as an operator's
/// `--rpc-password-file` would be.
fn node_auth(nodes: &RegtestNodes) -> RpcAuth {
    let password = pool::credentials::read_password_file(nodes.password_file())
        .expect("the harness wrote the password file");
    RpcAuth::UserPass {
        user: nodes.rpc_user().into(),
        password,
    }
}

/// A pool on 127.0.0.1:0 for `nodes`, fixed share difficulty `diff`, fast polling.
pub(crate) async fn start_pool(
    nodes: &RegtestNodes,
    data_dir: &Path,
    diff: f64,
    poll: Duration,
) -> Pool {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let payout = nodes.rpc().new_address().await.unwrap();
    let mut config = PoolConfig::new(
        Backend::Node {
            url: nodes.rpc_url(),
            auth: node_auth(nodes),
        },
        Some(payout),
        data_dir.to_path_buf(),
    );
    config.poll_interval = poll;
    config.session.vardiff = None;
    config.session.initial_difficulty = Difficulty::new(diff).unwrap();
    config.session.min_difficulty = Difficulty::new(diff).unwrap();
    Pool::start(listener, config).await.expect("pool starts")
}

pub(crate) async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The first nonce whose header hash does (`want = true`) or does not meet the notify's
/// network target (the pool's own `Target`); with the hash (internal order).
pub(crate) fn find_nonce(params: &Value, w: &Work, want: bool) -> (u32, [u8; 32]) {
    let nbits = u32::from_str_radix(params[6].as_str().unwrap(), 16).unwrap();
    let target = Target::from_compact(nbits).unwrap();
    nonce_where(&w.header, |hash| target.is_met_by(hash) == want)
}

/// Finds a block for `params`, submits it and returns its display hash.
pub(crate) async fn mine_block(
    client: &mut Client,
    worker: &str,
    params: &Value,
    en2: &[u8],
) -> String {
    let w = work(params, &client.extranonce1.clone(), en2);
    let (nonce, hash) = find_nonce(params, &w, true);
    let reply = client
        .request(
            "mining.submit",
            submit_params(worker, params, en2, w.ntime, nonce),
        )
        .await;
    assert_eq!(reply["result"], json!(true), "{reply}");
    display(hash)
}

pub(crate) async fn best_is(nodes: &RegtestNodes, hash: &str) -> bool {
    nodes.rpc().best_block_hash().await.ok().as_deref() == Some(hash)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mined_blocks_are_accepted_including_mempool_transactions() {
    let nodes = nodes().await;
    // 101 blocks more, so the wallet's first coinbase is mature and can pay (Part B.4).
    nodes.rpc().call("generate", json!([101])).await.unwrap();
    let data = temp_dir("accept");
    let pool = start_pool(&nodes, &data, 1e-9, Duration::from_millis(300)).await;
    let start = nodes.rpc().block_count().await.unwrap();
    let mut client = Client::connect(pool.local_addr()).await;
    let params = client.handshake("miner.w1").await;
    let hash = mine_block(&mut client, "miner.w1", &params, &[0; 8]).await;
    wait_for("first block", async || best_is(&nodes, &hash).await).await;
    assert_eq!(nodes.rpc().block_count().await.unwrap(), start + 1);

    // Transactions in the mempool reach the next job's merkle branch.
    for _ in 0..2 {
        let to = nodes.rpc().new_address().await.unwrap();
        nodes
            .rpc()
            .call("sendtoaddress", json!([to, 1.0]))
            .await
            .unwrap();
    }
    let params = client
        .next_notify(|p| p[4].as_array().is_some_and(|b| !b.is_empty()))
        .await;
    // Same tip, more transactions: earlier jobs stay valid.
    assert_eq!(params[8], json!(false), "{params}");
    let hash2 = mine_block(&mut client, "miner.w1", &params, &[1; 8]).await;
    wait_for("block with transactions", async || {
        best_is(&nodes, &hash2).await
    })
    .await;
    let block = nodes.rpc().call("getblock", json!([hash2])).await.unwrap();
    assert_eq!(block["tx"].as_array().unwrap().len(), 3, "{block}");
    assert_eq!(nodes.rpc().block_count().await.unwrap(), start + 2);

    // Both blocks were on disk before submission and are now marked accepted.
    for h in [&hash, &hash2] {
        let f = data.join("blocks").join(format!("{h}.accepted"));
        wait_for("accepted file", async || f.exists()).await;
    }
    // /status over HTTP.
    let api = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_addr = api.local_addr().unwrap();
    let source = pool.status_source();
    let api_stop = tokio_util::sync::CancellationToken::new();
    let api_task = tokio::spawn(pool::status::serve(api, source, api_stop.clone()));
    let status: Value = reqwest::get(format!("http://{api_addr}/status"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["blocks_found"], 2, "{status}");
    assert_eq!(status["blocks_accepted"], 2, "{status}");
    assert_eq!(status["workers"][0]["name"], "miner.w1");
    assert_eq!(status["workers"][0]["shares_accepted"], 2);
    assert!(status["workers"][0]["hashrate"].as_f64().unwrap() > 0.0);
    api_stop.cancel();
    let served = tokio::time::timeout(Duration::from_secs(10), api_task).await;
    assert!(
        matches!(served, Ok(Ok(Ok(())))),
        "status API stops when cancelled"
    );
    pool.shutdown().await;
    std::fs::remove_dir_all(data).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_tip_reaches_miners_as_a_clean_job_by_long_poll() {
    let nodes = nodes().await;
    let data = temp_dir("longpoll");
    // Polling every 10 minutes: only the long-poll can deliver the new tip in time.
    let pool = start_pool(&nodes, &data, 1e-9, Duration::from_secs(600)).await;
    let mut client = Client::connect(pool.local_addr()).await;
    client.handshake("w").await;
    let new_tip = nodes.rpc().call("generate", json!([1])).await.unwrap()[0]
        .as_str()
        .unwrap()
        .to_string();
    let params = client.next_notify(|p| p[8] == json!(true)).await;
    let mut prev = hex::decode(params[1].as_str().unwrap()).unwrap();
    for word in prev.chunks_mut(4) {
        word.reverse();
    }
    prev.reverse();
    assert_eq!(hex::encode(prev), new_tip);
    pool.shutdown().await;
    std::fs::remove_dir_all(data).unwrap();
}

fn code(reply: &Value) -> i64 {
    reply["error"][0]
        .as_i64()
        .unwrap_or_else(|| panic!("an error reply: {reply}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rejection_code() {
    let nodes = nodes().await;
    let data = temp_dir("codes");
    let pool = start_pool(&nodes, &data, 1.0, Duration::from_millis(300)).await;
    let addr = pool.local_addr();

    let mut fresh = Client::connect(addr).await;
    let submit = json!(["w", "00", "0000000000000000", "00000000", "00000000"]);
    assert_eq!(
        code(&fresh.request("mining.submit", submit.clone()).await),
        25
    );
    fresh.request("mining.subscribe", json!([])).await;
    assert_eq!(code(&fresh.request("mining.submit", submit).await), 24);

    let mut c = Client::connect(addr).await;
    let params = c.handshake("w").await;
    let en2 = [7u8; 8];
    let w = work(&params, &c.extranonce1.clone(), &en2);
    let (block_nonce, _) = find_nonce(&params, &w, true);
    let (low_nonce, _) = find_nonce(&params, &w, false);
    let mut p = submit_params("w", &params, &en2, w.ntime, low_nonce);
    // 23: misses both the network target and difficulty 1.
    assert_eq!(code(&c.request("mining.submit", p.clone()).await), 23);
    p[0] = json!("someone-else");
    assert_eq!(code(&c.request("mining.submit", p.clone()).await), 24);
    p[0] = json!("w");
    p[1] = json!("no-such-job");
    assert_eq!(code(&c.request("mining.submit", p.clone()).await), 21);
    p[1] = params[0].clone();
    p[2] = json!("00000000");
    assert_eq!(
        code(&c.request("mining.submit", p.clone()).await),
        20,
        "en2 length"
    );
    p[2] = json!(hex::encode(en2));
    p[3] = json!(format!("{:08x}", w.ntime + 8000));
    assert_eq!(
        code(&c.request("mining.submit", p.clone()).await),
        20,
        "ntime"
    );
    let good = submit_params("w", &params, &en2, w.ntime, block_nonce);
    assert_eq!(
        c.request("mining.submit", good.clone()).await["result"],
        json!(true)
    );
    // The same share again is never accepted twice. Every share is a block on regtest, so
    // the pool may already have moved this connection to the new tip and voided the job
    // (21) before it reads the repeat; otherwise it is a duplicate (22). The duplicate rule
    // alone is checked deterministically in the stratum crate's server tests.
    let again = code(&c.request("mining.submit", good.clone()).await);
    assert!(
        matches!(again, 21 | 22),
        "repeat of an accepted share answered {again}"
    );
    // Our block moved the tip: the old job is void (clean_jobs) and its shares stale.
    c.next_notify(|p| p[8] == json!(true)).await;
    let mut stale = good;
    stale[4] = json!(format!("{:08x}", block_nonce.wrapping_add(1)));
    assert_eq!(code(&c.request("mining.submit", stale).await), 21);
    pool.shutdown().await;
    std::fs::remove_dir_all(data).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lines_drop_only_that_client() {
    let nodes = nodes().await;
    let data = temp_dir("badlines");
    let pool = start_pool(&nodes, &data, 1e-9, Duration::from_millis(300)).await;
    let addr = pool.local_addr();
    let mut good = Client::connect(addr).await;
    let params = good.handshake("good").await;

    let mut garbage = Client::connect(addr).await;
    garbage.send_raw(b"this is not json\n").await.unwrap();
    while garbage.line().await.is_some() {}

    let mut long = Client::connect(addr).await;
    long.request("mining.subscribe", json!([])).await;
    // 64 KiB without a newline: over the 16 KiB line limit. The pool may close while we
    // still write, so a write error is fine too.
    let _ = long.send_raw(&vec![b'x'; 64 * 1024]).await;
    while long.line().await.is_some() {}

    let hash = mine_block(&mut good, "good", &params, &[3; 8]).await;
    wait_for("block from the good client", async || {
        best_is(&nodes, &hash).await
    })
    .await;
    wait_for("dropped clients gone", async || {
        pool.status().connections == 1
    })
    .await;
    pool.shutdown().await;
    std::fs::remove_dir_all(data).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_rpc_password_is_fatal() {
    let nodes = nodes().await;
    let data = temp_dir("auth");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = PoolConfig::new(
        Backend::Node {
            url: nodes.rpc_url(),
            auth: RpcAuth::UserPass {
                user: nodes.rpc_user().into(),
                password: "wrong".into(),
            },
        },
        Some(nodes.rpc().new_address().await.unwrap()),
        data.clone(),
    );
    match Pool::start(listener, config).await {
        Err(PoolError::Rpc(RpcError::Auth(401))) => {}
        Err(other) => panic!("expected an auth error, got {other}"),
        Ok(_) => panic!("pool started with a wrong password"),
    }
    std::fs::remove_dir_all(data).unwrap();
}
