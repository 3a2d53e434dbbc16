//! The nonce search against the reference sha256d: same nonces, increasing order, job
//! replacement and stop.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::mpsc;

use miner_core::kernels::{Kernel, Portable, sha256d};
use miner_core::search::NONCE_SPACE;
use miner_core::{Difficulty, Miner, ScanJob, SearchError, Target, WorkSource};

/// (version, prev display hex, merkle display hex, time, bits, nonce) of blocks 0, 100000 and
/// 125552 (stratum.md Part A.2).
const REAL: [(u32, &str, &str, u32, u32, u32); 3] = [
    (
        1,
        "0000000000000000000000000000000000000000000000000000000000000000",
        "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
        1231006505,
        0x1d00ffff,
        2083236893,
    ),
    (
        1,
        "000000000002d01c1fccc21636b607dfd930d31d01c3a62104612a1719011250",
        "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766",
        1293623863,
        0x1b04864c,
        274148111,
    ),
    (
        1,
        "00000000000008a3a41b85b8b29ad444def299fee21793cd8b9e567eab02cd81",
        "2b12fcf1b09288fcaff797d71e950e71ae42b91e8bdb2304758dfcffc2b620e3",
        1305998791,
        0x1a44b9f2,
        2504433986,
    ),
];

fn header(v: u32, prev: &str, merkle: &str, time: u32, bits: u32, nonce: u32) -> [u8; 80] {
    let mut h = [0u8; 80];
    h[0..4].copy_from_slice(&v.to_le_bytes());
    for (range, display) in [(4..36, prev), (36..68, merkle)] {
        let mut bytes = hex::decode(display).expect("test hex");
        bytes.reverse();
        h[range].copy_from_slice(&bytes);
    }
    h[68..72].copy_from_slice(&time.to_le_bytes());
    h[72..76].copy_from_slice(&bits.to_le_bytes());
    h[76..80].copy_from_slice(&nonce.to_le_bytes());
    h
}

fn genesis() -> [u8; 80] {
    let (v, p, m, t, b, n) = REAL[0];
    header(v, p, m, t, b, n)
}

fn with_nonce(mut h: [u8; 80], nonce: u32) -> [u8; 80] {
    h[76..80].copy_from_slice(&nonce.to_le_bytes());
    h
}

/// Nonces of `h` in the range whose reference hash meets `target`.
fn reference(h: [u8; 80], start: u32, count: u32, target: Target) -> Vec<u32> {
    (start..=start + (count - 1))
        .filter(|n| target.is_met_by(&sha256d(&with_nonce(h, *n))))
        .collect()
}

fn miner(threads: usize) -> Miner {
    Miner::new(threads, &Portable).expect("miner")
}

fn easy() -> Target {
    // About one hash in 1024 qualifies.
    Target::from_difficulty(Difficulty::new(1.0 / f64::from(1u32 << 22)).expect("positive"))
}

#[test]
fn scan_range_finds_what_the_reference_finds_in_order() {
    let h = genesis();
    let (start, count) = (123_457u32, 70_001u32); // not a multiple of the chunk size
    let expected = reference(h, start, count, easy());
    assert!(
        expected.len() > 20,
        "too few to be meaningful: {}",
        expected.len()
    );
    let found = miner(3)
        .scan_range(h, start, u64::from(count), easy())
        .expect("scan");
    let nonces: Vec<u32> = found.iter().map(|f| f.nonce).collect();
    assert_eq!(nonces, expected);
    for f in &found {
        assert_eq!(f.header, with_nonce(h, f.nonce));
        assert_eq!(f.hash, sha256d(&f.header));
        assert_eq!(f.header_index, 0);
    }
}

#[test]
fn real_headers_give_their_real_nonce() {
    let mut m = miner(2);
    for (v, p, mk, t, bits, nonce) in REAL {
        let h = header(v, p, mk, t, bits, 0);
        let target = Target::from_compact(bits).expect("nbits");
        let found = m.scan_range(h, nonce - 1000, 2000, target).expect("scan");
        let nonces: Vec<u32> = found.iter().map(|f| f.nonce).collect();
        assert_eq!(nonces, vec![nonce]);
    }
    assert!(m.total_hashes() >= 6000);
}

#[test]
fn full_target_check_rejects_near_misses() {
    let h = genesis();
    let nonce = 77;
    let hash = sha256d(&with_nonce(h, nonce));
    let exact = Target::from_le_bytes(hash);
    let mut below = hash;
    // hash - 1 as a little-endian integer (the hash is not zero).
    for byte in below.iter_mut() {
        let (v, borrow) = byte.overflowing_sub(1);
        *byte = v;
        if !borrow {
            break;
        }
    }
    let mut m = miner(1);
    assert_eq!(m.scan_range(h, nonce, 1, exact).expect("scan").len(), 1);
    assert_eq!(exact.top_max(), Target::from_le_bytes(below).top_max());
    assert!(
        m.scan_range(h, nonce, 1, Target::from_le_bytes(below))
            .expect("scan")
            .is_empty()
    );
}

#[test]
fn range_may_end_at_the_top_of_the_nonce_space_but_not_past_it() {
    let h = genesis();
    let start = u32::MAX - 4999;
    let mut m = miner(2);
    let found = m.scan_range(h, start, 5000, easy()).expect("scan");
    let nonces: Vec<u32> = found.iter().map(|f| f.nonce).collect();
    assert_eq!(nonces, reference(h, start, 5000, easy()));
    assert_eq!(
        m.scan_range(h, start, 5001, easy()),
        Err(SearchError::RangeTooLong { start, count: 5001 })
    );
    assert_eq!(m.scan_range(h, 0, 0, easy()), Err(SearchError::EmptyRange));
    assert!(m.scan_range(h, 0, NONCE_SPACE + 1, easy()).is_err());
    assert!(Miner::new(0, &Portable).is_err());
}

/// Header `i` is the genesis header with ntime + i; `limit` headers in all (None = endless).
struct Rolling {
    base: [u8; 80],
    limit: Option<u64>,
}

impl WorkSource for Rolling {
    fn header(&self, index: u64) -> Option<[u8; 80]> {
        if self.limit.is_some_and(|l| index >= l) {
            return None;
        }
        let mut h = self.base;
        let time = u32::from_le_bytes([h[68], h[69], h[70], h[71]]).wrapping_add(index as u32);
        h[68..72].copy_from_slice(&time.to_le_bytes());
        Some(h)
    }
}

#[test]
fn threads_move_on_to_the_next_header_when_a_range_is_used_up() {
    let source = Rolling {
        base: genesis(),
        limit: Some(3),
    };
    let (start, count) = (5u32, 40_000u32);
    let mut expected = BTreeSet::new();
    for i in 0..3 {
        let h = source.header(i).expect("header");
        for n in reference(h, start, count, easy()) {
            expected.insert((i, n));
        }
    }
    let m = miner(2);
    let (tx, rx) = mpsc::channel();
    let job = ScanJob {
        id: 42,
        source: Arc::new(source),
        target: easy(),
        nonce_start: start,
        nonce_count: u64::from(count),
    };
    let generation = m.start_job(job, tx).expect("job");
    // The channel closes once every header is done.
    let found: Vec<_> = rx.iter().collect();
    assert!(
        found
            .iter()
            .all(|f| f.job_id == 42 && f.generation == generation)
    );
    let got: BTreeSet<(u64, u32)> = found.iter().map(|f| (f.header_index, f.nonce)).collect();
    assert_eq!(got.len(), found.len(), "a nonce was reported twice");
    assert_eq!(got, expected);
    assert!(m.total_hashes() >= 3 * u64::from(count));
}

/// Header `i` is the genesis header with version bits `i << 13` (`limit` of them); it says
/// they come in groups of `group`. With `lying`, every header also has its own ntime, so
/// the groups it promises are false.
struct Versions {
    limit: u64,
    group: u64,
    lying: bool,
}

impl WorkSource for Versions {
    fn header(&self, index: u64) -> Option<[u8; 80]> {
        if index >= self.limit {
            return None;
        }
        let mut h = genesis();
        h[0..4].copy_from_slice(&(0x2000_0000 | (index as u32) << 13).to_le_bytes());
        if self.lying {
            h[68] = h[68].wrapping_add(index as u8);
        }
        Some(h)
    }

    fn version_group(&self) -> u64 {
        self.group
    }
}

#[test]
fn version_groups_are_scanned_together_and_find_what_each_header_has() {
    let (start, count) = (77u32, 9_000u32);
    // Whole groups and a partial last one; 5 is used as 4; a false promise is harmless.
    for (limit, group, lying) in [(19, 8, false), (11, 5, false), (10, 8, true)] {
        let source = Versions {
            limit,
            group,
            lying,
        };
        let mut expected = BTreeSet::new();
        for i in 0..limit {
            for n in reference(source.header(i).expect("header"), start, count, easy()) {
                expected.insert((i, n));
            }
        }
        let kernel =
            miner_core::kernels::select(miner_core::kernels::KernelKind::Auto).expect("a kernel");
        let m = Miner::new(2, kernel).expect("miner");
        let (tx, rx) = mpsc::channel();
        let job = ScanJob {
            id: 7,
            source: Arc::new(source),
            target: easy(),
            nonce_start: start,
            nonce_count: u64::from(count),
        };
        m.start_job(job, tx).expect("job");
        let found: Vec<_> = rx.iter().collect();
        let got: BTreeSet<(u64, u32)> = found.iter().map(|f| (f.header_index, f.nonce)).collect();
        assert_eq!(got.len(), found.len(), "a nonce was reported twice");
        assert_eq!(got, expected, "limit {limit}, group {group}, lying {lying}");
        for f in &found {
            assert_eq!(
                f.header[..76],
                Versions {
                    limit,
                    group,
                    lying
                }
                .header(f.header_index)
                .unwrap()[..76]
            );
        }
        assert!(m.total_hashes() >= limit * u64::from(count));
    }
}

fn endless_job(id: u64, target: Target) -> ScanJob {
    ScanJob {
        id,
        source: Arc::new(Rolling {
            base: genesis(),
            limit: None,
        }),
        target,
        nonce_start: 0,
        nonce_count: NONCE_SPACE,
    }
}

#[test]
fn a_new_job_ends_the_old_one_and_stop_ends_everything() {
    let m = miner(2);
    let (tx_a, rx_a) = mpsc::channel();
    let gen_a = m.start_job(endless_job(1, easy()), tx_a).expect("job a");
    let first: Vec<_> = rx_a.iter().take(3).collect();
    assert!(first.iter().all(|f| f.job_id == 1 && f.generation == gen_a));

    let (tx_b, rx_b) = mpsc::channel();
    let gen_b = m.start_job(endless_job(2, easy()), tx_b).expect("job b");
    assert!(gen_b > gen_a);
    // ScanJob A's channel closes without a stop: its threads left it for job B.
    assert!(rx_a.iter().all(|f| f.job_id == 1));
    let second: Vec<_> = rx_b.iter().take(3).collect();
    assert!(
        second
            .iter()
            .all(|f| f.job_id == 2 && f.generation == gen_b)
    );

    m.stop();
    // After stop returns no thread holds job B: what is buffered drains, then the end.
    let rest: Vec<_> = rx_b.try_iter().collect();
    assert!(rest.iter().all(|f| f.generation == gen_b));
    assert_eq!(rx_b.try_recv(), Err(mpsc::TryRecvError::Disconnected));
    let per_thread = m.hashes_per_thread();
    assert_eq!(per_thread.len(), 2);
    let before = m.total_hashes();
    assert!(before > 0);
    // Stopped means stopped: a second stop returns at once and nothing counts any more.
    m.stop();
    assert_eq!(m.total_hashes(), before);
}

#[test]
fn kernel_name_is_visible() {
    let m = miner(1);
    assert_eq!(m.kernel().name(), Portable.name());
    assert_eq!(m.threads(), 1);
}
