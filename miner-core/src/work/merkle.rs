//! Merkle roots and branches for Stratum jobs (spec/stratum.md Part A.1, "Merkle root from
//! the job"): the miner folds a branch into a root, the pool builds the branch. Internal
//! byte order throughout; nothing is swapped.

use crate::kernels::sha256d;

/// sha256d(a ‖ b).
pub fn hash_pair(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(a);
    buf[32..].copy_from_slice(b);
    sha256d(&buf)
}

/// Merkle root from the coinbase and the branch: h = sha256d(coinbase), then for each
/// branch entry b, h = sha256d(h ‖ b).
pub fn merkle_root(coinbase: &[u8], branch: &[[u8; 32]]) -> [u8; 32] {
    branch
        .iter()
        .fold(sha256d(coinbase), |h, sibling| hash_pair(&h, sibling))
}

/// The branch that joins the coinbase (leaf 0) to the root, given the other txids in block
/// order. At each level the sibling of the element at index 0 is the next branch entry,
/// then the level is pair-hashed, duplicating the last hash when the level is odd.
pub fn branch(txids: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let mut branch = Vec::new();
    // Level 0 without the coinbase: `level[i]` is leaf i + 1.
    let mut level: Vec<[u8; 32]> = txids.to_vec();
    while let Some(first) = level.first() {
        branch.push(*first);
        // Next level, again without its element 0 (the one on the coinbase's path): pairs
        // (2,3), (4,5), … of the full level, i.e. (1,2), (3,4), … of `level`.
        level = level[1..]
            .chunks(2)
            .map(|pair| hash_pair(&pair[0], pair.get(1).unwrap_or(&pair[0])))
            .collect();
    }
    branch
}

/// The plain merkle root of all leaves (`None` for none); checks [`branch`] in tests.
pub fn root(leaves: &[[u8; 32]]) -> Option<[u8; 32]> {
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| hash_pair(&pair[0], pair.get(1).unwrap_or(&pair[0])))
            .collect();
    }
    level.first().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn internal(display: &str) -> [u8; 32] {
        let mut h: [u8; 32] = hex::decode(display).unwrap().try_into().unwrap();
        h.reverse();
        h
    }

    #[test]
    fn block_100000_branch_and_root() {
        // Block 100000's txids (display order); its merkle root is f3e94742…a95766.
        let coinbase = internal("8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87");
        let others = [
            internal("fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4"),
            internal("6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4"),
            internal("e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d"),
        ];
        let b = branch(&others);
        // The spec's job A lists this branch in internal order.
        assert_eq!(
            hex::encode(b[0]),
            "c40297f730dd7b5a99567eb8d27b78758f607507c52292d02d4031895b52f2ff"
        );
        assert_eq!(
            hex::encode(b[1]),
            "49aef42d78e3e9999c9e6ec9e1dddd6cb880bf3b076a03be1318ca789089308e"
        );
        let expected = internal("f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766");
        let folded = b.iter().fold(coinbase, |h, s| hash_pair(&h, s));
        assert_eq!(folded, expected);
    }

    #[test]
    fn branch_agrees_with_full_tree_for_every_size() {
        for n in 0..40usize {
            let leaves: Vec<[u8; 32]> = (0..=n).map(|i| sha256d(&i.to_le_bytes())).collect();
            let b = branch(&leaves[1..]);
            let folded = b.iter().fold(leaves[0], |h, s| hash_pair(&h, s));
            assert_eq!(Some(folded), root(&leaves), "{} leaves", n + 1);
            let expected_len = if n == 0 {
                0
            } else {
                (n + 1).next_power_of_two().trailing_zeros()
            };
            assert_eq!(b.len() as u32, expected_len, "{} leaves", n + 1);
        }
        assert_eq!(root(&[]), None);
    }

    #[test]
    fn odd_level_duplicates_last() {
        // Part A.1 observed: two mempool txs → [txid1, sha256d(txid2 ‖ txid2)].
        let (t1, t2) = ([1u8; 32], [2u8; 32]);
        assert_eq!(branch(&[t1, t2]), vec![t1, hash_pair(&t2, &t2)]);
    }

    #[test]
    fn merkle_root_hashes_the_coinbase_first() {
        let coinbase = b"coinbase";
        assert_eq!(merkle_root(coinbase, &[]), sha256d(coinbase));
        let sib = [7u8; 32];
        assert_eq!(
            merkle_root(coinbase, &[sib]),
            hash_pair(&sha256d(coinbase), &sib)
        );
    }
}
