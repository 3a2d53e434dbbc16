//! The durable block store against real regtest nodes: a block left pending in the data
//! dir is submitted on restart, a block found while the node is down waits on disk until it
//! returns, and a block whose write fails is submitted from memory.

use std::time::Duration;

use pool::blocks::BlockStore;
use serde_json::json;
use testkit::stratum::header::{display, work};
use testkit::stratum::miner::Client;

use crate::regtest::{best_is, find_nonce, mine_block, nodes, start_pool, temp_dir, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_left_in_the_data_dir_is_submitted_on_restart() {
    let nodes = nodes().await;
    let data = temp_dir("restart");
    let pool = start_pool(&nodes, &data, 1e-9, Duration::from_millis(300)).await;
    let mut client = Client::connect(pool.local_addr()).await;
    let params = client.handshake("w").await;
    // Solve the job, but the "crash" comes before the submit: only the file remains.
    let en2 = [5u8; 8];
    let mut w = work(&params, &client.extranonce1.clone(), &en2);
    let (nonce, hash) = find_nonce(&params, &w, true);
    pool.shutdown().await;
    w.header[76..80].copy_from_slice(&nonce.to_le_bytes());
    let mut block = w.header.to_vec();
    block.push(1);
    block.extend_from_slice(&w.coinbase);
    let hash = display(hash);
    BlockStore::open(&data)
        .unwrap()
        .save(&hash, &hex::encode(block))
        .unwrap();

    let pool = start_pool(&nodes, &data, 1e-9, Duration::from_millis(300)).await;
    wait_for("resubmitted block", async || best_is(&nodes, &hash).await).await;
    let f = data.join("blocks").join(format!("{hash}.accepted"));
    wait_for("accepted file", async || f.exists()).await;
    assert!(
        BlockStore::open(&data)
            .unwrap()
            .pending()
            .unwrap()
            .is_empty()
    );
    pool.shutdown().await;
    std::fs::remove_dir_all(data).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_found_while_the_node_is_down_is_submitted_when_it_returns() {
    let mut nodes = nodes().await;
    let data = temp_dir("outage");
    let pool = start_pool(&nodes, &data, 1e-9, Duration::from_millis(300)).await;
    let mut client = Client::connect(pool.local_addr()).await;
    let params = client.handshake("w").await;
    nodes.stop_first().await.unwrap();
    // The share is accepted and the block kept on disk while submitblock keeps failing (the
    // submitter writes it off the runtime, so it shows up just after the share's reply).
    let hash = mine_block(&mut client, "w", &params, &[9; 8]).await;
    let pending = data.join("blocks").join(format!("{hash}.pending"));
    wait_for("block on disk before it could be submitted", async || {
        pending.exists()
    })
    .await;
    nodes.restart_first().await.unwrap();
    wait_for("block submitted after the node came back", async || {
        best_is(&nodes, &hash).await
    })
    .await;
    let accepted = data.join("blocks").join(format!("{hash}.accepted"));
    wait_for("accepted file", async || accepted.exists()).await;
    // Miners were never dropped: the same connection gets the next job.
    client.next_notify(|p| p[8] == json!(true)).await;
    pool.shutdown().await;
    std::fs::remove_dir_all(data).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_is_submitted_even_when_the_data_dir_cannot_store_it() {
    let nodes = nodes().await;
    let data = temp_dir("nodisk");
    let pool = start_pool(&nodes, &data, 1e-9, Duration::from_millis(300)).await;
    // The blocks directory becomes unusable after start (a plain file stands in its place,
    // which defeats even root): saving fails, the block must still reach the node.
    let blocks = data.join("blocks");
    std::fs::remove_dir_all(&blocks).unwrap();
    std::fs::write(&blocks, b"not a directory").unwrap();
    let mut client = Client::connect(pool.local_addr()).await;
    let params = client.handshake("w").await;
    let hash = mine_block(&mut client, "w", &params, &[3; 8]).await;
    wait_for("block submitted from memory", async || {
        best_is(&nodes, &hash).await
    })
    .await;
    pool.shutdown().await;
    std::fs::remove_dir_all(data).unwrap();
}
