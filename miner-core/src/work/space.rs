//! How one job's header space is numbered so that no two threads ever hash the same header.
//!
//! A header index `i` (from one atomic counter per job) is split into, from the low bits up:
//! up to three bits of roll number (when the pool lets us roll at least that many version
//! bits), an extranonce2 value (`8 * extranonce2_size` bits, written little-endian as
//! cpuminer and cgminer do, spec/stratum.md Part A.3), and the rest of the roll number. The
//! roll number is deposited into the version bits the pool allows us to roll (BIP310:
//! `nVersion = (job_version & ~mask) | (bits & mask)`). So each run of
//! [`HeaderSpace::version_group`] indexes shares one extranonce2 (one coinbase, one merkle
//! root) and differs only in the version: the kernels hash such headers together, sharing
//! their second block's message schedule. Distinct indexes give distinct (extranonce2,
//! version) pairs, hence distinct headers.

use super::WorkError;
use crate::kernels::MAX_VERSIONS;

pub use stratum::Extranonce2;

/// Bits of roll number below the extranonce2, when the mask has them.
const GROUP_BITS: u32 = MAX_VERSIONS.ilog2();

/// Largest extranonce2 we accept (the wire type's limit); cpuminer accepts up to 100, real
/// pools use 4 or 8.
pub const MAX_EXTRANONCE2_SIZE: usize = stratum::wire::MAX_EXTRANONCE_SIZE;

/// The (extranonce2, rolled version) space of one job on one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderSpace {
    extranonce2_size: usize,
    version_mask: u32,
}

impl HeaderSpace {
    /// `version_mask` is what the pool granted via mining.configure (0 = no rolling).
    pub fn new(extranonce2_size: usize, version_mask: u32) -> Result<Self, WorkError> {
        if extranonce2_size == 0 || extranonce2_size > MAX_EXTRANONCE2_SIZE {
            return Err(WorkError::Extranonce2Size(extranonce2_size));
        }
        Ok(HeaderSpace {
            extranonce2_size,
            version_mask,
        })
    }

    /// Bytes of extranonce2.
    pub fn extranonce2_size(&self) -> usize {
        self.extranonce2_size
    }

    /// The rolling mask in force.
    pub fn version_mask(&self) -> u32 {
        self.version_mask
    }

    /// Consecutive header indexes (from a multiple of it) with one extranonce2 and distinct
    /// versions: [`MAX_VERSIONS`] where the mask has the bits for it, else 2 to the
    /// mask's bit count.
    pub fn version_group(&self) -> u64 {
        1 << self.group_bits()
    }

    fn group_bits(&self) -> u32 {
        GROUP_BITS.min(self.version_mask.count_ones())
    }

    /// Splits a header index into its extranonce2 and the number to roll into the version,
    /// or `None` once the index is past the end of the space.
    pub fn split(&self, index: u64) -> Option<(Extranonce2, u64)> {
        let group_bits = self.group_bits();
        let low_roll = index & ((1 << group_bits) - 1);
        let index = index >> group_bits;
        let en2_bits = 8 * self.extranonce2_size as u32;
        let (low, high) = if en2_bits >= 64 {
            (index, 0)
        } else {
            (index & ((1u64 << en2_bits) - 1), index >> en2_bits)
        };
        // At most 32 - group_bits: `high` fits what the mask has left above the group.
        let high_bits = self.version_mask.count_ones() - group_bits;
        if high >> high_bits != 0 {
            return None;
        }
        // `low` fits the extranonce2 (it is masked to its bits above), and the size is at
        // most the wire limit (checked in `new`), so the counter form loses nothing.
        let rolled = high << group_bits | low_roll;
        Some((
            Extranonce2::from_counter(low, self.extranonce2_size),
            rolled,
        ))
    }

    /// The version for roll number `rolled`: the job's own bits outside the mask, and inside
    /// it the job's bits XOR `rolled` spread over the mask's 1-bits (so roll 0 is the job's
    /// version unchanged, and distinct rolls give distinct versions).
    pub fn roll(&self, job_version: u32, rolled: u64) -> u32 {
        job_version ^ deposit(rolled, self.version_mask)
    }

    /// The `version_bits` submit parameter for a header version (BIP310: only mask bits).
    pub fn version_bits(&self, version: u32) -> u32 {
        version & self.version_mask
    }
}

/// Spreads the low bits of `value` over the 1-bits of `mask`, lowest first (a software PDEP).
pub fn deposit(mut value: u64, mask: u32) -> u32 {
    let mut out = 0u32;
    let mut m = mask;
    while m != 0 && value != 0 {
        let bit = m & m.wrapping_neg();
        if value & 1 == 1 {
            out |= bit;
        }
        value >>= 1;
        m &= m - 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn extranonce2_is_a_little_endian_counter() {
        let s = HeaderSpace::new(4, 0).unwrap();
        assert_eq!(s.split(0).unwrap().0.to_hex(), "00000000");
        assert_eq!(s.split(1).unwrap().0.to_hex(), "01000000");
        assert_eq!(s.split(0x0102_0304).unwrap().0.to_hex(), "04030201");
        assert_eq!(s.split(u32::MAX as u64).unwrap().0.to_hex(), "ffffffff");
        assert!(s.split(1 << 32).is_none(), "no rolling: space ends at 2^32");
    }

    #[test]
    fn wide_extranonce2_pads_with_zero() {
        let s = HeaderSpace::new(12, 0).unwrap();
        let (en2, rolled) = s.split(u64::MAX).unwrap();
        assert_eq!(en2.to_hex(), "ffffffffffffffff00000000");
        assert_eq!(rolled, 0);
    }

    #[test]
    fn rolling_extends_the_space_within_the_mask() {
        let mask = 0x1fff_e000;
        let s = HeaderSpace::new(1, mask).unwrap();
        let job_version = 0x2000_0000;
        let mut seen = HashSet::new();
        for index in (0..(1u64 << 24)).step_by(4093) {
            let (en2, rolled) = s.split(index).unwrap();
            let v = s.roll(job_version, rolled);
            assert_eq!(v & !mask, job_version & !mask, "bits outside the mask kept");
            assert_eq!(s.version_bits(v) & !mask, 0);
            assert!(seen.insert((en2, v)), "index {index} repeats a header");
        }
        assert!(s.split(1 << (8 + 16)).is_none());
        assert_eq!(s.roll(job_version, 0), job_version);
    }

    #[test]
    fn runs_of_eight_indexes_share_an_extranonce2() {
        let s = HeaderSpace::new(4, 0x1fff_e000).unwrap();
        assert_eq!(s.version_group(), 8);
        for group in [0u64, 1, 77, 0xffff_ffff] {
            let en2: Vec<_> = (0..8).map(|i| s.split(group * 8 + i).unwrap()).collect();
            assert!(en2.iter().all(|(e, _)| *e == en2[0].0), "group {group}");
            let rolled: HashSet<u64> = en2.iter().map(|(_, r)| *r).collect();
            assert_eq!(rolled.len(), 8, "eight versions in group {group}");
            assert_eq!(
                en2[0].0,
                Extranonce2::from_counter(group & 0xffff_ffff, 4),
                "the extranonce2 counts groups"
            );
        }
        // Past 2^32 extranonce2 values, the roll's upper bits take over.
        let (en2, rolled) = s.split(8 << 32).unwrap();
        assert_eq!((en2.to_hex().as_str(), rolled), ("00000000", 8));
        assert!(s.split(1 << (32 + 16)).is_none());
        // Fewer bits than a full group: a smaller one; none: every index its own.
        assert_eq!(HeaderSpace::new(4, 0x6000).unwrap().version_group(), 4);
        assert_eq!(HeaderSpace::new(4, 0).unwrap().version_group(), 1);
    }

    #[test]
    fn bad_sizes_are_refused() {
        assert_eq!(HeaderSpace::new(0, 0), Err(WorkError::Extranonce2Size(0)));
        assert!(HeaderSpace::new(33, 0).is_err());
    }

    #[test]
    fn deposit_spreads_bits() {
        assert_eq!(deposit(0b101, 0b1110), 0b1010);
        assert_eq!(deposit(u64::MAX, 0x1fff_e000), 0x1fff_e000);
        assert_eq!(deposit(1, 0), 0);
    }
}
