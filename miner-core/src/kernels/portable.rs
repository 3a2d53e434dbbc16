//! The portable kernel: plain scalar Rust rounds ([`super::sha256::compress`]), no CPU
//! extension and no `sha2` (whose `compress256` switches to SHA-NI by itself where the CPU
//! has it, so a figure measured with it would not be a scalar one). It is the reference
//! every other kernel must agree with at start-up ([`super::self_test`]).

use super::sha256::{DIGEST_BITS, HEADER_BITS, PAD, compress, nonce_word, top_word};
use super::{H0, HeaderWork, Kernel};

/// Works on every CPU.
#[derive(Clone, Copy, Debug, Default)]
pub struct Portable;

impl Kernel for Portable {
    fn name(&self) -> &'static str {
        "portable"
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
        // Second block of the header: tail, nonce, then the padding for 640 bits
        // (FIPS 180-4, 5.1.1).
        let mut block = [0u32; 16];
        block[..3].copy_from_slice(&work.tail);
        block[4] = PAD;
        block[15] = HEADER_BITS;
        // The final hash's single block: the 8 digest words, then padding for 256 bits.
        let mut second = [0u32; 16];
        second[8] = PAD;
        second[15] = DIGEST_BITS;
        for i in 0..count {
            let nonce = start + i;
            block[3] = nonce_word(nonce);
            let mut state = work.midstate;
            compress(&mut state, &block);
            // The digest's bytes are the state words big-endian, which is how SHA-256 reads
            // its message words back: they go over unchanged.
            second[..8].copy_from_slice(&state);
            let mut fin = H0;
            compress(&mut fin, &second);
            if top_word(fin[7]) <= top_max {
                found.push(nonce);
            }
        }
        u64::from(count)
    }
}
