//! The portable kernel: `sha2::compress256` (which itself uses SHA-NI or NEON when present)
//! with the midstate computed once per scan call.

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
        // Second block of the header: tail, nonce, then the fixed padding for 640 bits.
        let mut block = [0u8; 64];
        for (i, w) in work.tail.iter().enumerate() {
            block[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
        }
        block[16] = 0x80;
        block[62..64].copy_from_slice(&640u16.to_be_bytes());
        // The final hash's single block: 32 digest bytes then padding for 256 bits.
        let mut second = [0u8; 64];
        second[32] = 0x80;
        second[62..64].copy_from_slice(&256u16.to_be_bytes());
        for i in 0..count {
            let nonce = start + i;
            // The header stores the nonce little-endian.
            block[12..16].copy_from_slice(&nonce.to_le_bytes());
            let mut state = work.midstate;
            sha2::compress256(&mut state, std::slice::from_ref((&block).into()));
            for (j, w) in state.iter().enumerate() {
                second[4 * j..4 * j + 4].copy_from_slice(&w.to_be_bytes());
            }
            let mut fin = H0;
            sha2::compress256(&mut fin, std::slice::from_ref((&second).into()));
            // Hash bytes 28..32 are fin[7] big-endian; as a little-endian u32 that is the swap.
            if fin[7].swap_bytes() <= top_max {
                found.push(nonce);
            }
        }
        u64::from(count)
    }
}
