//! The start-up self-test: before a kernel can be chosen (by `auto` or by name), it scans
//! known block headers and a batch of random ones and must give exactly what the scalar
//! [`Portable`] kernel gives, nonce for nonce, including at the very end of the nonce space
//! and at counts that are no multiple of its lanes. A kernel that disagrees is never used.
//!
//! What is compared is what a kernel answers: the nonces whose hash has a top word at most
//! `top_max`, and the number of hashes done. Each range is scanned with `top_max` all ones
//! (every nonce must come back: lane and length handling) and with a random `top_max`
//! (about half come back: the hash values themselves). The known headers (blocks 0, 100000
//! and 125552) are checked against their real nonce with `top_max` 0, which also checks the
//! scalar kernel itself. [`Kernel::scan_versions`] is checked the same way on sets of
//! headers that differ only in their version (as version rolling makes them), one set
//! with block 100000 among them, and one larger than a lane kernel's batch of versions.
//!
//! Test hook: the environment variable `MESOS_MINER_TEST_KERNEL_FAULT=<kernel name>` makes
//! that kernel's answers wrong during its self-test (the last nonce of every range toggled),
//! so the tests can show that a disagreeing kernel is reported and never chosen. It can only
//! make a kernel fail its self-test, never make a wrong one pass.

use std::fmt;
use std::time::{Duration, Instant};

use super::{HeaderWork, Kernel, Portable};

/// The hidden test hook (see the module doc).
pub(crate) const FAULT_ENV: &str = "MESOS_MINER_TEST_KERNEL_FAULT";

/// Random headers per self-test; each gives two ranges, each scanned twice.
const RANDOM_HEADERS: usize = 12;
/// Longest random range: a few lane batches of the widest kernel (16 lanes), plus a tail.
const MAX_RANGE: u32 = 100;
/// Nonces scanned around each known nonce.
const AROUND: u32 = 40;
/// Sizes of the sets of version-rolled headers: one, a few, more than one batch.
const VERSION_SETS: [usize; 3] = [1, 5, super::MAX_VERSIONS + 3];
/// Headers a self-test scans.
const HEADERS: usize =
    KNOWN.len() + RANDOM_HEADERS + VERSION_SETS[0] + VERSION_SETS[1] + VERSION_SETS[2];

/// Serialized headers of blocks 0, 100000 and 125552 (stratum.md Part A.2) and their nonces.
const KNOWN: [([u8; 80], u32); 3] = [
    (
        unhex(
            "01000000000000000000000000000000000000000000000000000000000000000000000\
             03ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49\
             ffff001d1dac2b7c",
        ),
        2083236893,
    ),
    (
        unhex(
            "0100000050120119172a610421a6c3011dd330d9df07b63616c2cc1f1cd00200000000006\
             657a9252aacd5c0b2940996ecff952228c3067cc38d4885efb5a4ac4247e9f337221b4d4c\
             86041b0f2b5710",
        ),
        274148111,
    ),
    (
        unhex(
            "0100000081cd02ab7e569e8bcd9317e2fe99f2de44d49ab2b8851ba4a308000000000000e\
             320b6c2fffc8d750423db8b1eb942ae710e951ed797f7affc8892b0f1fc122bc7f5d74df2\
             b9441a42a14695",
        ),
        2504433986,
    ),
];

/// 160 hex digits to 80 bytes, at compile time (a bad constant fails the build).
const fn unhex(s: &str) -> [u8; 80] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lower-case hex digit"),
        }
    }
    let b = s.as_bytes();
    assert!(b.len() == 160, "a header is 160 hex digits");
    let mut out = [0u8; 80];
    let mut i = 0;
    while i < 80 {
        out[i] = digit(b[2 * i]) << 4 | digit(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// What one kernel's self-test found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelfTest {
    /// The kernel's name.
    pub kernel: &'static str,
    /// Headers scanned (known and random).
    pub headers: usize,
    /// Nonces the kernel hashed.
    pub nonces: u64,
    /// Wall time of the whole test, the reference's share included.
    pub took: Duration,
    /// The first disagreement, if any; `None` means it passed.
    pub failure: Option<String>,
}

impl SelfTest {
    /// Whether the kernel agreed with the scalar kernel everywhere.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

impl fmt::Display for SelfTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            None => write!(
                f,
                "self-test passed ({} headers, {} nonces, same as portable, {:.1} ms)",
                self.headers,
                self.nonces,
                self.took.as_secs_f64() * 1e3
            ),
            Some(why) => write!(f, "self-test FAILED: {why}"),
        }
    }
}

/// A small deterministic generator (splitmix64), so a failure can be replayed from its seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn word(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }
}

/// A seed that differs between runs, so over many start-ups many headers get tried.
pub(crate) fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}

/// One range of one header, scanned by the kernel under test and compared.
struct Probe<'a> {
    kernel: &'a dyn Kernel,
    nonces: u64,
}

impl Probe<'_> {
    fn expect(
        &mut self,
        what: &str,
        work: &HeaderWork,
        range: (u32, u32),
        top_max: u32,
        want: &[u32],
    ) -> Result<(), String> {
        let (start, count) = range;
        let mut got = Vec::new();
        let done = self.kernel.scan(work, start, count, top_max, &mut got);
        self.nonces += done;
        if done != u64::from(count) {
            return Err(format!(
                "{}: {what}, nonces {start}+{count}: reported {done} hashes",
                self.kernel.name()
            ));
        }
        if got != want {
            return Err(format!(
                "{}: {what}, nonces {start}+{count}, top_max {top_max:#010x}: found {} nonces, \
                 portable {} (first difference at nonce {})",
                self.kernel.name(),
                got.len(),
                want.len(),
                first_difference(&got, want)
            ));
        }
        Ok(())
    }

    /// As [`Probe::expect`] for [`Kernel::scan_versions`] over `works`, against the scalar
    /// kernel's scan of each work (plus `must`, a hit it has to report).
    fn expect_versions(
        &mut self,
        what: &str,
        works: &[HeaderWork],
        range: (u32, u32),
        top_max: u32,
        must: Option<(usize, u32)>,
    ) -> Result<(), String> {
        let (start, count) = range;
        let mut want = Vec::new();
        for (i, work) in works.iter().enumerate() {
            let mut nonces = Vec::new();
            Portable.scan(work, start, count, top_max, &mut nonces);
            want.extend(nonces.into_iter().map(|n| (i, n)));
        }
        let mut got = Vec::new();
        let done = self
            .kernel
            .scan_versions(works, start, count, top_max, &mut got);
        self.nonces += done;
        let name = self.kernel.name();
        let expected = u64::from(count) * works.len() as u64;
        if done != expected {
            return Err(format!(
                "{name}: {what} ({} versions), nonces {start}+{count}: reported {done} \
                 hashes, not {expected}",
                works.len()
            ));
        }
        let missing = must.filter(|m| !got.contains(m));
        if got != want || missing.is_some() {
            let odd = if got != want {
                first_difference(&got, &want)
            } else {
                format!("{missing:?} missing in both")
            };
            return Err(format!(
                "{name}: {what} ({} versions), nonces {start}+{count}, top_max \
                 {top_max:#010x}: found {} hits, portable {} (first difference at {odd})",
                works.len(),
                got.len(),
                want.len()
            ));
        }
        Ok(())
    }
}

fn first_difference<T: Copy + Ord + fmt::Debug>(got: &[T], want: &[T]) -> String {
    got.iter()
        .zip(want)
        .find(|(g, w)| g != w)
        .map(|(g, w)| *g.min(w))
        .or_else(|| got.get(want.len()).or(want.get(got.len())).copied())
        .map_or_else(|| "-".to_owned(), |n| format!("{n:?}"))
}

/// Runs the self-test of `kernel` with random headers from `seed`.
pub(crate) fn run(kernel: &dyn Kernel, seed: u64) -> SelfTest {
    let t0 = Instant::now();
    let mut probe = Probe { kernel, nonces: 0 };
    let outcome = known(&mut probe)
        .and_then(|()| random(&mut probe, seed))
        .and_then(|()| versions(&mut probe, seed));
    SelfTest {
        kernel: kernel.name(),
        headers: HEADERS,
        nonces: probe.nonces,
        took: t0.elapsed(),
        failure: outcome.err(),
    }
}

/// The known blocks: exactly their nonce, at the top word 0 that a real block has.
fn known(probe: &mut Probe<'_>) -> Result<(), String> {
    for (height, (header, nonce)) in [0, 100_000, 125_552].iter().zip(KNOWN) {
        let work = HeaderWork::new(&header);
        let what = format!("block {height}");
        probe.expect(&what, &work, (nonce - AROUND, 2 * AROUND + 1), 0, &[nonce])?;
    }
    Ok(())
}

/// Random headers, each at a random range and at the end of the nonce space.
fn random(probe: &mut Probe<'_>, seed: u64) -> Result<(), String> {
    let mut rng = SplitMix(seed);
    for i in 0..RANDOM_HEADERS {
        let header: [u8; 80] = std::array::from_fn(|_| rng.next() as u8);
        let work = HeaderWork::new(&header);
        let count = 1 + rng.word() % MAX_RANGE;
        let last_start = u32::MAX - (count - 1);
        let ranges = [(rng.word().min(last_start), count), (last_start, count)];
        for (start, count) in ranges {
            let what = format!("random header {i} of seed {seed:#x}");
            let all: Vec<u32> = (0..count).map(|j| start + j).collect();
            probe.expect(&what, &work, (start, count), u32::MAX, &all)?;
            let top_max = rng.word();
            let mut want = Vec::new();
            Portable.scan(&work, start, count, top_max, &mut want);
            probe.expect(&what, &work, (start, count), top_max, &want)?;
        }
    }
    Ok(())
}

/// Sets of headers alike but for their version bits (BIP 320's, and the top ones), scanned
/// together: the second set holds block 100000 first, which must be found at its nonce.
fn versions(probe: &mut Probe<'_>, seed: u64) -> Result<(), String> {
    let mut rng = SplitMix(seed ^ 0x7665_7273_696f_6e73);
    for (set, size) in VERSION_SETS.into_iter().enumerate() {
        let base: [u8; 80] = if set == 1 {
            KNOWN[1].0
        } else {
            std::array::from_fn(|_| rng.next() as u8)
        };
        let works: Vec<HeaderWork> = (0..size)
            .map(|v| {
                let mut header = base;
                let version = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
                let rolled = version ^ ((v as u32) << 13) ^ (v as u32 & 1) << 31;
                header[0..4].copy_from_slice(&rolled.to_le_bytes());
                HeaderWork::new(&header)
            })
            .collect();
        let what = format!("version set {set} of seed {seed:#x}");
        let must = (set == 1).then_some((0, KNOWN[1].1));
        let count = 1 + rng.word() % MAX_RANGE;
        let start = match must {
            Some((_, nonce)) => nonce - (count / 2).min(nonce),
            None => rng.word().min(u32::MAX - (count - 1)),
        };
        for top_max in [0, rng.word(), u32::MAX] {
            probe.expect_versions(&what, &works, (start, count), top_max, must)?;
        }
        let end = u32::MAX - (count - 1);
        probe.expect_versions(&what, &works, (end, count), rng.word(), None)?;
    }
    Ok(())
}

/// A kernel whose answers are wrong: the last nonce of every range toggled in or out, the
/// kind of slip a lane kernel makes at the end of a range. For the test hook and the tests.
pub(crate) struct Faulty<'a>(pub(crate) &'a dyn Kernel);

impl Kernel for Faulty<'_> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn lanes(&self) -> u32 {
        self.0.lanes()
    }

    fn scan(
        &self,
        work: &HeaderWork,
        start: u32,
        count: u32,
        top_max: u32,
        found: &mut Vec<u32>,
    ) -> u64 {
        let from = found.len();
        let done = self.0.scan(work, start, count, top_max, found);
        if let Some(last) = count.checked_sub(1).map(|c| start + c) {
            match found[from..].iter().position(|n| *n == last) {
                Some(at) => {
                    found.remove(from + at);
                }
                None => found.push(last),
            }
        }
        done
    }
}

/// The self-test of `kernel`, with the fault of the test hook if it names this kernel.
pub(crate) fn run_at_start_up(kernel: &dyn Kernel) -> SelfTest {
    let faulted = std::env::var(FAULT_ENV).is_ok_and(|name| name == kernel.name());
    if faulted {
        run(&Faulty(kernel), fresh_seed())
    } else {
        run(kernel, fresh_seed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scalar_kernel_passes_and_counts_its_work() {
        let t = run(&Portable, 7);
        assert!(t.passed(), "{t}");
        assert_eq!(t.headers, KNOWN.len() + RANDOM_HEADERS + 1 + 5 + 11);
        // Known: 3 × 81 nonces; random: 12 headers × 2 ranges × 2 scans of 1..=100 each;
        // version sets: 4 scans of 1..=100 nonces for each of 17 headers.
        assert!(t.nonces >= 3 * 81 + 48 + 4 * 17, "{}", t.nonces);
        assert!(
            t.to_string().starts_with("self-test passed (32 headers, "),
            "{t}"
        );
    }

    #[test]
    fn a_faulty_kernel_fails_with_its_name_and_where() {
        for seed in [1, 2, 3] {
            let t = run(&Faulty(&Portable), seed);
            let why = t.failure.clone().expect("a faulty kernel must fail");
            assert!(
                why.starts_with("portable: block 0, nonces 2083236853+81"),
                "{why}"
            );
            assert!(
                t.to_string()
                    .starts_with("self-test FAILED: portable: block 0"),
                "{t}"
            );
        }
    }

    #[test]
    fn known_headers_hash_to_their_blocks() {
        let hashes = [
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
            "000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506",
            "00000000000000001e8d6829a8a21adc5d38d0a473b144b6765798e61f98bd1d",
        ];
        for ((header, nonce), display) in KNOWN.iter().zip(hashes) {
            assert_eq!(
                u32::from_le_bytes(header[76..80].try_into().unwrap()),
                *nonce
            );
            let mut hash = super::super::sha256d(header);
            hash.reverse();
            assert_eq!(hex::encode(hash), display);
        }
    }

    #[test]
    fn differences_name_the_first_odd_nonce() {
        assert_eq!(first_difference(&[1, 2, 3], &[1, 2, 4]), "3");
        assert_eq!(first_difference(&[1, 2], &[1, 2, 9]), "9");
        assert_eq!(first_difference(&[1, 2, 9], &[1, 2]), "9");
        assert_eq!(first_difference::<u32>(&[], &[]), "-");
    }
}
