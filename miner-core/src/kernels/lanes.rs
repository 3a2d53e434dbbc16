//! The body shared by the many-lane kernels (AVX2 8-way, AVX-512 16-way): one nonce per
//! 32-bit lane, the same SHA-256 rounds for every lane. Written once so the AVX-512 kernel,
//! which cannot run on every test machine, is the AVX2 kernel with other primitives.
//!
//! The invoking module defines, all `#[target_feature]` functions on its vector type `V`:
//! `splat`, `add`, `bsig0`, `bsig1`, `ssig0`, `ssig1`, `ch`, `maj`, `load`, `hits` (the lanes
//! whose top word, byte-swapped state word 7, is at most a bound, as a bit mask) and
//! `LANES`. What a nonce scan allows us to skip (FIPS 180-4 section numbers in brackets):
//! - block 2, rounds 0..=2 use only the tail: done once per scan ([`LanePlan`]);
//! - block 2, round 3 is linear in the nonce word: two adds per lane;
//! - message words that do not depend on the nonce, and constant `K + W` sums, are splat
//!   once per scan; zero words are left out of the schedule sums [6.2.2 step 1];
//! - block 2's message schedule depends on the tail and the nonce alone, not on the first
//!   block: it is computed once per batch of nonces into an array, and up to
//!   [`MAX_VERSIONS`] headers that differ only in their version (BIP 320 version rolling)
//!   run their rounds from it ([`Kernel::scan_versions`]); rounds 18..=63 then run eight at
//!   a time in a loop over that array, which keeps the loop body small enough for the
//!   CPU's decoded-instruction cache;
//! - the final hash stops after round 60: state word 7 of the result is `H0[7]` plus the
//!   `e` of round 60, and rounds 57..=60 need no `a` (no `T2`) [6.2.2 step 3].
//!
//! [`LanePlan`]: super::sha256::LanePlan
//! [`MAX_VERSIONS`]: super::MAX_VERSIONS
//! [`Kernel::scan_versions`]: super::Kernel::scan_versions

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

/// Eight rounds with `K + W` from `$kw[0..8]`; the names end where they began.
macro_rules! rnd8 {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $kw:expr) => {{
        let kw: &[V; 8] = $kw;
        rnd!($a, $b, $c, $d, $e, $f, $g, $h, kw[0]);
        rnd!($h, $a, $b, $c, $d, $e, $f, $g, kw[1]);
        rnd!($g, $h, $a, $b, $c, $d, $e, $f, kw[2]);
        rnd!($f, $g, $h, $a, $b, $c, $d, $e, kw[3]);
        rnd!($e, $f, $g, $h, $a, $b, $c, $d, kw[4]);
        rnd!($d, $e, $f, $g, $h, $a, $b, $c, kw[5]);
        rnd!($c, $d, $e, $f, $g, $h, $a, $b, kw[6]);
        rnd!($b, $c, $d, $e, $f, $g, $h, $a, kw[7]);
    }};
}

/// Generates `Consts`, `Mid`, `scan_lanes`, `scan_versions_lanes` and `scan_lanes_multi` for
/// the vector primitives in scope, every function compiled with
/// `#[target_feature(enable = $feature)]`.
macro_rules! lane_kernel {
    ($feature:literal) => {
        use super::lanes::{rnd, rnd_e, rnd8};
        use super::sha256::{DIGEST_BITS, HEADER_BITS, K, LanePlan, PAD, final_round0, nonce_word};
        use super::{H0, HeaderWork};

        /// Per-scan vectors: every lane holds the same value.
        struct Consts {
            k: [V; 64],
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

        /// Per-header vectors of block 2: what depends on the midstate (the first block).
        struct Mid {
            st2: [V; 8],
            e3_base: V,
            a3_base: V,
            mid: [V; 8],
        }

        impl Mid {
            #[target_feature(enable = $feature)]
            fn new(work: &HeaderWork) -> Self {
                let p = LanePlan::new(work);
                Mid {
                    st2: splat8(&p.st2),
                    e3_base: splat(p.e3_base),
                    a3_base: splat(p.a3_base),
                    mid: splat8(&p.midstate),
                }
            }
        }

        /// `W[t]` from `W[t-2]`, `W[t-7]`, `W[t-15]`, `W[t-16]`.
        #[inline]
        #[target_feature(enable = $feature)]
        fn sched(w2: V, w7: V, w15: V, w16: V) -> V {
            add(add(ssig1(w2), w7), add(ssig0(w15), w16))
        }

        /// Block 2's `K + W` for rounds 18..=63 with nonce words `nw`: what depends on the
        /// tail and the nonce alone, so headers that differ only in their first block
        /// (version rolling) share it.
        #[inline]
        #[target_feature(enable = $feature)]
        fn sched2(c: &Consts, nw: V) -> [[V; 8]; 6] {
            let w16 = c.w16;
            let w17 = c.w17;
            let w18 = add(c.w18_base, ssig0(nw));
            let w19 = add(c.w19_base, nw);
            let w20 = add(ssig1(w18), c.pad);
            let w21 = ssig1(w19);
            let w22 = add(ssig1(w20), c.header_bits);
            let w23 = add(ssig1(w21), w16);
            let w24 = add(ssig1(w22), w17);
            let w25 = add(ssig1(w23), w18);
            let w26 = add(ssig1(w24), w19);
            let w27 = add(ssig1(w25), w20);
            let w28 = add(ssig1(w26), w21);
            let w29 = add(ssig1(w27), w22);
            let w30 = add(add(ssig1(w28), w23), c.b30);
            let w31 = add(add(ssig1(w29), w24), c.b31);
            let w32 = add(add(ssig1(w30), w25), c.b32);
            let w33 = sched(w31, w26, w18, w17);
            let w34 = sched(w32, w27, w19, w18);
            let w35 = sched(w33, w28, w20, w19);
            let w36 = sched(w34, w29, w21, w20);
            let w37 = sched(w35, w30, w22, w21);
            let w38 = sched(w36, w31, w23, w22);
            let w39 = sched(w37, w32, w24, w23);
            let w40 = sched(w38, w33, w25, w24);
            let w41 = sched(w39, w34, w26, w25);
            let w42 = sched(w40, w35, w27, w26);
            let w43 = sched(w41, w36, w28, w27);
            let w44 = sched(w42, w37, w29, w28);
            let w45 = sched(w43, w38, w30, w29);
            let w46 = sched(w44, w39, w31, w30);
            let w47 = sched(w45, w40, w32, w31);
            let w48 = sched(w46, w41, w33, w32);
            let w49 = sched(w47, w42, w34, w33);
            let w50 = sched(w48, w43, w35, w34);
            let w51 = sched(w49, w44, w36, w35);
            let w52 = sched(w50, w45, w37, w36);
            let w53 = sched(w51, w46, w38, w37);
            let w54 = sched(w52, w47, w39, w38);
            let w55 = sched(w53, w48, w40, w39);
            let w56 = sched(w54, w49, w41, w40);
            let w57 = sched(w55, w50, w42, w41);
            let w58 = sched(w56, w51, w43, w42);
            let w59 = sched(w57, w52, w44, w43);
            let w60 = sched(w58, w53, w45, w44);
            let w61 = sched(w59, w54, w46, w45);
            let w62 = sched(w60, w55, w47, w46);
            let w63 = sched(w61, w56, w48, w47);
            // Rows of eight rounds; the last row has six and two unused lanes.
            [
                [
                    add(c.k[18], w18),
                    add(c.k[19], w19),
                    add(c.k[20], w20),
                    add(c.k[21], w21),
                    add(c.k[22], w22),
                    add(c.k[23], w23),
                    add(c.k[24], w24),
                    add(c.k[25], w25),
                ],
                [
                    add(c.k[26], w26),
                    add(c.k[27], w27),
                    add(c.k[28], w28),
                    add(c.k[29], w29),
                    add(c.k[30], w30),
                    add(c.k[31], w31),
                    add(c.k[32], w32),
                    add(c.k[33], w33),
                ],
                [
                    add(c.k[34], w34),
                    add(c.k[35], w35),
                    add(c.k[36], w36),
                    add(c.k[37], w37),
                    add(c.k[38], w38),
                    add(c.k[39], w39),
                    add(c.k[40], w40),
                    add(c.k[41], w41),
                ],
                [
                    add(c.k[42], w42),
                    add(c.k[43], w43),
                    add(c.k[44], w44),
                    add(c.k[45], w45),
                    add(c.k[46], w46),
                    add(c.k[47], w47),
                    add(c.k[48], w48),
                    add(c.k[49], w49),
                ],
                [
                    add(c.k[50], w50),
                    add(c.k[51], w51),
                    add(c.k[52], w52),
                    add(c.k[53], w53),
                    add(c.k[54], w54),
                    add(c.k[55], w55),
                    add(c.k[56], w56),
                    add(c.k[57], w57),
                ],
                [
                    add(c.k[58], w58),
                    add(c.k[59], w59),
                    add(c.k[60], w60),
                    add(c.k[61], w61),
                    add(c.k[62], w62),
                    add(c.k[63], w63),
                    splat(0),
                    splat(0),
                ],
            ]
        }

        /// Header block 2 from round 3 for nonce words `nw` and the header's `m`, with `kw`
        /// from [`sched2`] (rounds 18..=63, eight at a time); returns the state after the
        /// feed-forward, i.e. the first hash.
        #[inline]
        #[target_feature(enable = $feature)]
        fn block2(c: &Consts, m: &Mid, nw: V, kw: &[[V; 8]; 6]) -> [V; 8] {
            // Round 3, linear in W3; names placed for position 4 of the cycle.
            let mut e = add(m.a3_base, nw);
            let (mut f, mut g, mut h) = (m.st2[0], m.st2[1], m.st2[2]);
            let mut a = add(m.e3_base, nw);
            let (mut b, mut cc, mut d) = (m.st2[4], m.st2[5], m.st2[6]);
            rnd!(e, f, g, h, a, b, cc, d, c.kw_const[4]);
            rnd!(d, e, f, g, h, a, b, cc, c.kw_const[5]);
            rnd!(cc, d, e, f, g, h, a, b, c.kw_const[6]);
            rnd!(b, cc, d, e, f, g, h, a, c.kw_const[7]);
            rnd!(a, b, cc, d, e, f, g, h, c.kw_const[8]);
            rnd!(h, a, b, cc, d, e, f, g, c.kw_const[9]);
            rnd!(g, h, a, b, cc, d, e, f, c.kw_const[10]);
            rnd!(f, g, h, a, b, cc, d, e, c.kw_const[11]);
            rnd!(e, f, g, h, a, b, cc, d, c.kw_const[12]);
            rnd!(d, e, f, g, h, a, b, cc, c.kw_const[13]);
            rnd!(cc, d, e, f, g, h, a, b, c.kw_const[14]);
            rnd!(b, cc, d, e, f, g, h, a, c.kw_const[15]);
            rnd!(a, b, cc, d, e, f, g, h, c.kw_const[16]);
            rnd!(h, a, b, cc, d, e, f, g, c.kw_const[17]);
            for kw8 in &kw[..5] {
                rnd8!(g, h, a, b, cc, d, e, f, kw8);
            }
            let kw = &kw[5];
            rnd!(g, h, a, b, cc, d, e, f, kw[0]);
            rnd!(f, g, h, a, b, cc, d, e, kw[1]);
            rnd!(e, f, g, h, a, b, cc, d, kw[2]);
            rnd!(d, e, f, g, h, a, b, cc, kw[3]);
            rnd!(cc, d, e, f, g, h, a, b, kw[4]);
            rnd!(b, cc, d, e, f, g, h, a, kw[5]);
            let mut out = [a, b, cc, d, e, f, g, h];
            for (o, x) in out.iter_mut().zip(m.mid) {
                *o = add(*o, x);
            }
            out
        }

        /// The final hash of the digests `dg` up to round 60; returns its state word 7.
        #[inline]
        #[target_feature(enable = $feature)]
        fn final_h7(c: &Consts, dg: &[V; 8]) -> V {
            let w0 = dg[0];
            let w1 = dg[1];
            let w2 = dg[2];
            let w3 = dg[3];
            let w4 = dg[4];
            let w5 = dg[5];
            let w6 = dg[6];
            let w7 = dg[7];
            let w16 = add(ssig0(w1), w0);
            let w17 = add(add(c.f17, ssig0(w2)), w1);
            let w18 = add(add(ssig1(w16), ssig0(w3)), w2);
            let w19 = add(add(ssig1(w17), ssig0(w4)), w3);
            let w20 = add(add(ssig1(w18), ssig0(w5)), w4);
            let w21 = add(add(ssig1(w19), ssig0(w6)), w5);
            let w22 = add(add(ssig1(w20), c.digest_bits), add(ssig0(w7), w6));
            let w23 = add(add(ssig1(w21), w16), add(c.f23, w7));
            let w24 = add(add(ssig1(w22), w17), c.pad);
            let w25 = add(ssig1(w23), w18);
            let w26 = add(ssig1(w24), w19);
            let w27 = add(ssig1(w25), w20);
            let w28 = add(ssig1(w26), w21);
            let w29 = add(ssig1(w27), w22);
            let w30 = add(add(ssig1(w28), w23), c.f30);
            let w31 = add(add(ssig1(w29), w24), add(ssig0(w16), c.digest_bits));
            // Round 0 from the constant H0, then names at position 1 of the cycle.
            let mut h = add(c.f_a0, w0);
            let mut d = add(c.f_e0, w0);
            let [mut a, mut b, mut cc, _, mut e, mut f, mut g, _] = c.h0;
            rnd!(h, a, b, cc, d, e, f, g, add(c.k[1], w1));
            rnd!(g, h, a, b, cc, d, e, f, add(c.k[2], w2));
            rnd!(f, g, h, a, b, cc, d, e, add(c.k[3], w3));
            rnd!(e, f, g, h, a, b, cc, d, add(c.k[4], w4));
            rnd!(d, e, f, g, h, a, b, cc, add(c.k[5], w5));
            rnd!(cc, d, e, f, g, h, a, b, add(c.k[6], w6));
            rnd!(b, cc, d, e, f, g, h, a, add(c.k[7], w7));
            rnd!(a, b, cc, d, e, f, g, h, c.kwf[8]);
            rnd!(h, a, b, cc, d, e, f, g, c.kwf[9]);
            rnd!(g, h, a, b, cc, d, e, f, c.kwf[10]);
            rnd!(f, g, h, a, b, cc, d, e, c.kwf[11]);
            rnd!(e, f, g, h, a, b, cc, d, c.kwf[12]);
            rnd!(d, e, f, g, h, a, b, cc, c.kwf[13]);
            rnd!(cc, d, e, f, g, h, a, b, c.kwf[14]);
            rnd!(b, cc, d, e, f, g, h, a, c.kwf[15]);
            rnd!(a, b, cc, d, e, f, g, h, add(c.k[16], w16));
            rnd!(h, a, b, cc, d, e, f, g, add(c.k[17], w17));
            rnd!(g, h, a, b, cc, d, e, f, add(c.k[18], w18));
            rnd!(f, g, h, a, b, cc, d, e, add(c.k[19], w19));
            rnd!(e, f, g, h, a, b, cc, d, add(c.k[20], w20));
            rnd!(d, e, f, g, h, a, b, cc, add(c.k[21], w21));
            rnd!(cc, d, e, f, g, h, a, b, add(c.k[22], w22));
            rnd!(b, cc, d, e, f, g, h, a, add(c.k[23], w23));
            rnd!(a, b, cc, d, e, f, g, h, add(c.k[24], w24));
            rnd!(h, a, b, cc, d, e, f, g, add(c.k[25], w25));
            rnd!(g, h, a, b, cc, d, e, f, add(c.k[26], w26));
            rnd!(f, g, h, a, b, cc, d, e, add(c.k[27], w27));
            rnd!(e, f, g, h, a, b, cc, d, add(c.k[28], w28));
            rnd!(d, e, f, g, h, a, b, cc, add(c.k[29], w29));
            rnd!(cc, d, e, f, g, h, a, b, add(c.k[30], w30));
            rnd!(b, cc, d, e, f, g, h, a, add(c.k[31], w31));
            let w32 = sched(w30, w25, w17, w16);
            rnd!(a, b, cc, d, e, f, g, h, add(c.k[32], w32));
            let w33 = sched(w31, w26, w18, w17);
            rnd!(h, a, b, cc, d, e, f, g, add(c.k[33], w33));
            let w34 = sched(w32, w27, w19, w18);
            rnd!(g, h, a, b, cc, d, e, f, add(c.k[34], w34));
            let w35 = sched(w33, w28, w20, w19);
            rnd!(f, g, h, a, b, cc, d, e, add(c.k[35], w35));
            let w36 = sched(w34, w29, w21, w20);
            rnd!(e, f, g, h, a, b, cc, d, add(c.k[36], w36));
            let w37 = sched(w35, w30, w22, w21);
            rnd!(d, e, f, g, h, a, b, cc, add(c.k[37], w37));
            let w38 = sched(w36, w31, w23, w22);
            rnd!(cc, d, e, f, g, h, a, b, add(c.k[38], w38));
            let w39 = sched(w37, w32, w24, w23);
            rnd!(b, cc, d, e, f, g, h, a, add(c.k[39], w39));
            let w40 = sched(w38, w33, w25, w24);
            rnd!(a, b, cc, d, e, f, g, h, add(c.k[40], w40));
            let w41 = sched(w39, w34, w26, w25);
            rnd!(h, a, b, cc, d, e, f, g, add(c.k[41], w41));
            let w42 = sched(w40, w35, w27, w26);
            rnd!(g, h, a, b, cc, d, e, f, add(c.k[42], w42));
            let w43 = sched(w41, w36, w28, w27);
            rnd!(f, g, h, a, b, cc, d, e, add(c.k[43], w43));
            let w44 = sched(w42, w37, w29, w28);
            rnd!(e, f, g, h, a, b, cc, d, add(c.k[44], w44));
            let w45 = sched(w43, w38, w30, w29);
            rnd!(d, e, f, g, h, a, b, cc, add(c.k[45], w45));
            let w46 = sched(w44, w39, w31, w30);
            rnd!(cc, d, e, f, g, h, a, b, add(c.k[46], w46));
            let w47 = sched(w45, w40, w32, w31);
            rnd!(b, cc, d, e, f, g, h, a, add(c.k[47], w47));
            let w48 = sched(w46, w41, w33, w32);
            rnd!(a, b, cc, d, e, f, g, h, add(c.k[48], w48));
            let w49 = sched(w47, w42, w34, w33);
            rnd!(h, a, b, cc, d, e, f, g, add(c.k[49], w49));
            let w50 = sched(w48, w43, w35, w34);
            rnd!(g, h, a, b, cc, d, e, f, add(c.k[50], w50));
            let w51 = sched(w49, w44, w36, w35);
            rnd!(f, g, h, a, b, cc, d, e, add(c.k[51], w51));
            let w52 = sched(w50, w45, w37, w36);
            rnd!(e, f, g, h, a, b, cc, d, add(c.k[52], w52));
            let w53 = sched(w51, w46, w38, w37);
            rnd!(d, e, f, g, h, a, b, cc, add(c.k[53], w53));
            let w54 = sched(w52, w47, w39, w38);
            rnd!(cc, d, e, f, g, h, a, b, add(c.k[54], w54));
            let w55 = sched(w53, w48, w40, w39);
            rnd!(b, cc, d, e, f, g, h, a, add(c.k[55], w55));
            let w56 = sched(w54, w49, w41, w40);
            rnd!(a, b, cc, d, e, f, g, h, add(c.k[56], w56));
            let w57 = sched(w55, w50, w42, w41);
            rnd_e!(h, a, b, cc, d, e, f, g, add(c.k[57], w57));
            let w58 = sched(w56, w51, w43, w42);
            rnd_e!(g, h, a, b, cc, d, e, f, add(c.k[58], w58));
            let w59 = sched(w57, w52, w44, w43);
            rnd_e!(f, g, h, a, b, cc, d, e, add(c.k[59], w59));
            let w60 = sched(w58, w53, w45, w44);
            rnd_e!(e, f, g, h, a, b, cc, d, add(c.k[60], w60));
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
            let mut hits = Vec::new();
            scan_lanes_multi(std::slice::from_ref(work), start, count, top_max, &mut hits);
            found.extend(hits.iter().map(|&(_, n)| n));
        }

        /// [`super::Kernel::scan_versions`] of a lane kernel (`kernel` itself, which scans
        /// works of different tails one by one).
        #[target_feature(enable = $feature)]
        fn scan_versions_lanes(
            kernel: &dyn super::Kernel,
            works: &[HeaderWork],
            start: u32,
            count: u32,
            top_max: u32,
            found: &mut Vec<(usize, u32)>,
        ) -> u64 {
            if !super::same_tail(works) {
                return super::scan_each(kernel, works, start, count, top_max, found);
            }
            debug_assert!(u64::from(start) + u64::from(count) <= 1 << 32);
            let from = found.len();
            scan_lanes_multi(works, start, count, top_max, found);
            found[from..].sort_unstable();
            u64::from(count) * works.len() as u64
        }

        /// As [`scan_lanes`] for each of `works`, which must share their tail (headers
        /// that differ only in their first block: version rolling). Each batch of nonces
        /// has its block-2 schedule computed once for up to [`super::MAX_VERSIONS`] of
        /// them. Appends `(work index, nonce)` for every hit, per batch of nonces in
        /// increasing work index, then nonce. (One caller of the round functions, so they
        /// are inlined into it.)
        #[target_feature(enable = $feature)]
        fn scan_lanes_multi(
            works: &[HeaderWork],
            start: u32,
            count: u32,
            top_max: u32,
            found: &mut Vec<(usize, u32)>,
        ) {
            let Some(first) = works.first() else {
                return;
            };
            debug_assert!(works.iter().all(|w| w.tail == first.tail));
            let c = Consts::new(first);
            let max = splat(top_max);
            for (group, chunk) in works.chunks(super::MAX_VERSIONS).enumerate() {
                let mids: [Mid; super::MAX_VERSIONS] =
                    std::array::from_fn(|i| Mid::new(&chunk[i.min(chunk.len() - 1)]));
                let mids = &mids[..chunk.len()];
                let offset = group * super::MAX_VERSIONS;
                let mut done = 0u32;
                while done < count {
                    let base = start.wrapping_add(done);
                    let nw: [u32; LANES] =
                        std::array::from_fn(|j| nonce_word(base.wrapping_add(j as u32)));
                    let nw = load(&nw);
                    let kw = sched2(&c, nw);
                    // Lanes past `count` (even past 2^32, wrapping) are hashed but ignored.
                    let valid = (count - done).min(LANES as u32);
                    let lanes = if valid < LANES as u32 {
                        (1u32 << valid) - 1
                    } else {
                        !0
                    };
                    for (i, m) in mids.iter().enumerate() {
                        let digest = block2(&c, m, nw, &kw);
                        // One vector compare for all lanes; nearly always no lane is a hit.
                        let mut hit = hits(final_h7(&c, &digest), max) & lanes;
                        while hit != 0 {
                            found.push((offset + i, base + hit.trailing_zeros()));
                            hit &= hit - 1;
                        }
                    }
                    done += valid;
                }
            }
        }
    };
}

pub(crate) use {lane_kernel, rnd, rnd_e, rnd8};
