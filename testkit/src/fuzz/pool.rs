//! `pool_rpc`: the pool's reading of bitcoind's JSON-RPC replies (`pool::rpc::decode_reply`)
//! for `getblocktemplate` (then the template check, the job built from it and a block
//! assembled from a share) and for `submitblock` (then its classification), plus the small
//! calls (`getblockcount`, `getblockchaininfo`).
//!
//! Input: a flags byte (bits 0-1 pick the HTTP status the body came with: 200, 500, 401,
//! 404), then the reply body.

use pool::blocks::classify;
use pool::coinbase::{network_from_chain, payout_script};
use pool::job::{JobConfig, TemplateJob};
use pool::rpc::{ChainInfo, decode_reply};
use pool::template::{BlockTemplate, Template};
use stratum::Method;
use stratum::methods::Notify;

use super::split_first;

/// A regtest P2PKH address (the one `pool`'s coinbase tests use).
const PAYOUT: &str = "mxfcJJiaacCaCcsMWwn1HtAoK8cEJokJbY";

/// `pool_rpc`. Checks: a template that decodes yields a job whose `mining.notify` the
/// `stratum` crate parses back equal (what every miner will do with it), and a block whose
/// length is header + transaction count + coinbase + transactions.
pub fn rpc_reply(data: &[u8]) {
    let (flags, body) = split_first(data);
    let status = [200, 500, 401, 404][usize::from(flags & 3)];
    if let Ok(t) = decode_reply::<BlockTemplate>(body, status) {
        template(&t);
    }
    let _ = classify(decode_reply::<Option<String>>(body, status));
    let _ = decode_reply::<u64>(body, status);
    if let Ok(info) = decode_reply::<ChainInfo>(body, status) {
        let _ = network_from_chain(&info.chain);
    }
}

fn template(t: &BlockTemplate) {
    let Ok(template) = Template::from_rpc(t) else {
        return;
    };
    assert!(
        !template.differs_in_work(&template),
        "a template differs from itself"
    );
    let network = network_from_chain("regtest").unwrap_or_else(|| panic!("regtest network"));
    let payout_script =
        payout_script(PAYOUT, network).unwrap_or_else(|e| panic!("payout address: {e}"));
    let config = JobConfig {
        payout_script,
        script_prefix: b"\x0bmesos-miner".to_vec(),
        extranonce1_len: 4,
        extranonce2_len: 8,
    };
    let Ok(job) = TemplateJob::new("1".into(), &template, &config, true) else {
        return;
    };
    let params = job.notify.to_params();
    match Notify::from_params(&params) {
        Ok(parsed) => assert_eq!(parsed, job.notify, "the notify changed on the wire"),
        Err(e) => panic!("a miner cannot parse the job's notify: {e}"),
    }
    let solved = job.solve(&[0; 4], &[0; 8], job.notify.ntime, 0, job.notify.version);
    let block = job.block(&solved);
    let txs: usize = template.txs.iter().map(|tx| tx.data.len()).sum();
    let count = 1 + template.txs.len() as u64;
    let varint = match count {
        0..=0xfc => 1,
        0xfd..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    };
    let coinbase = if job.segwit {
        pool::coinbase::with_reserved_witness(&solved.coinbase).len()
    } else {
        solved.coinbase.len()
    };
    assert_eq!(block.len(), 80 + varint + coinbase + txs, "block length");
    assert_eq!(&block[..80], &solved.header[..], "block header");
}
