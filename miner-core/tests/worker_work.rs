//! Stratum job → header, checked against the real block 100000 (spec/stratum.md Part A.2,
//! "Stratum job A"), and the header space split. The job is decoded by the `stratum` crate
//! from the notify line, as the worker gets it.

use std::collections::HashSet;
use std::sync::Arc;

use miner_core::kernels::sha256d;
use miner_core::work::{Extranonce2, Work, WorkError};
use stratum::methods::Notify;
use stratum::{Message, Method};

fn display(mut h: [u8; 32]) -> String {
    h.reverse();
    hex::encode(h)
}

/// Job A of the spec, as a pool sends it.
fn job_a() -> Arc<Notify> {
    let line = r#"{"id":null,"method":"mining.notify","params":["1","1901125004612a1701c3a621d930d31d36b607df1fccc2160002d01c00000000","01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff08044c86041b02","ffffffff0100f2052a010000004341041b0e8c2567c12536aa13357b79a073dc4444acb83c4ec7a0e2f99dd7457516c5817242da796924ca4e99947d087fedf9ce467cb9f7c6287078f801df276fdf84ac00000000",["c40297f730dd7b5a99567eb8d27b78758f607507c52292d02d4031895b52f2ff","49aef42d78e3e9999c9e6ec9e1dddd6cb880bf3b076a03be1318ca789089308e"],"00000001","1b04864c","4d1b2237",true]}"#;
    let Ok(Message::Notification(n)) = Message::parse(line) else {
        panic!("job A is a notification");
    };
    Arc::new(Notify::from_params(&n.params).expect("job A decodes"))
}

#[test]
fn job_a_rebuilds_block_100000() {
    let job = job_a();
    let work = Work::new(job.clone(), vec![0x06], 1, 0).unwrap();
    let en2 = Extranonce2::from_bytes(vec![0x02]).unwrap();
    assert_eq!(
        display(sha256d(&work.coinbase(&en2))),
        "8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87"
    );
    let mut header = work.header_bytes(&en2, job.version);
    assert_eq!(
        display(header[36..68].try_into().unwrap()),
        "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766"
    );
    // The submitted nonce "10572b0f" is the BE hex of the value; the header holds it LE.
    let nonce = u32::from_str_radix("10572b0f", 16).unwrap();
    header[76..80].copy_from_slice(&nonce.to_le_bytes());
    assert_eq!(
        display(sha256d(&header)),
        "000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506"
    );
    assert_eq!(job.ntime, 0x4d1b_2237);
    // Header index 2 is extranonce2 0x02 (the little-endian counter of a 1-byte slot).
    let h = work.header_at(2).unwrap();
    assert_eq!(h.extranonce2, en2);
    assert_eq!(h.bytes[..76], header[..76]);
}

#[test]
fn threads_never_share_a_header() {
    let work = Arc::new(Work::new(job_a(), vec![0x06], 1, 0x0000_e000).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let w = work.clone();
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                while let Some(h) = w.next_header() {
                    mine.push(h.bytes);
                }
                mine
            })
        })
        .collect();
    let mut all = HashSet::new();
    let mut count = 0;
    for h in handles {
        for bytes in h.join().unwrap() {
            count += 1;
            assert!(all.insert(bytes), "two threads got the same header");
        }
    }
    // 1-byte extranonce2 × 3 rollable version bits.
    assert_eq!(count, 256 * 8);
}

#[test]
fn unusable_extranonce2_sizes_are_clear_errors() {
    for size in [0, 33] {
        assert_eq!(
            Work::new(job_a(), vec![0x06], size, 0).unwrap_err(),
            WorkError::Extranonce2Size(size)
        );
    }
}
