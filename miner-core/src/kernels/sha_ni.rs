//! The SHA-NI kernel: x86 SHA extensions (`sha256rnds2`, `sha256msg1`, `sha256msg2`),
//! several nonces interleaved so that the two-round instruction's latency is hidden behind
//! the other nonces' work.
//!
//! Per nonce it runs 30 `sha256rnds2` for the header's second block and 31 for the final
//! hash. Rounds 0..=2 of block 2 use only the tail, and round 3 adds the nonce word to `a`
//! and `e` and to nothing else, so all four are done once per scan and each nonce's state
//! starts as that plus its nonce word in two places; rounds 62 and 63 of the final hash
//! cannot change state word 7, the only word the top-bits check reads.

use std::arch::x86_64::*;

use super::sha256::{DIGEST_BITS, HEADER_BITS, K, PAD, round};
use super::{H0, HeaderWork, Kernel};

/// Nonces hashed side by side. SHA-256 rounds are a serial chain per nonce, so independent
/// nonces are what fills the SHA unit's pipeline. Measured on AMD Zen 3: `sha256rnds2` has
/// a latency of about 4 cycles and a throughput of about 1 per cycle, yet 2 ways beat 3, 4
/// and 5: with more, the states and message windows no longer fit in 16 registers, and the
/// spills and every other vector instruction compete with `sha256rnds2` for issue (each
/// costs about 0.7 cycle next to it), so what is left to hide is little. On an Intel Xeon
/// (latency 5, one issued every 3 cycles) 3 and 4 ways were no faster either.
const WAYS: usize = 2;

/// The SHA-NI kernel. Only [`ShaNi::new`] makes one, and only on a CPU with SHA-NI and
/// SSE4.1, which is what makes its `unsafe` calls sound.
#[derive(Clone, Copy, Debug)]
pub struct ShaNi {
    /// The CPU has AVX too, so the VEX-encoded build of the kernel may run.
    vex: bool,
}

impl ShaNi {
    /// `Some` when this CPU has the SHA extensions (and the SSE4.1 they come with).
    pub fn new() -> Option<Self> {
        let ok = is_x86_feature_detected!("sha")
            && is_x86_feature_detected!("sse4.1")
            && is_x86_feature_detected!("ssse3");
        ok.then_some(ShaNi {
            vex: is_x86_feature_detected!("avx"),
        })
    }
}

impl Kernel for ShaNi {
    fn name(&self) -> &'static str {
        "sha-ni"
    }

    fn lanes(&self) -> u32 {
        WAYS as u32
    }

    fn scan(
        &self,
        work: &HeaderWork,
        start: u32,
        count: u32,
        top_max: u32,
        found: &mut Vec<u32>,
    ) -> u64 {
        debug_assert!(u64::from(start) + u64::from(count) <= 1 << 32);
        if self.vex {
            // SAFETY: `self` exists only if `new` saw SHA, SSSE3 and SSE4.1 on this CPU,
            // and `vex` is set only if it saw AVX as well.
            unsafe { vex::scan_sha::<WAYS>(work, start, count, top_max, found) };
        } else {
            // SAFETY: `self` exists only if `new` saw SHA, SSSE3 and SSE4.1 on this CPU.
            unsafe { sse::scan_sha::<WAYS>(work, start, count, top_max, found) };
        }
        u64::from(count)
    }
}

/// Nonce-independent values, in the register layouts SHA-NI uses: a state is two vectors,
/// ABEF (dwords F, E, B, A from low to high) and CDGH (H, G, D, C).
struct Consts {
    /// Block 2 after rounds 0..=3 with nonce word zero: round 3 adds its message word to
    /// both new `a` and new `e` and nothing else, so a nonce's state is this plus the
    /// nonce word in A and E.
    abef4: __m128i,
    cdgh4: __m128i,
    /// Midstate, added to block 2's output.
    mid_abef: __m128i,
    mid_cdgh: __m128i,
    /// `W[0..3]` of block 2, nonce word zero.
    w0: __m128i,
    /// Block 2's words 4..16 (padding and length) and `K + W` for rounds 4..16.
    w1: __m128i,
    w2: __m128i,
    w3: __m128i,
    kw_block2: [[__m128i; 2]; 3],
    /// The final hash: `H0`, its words 8..16 and `K + W` for rounds 8..16.
    h0_abef: __m128i,
    h0_cdgh: __m128i,
    f2: __m128i,
    f3: __m128i,
    kw_final: [[__m128i; 2]; 2],
}

fn v(words: [u32; 4]) -> __m128i {
    // SAFETY: SSE2 is part of x86_64; an unaligned load from a local array.
    unsafe { _mm_loadu_si128(words.as_ptr().cast()) }
}

/// `K + W` for rounds `t..t+4` as two vectors with the pair for `t, t+1` and for `t+2, t+3`
/// in their low halves (the halves `sha256rnds2` reads), so no shuffle is needed per nonce.
fn kw(t: usize, w: [u32; 4]) -> [__m128i; 2] {
    let s: [u32; 4] = std::array::from_fn(|i| K[t + i].wrapping_add(w[i]));
    [v(s), v([s[2], s[3], 0, 0])]
}

fn abef_cdgh(s: &[u32; 8]) -> (__m128i, __m128i) {
    (v([s[5], s[4], s[1], s[0]]), v([s[7], s[6], s[3], s[2]]))
}

impl Consts {
    fn new(work: &HeaderWork) -> Self {
        let t = work.tail;
        let mut s = work.midstate;
        for (i, w) in [t[0], t[1], t[2], 0].into_iter().enumerate() {
            round(&mut s, K[i].wrapping_add(w));
        }
        let (abef4, cdgh4) = abef_cdgh(&s);
        let (mid_abef, mid_cdgh) = abef_cdgh(&work.midstate);
        let (h0_abef, h0_cdgh) = abef_cdgh(&H0);
        Consts {
            abef4,
            cdgh4,
            mid_abef,
            mid_cdgh,
            w0: v([t[0], t[1], t[2], 0]),
            w1: v([PAD, 0, 0, 0]),
            w2: v([0; 4]),
            w3: v([0, 0, 0, HEADER_BITS]),
            kw_block2: [
                kw(4, [PAD, 0, 0, 0]),
                kw(8, [0; 4]),
                kw(12, [0, 0, 0, HEADER_BITS]),
            ],
            h0_abef,
            h0_cdgh,
            f2: v([PAD, 0, 0, 0]),
            f3: v([0, 0, 0, DIGEST_BITS]),
            kw_final: [kw(8, [PAD, 0, 0, 0]), kw(12, [0, 0, 0, DIGEST_BITS])],
        }
    }
}

fn k4(t: usize) -> __m128i {
    v([K[t], K[t + 1], K[t + 2], K[t + 3]])
}

/// Rounds 16..64 as twelve straight-line groups, with the `group` in scope where it is used:
/// unrolled, the sliding window is only register renaming (a loop kept it in memory and cost
/// more than the rounds).
macro_rules! groups {
    ($abef:ident, $cdgh:ident, $w:ident: $($g:literal)+) => {
        $( group(&mut $abef, &mut $cdgh, &mut $w, $g); )+
    };
}

/// Generates the kernel's functions with `#[target_feature(enable = $feature)]`. With AVX
/// the compiler uses the three-operand VEX forms of the SSE instructions around the SHA
/// ones (about half the register copies; measured 1.00-1.11x, median 1.05x, on an Intel
/// Xeon); without it, legacy SSE, for SHA-NI CPUs without AVX (Goldmont and its successors).
macro_rules! sha_kernel {
    ($feature:literal) => {
        use super::super::sha256::{nonce_word, top_word};
        use super::super::{H0, HeaderWork};
        use super::{Consts, k4};
        use std::arch::x86_64::*;

        /// Two SHA rounds on each of the `N` states, then two more with the high half of `kw`.
        #[inline]
        #[target_feature(enable = $feature)]
        fn rounds4<const N: usize>(
            abef: &mut [__m128i; N],
            cdgh: &mut [__m128i; N],
            kw: &[__m128i; N],
        ) {
            for j in 0..N {
                cdgh[j] = _mm_sha256rnds2_epu32(cdgh[j], abef[j], kw[j]);
            }
            for j in 0..N {
                let high = _mm_shuffle_epi32(kw[j], 0x0e);
                abef[j] = _mm_sha256rnds2_epu32(abef[j], cdgh[j], high);
            }
        }

        /// Same `K + W` for every state, as [`super::kw`] gives it.
        #[inline]
        #[target_feature(enable = $feature)]
        fn rounds4_const<const N: usize>(
            abef: &mut [__m128i; N],
            cdgh: &mut [__m128i; N],
            kw: [__m128i; 2],
        ) {
            for j in 0..N {
                cdgh[j] = _mm_sha256rnds2_epu32(cdgh[j], abef[j], kw[0]);
            }
            for j in 0..N {
                abef[j] = _mm_sha256rnds2_epu32(abef[j], cdgh[j], kw[1]);
            }
        }

        /// Next four message words from the last sixteen, `w = [W(t-16), W(t-12), W(t-8), W(t-4)]`.
        /// For group 4 of both our blocks, `W[9..13]` are zero padding, so their term is left out.
        #[inline]
        #[target_feature(enable = $feature)]
        fn schedule(w: &[__m128i; 4], g: usize) -> __m128i {
            let s0 = _mm_sha256msg1_epu32(w[0], w[1]);
            let t = if g == 4 {
                s0
            } else {
                _mm_add_epi32(s0, _mm_alignr_epi8(w[3], w[2], 4))
            };
            _mm_sha256msg2_epu32(t, w[3])
        }

        /// Message group `g` (words `4g..4g+4`) from the window of the previous four, then its four
        /// rounds; the window slides by one group.
        #[inline]
        #[target_feature(enable = $feature)]
        fn group<const N: usize>(
            abef: &mut [__m128i; N],
            cdgh: &mut [__m128i; N],
            w: &mut [[__m128i; 4]; N],
            g: usize,
        ) {
            let k = k4(4 * g);
            let mut kw = [k; N];
            for j in 0..N {
                let next = schedule(&w[j], g);
                w[j] = [w[j][1], w[j][2], w[j][3], next];
                kw[j] = _mm_add_epi32(next, k);
            }
            rounds4(abef, cdgh, &kw);
        }


        /// sha256d of `N` nonces; returns each final state word 7.
        #[inline]
        #[target_feature(enable = $feature)]
        fn hash_ways<const N: usize>(c: &Consts, nonces: [u32; N]) -> [u32; N] {
            // Header block 2 from round 4: the nonce word added to A and E (dwords 3 and 1).
            let mut abef = [c.abef4; N];
            let mut cdgh = [c.cdgh4; N];
            let mut w = [[c.w0, c.w1, c.w2, c.w3]; N];
            for j in 0..N {
                let nw = nonce_word(nonces[j]);
                w[j][0] = _mm_insert_epi32::<3>(c.w0, nw as i32);
                let e = _mm_cvtsi64_si128((u64::from(nw) << 32) as i64);
                let a_e = _mm_shuffle_epi32(e, 0x44);
                abef[j] = _mm_add_epi32(abef[j], a_e);
            }
            for kwc in c.kw_block2 {
                rounds4_const(&mut abef, &mut cdgh, kwc);
            }
            groups!(abef, cdgh, w: 4 5 6 7 8 9 10 11 12 13 14 15);

            // Feed-forward, then the digest words become the final hash's W[0..8] (both
            // big-endian).
            let mut f = [[c.w0, c.w1, c.f2, c.f3]; N];
            let mut kw = [c.w0; N];
            for j in 0..N {
                let abef_s = _mm_add_epi32(abef[j], c.mid_abef);
                let cdgh_s = _mm_add_epi32(cdgh[j], c.mid_cdgh);
                let a_b_e_f = _mm_shuffle_epi32(abef_s, 0x1b);
                let g_h_c_d = _mm_shuffle_epi32(cdgh_s, 0xb1);
                f[j][0] = _mm_blend_epi16(a_b_e_f, g_h_c_d, 0xf0);
                f[j][1] = _mm_alignr_epi8(g_h_c_d, a_b_e_f, 8);
                kw[j] = _mm_add_epi32(f[j][0], k4(0));
            }
            let mut abef = [c.h0_abef; N];
            let mut cdgh = [c.h0_cdgh; N];
            rounds4(&mut abef, &mut cdgh, &kw);
            for j in 0..N {
                kw[j] = _mm_add_epi32(f[j][1], k4(4));
            }
            rounds4(&mut abef, &mut cdgh, &kw);
            for kwc in c.kw_final {
                rounds4_const(&mut abef, &mut cdgh, kwc);
            }
            // Rounds 16..=61: after rounds 60 and 61, ABEF's F is e after round 60, which
            // rounds 61, 62 and 63 only shift into H; the final state word 7 is H0[7] plus it.
            groups!(abef, cdgh, f: 4 5 6 7 8 9 10 11 12 13 14);
            let k = k4(60);
            std::array::from_fn(|j| {
                let kw = _mm_add_epi32(schedule(&f[j], 15), k);
                let abef = _mm_sha256rnds2_epu32(cdgh[j], abef[j], kw);
                (_mm_cvtsi128_si32(abef) as u32).wrapping_add(H0[7])
            })
        }

        #[target_feature(enable = $feature)]
        pub(super) fn scan_sha<const N: usize>(
            work: &HeaderWork,
            start: u32,
            count: u32,
            top_max: u32,
            found: &mut Vec<u32>,
        ) {
            let c = Consts::new(work);
            let mut done = 0u32;
            while done < count {
                let base = start.wrapping_add(done);
                let nonces: [u32; N] = std::array::from_fn(|j| base.wrapping_add(j as u32));
                let h7 = hash_ways(&c, nonces);
                // The last batch may run past `count` (even past 2^32, wrapping): ignore those.
                let valid = (count - done).min(N as u32) as usize;
                for j in 0..valid {
                    if top_word(h7[j]) <= top_max {
                        found.push(nonces[j]);
                    }
                }
                done += valid as u32;
            }
        }
    };
}

/// The kernel in VEX encoding, for CPUs with AVX.
mod vex {
    sha_kernel!("sha,sse2,ssse3,sse4.1,avx");
}

/// The kernel in legacy SSE encoding.
mod sse {
    sha_kernel!("sha,sse2,ssse3,sse4.1");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{Portable, selftest};

    /// Both builds, where this CPU can run them: the SSE one is never chosen on a CPU with
    /// AVX, so only this test runs it there.
    fn builds() -> Vec<ShaNi> {
        match ShaNi::new() {
            Some(k) if k.vex => vec![k, ShaNi { vex: false }],
            Some(k) => vec![k],
            None => Vec::new(),
        }
    }

    #[test]
    fn both_encodings_pass_the_self_test() {
        for k in builds() {
            for seed in [1, 2, 3, 4] {
                let t = selftest::run(&k, seed);
                assert!(t.passed(), "vex {}: {t}", k.vex);
            }
        }
    }

    #[test]
    fn both_encodings_agree_with_the_scalar_kernel_on_long_ranges() {
        let mut header = [0u8; 80];
        for (i, b) in header.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(151).wrapping_add(7);
        }
        let work = HeaderWork::new(&header);
        // A loose bound, so that each range holds dozens of hits; odd counts, and the top
        // of the nonce space.
        let top_max = 0x00ff_ffff;
        let mut want = Vec::new();
        for (start, count) in [(0, 40_001), (u32::MAX - 9_998, 9_999)] {
            want.clear();
            Portable.scan(&work, start, count, top_max, &mut want);
            assert!(want.len() > 2, "{}", want.len());
            for k in builds() {
                let mut got = Vec::new();
                assert_eq!(
                    k.scan(&work, start, count, top_max, &mut got),
                    u64::from(count)
                );
                assert_eq!(got, want, "vex {} start {start}", k.vex);
            }
        }
    }
}
