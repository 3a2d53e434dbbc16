//! The header a share stands for, rebuilt from `mining.notify` params (spec/stratum.md
//! Part A.1 "mining.notify", "Merkle root", "Header"): coinbase = coinb1 ‖ extranonce1 ‖
//! extranonce2 ‖ coinb2, the merkle branch folded in, then version, prevhash (the notify
//! swaps its 4-byte words), root, ntime, nbits and nonce, little-endian.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Double SHA-256.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(data)).into()
}

/// A header built from notify params, before the nonce is set.
#[derive(Clone, Debug)]
pub struct Work {
    /// The 80-byte header with a zero nonce.
    pub header: [u8; 80],
    /// The whole coinbase transaction.
    pub coinbase: Vec<u8>,
    /// The notify's ntime.
    pub ntime: u32,
}

fn text(v: &Value) -> &str {
    v.as_str().expect("notify param is a string")
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(text(v)).expect("notify param is hex")
}

/// A big-endian hex `u32` as Stratum writes version, nbits and ntime.
pub fn be_u32(v: &Value) -> u32 {
    u32::from_str_radix(text(v), 16).expect("notify param is a hex u32")
}

/// The header and coinbase for `params` (a notify's params array) with these extranonces.
pub fn work(params: &Value, en1: &[u8], en2: &[u8]) -> Work {
    let mut prev: [u8; 32] = bytes(&params[1]).try_into().expect("32-byte prevhash");
    for word in prev.chunks_mut(4) {
        word.reverse();
    }
    let mut coinbase = bytes(&params[2]);
    coinbase.extend_from_slice(en1);
    coinbase.extend_from_slice(en2);
    coinbase.extend(bytes(&params[3]));
    let mut root = sha256d(&coinbase);
    for b in params[4].as_array().expect("merkle branch is a list") {
        root = sha256d(&[root.to_vec(), bytes(b)].concat());
    }
    let ntime = be_u32(&params[7]);
    let mut header = [0u8; 80];
    header[0..4].copy_from_slice(&be_u32(&params[5]).to_le_bytes());
    header[4..36].copy_from_slice(&prev);
    header[36..68].copy_from_slice(&root);
    header[68..72].copy_from_slice(&ntime.to_le_bytes());
    header[72..76].copy_from_slice(&be_u32(&params[6]).to_le_bytes());
    Work {
        header,
        coinbase,
        ntime,
    }
}

/// The hash (internal order) of `header` with `nonce`.
pub fn hash_with(header: &[u8; 80], nonce: u32) -> [u8; 32] {
    let mut header = *header;
    header[76..80].copy_from_slice(&nonce.to_le_bytes());
    sha256d(&header)
}

/// The first nonce from 0 whose header hash satisfies `pred`, with that hash.
pub fn nonce_where(header: &[u8; 80], pred: impl Fn(&[u8; 32]) -> bool) -> (u32, [u8; 32]) {
    (0u32..)
        .map(|nonce| (nonce, hash_with(header, nonce)))
        .find(|(_, hash)| pred(hash))
        .expect("some nonce qualifies")
}

/// A hash in display order (reversed, hex), as nodes and explorers print it.
pub fn display(hash: [u8; 32]) -> String {
    let mut h = hash;
    h.reverse();
    hex::encode(h)
}

/// True when `hash` (internal order, a little-endian number) is at most the target of
/// difficulty `diff`: 0xffff·2^208 / diff. In floating point: a hash within 1e-15 of the
/// target is as rare as a block.
pub fn meets_difficulty(hash: &[u8; 32], diff: f64) -> bool {
    let value = hash
        .iter()
        .rev()
        .fold(0.0f64, |acc, &b| acc * 256.0 + f64::from(b));
    value * diff <= 65535.0 * 2f64.powi(208)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_header_hash_and_difficulty_one() {
        // Block 0 (spec/stratum.md Part A.2): its hash, and it meets difficulty 1, not 2^16.
        let header = hex::decode(concat!(
            "0100000000000000000000000000000000000000000000000000000000000000",
            "000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa",
            "4b1e5e4a29ab5f49ffff001d1dac2b7c"
        ))
        .unwrap();
        let hash = sha256d(&header);
        assert_eq!(
            display(hash),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
        assert!(meets_difficulty(&hash, 1.0));
        assert!(!meets_difficulty(&hash, 65536.0));
        assert!(!meets_difficulty(&[0xff; 32], 1.0));
    }
}
