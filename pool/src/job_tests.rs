use super::*;
use crate::template::hash_from_display;
use bitcoin::hashes::Hash as _;
use stratum::{Message, Method};

fn display(hash: [u8; 32]) -> String {
    let mut h = hash;
    h.reverse();
    hex::encode(h)
}

/// spec/stratum.md Part A.2, Stratum job A: the real block 100000 as a mining.notify.
fn job_a() -> TemplateJob {
    let branch = [
        "c40297f730dd7b5a99567eb8d27b78758f607507c52292d02d4031895b52f2ff",
        "49aef42d78e3e9999c9e6ec9e1dddd6cb880bf3b076a03be1318ca789089308e",
    ];
    let prevhash = hash_from_display(
        "prev",
        "000000000002d01c1fccc21636b607dfd930d31d01c3a62104612a1719011250",
    )
    .unwrap();
    TemplateJob {
        notify: Notify {
            job_id: JobId::new("1").unwrap(),
            prevhash: PrevHash::from_internal(prevhash),
            coinb1: hex::decode("01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff08044c86041b02").unwrap(),
            coinb2: hex::decode("ffffffff0100f2052a010000004341041b0e8c2567c12536aa13357b79a073dc4444acb83c4ec7a0e2f99dd7457516c5817242da796924ca4e99947d087fedf9ce467cb9f7c6287078f801df276fdf84ac00000000").unwrap(),
            merkle_branch: branch
                .iter()
                .map(|b| hex::decode(b).unwrap().try_into().unwrap())
                .collect(),
            version: 1,
            nbits: 0x1b04864c,
            ntime: 0x4d1b2237,
            clean_jobs: true,
        },
        mintime: 0,
        height: 100_000,
        segwit: false,
        txs: Arc::new(Vec::new()),
        network_target: Target::from_compact(0x1b04864c).unwrap(),
        seen: SeenShares::default(),
    }
}

/// The notify line as it goes out, parsed back by the `stratum` decoder.
fn wire_params(job: &TemplateJob) -> Vec<serde_json::Value> {
    let line = Message::from(job.notify.to_notification()).to_line();
    let Ok(Message::Notification(n)) = Message::parse(line.trim_end()) else {
        panic!("a notify is a notification: {line}");
    };
    assert_eq!(Notify::from_params(&n.params).unwrap(), job.notify);
    n.params
}

#[test]
fn job_a_rebuilds_block_100000() {
    let job = job_a();
    let params = wire_params(&job);
    assert_eq!(
        params[1],
        "1901125004612a1701c3a621d930d31d36b607df1fccc2160002d01c00000000"
    );
    assert_eq!(params[5], "00000001");
    assert_eq!(params[6], "1b04864c");
    assert_eq!(params[7], "4d1b2237");
    assert_eq!(params[8], true);
    let solved = job.solve(&[0x06], &[0x02], 0x4d1b2237, 0x10572b0f, 1);
    assert_eq!(
        display(sha256d(&solved.coinbase)),
        "8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87"
    );
    assert_eq!(
        display(solved.hash),
        "000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506"
    );
    assert!(job.network_target.is_met_by(&solved.hash));
    // One nonce off is a different hash that misses the target.
    let wrong = job.solve(&[0x06], &[0x02], 0x4d1b2237, 0x10572b10, 1);
    assert!(!job.network_target.is_met_by(&wrong.hash));
}

#[test]
fn prevhash_word_swap_matches_observed_regtest_notify() {
    let mut job = job_a();
    let prevhash = hash_from_display(
        "prev",
        "21e60c94f7ed79a9352a7cc79436341a391c9ea147dcd144e572e4dbacd3fa8b",
    )
    .unwrap();
    job.notify.prevhash = PrevHash::from_internal(prevhash);
    assert_eq!(
        wire_params(&job)[1],
        "acd3fa8be572e4db47dcd144391c9ea19436341a352a7cc7f7ed79a921e60c94"
    );
}

#[test]
fn block_serialization() {
    let mut job = job_a();
    job.txs = Arc::new(vec![Tx {
        data: vec![0xaa, 0xbb],
        txid: [0; 32],
    }]);
    let solved = job.solve(&[0x06], &[0x02], 0x4d1b2237, 0x10572b0f, 1);
    let block = job.block(&solved);
    assert_eq!(&block[..80], &solved.header);
    assert_eq!(block[80], 2);
    assert_eq!(&block[81..81 + solved.coinbase.len()], &solved.coinbase[..]);
    assert_eq!(&block[block.len() - 2..], &[0xaa, 0xbb]);
    let mut v = Vec::new();
    for n in [0u64, 0xfc, 0xfd, 0xffff, 0x10000, 0x1_0000_0000] {
        v.clear();
        write_varint(&mut v, n);
        let expected = match n {
            0..=0xfc => 1,
            0xfd..=0xffff => 3,
            0x10000..=0xffff_ffff => 5,
            _ => 9,
        };
        assert_eq!(v.len(), expected, "{n:#x}");
    }
}

fn template(prev: u8, ntx: usize) -> Template {
    Template {
        version: 0x2000_0000,
        prevhash: [prev; 32],
        txs: (0..ntx)
            .map(|i| Tx {
                data: vec![i as u8],
                txid: [i as u8 + 1; 32],
            })
            .collect(),
        coinbase_value: 50,
        bits: 0x207fffff,
        height: 200,
        curtime: 1000,
        mintime: 900,
        witness_commitment: None,
        longpollid: None,
    }
}

fn config() -> JobConfig {
    JobConfig {
        payout_script: ScriptBuf::from_bytes(vec![0x51]),
        script_prefix: Vec::new(),
        extranonce1_len: 4,
        extranonce2_len: 8,
    }
}

#[test]
fn job_book_clean_jobs_and_staleness() {
    let mut book = JobBook::new(4, 0xabcd);
    let j1 = book.push(&template(1, 0), &config()).unwrap();
    assert!(j1.notify.clean_jobs);
    assert_eq!(j1.id(), "0000abcd00000001");
    let j2 = book.push(&template(1, 2), &config()).unwrap();
    assert!(!j2.notify.clean_jobs, "same prevhash, new txs: not clean");
    assert!(book.get(j1.id()).is_some());
    let j3 = book.push(&template(2, 0), &config()).unwrap();
    assert!(j3.notify.clean_jobs);
    assert!(book.get(j1.id()).is_none() && book.get(j2.id()).is_none());
    for _ in 0..6 {
        book.push(&template(2, 1), &config()).unwrap();
    }
    assert!(
        book.get(j3.id()).is_none(),
        "oldest dropped beyond max_jobs"
    );
    assert_eq!(book.current().unwrap().txs.len(), 1);
}

#[test]
fn job_ntime_is_not_before_mintime() {
    let mut t = template(1, 0);
    let job = TemplateJob::new("x".into(), &t, &config(), true).unwrap();
    assert_eq!(job.notify.ntime, 1000);
    t.mintime = 1200;
    let job = TemplateJob::new("x".into(), &t, &config(), true).unwrap();
    assert_eq!(job.notify.ntime, 1200);
}

#[test]
fn template_job_solves_to_a_consistent_block() {
    // With transactions: the header's root is the full tree over [coinbase, txids...].
    let t = template(7, 3);
    let job = TemplateJob::new("x".into(), &t, &config(), true).unwrap();
    let solved = job.solve(
        &[1, 2, 3, 4],
        &[9; 8],
        job.notify.ntime,
        5,
        job.notify.version,
    );
    let mut leaves = vec![sha256d(&solved.coinbase)];
    leaves.extend(t.txs.iter().map(|tx| tx.txid));
    assert_eq!(&solved.header[36..68], &merkle::root(&leaves).unwrap()[..]);
    // Without: rust-bitcoin parses the block, agrees on the root and reads the BIP34 height.
    let job = TemplateJob::new("y".into(), &template(7, 0), &config(), true).unwrap();
    let solved = job.solve(
        &[1, 2, 3, 4],
        &[9; 8],
        job.notify.ntime,
        5,
        job.notify.version,
    );
    let block: bitcoin::Block =
        bitcoin::consensus::encode::deserialize(&job.block(&solved)).unwrap();
    assert!(block.check_merkle_root());
    assert_eq!(block.bip34_block_height().unwrap(), 200);
    assert_eq!(block.header.nonce, 5);
    assert_eq!(block.header.time, 1000);
    assert_eq!(*block.block_hash().as_byte_array(), solved.hash);
}

#[test]
fn segwit_template_puts_the_witness_coinbase_in_the_block() {
    let mut t = template(3, 1);
    let commitment = format!("6a24aa21a9ed{}", "11".repeat(32));
    t.witness_commitment = Some(hex::decode(&commitment).unwrap());
    let job = TemplateJob::new("s".into(), &t, &config(), true).unwrap();
    let solved = job.solve(
        &[1, 2, 3, 4],
        &[0; 8],
        job.notify.ntime,
        0,
        job.notify.version,
    );
    // The txid (merkle leaf) is of the stripped coinbase …
    let stripped: bitcoin::Transaction =
        bitcoin::consensus::encode::deserialize(&solved.coinbase).unwrap();
    assert!(stripped.input[0].witness.is_empty());
    assert_eq!(
        hex::encode(stripped.output[1].script_pubkey.as_bytes()),
        commitment
    );
    // … while the block carries it with marker, flag and the 32-byte zero reserved value.
    let block = job.block(&solved);
    assert_eq!(&block[81 + 4..81 + 6], &[0x00, 0x01]);
    let full = &block[81..block.len() - t.txs[0].data.len()];
    let tx: bitcoin::Transaction = bitcoin::consensus::encode::deserialize(full).unwrap();
    assert_eq!(tx.input[0].witness.to_vec(), vec![vec![0u8; 32]]);
    assert_eq!(tx.compute_txid().to_byte_array(), sha256d(&solved.coinbase));
}

#[test]
fn templates_with_an_impossible_nbits_are_refused_and_the_book_keeps_its_job() {
    let mut book = JobBook::new(4, 1);
    let good = book.push(&template(1, 0), &config()).unwrap();
    // The inputs, and one just past regtest's limit; 0x207fffff itself is fine.
    for bits in [0x0000_0000, 0xffff_ffff, 0x2080_0000, 0x2100_ffff] {
        let t = Template {
            bits,
            ..template(2, 0)
        };
        let err = book.push(&t, &config()).unwrap_err();
        assert!(err.to_string().contains(&format!("{bits:#010x}")), "{err}");
        assert_eq!(book.current().map(|j| j.id()), Some(good.id()));
    }
    let mut easiest = template(3, 0);
    easiest.bits = 0x207f_ffff;
    assert!(book.push(&easiest, &config()).is_ok());
}
