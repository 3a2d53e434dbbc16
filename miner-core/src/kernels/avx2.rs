//! The AVX2 kernel: eight nonces per 256-bit vector, one per 32-bit lane. AVX2 has no
//! rotate, so each rotation is two shifts and an OR.

use std::arch::x86_64::*;

use super::Kernel;
use super::lanes::lane_kernel;

type V = __m256i;
const LANES: usize = 8;

/// The AVX2 kernel. Only [`Avx2::new`] makes one, and only on a CPU with AVX2, which is
/// what makes its `unsafe` call sound.
#[derive(Clone, Copy, Debug)]
pub struct Avx2 {
    _detected: (),
}

impl Avx2 {
    /// `Some` when this CPU has AVX2.
    pub fn new() -> Option<Self> {
        is_x86_feature_detected!("avx2").then_some(Avx2 { _detected: () })
    }
}

impl Kernel for Avx2 {
    fn name(&self) -> &'static str {
        "avx2"
    }

    fn lanes(&self) -> u32 {
        LANES as u32
    }

    fn scan(
        &self,
        work: &super::HeaderWork,
        start: u32,
        count: u32,
        top_max: u32,
        found: &mut Vec<u32>,
    ) -> u64 {
        debug_assert!(u64::from(start) + u64::from(count) <= 1 << 32);
        // SAFETY: `self` exists only if `new` saw AVX2 on this CPU.
        unsafe { scan_lanes(work, start, count, top_max, found) };
        u64::from(count)
    }

    fn scan_versions(
        &self,
        works: &[super::HeaderWork],
        start: u32,
        count: u32,
        top_max: u32,
        found: &mut Vec<(usize, u32)>,
    ) -> u64 {
        // SAFETY: `self` exists only if `new` saw AVX2 on this CPU.
        unsafe { scan_versions_lanes(self, works, start, count, top_max, found) }
    }
}

macro_rules! rotr {
    ($x:expr, $n:literal) => {
        _mm256_or_si256(
            _mm256_srli_epi32::<$n>($x),
            _mm256_slli_epi32::<{ 32 - $n }>($x),
        )
    };
}

#[inline]
#[target_feature(enable = "avx2")]
fn splat(x: u32) -> V {
    _mm256_set1_epi32(x as i32)
}

#[inline]
#[target_feature(enable = "avx2")]
fn add(a: V, b: V) -> V {
    _mm256_add_epi32(a, b)
}

#[inline]
#[target_feature(enable = "avx2")]
fn xor3(a: V, b: V, c: V) -> V {
    _mm256_xor_si256(_mm256_xor_si256(a, b), c)
}

#[inline]
#[target_feature(enable = "avx2")]
fn bsig0(x: V) -> V {
    xor3(rotr!(x, 2), rotr!(x, 13), rotr!(x, 22))
}

#[inline]
#[target_feature(enable = "avx2")]
fn bsig1(x: V) -> V {
    xor3(rotr!(x, 6), rotr!(x, 11), rotr!(x, 25))
}

#[inline]
#[target_feature(enable = "avx2")]
fn ssig0(x: V) -> V {
    xor3(rotr!(x, 7), rotr!(x, 18), _mm256_srli_epi32::<3>(x))
}

#[inline]
#[target_feature(enable = "avx2")]
fn ssig1(x: V) -> V {
    xor3(rotr!(x, 17), rotr!(x, 19), _mm256_srli_epi32::<10>(x))
}

/// `(e & f) ^ (!e & g)` as `g ^ (e & (f ^ g))`: three operations.
#[inline]
#[target_feature(enable = "avx2")]
fn ch(e: V, f: V, g: V) -> V {
    _mm256_xor_si256(g, _mm256_and_si256(e, _mm256_xor_si256(f, g)))
}

/// Majority as `b ^ ((a ^ b) & (b ^ c))`; `b ^ c` is the previous round's `a ^ b`, which
/// the compiler reuses, so three operations per round.
#[inline]
#[target_feature(enable = "avx2")]
fn maj(a: V, b: V, c: V) -> V {
    _mm256_xor_si256(
        b,
        _mm256_and_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(b, c)),
    )
}

#[inline]
#[target_feature(enable = "avx2")]
fn load(x: &[u32; LANES]) -> V {
    // SAFETY: reads exactly the 32 bytes of `x`; unaligned loads are allowed.
    unsafe { _mm256_loadu_si256(x.as_ptr().cast()) }
}

/// Bit `j` set where lane `j`'s top word (`h7` with its bytes swapped) is at most `max`'s:
/// a byte shuffle, an unsigned max and a compare (AVX2 has no unsigned `<=`).
#[inline]
#[target_feature(enable = "avx2")]
fn hits(h7: V, max: V) -> u32 {
    let swap = _mm256_setr_epi8(
        3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8,
        15, 14, 13, 12,
    );
    let top = _mm256_shuffle_epi8(h7, swap);
    let le = _mm256_cmpeq_epi32(_mm256_max_epu32(top, max), max);
    _mm256_movemask_ps(_mm256_castsi256_ps(le)) as u32
}

lane_kernel!("avx2");
