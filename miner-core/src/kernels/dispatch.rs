//! Choosing a kernel at run time: by name (`--kernel`), or `auto`, which times every kernel
//! this CPU can run and keeps the fastest (CPU features alone do not predict the winner).

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

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
    /// `sha2::compress256`, any CPU.
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
pub fn available() -> Vec<KernelKind> {
    KernelKind::CONCRETE
        .into_iter()
        .filter(|k| concrete(*k).is_some())
        .collect()
}

/// The kernel for `kind`; `Auto` measures the available ones once per process and returns
/// the fastest (its [`Kernel::name`] says which).
pub fn select(kind: KernelKind) -> Result<&'static dyn Kernel, KernelError> {
    if kind == KernelKind::Auto {
        return Ok(auto());
    }
    concrete(kind).ok_or(KernelError::Unsupported {
        kind,
        needs: kind.needs(),
    })
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
        let kernels: Vec<&'static dyn Kernel> =
            available().into_iter().filter_map(concrete).collect();
        let mut best_rates = vec![0.0f64; kernels.len()];
        for _ in 0..ROUNDS {
            for (k, best) in kernels.iter().zip(best_rates.iter_mut()) {
                *best = best.max(hashrate(*k, TRIAL));
            }
        }
        kernels
            .iter()
            .zip(best_rates)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(&PORTABLE as &'static dyn Kernel, |(k, _)| *k)
    })
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
