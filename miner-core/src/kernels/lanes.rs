//! The body shared by the many-lane kernels (AVX2 8-way, AVX-512 16-way): one nonce per
//! 32-bit lane, the same SHA-256 rounds for every lane. Written once so the AVX-512 kernel,
//! which cannot run on every test machine, is the AVX2 kernel with other primitives.
//!
//! The invoking module defines, all `#[target_feature]` functions on its vector type `V`:
//! `splat`, `add`, `bsig0`, `bsig1`, `ssig0`, `ssig1`, `ch`, `maj`, `load`, `store`, and
//! `LANES`. What a nonce scan allows us to skip (FIPS 180-4 section numbers in brackets):
//! - block 2, rounds 0..=2 use only the tail: done once per scan ([`LanePlan`]);
//! - block 2, round 3 is linear in the nonce word: two adds per lane;
//! - message words that do not depend on the nonce, and constant `K + W` sums, are splat
//!   once per scan; zero words are left out of the schedule sums [6.2.2 step 1];
//! - the final hash stops after round 60: state word 7 of the result is `H0[7]` plus the
//!   `e` of round 60, and rounds 57..=60 need no `a` (no `T2`) [6.2.2 step 3].
//!
//! [`LanePlan`]: super::sha256::LanePlan

/// One round with the roles named by the arguments: updates `d` (new `e`) and `h` (new `a`).
macro_rules! rnd {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $kw:expr) => {{
        let t1 = add(add(add($h, $kw), bsig1($e)), ch($e, $f, $g));
        $d = add($d, t1);
        $h = add(t1, add(bsig0($a), maj($a, $b, $c)));
    }};
}

/// A round whose new `a` is never read: only `e` (into `d`).
macro_rules! rnd_e {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $kw:expr) => {{
        let t1 = add(add(add($h, $kw), bsig1($e)), ch($e, $f, $g));
        $d = add($d, t1);
    }};
}

/// Rounds `t..t+4` at positions 4..8 of an eight-round cycle of names.
macro_rules! rounds_4_7 {
    ($kw:ident, $t:expr, $a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident) => {{
        rnd!($e, $f, $g, $h, $a, $b, $c, $d, $kw[$t]);
        rnd!($d, $e, $f, $g, $h, $a, $b, $c, $kw[$t + 1]);
        rnd!($c, $d, $e, $f, $g, $h, $a, $b, $kw[$t + 2]);
        rnd!($b, $c, $d, $e, $f, $g, $h, $a, $kw[$t + 3]);
    }};
}

/// Rounds `t..t+8`; the names end where they started.
macro_rules! rounds8 {
    ($kw:ident, $t:expr, $a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident) => {{
        rnd!($a, $b, $c, $d, $e, $f, $g, $h, $kw[$t]);
        rnd!($h, $a, $b, $c, $d, $e, $f, $g, $kw[$t + 1]);
        rnd!($g, $h, $a, $b, $c, $d, $e, $f, $kw[$t + 2]);
        rnd!($f, $g, $h, $a, $b, $c, $d, $e, $kw[$t + 3]);
        rounds_4_7!($kw, $t + 4, $a, $b, $c, $d, $e, $f, $g, $h);
    }};
}

/// `W[t]` from the four earlier words, all present.
macro_rules! sched {
    ($w:ident, $t:expr) => {
        add(
            add(ssig1($w[$t - 2]), $w[$t - 7]),
            add(ssig0($w[$t - 15]), $w[$t - 16]),
        )
    };
}

/// Generates `Consts`, `hash_lanes` and `scan_lanes` for the vector primitives in scope,
/// every function compiled with `#[target_feature(enable = $feature)]`.
macro_rules! lane_kernel {
    ($feature:literal) => {
        use super::lanes::{rnd, rnd_e, rounds_4_7, rounds8, sched};
        use super::sha256::{
            DIGEST_BITS, HEADER_BITS, K, LanePlan, PAD, final_round0, nonce_word, top_word,
        };
        use super::{H0, HeaderWork};

        /// Per-scan vectors: every lane holds the same value.
        struct Consts {
            k: [V; 64],
            st2: [V; 8],
            e3_base: V,
            a3_base: V,
            /// `K + W` of block 2's constant words 4..16 and 16, 17.
            kw_const: [V; 18],
            w16: V,
            w17: V,
            w18_base: V,
            w19_base: V,
            pad: V,
            header_bits: V,
            /// `ssig0(W15)`, `ssig0(W16) + W15`, `ssig0(W17) + W16` of block 2.
            b30: V,
            b31: V,
            b32: V,
            mid: [V; 8],
            /// The final hash: round 0 as `base + W0`, `H0`, `K + W` of its words 8..16.
            f_a0: V,
            f_e0: V,
            h0: [V; 8],
            kwf: [V; 16],
            digest_bits: V,
            /// `ssig1(W15)`, `ssig0(W8)`, `ssig0(W15)` of the final hash.
            f17: V,
            f23: V,
            f30: V,
        }

        #[target_feature(enable = $feature)]
        fn splat8(x: &[u32; 8]) -> [V; 8] {
            let mut out = [splat(0); 8];
            for (v, x) in out.iter_mut().zip(x) {
                *v = splat(*x);
            }
            out
        }

        impl Consts {
            #[target_feature(enable = $feature)]
            fn new(work: &HeaderWork) -> Self {
                use super::sha256::{ssig0, ssig1};
                let p = LanePlan::new(work);
                let mut kw_const = [splat(0); 18];
                let w_pad = [PAD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, HEADER_BITS];
                for (i, w) in w_pad.iter().enumerate() {
                    kw_const[4 + i] = splat(K[4 + i].wrapping_add(*w));
                }
                kw_const[16] = splat(K[16].wrapping_add(p.w16));
                kw_const[17] = splat(K[17].wrapping_add(p.w17));
                let mut kwf = [splat(0); 16];
                let f_pad = [PAD, 0, 0, 0, 0, 0, 0, DIGEST_BITS];
                for (i, w) in f_pad.iter().enumerate() {
                    kwf[8 + i] = splat(K[8 + i].wrapping_add(*w));
                }
                let (f_a0, f_e0) = final_round0();
                let mut k = [splat(0); 64];
                for (v, x) in k.iter_mut().zip(K) {
                    *v = splat(x);
                }
                Consts {
                    k,
                    st2: splat8(&p.st2),
                    e3_base: splat(p.e3_base),
                    a3_base: splat(p.a3_base),
                    kw_const,
                    w16: splat(p.w16),
                    w17: splat(p.w17),
                    w18_base: splat(p.w18_base),
                    w19_base: splat(p.w19_base),
                    pad: splat(PAD),
                    header_bits: splat(HEADER_BITS),
                    b30: splat(ssig0(HEADER_BITS)),
                    b31: splat(ssig0(p.w16).wrapping_add(HEADER_BITS)),
                    b32: splat(ssig0(p.w17).wrapping_add(p.w16)),
                    mid: splat8(&p.midstate),
                    f_a0: splat(f_a0),
                    f_e0: splat(f_e0),
                    h0: splat8(&H0),
                    kwf,
                    digest_bits: splat(DIGEST_BITS),
                    f17: splat(ssig1(DIGEST_BITS)),
                    f23: splat(ssig0(PAD)),
                    f30: splat(ssig0(DIGEST_BITS)),
                }
            }
        }

        /// Header block 2 from round 3 for nonce words `nw`; returns the state after the
        /// feed-forward, i.e. the first hash.
        #[inline]
        #[target_feature(enable = $feature)]
        fn block2(c: &Consts, nw: V) -> [V; 8] {
            let mut w = [c.pad; 64];
            w[16] = c.w16;
            w[17] = c.w17;
            w[18] = add(c.w18_base, ssig0(nw));
            w[19] = add(c.w19_base, nw);
            w[20] = add(ssig1(w[18]), c.pad);
            w[21] = ssig1(w[19]);
            w[22] = add(ssig1(w[20]), c.header_bits);
            w[23] = add(ssig1(w[21]), w[16]);
            w[24] = add(ssig1(w[22]), w[17]);
            for t in 25..30 {
                w[t] = add(ssig1(w[t - 2]), w[t - 7]);
            }
            w[30] = add(add(ssig1(w[28]), w[23]), c.b30);
            w[31] = add(add(ssig1(w[29]), w[24]), c.b31);
            w[32] = add(add(ssig1(w[30]), w[25]), c.b32);
            let mut kw = [c.pad; 64];
            for t in 33..64 {
                w[t] = sched!(w, t);
                kw[t] = add(c.k[t], w[t]);
            }
            kw[4..18].copy_from_slice(&c.kw_const[4..]);
            for t in 18..33 {
                kw[t] = add(c.k[t], w[t]);
            }
            // Round 3, linear in W3; names placed for position 4 of the cycle.
            let mut e = add(c.a3_base, nw);
            let (mut f, mut g, mut h) = (c.st2[0], c.st2[1], c.st2[2]);
            let mut a = add(c.e3_base, nw);
            let (mut b, mut cc, mut d) = (c.st2[4], c.st2[5], c.st2[6]);
            rounds_4_7!(kw, 4, a, b, cc, d, e, f, g, h);
            for t in (8..64).step_by(8) {
                rounds8!(kw, t, a, b, cc, d, e, f, g, h);
            }
            let mut out = [a, b, cc, d, e, f, g, h];
            for (o, m) in out.iter_mut().zip(c.mid) {
                *o = add(*o, m);
            }
            out
        }

        /// The final hash of the digests `d` up to round 60; returns its state word 7.
        #[inline]
        #[target_feature(enable = $feature)]
        fn final_h7(c: &Consts, d: &[V; 8]) -> V {
            let mut w = [c.pad; 61];
            w[..8].copy_from_slice(d);
            w[16] = add(ssig0(w[1]), w[0]);
            w[17] = add(add(c.f17, ssig0(w[2])), w[1]);
            for t in 18..22 {
                w[t] = add(add(ssig1(w[t - 2]), ssig0(w[t - 15])), w[t - 16]);
            }
            w[22] = add(add(ssig1(w[20]), c.digest_bits), add(ssig0(w[7]), w[6]));
            w[23] = add(add(ssig1(w[21]), w[16]), add(c.f23, w[7]));
            w[24] = add(add(ssig1(w[22]), w[17]), c.pad);
            for t in 25..30 {
                w[t] = add(ssig1(w[t - 2]), w[t - 7]);
            }
            w[30] = add(add(ssig1(w[28]), w[23]), c.f30);
            w[31] = add(add(ssig1(w[29]), w[24]), add(ssig0(w[16]), c.digest_bits));
            let mut kw = [c.pad; 61];
            for t in 32..61 {
                w[t] = sched!(w, t);
                kw[t] = add(c.k[t], w[t]);
            }
            for t in 1..8 {
                kw[t] = add(c.k[t], w[t]);
            }
            kw[8..16].copy_from_slice(&c.kwf[8..]);
            for t in 16..32 {
                kw[t] = add(c.k[t], w[t]);
            }
            // Round 0 from the constant H0, then names at position 1 of the cycle.
            let mut h = add(c.f_a0, w[0]);
            let mut d = add(c.f_e0, w[0]);
            let [mut a, mut b, mut cc, _, mut e, mut f, mut g, _] = c.h0;
            rnd!(h, a, b, cc, d, e, f, g, kw[1]);
            rnd!(g, h, a, b, cc, d, e, f, kw[2]);
            rnd!(f, g, h, a, b, cc, d, e, kw[3]);
            rounds_4_7!(kw, 4, a, b, cc, d, e, f, g, h);
            for t in (8..56).step_by(8) {
                rounds8!(kw, t, a, b, cc, d, e, f, g, h);
            }
            rnd!(a, b, cc, d, e, f, g, h, kw[56]);
            rnd_e!(h, a, b, cc, d, e, f, g, kw[57]);
            rnd_e!(g, h, a, b, cc, d, e, f, kw[58]);
            rnd_e!(f, g, h, a, b, cc, d, e, kw[59]);
            rnd_e!(e, f, g, h, a, b, cc, d, kw[60]);
            // `h` now holds e of round 60: H7 = H0[7] + h after round 63 = H0[7] + e60.
            add(h, c.h0[7])
        }

        /// Scans `count` nonces from `start`, `LANES` at a time (the last batch padded).
        #[target_feature(enable = $feature)]
        fn scan_lanes(
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
                let nw: [u32; LANES] =
                    std::array::from_fn(|j| nonce_word(base.wrapping_add(j as u32)));
                let h7 = store(final_h7(&c, &block2(&c, load(&nw))));
                // Lanes past `count` (even past 2^32, wrapping) were hashed but are ignored.
                let valid = (count - done).min(LANES as u32);
                for j in 0..valid {
                    if top_word(h7[j as usize]) <= top_max {
                        found.push(base + j);
                    }
                }
                done += valid;
            }
        }
    };
}

pub(crate) use {lane_kernel, rnd, rnd_e, rounds_4_7, rounds8, sched};
