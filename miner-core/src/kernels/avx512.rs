//! The AVX-512 kernel: sixteen nonces per 512-bit vector, one per 32-bit lane. AVX-512F has
//! a rotate (`vprord`) and a three-input logic instruction (`vpternlogd`), so Σ and σ are
//! three rotates or shifts and one ternary XOR, and Ch and Maj are one instruction each.
//! The rounds are the AVX2 kernel's ([`super::lanes`]); only these primitives differ.
//!
//! The AVX-512 intrinsics are stable since Rust 1.89 (and safe `#[target_feature]`
//! functions, used by every kernel, since 1.86): the workspace's `rust-version`.

use std::arch::x86_64::*;

use super::Kernel;
use super::lanes::lane_kernel;

type V = __m512i;
const LANES: usize = 16;

/// `vpternlogd` truth tables, indexed by `(a << 2) | (b << 1) | c`.
pub(super) const XOR3: i32 = 0x96;
/// `a ? b : c`.
pub(super) const CHOOSE: i32 = 0xca;
/// At least two of three.
pub(super) const MAJORITY: i32 = 0xe8;

/// The AVX-512 kernel. Only [`Avx512::new`] makes one, and only on a CPU with AVX-512F,
/// which is what makes its `unsafe` call sound.
#[derive(Clone, Copy, Debug)]
pub struct Avx512 {
    _detected: (),
}

impl Avx512 {
    /// `Some` when this CPU has AVX-512F.
    pub fn new() -> Option<Self> {
        is_x86_feature_detected!("avx512f").then_some(Avx512 { _detected: () })
    }
}

impl Kernel for Avx512 {
    fn name(&self) -> &'static str {
        "avx512"
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
        // SAFETY: `self` exists only if `new` saw AVX-512F on this CPU.
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
        // SAFETY: `self` exists only if `new` saw AVX-512F on this CPU.
        unsafe { scan_versions_lanes(self, works, start, count, top_max, found) }
    }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn splat(x: u32) -> V {
    _mm512_set1_epi32(x as i32)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn add(a: V, b: V) -> V {
    _mm512_add_epi32(a, b)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn bsig0(x: V) -> V {
    _mm512_ternarylogic_epi32::<XOR3>(
        _mm512_ror_epi32::<2>(x),
        _mm512_ror_epi32::<13>(x),
        _mm512_ror_epi32::<22>(x),
    )
}

#[inline]
#[target_feature(enable = "avx512f")]
fn bsig1(x: V) -> V {
    _mm512_ternarylogic_epi32::<XOR3>(
        _mm512_ror_epi32::<6>(x),
        _mm512_ror_epi32::<11>(x),
        _mm512_ror_epi32::<25>(x),
    )
}

#[inline]
#[target_feature(enable = "avx512f")]
fn ssig0(x: V) -> V {
    _mm512_ternarylogic_epi32::<XOR3>(
        _mm512_ror_epi32::<7>(x),
        _mm512_ror_epi32::<18>(x),
        _mm512_srli_epi32::<3>(x),
    )
}

#[inline]
#[target_feature(enable = "avx512f")]
fn ssig1(x: V) -> V {
    _mm512_ternarylogic_epi32::<XOR3>(
        _mm512_ror_epi32::<17>(x),
        _mm512_ror_epi32::<19>(x),
        _mm512_srli_epi32::<10>(x),
    )
}

#[inline]
#[target_feature(enable = "avx512f")]
fn ch(e: V, f: V, g: V) -> V {
    _mm512_ternarylogic_epi32::<CHOOSE>(e, f, g)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn maj(a: V, b: V, c: V) -> V {
    _mm512_ternarylogic_epi32::<MAJORITY>(a, b, c)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn load(x: &[u32; LANES]) -> V {
    // SAFETY: reads exactly the 64 bytes of `x`; unaligned loads are allowed.
    unsafe { _mm512_loadu_si512(x.as_ptr().cast()) }
}

/// Bit `j` set where lane `j`'s top word (`h7` with its bytes swapped) is at most `max`'s.
/// AVX-512F has no byte shuffle (that is BW): bytes 0 and 2 rotate right by 8, 1 and 3
/// left by 8.
#[inline]
#[target_feature(enable = "avx512f")]
fn hits(h7: V, max: V) -> u32 {
    let even = _mm512_and_si512(h7, splat(0x00ff_00ff));
    let odd = _mm512_and_si512(h7, splat(0xff00_ff00));
    let top = _mm512_or_si512(_mm512_ror_epi32::<8>(even), _mm512_rol_epi32::<8>(odd));
    u32::from(_mm512_cmple_epu32_mask(top, max))
}

lane_kernel!("avx512f");

#[cfg(test)]
mod tests {
    use super::*;

    /// The truth tables above, checked bit by bit against their definitions (this runs on
    /// any CPU; the instruction itself only where AVX-512F exists).
    #[test]
    fn ternary_tables() {
        for i in 0..8 {
            let (a, b, c) = ((i >> 2) & 1, (i >> 1) & 1, i & 1);
            assert_eq!((XOR3 >> i) & 1, a ^ b ^ c);
            assert_eq!((CHOOSE >> i) & 1, if a == 1 { b } else { c });
            assert_eq!((MAJORITY >> i) & 1, i32::from(a + b + c >= 2));
        }
    }
}
