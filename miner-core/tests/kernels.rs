//! Every kernel this CPU can run against the `sha2` crate: random headers, real block headers
//! (the Stratum spec's verified vectors, Part A.2, written out below), the ends of the nonce
//! space and odd counts.

use miner_core::kernels::{
    HeaderWork, Kernel, KernelError, KernelKind, available, describe, select, self_test, sha256d,
};
use proptest::prelude::*;

fn kernels() -> Vec<&'static dyn Kernel> {
    available()
        .into_iter()
        .map(|k| select(k).expect("available kernels can be selected"))
        .collect()
}

/// The nonces in `start..start + count` whose sha256d has top word `<= top_max`, by `sha2`.
fn reference(header: &[u8; 80], start: u32, count: u32, top_max: u32) -> Vec<u32> {
    let mut h = *header;
    (0..count)
        .map(|i| start + i)
        .filter(|n| {
            h[76..80].copy_from_slice(&n.to_le_bytes());
            let hash = sha256d(&h);
            u32::from_le_bytes(hash[28..32].try_into().unwrap()) <= top_max
        })
        .collect()
}

fn scan(k: &dyn Kernel, header: &[u8; 80], start: u32, count: u32, top_max: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let done = k.scan(&HeaderWork::new(header), start, count, top_max, &mut found);
    assert_eq!(done, u64::from(count), "{} hash count", k.name());
    found
}

fn check(k: &dyn Kernel, header: &[u8; 80], start: u32, count: u32, top_max: u32) {
    assert_eq!(
        scan(k, header, start, count, top_max),
        reference(header, start, count, top_max),
        "kernel {} start {start} count {count} top_max {top_max:#x}",
        k.name()
    );
}

/// Display hex (as explorers show hashes) to internal byte order.
fn internal(display: &str) -> [u8; 32] {
    let mut b: [u8; 32] = hex::decode(display).unwrap().try_into().unwrap();
    b.reverse();
    b
}

fn header(version: u32, prev: &str, merkle: &str, time: u32, bits: u32, nonce: u32) -> [u8; 80] {
    let mut h = [0u8; 80];
    h[0..4].copy_from_slice(&version.to_le_bytes());
    h[4..36].copy_from_slice(&internal(prev));
    h[36..68].copy_from_slice(&internal(merkle));
    h[68..72].copy_from_slice(&time.to_le_bytes());
    h[72..76].copy_from_slice(&bits.to_le_bytes());
    h[76..80].copy_from_slice(&nonce.to_le_bytes());
    h
}

/// Blocks 0, 100000 and 125552: header, nonce, block hash (display).
fn real_blocks() -> Vec<([u8; 80], u32, &'static str)> {
    let zero = "0000000000000000000000000000000000000000000000000000000000000000";
    vec![
        (
            header(
                1,
                zero,
                "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
                1231006505,
                0x1d00ffff,
                2083236893,
            ),
            2083236893,
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
        ),
        (
            header(
                1,
                "000000000002d01c1fccc21636b607dfd930d31d01c3a62104612a1719011250",
                "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766",
                1293623863,
                0x1b04864c,
                274148111,
            ),
            274148111,
            "000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506",
        ),
        (
            header(
                1,
                "00000000000008a3a41b85b8b29ad444def299fee21793cd8b9e567eab02cd81",
                "2b12fcf1b09288fcaff797d71e950e71ae42b91e8bdb2304758dfcffc2b620e3",
                1305998791,
                0x1a44b9f2,
                2504433986,
            ),
            2504433986,
            "00000000000000001e8d6829a8a21adc5d38d0a473b144b6765798e61f98bd1d",
        ),
    ]
}

#[test]
fn real_headers_hash_to_their_block_hash() {
    for (h, _, hash) in real_blocks() {
        assert_eq!(sha256d(&h), internal(hash));
    }
}

#[test]
fn every_kernel_finds_exactly_the_real_nonce() {
    for k in kernels() {
        for (h, nonce, _) in real_blocks() {
            // An odd start and length, so the nonce sits at no lane boundary in particular.
            let found = scan(k, &h, nonce - 1001, 2003, 0);
            assert_eq!(found, vec![nonce], "kernel {}", k.name());
        }
    }
}

#[test]
fn top_max_all_ones_reports_every_nonce() {
    let h = real_blocks()[1].0;
    for k in kernels() {
        for count in [1, 7, 15, 16, 17, 33, 100] {
            let found = scan(k, &h, 12345, count, u32::MAX);
            assert_eq!(
                found,
                (12345..12345 + count).collect::<Vec<_>>(),
                "{}",
                k.name()
            );
        }
    }
}

#[test]
fn both_ends_of_the_nonce_space_and_odd_counts() {
    let h = real_blocks()[2].0;
    for k in kernels() {
        for count in [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100] {
            check(k, &h, 0, count, u32::MAX / 4);
            check(k, &h, u32::MAX - (count - 1), count, u32::MAX / 4);
            check(k, &h, u32::MAX - (count - 1), count, u32::MAX);
        }
        assert_eq!(scan(k, &h, u32::MAX, 1, u32::MAX), vec![u32::MAX]);
        assert_eq!(scan(k, &h, 5, 0, u32::MAX), Vec::<u32>::new());
    }
}

/// Runs `kind`'s own checks, or says loudly that this CPU cannot run them.
fn kernel_matches_sha2(kind: KernelKind) {
    let Ok(k) = select(kind) else {
        eprintln!("SKIPPED: this CPU cannot run kernel {kind}; its equivalence was not checked");
        return;
    };
    assert_eq!(k.name(), kind.as_str());
    let mut h = real_blocks()[0].0;
    for seed in 0u8..8 {
        h[0] = seed;
        h[70] = seed.wrapping_mul(37);
        check(k, &h, u32::from(seed) * 1_000_003, 301, u32::MAX / 16);
    }
    for (h, nonce, _) in real_blocks() {
        assert_eq!(scan(k, &h, nonce - 40, 81, 0), vec![nonce]);
    }
}

#[test]
fn avx512_matches_sha2() {
    kernel_matches_sha2(KernelKind::Avx512);
}

#[test]
fn avx2_matches_sha2() {
    kernel_matches_sha2(KernelKind::Avx2);
}

#[test]
fn sha_ni_matches_sha2() {
    kernel_matches_sha2(KernelKind::ShaNi);
}

#[test]
fn portable_matches_sha2() {
    kernel_matches_sha2(KernelKind::Portable);
}

#[test]
fn kinds_parse_and_print() {
    for kind in [KernelKind::Auto].into_iter().chain(KernelKind::CONCRETE) {
        assert_eq!(kind.to_string().parse::<KernelKind>(), Ok(kind));
    }
    assert_eq!("sha-ni".parse::<KernelKind>(), Ok(KernelKind::ShaNi));
    assert!(matches!(
        "sse9".parse::<KernelKind>(),
        Err(KernelError::Unknown(_))
    ));
}

#[test]
fn missing_cpu_features_are_a_clear_error() {
    assert!(available().contains(&KernelKind::Portable));
    for kind in KernelKind::CONCRETE {
        match select(kind) {
            Ok(k) => assert!(available().contains(&kind), "{}", k.name()),
            Err(e) => {
                assert!(!available().contains(&kind));
                let msg = e.to_string();
                assert!(msg.starts_with(&format!("kernel {kind} needs ")), "{msg}");
                assert!(msg.ends_with("which this CPU lacks"), "{msg}");
            }
        }
    }
}

/// On this CPU every kernel it can run agrees with the scalar one at start-up, and `bench` /
/// `mine` can say so.
#[test]
fn every_available_kernel_passes_its_start_up_self_test() {
    for kind in available() {
        let t = self_test(kind).expect("an available kernel has a self-test");
        assert!(t.passed(), "{t}");
        assert_eq!(t.kernel, kind.as_str());
        assert!(t.nonces > 0);
        let line = describe(select(kind).expect("it passed"));
        assert!(
            line.starts_with(&format!("{kind}, self-test passed (")),
            "{line}"
        );
    }
    assert!(self_test(KernelKind::Auto).is_none());
}

#[test]
fn auto_picks_an_available_kernel_and_sticks_to_it() {
    let k = select(KernelKind::Auto).unwrap();
    let kind: KernelKind = k.name().parse().unwrap();
    assert!(available().contains(&kind));
    assert_eq!(select(KernelKind::Auto).unwrap().name(), k.name());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_headers_match_sha2(
        bytes in proptest::collection::vec(any::<u8>(), 80),
        start in any::<u32>(),
        count in 1u32..150,
        top_shift in 0u32..8,
    ) {
        let h: [u8; 80] = bytes.try_into().unwrap();
        let start = start.min(u32::MAX - (count - 1));
        let top_max = u32::MAX >> top_shift;
        let expect = reference(&h, start, count, top_max);
        for k in kernels() {
            prop_assert_eq!(scan(k, &h, start, count, top_max), expect.clone(), "{}", k.name());
            prop_assert_eq!(
                scan(k, &h, start, count, u32::MAX).len(), count as usize, "{}", k.name()
            );
        }
    }

    /// Headers alike but for their version (as version rolling makes them), scanned
    /// together: each one's hits as its own scan by `sha2` gives them.
    #[test]
    fn version_sets_match_sha2(
        bytes in proptest::collection::vec(any::<u8>(), 80),
        rolls in proptest::collection::vec(any::<u32>(), 1..20),
        start in any::<u32>(),
        count in 1u32..80,
        top_shift in 0u32..6,
    ) {
        let base: [u8; 80] = bytes.try_into().unwrap();
        let start = start.min(u32::MAX - (count - 1));
        let top_max = u32::MAX >> top_shift;
        let headers: Vec<[u8; 80]> = rolls
            .iter()
            .map(|r| {
                let mut h = base;
                h[0..4].copy_from_slice(&(r & 0x1fff_e000).to_le_bytes());
                h
            })
            .collect();
        let works: Vec<HeaderWork> = headers.iter().map(HeaderWork::new).collect();
        let expect: Vec<(usize, u32)> = headers
            .iter()
            .enumerate()
            .flat_map(|(i, h)| reference(h, start, count, top_max).into_iter().map(move |n| (i, n)))
            .collect();
        for k in kernels() {
            let mut found = Vec::new();
            let done = k.scan_versions(&works, start, count, top_max, &mut found);
            prop_assert_eq!(done, u64::from(count) * works.len() as u64, "{}", k.name());
            prop_assert_eq!(&found, &expect, "{}", k.name());
        }
    }
}
