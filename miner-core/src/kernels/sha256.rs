//! Scalar SHA-256 pieces (FIPS 180-4, 4.1.2 and 4.2.2) and the per-scan precomputation
//! that every kernel shares: the parts of both compressions that do not depend on the nonce.

// Only the x86_64 kernels use some of these; elsewhere just the portable kernel is built.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

use super::{H0, HeaderWork};

/// Round constants (FIPS 180-4, 4.2.2).
pub(crate) const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// Padding word that follows the message: a single 1 bit (FIPS 180-4, 5.1.1).
pub(crate) const PAD: u32 = 0x8000_0000;
/// Length in bits of an 80-byte header: last word of the header's second block.
pub(crate) const HEADER_BITS: u32 = 640;
/// Length in bits of a 32-byte digest: last word of the final hash's only block.
pub(crate) const DIGEST_BITS: u32 = 256;

pub(crate) fn bsig0(x: u32) -> u32 {
    x.rotate_right(2) ^ x.rotate_right(13) ^ x.rotate_right(22)
}

pub(crate) fn bsig1(x: u32) -> u32 {
    x.rotate_right(6) ^ x.rotate_right(11) ^ x.rotate_right(25)
}

pub(crate) fn ssig0(x: u32) -> u32 {
    x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3)
}

pub(crate) fn ssig1(x: u32) -> u32 {
    x.rotate_right(17) ^ x.rotate_right(19) ^ (x >> 10)
}

pub(crate) fn ch(e: u32, f: u32, g: u32) -> u32 {
    (e & f) ^ (!e & g)
}

pub(crate) fn maj(a: u32, b: u32, c: u32) -> u32 {
    (a & b) ^ (a & c) ^ (b & c)
}

/// One full round on state `s = [a, b, c, d, e, f, g, h]` with `kw = K[t] + W[t]`.
pub(crate) fn round(s: &mut [u32; 8], kw: u32) {
    let t1 = s[7]
        .wrapping_add(bsig1(s[4]))
        .wrapping_add(ch(s[4], s[5], s[6]))
        .wrapping_add(kw);
    let t2 = bsig0(s[0]).wrapping_add(maj(s[0], s[1], s[2]));
    *s = [
        t1.wrapping_add(t2),
        s[0],
        s[1],
        s[2],
        s[3].wrapping_add(t1),
        s[4],
        s[5],
        s[6],
    ];
}

/// `W[t]` for `t` in 16..64 from the four earlier words (FIPS 180-4, 6.2.2 step 1).
pub(crate) fn schedule_word(w: &[u32; 64], t: usize) -> u32 {
    ssig1(w[t - 2])
        .wrapping_add(w[t - 7])
        .wrapping_add(ssig0(w[t - 15]))
        .wrapping_add(w[t - 16])
}

/// One whole SHA-256 compression in plain integer code (FIPS 180-4, 6.2.2): the message
/// schedule, 64 rounds and the feed-forward. No CPU extension is involved, which is what
/// makes it the reference the other kernels are checked against at start-up.
pub(crate) fn compress(state: &mut [u32; 8], block: &[u32; 16]) {
    let mut w = [0u32; 64];
    w[..16].copy_from_slice(block);
    for t in 16..64 {
        w[t] = schedule_word(&w, t);
    }
    let mut s = *state;
    for (k, wt) in K.iter().zip(w) {
        round(&mut s, k.wrapping_add(wt));
    }
    for (h, x) in state.iter_mut().zip(s) {
        *h = h.wrapping_add(x);
    }
}

/// The message word of block 2 that holds the nonce: the header stores the nonce
/// little-endian and SHA-256 reads big-endian words.
pub(crate) fn nonce_word(nonce: u32) -> u32 {
    nonce.swap_bytes()
}

/// Turns the final hash's state word 7 into the value the kernels compare with `top_max`:
/// hash bytes 28..32 as a little-endian u32.
pub(crate) fn top_word(h7: u32) -> u32 {
    h7.swap_bytes()
}

/// What the lane kernels (AVX2, AVX-512) need per scan: block 2 after its three
/// nonce-independent rounds, round 3 split around `W[3]`, and the constant schedule terms.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LanePlan {
    /// Block-2 state after rounds 0..=2, `[a, b, c, d, e, f, g, h]`.
    pub st2: [u32; 8],
    /// Round 3: `e3 = e3_base + W3` and `a3 = a3_base + W3`.
    pub e3_base: u32,
    pub a3_base: u32,
    /// `W[16]`, `W[17]`: functions of the tail and padding only.
    pub w16: u32,
    pub w17: u32,
    /// `W[18] = w18_base + ssig0(W3)`, `W[19] = w19_base + W3`.
    pub w18_base: u32,
    pub w19_base: u32,
    /// The midstate, added to block 2's output (Davies-Meyer feed-forward).
    pub midstate: [u32; 8],
}

impl LanePlan {
    pub(crate) fn new(work: &HeaderWork) -> Self {
        let w = [work.tail[0], work.tail[1], work.tail[2]];
        let mut s = work.midstate;
        for (t, wt) in w.iter().enumerate() {
            round(&mut s, K[t].wrapping_add(*wt));
        }
        // Round 3 with W3 = 0; both outputs are then linear in W3.
        let t1 = s[7]
            .wrapping_add(bsig1(s[4]))
            .wrapping_add(ch(s[4], s[5], s[6]))
            .wrapping_add(K[3]);
        let t2 = bsig0(s[0]).wrapping_add(maj(s[0], s[1], s[2]));
        // W[4] = PAD, W[5..15] = 0, W[15] = 640.
        let w16 = ssig0(w[1]).wrapping_add(w[0]);
        let w17 = ssig1(HEADER_BITS)
            .wrapping_add(ssig0(w[2]))
            .wrapping_add(w[1]);
        LanePlan {
            st2: s,
            e3_base: s[3].wrapping_add(t1),
            a3_base: t1.wrapping_add(t2),
            w16,
            w17,
            w18_base: ssig1(w16).wrapping_add(w[2]),
            w19_base: ssig1(w17).wrapping_add(ssig0(PAD)),
            midstate: work.midstate,
        }
    }
}

/// The final hash's state after round 0, as `base + W0` for `a` and `e`: its input state
/// is the constant `H0`.
pub(crate) fn final_round0() -> (u32, u32) {
    let s = H0;
    let t1 = s[7]
        .wrapping_add(bsig1(s[4]))
        .wrapping_add(ch(s[4], s[5], s[6]))
        .wrapping_add(K[0]);
    let t2 = bsig0(s[0]).wrapping_add(maj(s[0], s[1], s[2]));
    (t1.wrapping_add(t2), s[3].wrapping_add(t1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain compression (built from `round` and the schedule), checked against `sha2`,
    /// so the scalar reference and the pieces the kernels precompute with are right.
    #[test]
    fn rounds_match_sha2() {
        let block: [u8; 64] = std::array::from_fn(|i| (i * 7 + 3) as u8);
        let words: [u32; 16] = std::array::from_fn(|t| {
            u32::from_be_bytes(block[4 * t..4 * t + 4].try_into().unwrap())
        });
        let mut got = H0;
        compress(&mut got, &words);
        let mut expect = H0;
        sha2::compress256(&mut expect, std::slice::from_ref((&block).into()));
        assert_eq!(got, expect);
    }
}
