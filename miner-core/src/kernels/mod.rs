//! sha256d kernels. Every kernel answers the same question — which nonces of this header
//! give a hash whose top 32 bits are at most a bound. The tests check every kernel against
//! the `sha2` crate, and at start-up each one must agree with the scalar kernel before it
//! is used ([`SelfTest`]).

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod dispatch;
#[cfg(all(test, target_arch = "x86_64"))]
mod emulated;
#[cfg(target_arch = "x86_64")]
mod lanes;
mod portable;
mod selftest;
mod sha256;
#[cfg(target_arch = "x86_64")]
mod sha_ni;

#[cfg(target_arch = "x86_64")]
pub use avx2::Avx2;
#[cfg(target_arch = "x86_64")]
pub use avx512::Avx512;
pub use dispatch::{KernelError, KernelKind, available, describe, hashrate, select, self_test};
pub use portable::Portable;
pub use selftest::SelfTest;
#[cfg(target_arch = "x86_64")]
pub use sha_ni::ShaNi;

/// SHA-256 initial state (FIPS 180-4, 5.3.3).
pub const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// What stays fixed while the nonce of one 80-byte header varies: the midstate after the
/// first 64-byte block and the three big-endian message words that precede the nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderWork {
    /// State after compressing header bytes 0..64.
    pub midstate: [u32; 8],
    /// Header bytes 64..76 (end of merkle root, ntime, nbits) as big-endian words,
    /// i.e. words 0..3 of the second SHA-256 block.
    pub tail: [u32; 3],
}

impl HeaderWork {
    /// Precomputes the midstate of `header`; its nonce field (bytes 76..80) is ignored.
    pub fn new(header: &[u8; 80]) -> Self {
        let word = |i: usize| {
            let at = 4 * i;
            u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
        };
        // The scalar compression, so no kernel's input depends on an extension-using one.
        let mut midstate = H0;
        sha256::compress(&mut midstate, &std::array::from_fn(word));
        HeaderWork {
            midstate,
            tail: [word(16), word(17), word(18)],
        }
    }
}

/// A nonce-scanning sha256d implementation.
pub trait Kernel: Send + Sync {
    /// Name as used by `--kernel` (`portable`, `sha-ni`, `avx2`, `avx512`).
    fn name(&self) -> &'static str;

    /// Nonces hashed together; scanning counts that are multiples of it wastes no work.
    fn lanes(&self) -> u32 {
        1
    }

    /// Hashes the header of `work` with each nonce in `start ..= start + (count - 1)` and
    /// appends to `found`, in increasing order, every nonce whose hash has its top 32 bits
    /// (hash bytes 28..32 read as a little-endian u32, the most significant word of the
    /// hash as a 256-bit little-endian number) `<= top_max`. Callers then check the full
    /// target. `start + count` must not exceed 2^32. Returns the number of hashes done.
    fn scan(
        &self,
        work: &HeaderWork,
        start: u32,
        count: u32,
        top_max: u32,
        found: &mut Vec<u32>,
    ) -> u64;

    /// As [`Kernel::scan`] for several headers that differ only in their first 64 bytes
    /// (the version rolled, BIP 320), appending `(index into works, nonce)` pairs sorted by
    /// index, then nonce. Works with different tails are scanned one by one; the lane
    /// kernels share the second block's message schedule between works with the same one.
    /// Returns the number of hashes done.
    fn scan_versions(
        &self,
        works: &[HeaderWork],
        start: u32,
        count: u32,
        top_max: u32,
        found: &mut Vec<(usize, u32)>,
    ) -> u64 {
        scan_each(self, works, start, count, top_max, found)
    }
}

/// Most works one lane-kernel pass shares a block-2 schedule between.
pub const MAX_VERSIONS: usize = 8;

/// [`Kernel::scan_versions`] as one [`Kernel::scan`] per work.
fn scan_each<K: Kernel + ?Sized>(
    kernel: &K,
    works: &[HeaderWork],
    start: u32,
    count: u32,
    top_max: u32,
    found: &mut Vec<(usize, u32)>,
) -> u64 {
    let mut nonces = Vec::new();
    let mut done = 0;
    for (i, work) in works.iter().enumerate() {
        nonces.clear();
        done += kernel.scan(work, start, count, top_max, &mut nonces);
        found.extend(nonces.iter().map(|&n| (i, n)));
    }
    done
}

/// Whether every work has the first one's tail (so a block-2 schedule can be shared).
fn same_tail(works: &[HeaderWork]) -> bool {
    works.windows(2).all(|p| p[0].tail == p[1].tail)
}

/// sha256d of a whole 80-byte header with the `sha2` crate: the reference every kernel is
/// checked against. Bytes in internal order (reverse them for display).
pub fn sha256d(header: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(Sha256::digest(header)).into()
}
