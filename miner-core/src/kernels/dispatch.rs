//! Choosing a kernel at run time: by name (`--kernel`), or `auto`, which times every kernel
//! this CPU can run and keeps the fastest (CPU features alone do not predict the winner).
//! Either way a kernel is only handed out once it has passed its start-up self-test
//! ([`super::selftest`]), run once per process and kernel.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::selftest::{self, SelfTest};
use super::{HeaderWork, Kernel, Portable};

/// A kernel as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KernelKind {
    /// The fastest kernel on this CPU, measured at first use.
    Auto,
    /// AVX-512F, 16 nonces per vector.
    Avx512,
    /// AVX2, 8 nonces per vector.
    Avx2,
    /// x86 SHA extensions, several nonces interleaved.
    ShaNi,
    /// Plain scalar Rust rounds, any CPU: the reference the others are checked against.
    Portable,
}

impl KernelKind {
    /// Every concrete kind (not `Auto`), fastest-expected first.
    pub const CONCRETE: [KernelKind; 4] = [
        KernelKind::Avx512,
        KernelKind::ShaNi,
        KernelKind::Avx2,
        KernelKind::Portable,
    ];

    /// Position in [`KernelKind::CONCRETE`]; `Auto` has none.
    fn index(self) -> Option<usize> {
        KernelKind::CONCRETE.iter().position(|k| *k == self)
    }

    /// The `--kernel` name.
    pub fn as_str(self) -> &'static str {
        match self {
            KernelKind::Auto => "auto",
            KernelKind::Avx512 => "avx512",
            KernelKind::Avx2 => "avx2",
            KernelKind::ShaNi => "sha-ni",
            KernelKind::Portable => "portable",
        }
    }

    /// What the CPU needs for this kind, as people name it.
    fn needs(self) -> &'static str {
        match self {
            KernelKind::Avx512 => "AVX-512F",
            KernelKind::Avx2 => "AVX2",
            KernelKind::ShaNi => "the SHA extensions (SHA-NI) and SSE4.1",
            KernelKind::Auto | KernelKind::Portable => "nothing",
        }
    }
}

impl fmt::Display for KernelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KernelKind {
    type Err = KernelError;

    fn from_str(s: &str) -> Result<Self, KernelError> {
        match s {
            "auto" => Ok(KernelKind::Auto),
            "avx512" => Ok(KernelKind::Avx512),
            "avx2" => Ok(KernelKind::Avx2),
            "sha-ni" => Ok(KernelKind::ShaNi),
            "portable" => Ok(KernelKind::Portable),
            _ => Err(KernelError::Unknown(s.chars().take(40).collect())),
        }
    }
}

/// Why a kernel cannot be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KernelError {
    /// A name that is not one of `auto|avx512|avx2|sha-ni|portable` (cut to 40 chars).
    #[error("unknown kernel {0:?}; expected one of auto, avx512, avx2, sha-ni, portable")]
    Unknown(String),
    /// The CPU lacks what the kernel needs.
    #[error("kernel {kind} needs {needs}, which this CPU lacks")]
    Unsupported {
        /// The kernel asked for.
        kind: KernelKind,
        /// What it needs, for people.
        needs: &'static str,
    },
    /// The kernel disagreed with the scalar kernel in its start-up self-test.
    #[error("kernel {kind} failed its start-up self-test and is not used: {why}")]
    SelfTestFailed {
        /// The kernel asked for.
        kind: KernelKind,
        /// The first disagreement.
        why: String,
    },
}

static PORTABLE: Portable = Portable;

/// The kernel of `kind` if this CPU can run it.
fn concrete(kind: KernelKind) -> Option<&'static dyn Kernel> {
    #[cfg(target_arch = "x86_64")]
    {
        use super::{Avx2, Avx512, ShaNi};
        static SHA_NI: OnceLock<Option<ShaNi>> = OnceLock::new();
        static AVX2: OnceLock<Option<Avx2>> = OnceLock::new();
        static AVX512: OnceLock<Option<Avx512>> = OnceLock::new();
        match kind {
            KernelKind::ShaNi => return SHA_NI.get_or_init(ShaNi::new).as_ref().map(as_dyn),
            KernelKind::Avx2 => return AVX2.get_or_init(Avx2::new).as_ref().map(as_dyn),
            KernelKind::Avx512 => return AVX512.get_or_init(Avx512::new).as_ref().map(as_dyn),
            KernelKind::Auto | KernelKind::Portable => {}
        }
    }
    match kind {
        KernelKind::Portable => Some(&PORTABLE),
        _ => None,
    }
}

#[cfg(target_arch = "x86_64")]
fn as_dyn<K: Kernel>(k: &K) -> &dyn Kernel {
    k
}

/// The concrete kinds this CPU can run, fastest-expected first; `Portable` is always there.
/// A kind in this list may still fail its self-test ([`self_test`], [`select`]).
pub fn available() -> Vec<KernelKind> {
    KernelKind::CONCRETE
        .into_iter()
        .filter(|k| concrete(*k).is_some())
        .collect()
}

/// The start-up self-test of `kind` (run on first use, then remembered); `None` when the
/// CPU cannot run it at all, or for `Auto`.
pub fn self_test(kind: KernelKind) -> Option<&'static SelfTest> {
    static TESTS: [OnceLock<SelfTest>; KernelKind::CONCRETE.len()] =
        [const { OnceLock::new() }; KernelKind::CONCRETE.len()];
    let kernel = concrete(kind)?;
    let slot = &TESTS[kind.index()?];
    Some(slot.get_or_init(|| selftest::run_at_start_up(kernel)))
}

/// "NAME, self-test passed (…)": what `bench` and `mine` print about the kernel they use.
pub fn describe(kernel: &dyn Kernel) -> String {
    let test = kernel.name().parse().ok().and_then(self_test);
    match test {
        Some(t) => format!("{}, {t}", kernel.name()),
        None => format!("{}, no self-test", kernel.name()),
    }
}

/// The kernel for `kind` if the CPU can run it and it passed its self-test; `Auto` measures
/// the kernels that passed once per process and returns the fastest (its [`Kernel::name`]
/// says which), after one warning per kernel that failed.
pub fn select(kind: KernelKind) -> Result<&'static dyn Kernel, KernelError> {
    if kind == KernelKind::Auto {
        return Ok(auto());
    }
    let kernel = concrete(kind).ok_or(KernelError::Unsupported {
        kind,
        needs: kind.needs(),
    })?;
    match self_test(kind).and_then(|t| t.failure.clone()) {
        None => Ok(kernel),
        Some(why) => Err(KernelError::SelfTestFailed { kind, why }),
    }
}

/// How long one `auto` trial of one kernel lasts.
const TRIAL: Duration = Duration::from_millis(10);
/// How many rounds of trials `auto` runs: the kernels take turns, and each keeps its best
/// round, so a preemption by another process (a shared host) spoils one sample, not the
/// choice.
const ROUNDS: usize = 6;

fn auto() -> &'static dyn Kernel {
    static CHOICE: OnceLock<&'static dyn Kernel> = OnceLock::new();
    *CHOICE.get_or_init(|| {
        let tested: Vec<(&'static dyn Kernel, &'static SelfTest)> = available()
            .into_iter()
            .filter_map(|kind| Some((concrete(kind)?, self_test(kind)?)))
            .collect();
        fastest_trusted(&tested, measure).unwrap_or(&PORTABLE)
    })
}

/// The fastest of the kernels whose self-test passed, by `measure` (rates in the order of
/// the kernels it is given); one warning for each kernel that failed, which is never used.
fn fastest_trusted<'k>(
    tested: &[(&'k dyn Kernel, &SelfTest)],
    measure: impl FnOnce(&[&'k dyn Kernel]) -> Vec<f64>,
) -> Option<&'k dyn Kernel> {
    let mut trusted = Vec::new();
    for (kernel, test) in tested {
        if test.passed() {
            trusted.push(*kernel);
        } else {
            tracing::warn!("kernel {} is not used: {test}", kernel.name());
        }
    }
    let rates = measure(&trusted);
    trusted
        .into_iter()
        .zip(rates)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

/// Each kernel's best of [`ROUNDS`] trials, the kernels taking turns.
fn measure(kernels: &[&dyn Kernel]) -> Vec<f64> {
    let mut best_rates = vec![0.0f64; kernels.len()];
    for _ in 0..ROUNDS {
        for (k, best) in kernels.iter().zip(best_rates.iter_mut()) {
            *best = best.max(hashrate(*k, TRIAL));
        }
    }
    best_rates
}

/// Hashes per second of `kernel` on one thread over about `trial`, on a fixed header.
pub fn hashrate(kernel: &dyn Kernel, trial: Duration) -> f64 {
    let work = HeaderWork::new(&[0x5a; 80]);
    let mut found = Vec::new();
    let chunk = 4096 * kernel.lanes();
    // Warm up caches and clocks before timing.
    kernel.scan(&work, 0, chunk, 0, &mut found);
    let t0 = Instant::now();
    let mut hashes = 0u64;
    let mut start = 0u32;
    while t0.elapsed() < trial {
        hashes += kernel.scan(&work, start, chunk, 0, &mut found);
        // Stay far below 2^32 so `start + chunk` never passes the end of the nonce space.
        start = (start + chunk) & 0x3fff_ffff;
        found.clear();
    }
    hashes as f64 / t0.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::super::selftest::{self, Faulty};
    use super::*;

    /// A kernel that fails its self-test is never chosen, however fast it claims to be.
    #[test]
    fn a_kernel_that_fails_its_self_test_is_never_chosen() {
        let faulty = Faulty(&PORTABLE);
        let (bad, good) = (selftest::run(&faulty, 9), selftest::run(&PORTABLE, 9));
        assert!(!bad.passed() && good.passed());
        let tested: [(&dyn Kernel, &SelfTest); 2] = [(&faulty, &bad), (&PORTABLE, &good)];
        let mut measured = 0;
        let chosen = fastest_trusted(&tested, |ks| {
            measured = ks.len();
            // The faulty one would win by far if it were measured at all.
            ks.iter().map(|_| 1.0).collect()
        });
        assert_eq!(measured, 1);
        let chosen = chosen.expect("the good kernel");
        assert!(std::ptr::addr_eq(chosen, &PORTABLE as &dyn Kernel));
        let only_bad = fastest_trusted(&tested[..1], |ks| vec![1e12; ks.len()]);
        assert!(only_bad.is_none());
    }

    #[test]
    fn a_failed_self_test_is_a_named_error() {
        let err = KernelError::SelfTestFailed {
            kind: KernelKind::Avx2,
            why: "avx2: block 0".into(),
        };
        assert_eq!(
            err.to_string(),
            "kernel avx2 failed its start-up self-test and is not used: avx2: block 0"
        );
    }
}
