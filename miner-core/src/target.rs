//! Targets and difficulty: the 256-bit bound a block or share hash must not exceed, its
//! compact `nbits` form, and pool difficulty (`mining.set_difficulty`).
//!
//! A hash meets a target when the hash, read as a little-endian 256-bit integer (bytes in
//! the order sha256d produces them), is at most the target (stratum.md, mining.set_difficulty:
//! "share valid if hash_le_int ≤ share target").

use std::cmp::Ordering;
use std::fmt;

use crate::wide::Wide;

/// Why a target or difficulty could not be built from outside input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TargetError {
    /// An nbits value with the sign bit (0x0080_0000) set and a non-zero mantissa.
    #[error("compact target {0:#010x} is negative (sign bit set)")]
    NegativeCompact(u32),
    /// An nbits value whose exponent shifts the mantissa past 256 bits.
    #[error("compact target {0:#010x} overflows 256 bits")]
    OverflowCompact(u32),
    /// A target text that is not 64 hex digits (the text is given).
    #[error("target must be 64 hex digits (32 bytes, display order), got {0:?}")]
    BadHex(String),
}

/// A 256-bit target, stored as little-endian `u64` limbs; ordered as an integer.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target([u64; 4]);

/// Pool difficulty, the one wire type (`stratum::Difficulty`): `share target =
/// floor(diff1_target / difficulty)`, possibly fractional ([`Target::from_difficulty`]).
pub use stratum::Difficulty;

/// The difficulty-1 target: `0x00000000ffff0000…0`, nbits `0x1d00ffff`.
pub const DIFF1: Target = Target([0, 0, 0, 0x0000_0000_ffff_0000]);

impl Target {
    /// The target no hash meets (except the all-zero one).
    pub const ZERO: Target = Target([0; 4]);
    /// The target every hash meets (2^256 - 1).
    pub const MAX: Target = Target([u64::MAX; 4]);

    /// From the 32 bytes of a little-endian integer (the byte order of a sha256d hash).
    pub fn from_le_bytes(bytes: [u8; 32]) -> Self {
        let limb =
            |i: usize| u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().unwrap_or_default());
        Target([limb(0), limb(1), limb(2), limb(3)])
    }

    /// The 32 bytes of the little-endian integer (compare with a sha256d hash as is).
    pub fn to_le_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, limb) in self.0.iter().enumerate() {
            out[8 * i..8 * i + 8].copy_from_slice(&limb.to_le_bytes());
        }
        out
    }

    /// From 64 hex digits in display (big-endian) order, as explorers and pools print targets.
    pub fn from_hex(text: &str) -> Result<Self, TargetError> {
        let bad = || TargetError::BadHex(text.chars().take(80).collect());
        let text = text.trim();
        let digits = text.strip_prefix("0x").unwrap_or(text);
        if digits.len() != 64 || !digits.is_ascii() {
            return Err(bad());
        }
        let mut be = [0u8; 32];
        for (i, byte) in be.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        be.reverse();
        Ok(Target::from_le_bytes(be))
    }

    /// Whether `hash` (sha256d output bytes, internal order) is at or under this target.
    pub fn is_met_by(&self, hash: &[u8; 32]) -> bool {
        Target::from_le_bytes(*hash) <= *self
    }

    /// The top 32 bits: a kernel's cheap pre-check bound. Every hash meeting the target has
    /// its top 32 bits (bytes 28..32 as a little-endian u32) at most this value.
    pub fn top_max(&self) -> u32 {
        (self.0[3] >> 32) as u32
    }

    /// Bitcoin's `SetCompact` (arith_uint256.cpp): size byte, 23-bit mantissa, sign bit.
    /// Negative and overflowing encodings are errors; a zero mantissa gives the zero target.
    pub fn from_compact(bits: u32) -> Result<Self, TargetError> {
        let size = bits >> 24;
        let word = bits & 0x007f_ffff;
        if word != 0 && bits & 0x0080_0000 != 0 {
            return Err(TargetError::NegativeCompact(bits));
        }
        let overflow =
            word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
        if overflow {
            return Err(TargetError::OverflowCompact(bits));
        }
        if size <= 3 {
            return Ok(Target([u64::from(word >> (8 * (3 - size))), 0, 0, 0]));
        }
        Ok(Target([u64::from(word), 0, 0, 0]).shl(8 * (size - 3)))
    }

    /// Bitcoin's `GetCompact`: the shortest compact form, mantissa never with the sign bit.
    /// Lossy: only the top 23 significant bits survive.
    pub fn to_compact(&self) -> u32 {
        let mut size = self.bits().div_ceil(8);
        let mut compact = if size <= 3 {
            (self.0[0] << (8 * (3 - size))) as u32
        } else {
            self.shr(8 * (size - 3)).0[0] as u32
        };
        if compact & 0x0080_0000 != 0 {
            compact >>= 8;
            size += 1;
        }
        compact | (size << 24)
    }

    /// `floor(diff1 / difficulty)`, computed exactly on the shortest decimal that reads back
    /// as the same `f64` (so `0.001` means 1/1000, as the pool wrote it: stratum.md gives
    /// diff 0.001 → `000003e7fc180000…`). Tiny difficulties saturate at [`Target::MAX`];
    /// difficulties above diff1 give [`Target::ZERO`].
    pub fn from_difficulty(difficulty: Difficulty) -> Self {
        let (mantissa, exp10) = decimal(difficulty.value());
        let mut value = Wide(DIFF1.0.to_vec());
        if exp10 >= 0 {
            value.div_small(mantissa);
            for _ in 0..exp10 {
                value.div_small(10);
            }
        } else {
            for _ in 0..exp10.unsigned_abs() {
                value.mul_small(10);
                // Past 2^320 the quotient by a mantissa < 2^64 exceeds 2^256: saturate.
                if value.bits() > 320 {
                    return Target::MAX;
                }
            }
            value.div_small(mantissa);
        }
        if value.bits() > 256 {
            return Target::MAX;
        }
        value.0.resize(4, 0);
        Target([value.0[0], value.0[1], value.0[2], value.0[3]])
    }

    /// The pool difficulty this target corresponds to, `diff1 / target` (infinite for zero).
    pub fn difficulty(&self) -> f64 {
        DIFF1.to_f64() / self.to_f64()
    }

    fn to_f64(self) -> f64 {
        Wide(self.0.to_vec()).to_f64()
    }

    fn bits(&self) -> u32 {
        Wide(self.0.to_vec()).bits()
    }

    /// The limb `j`, zero outside the four.
    fn limb(&self, j: Option<usize>) -> u64 {
        j.and_then(|j| self.0.get(j)).copied().unwrap_or(0)
    }

    fn shl(self, n: u32) -> Self {
        let (limbs, rem) = ((n / 64) as usize, n % 64);
        Target(std::array::from_fn(|i| {
            let carried = if rem == 0 {
                0
            } else {
                self.limb(i.checked_sub(limbs + 1)) >> (64 - rem)
            };
            (self.limb(i.checked_sub(limbs)) << rem) | carried
        }))
    }

    fn shr(self, n: u32) -> Self {
        let (limbs, rem) = ((n / 64) as usize, n % 64);
        Target(std::array::from_fn(|i| {
            let carried = if rem == 0 {
                0
            } else {
                self.limb(Some(i + limbs + 1)) << (64 - rem)
            };
            (self.limb(Some(i + limbs)) >> rem) | carried
        }))
    }
}

/// Share difficulty of a found hash, `diff1 / hash_le_int` (what pools log as "sdiff").
pub fn hash_difficulty(hash: &[u8; 32]) -> f64 {
    Target::from_le_bytes(*hash).difficulty()
}

impl Ord for Target {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.iter().rev().cmp(other.0.iter().rev())
    }
}

impl PartialOrd for Target {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Target {
    /// 64 hex digits, big-endian (display order).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0
            .iter()
            .rev()
            .try_for_each(|limb| write!(f, "{limb:016x}"))
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({self})")
    }
}

/// The shortest decimal `mantissa * 10^exp10` that reads back as `value`
/// (Rust's `{:e}` prints exactly that, at most 17 significant digits).
fn decimal(value: f64) -> (u64, i32) {
    let text = format!("{value:e}");
    let (digits, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mantissa = format!("{int}{frac}").parse::<u64>().unwrap_or(1).max(1);
    (mantissa, exp - frac.len() as i32)
}

#[cfg(test)]
#[path = "target_tests.rs"]
mod tests;
