//! Newtypes for values that travel in Stratum params, and the byte-order rules that go with
//! them (spec/stratum.md Part A.1, "mining.notify" and "mining.submit").
//!
//! * `u32` fields (version, nbits, ntime, nonce) travel as 8 hex digits of the **big-endian**
//!   value (`"%08x"`); a block header stores them little-endian (`value.to_le_bytes()`).
//! * The notify prevhash is the internal 32 bytes with each 4-byte word byte-reversed
//!   ([`PrevHash`]).
//! * Extranonces are raw bytes, hex-encoded in the order they sit in the coinbase.

use std::fmt;

use serde_json::Value;

/// Largest extranonce1 or extranonce2 this crate accepts, in bytes. cpuminer refuses
/// extranonce2 sizes above 100; real pools use 4–8, so 32 leaves room and bounds memory.
pub const MAX_EXTRANONCE_SIZE: usize = 32;

/// Longest job id accepted, in bytes (ckpool uses 16 hex characters).
pub const MAX_JOB_ID_LEN: usize = 128;

/// Why a wire value could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WireError {
    /// Not an even-length string of hex digits.
    #[error("not a hex string")]
    NotHex,
    /// Decoded to the wrong number of bytes / characters.
    #[error("expected {expected} bytes, got {got}")]
    Length {
        /// Required length.
        expected: usize,
        /// Length found.
        got: usize,
    },
    /// Longer than the limit of this value.
    #[error("longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// An empty string where a value is required.
    #[error("empty")]
    Empty,
    /// A difficulty that is not a finite number above zero.
    #[error("difficulty must be a finite number > 0, got {0}")]
    BadDifficulty(f64),
    /// The JSON value has the wrong type.
    #[error("expected {0}")]
    WrongType(&'static str),
}

/// Encodes a `u32` the Stratum way: 8 hex digits of the big-endian value (`0x1b04864c` →
/// `"1b04864c"`). Used for version, nbits, ntime and nonce.
pub fn u32_to_hex(value: u32) -> String {
    format!("{value:08x}")
}

/// Decodes the 8-hex-digit big-endian form of a `u32` (see [`u32_to_hex`]). Exactly 8 digits
/// are required: the spec's submit and notify fields always have them, and a short value
/// is more likely a bug than a leading-zero shortcut.
pub fn u32_from_hex(s: &str) -> Result<u32, WireError> {
    if s.len() != 8 {
        return Err(WireError::Length {
            expected: 8,
            got: s.len(),
        });
    }
    let mut bytes = [0u8; 4];
    hex::decode_to_slice(s, &mut bytes).map_err(|_| WireError::NotHex)?;
    Ok(u32::from_be_bytes(bytes))
}

fn decode_hex(s: &str, max: usize) -> Result<Vec<u8>, WireError> {
    if s.len() > max * 2 {
        return Err(WireError::TooLong { max });
    }
    hex::decode(s).map_err(|_| WireError::NotHex)
}

/// Decodes hex of any length up to `max` bytes (coinbase parts).
pub fn bytes_from_hex(s: &str, max: usize) -> Result<Vec<u8>, WireError> {
    decode_hex(s, max)
}

/// An opaque job id chosen by the pool (non-empty, at most [`MAX_JOB_ID_LEN`] bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(String);

impl JobId {
    /// Validates and wraps a job id.
    pub fn new(id: impl Into<String>) -> Result<Self, WireError> {
        let id = id.into();
        if id.is_empty() {
            return Err(WireError::Empty);
        }
        if id.len() > MAX_JOB_ID_LEN {
            return Err(WireError::TooLong {
                max: MAX_JOB_ID_LEN,
            });
        }
        Ok(Self(id))
    }

    /// The id as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! extranonce_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        pub struct $name(Vec<u8>);

        impl $name {
            /// Wraps raw bytes (at most [`MAX_EXTRANONCE_SIZE`]).
            pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, WireError> {
                if bytes.len() > MAX_EXTRANONCE_SIZE {
                    return Err(WireError::TooLong { max: MAX_EXTRANONCE_SIZE });
                }
                Ok(Self(bytes))
            }

            /// Decodes the hex form used on the wire.
            pub fn from_hex(s: &str) -> Result<Self, WireError> {
                decode_hex(s, MAX_EXTRANONCE_SIZE).map(Self)
            }

            /// The bytes, in coinbase order.
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            /// The hex form used on the wire.
            pub fn to_hex(&self) -> String {
                hex::encode(&self.0)
            }

            /// Length in bytes.
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// True when there are no bytes.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
    };
}

extranonce_type!(
    /// The pool's per-connection part of the coinbase scriptSig (from `mining.subscribe` or
    /// `mining.set_extranonce`).
    Extranonce1
);
extranonce_type!(
    /// The miner's part of the coinbase scriptSig; exactly `extranonce2_size` bytes in a submit.
    Extranonce2
);

impl Extranonce2 {
    /// The extranonce2 of `size` bytes holding `counter` as a little-endian byte counter (as
    /// cpuminer and cgminer fill it). Bytes beyond 8 stay zero; a counter that does not fit
    /// in `size` bytes is truncated to its low bytes. `size` is clamped to
    /// [`MAX_EXTRANONCE_SIZE`].
    pub fn from_counter(counter: u64, size: usize) -> Self {
        let size = size.min(MAX_EXTRANONCE_SIZE);
        let mut bytes = vec![0u8; size];
        for (dst, src) in bytes.iter_mut().zip(counter.to_le_bytes()) {
            *dst = src;
        }
        Self(bytes)
    }
}

/// The previous block hash of a job, stored as the 32 **internal** bytes (the order they
/// take in the header; the reverse of the "display" hex explorers print).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrevHash([u8; 32]);

fn swap_words(bytes: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (dst, src) in out.chunks_exact_mut(4).zip(bytes.chunks_exact(4)) {
        dst.copy_from_slice(src);
        dst.reverse();
    }
    out
}

fn decode32(s: &str) -> Result<[u8; 32], WireError> {
    if s.len() != 64 {
        return Err(WireError::Length {
            expected: 64,
            got: s.len(),
        });
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| WireError::NotHex)?;
    Ok(out)
}

impl PrevHash {
    /// From the internal (header) byte order.
    pub fn from_internal(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes to put at header offset 4..36.
    pub fn header_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// From the 64 hex digits of `mining.notify` param 1: hex-decode, then byte-reverse each
    /// 4-byte word (spec: "To get header bytes").
    pub fn from_notify_hex(s: &str) -> Result<Self, WireError> {
        decode32(s).map(|b| Self(swap_words(&b)))
    }

    /// The `mining.notify` form: each 4-byte word of the internal bytes reversed, hex.
    pub fn to_notify_hex(&self) -> String {
        hex::encode(swap_words(&self.0))
    }

    /// From the display hex (as `getblocktemplate`'s `previousblockhash` or an explorer).
    pub fn from_display_hex(s: &str) -> Result<Self, WireError> {
        let mut b = decode32(s)?;
        b.reverse();
        Ok(Self(b))
    }

    /// The display hex (byte-reversed internal bytes).
    pub fn to_display_hex(&self) -> String {
        let mut b = self.0;
        b.reverse();
        hex::encode(b)
    }
}

/// A share difficulty as sent by `mining.set_difficulty`: a finite number above zero,
/// possibly fractional (0.01 is used by public test pools).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Difficulty(f64);

impl Difficulty {
    /// Difficulty 1.
    pub const ONE: Difficulty = Difficulty(1.0);

    /// Validates `value` (finite, > 0).
    pub fn new(value: f64) -> Result<Self, WireError> {
        if value.is_finite() && value > 0.0 {
            Ok(Self(value))
        } else {
            Err(WireError::BadDifficulty(value))
        }
    }

    /// The value.
    pub fn value(self) -> f64 {
        self.0
    }

    /// Parses a JSON number (integer or float).
    pub fn from_json(v: &Value) -> Result<Self, WireError> {
        let f = v.as_f64().ok_or(WireError::WrongType("a number"))?;
        Self::new(f)
    }

    /// The JSON number: an integer when the value is integral (ckpool parses suggested
    /// difficulties as integers), else a float.
    pub fn to_json(self) -> Value {
        if self.0.fract() == 0.0 && self.0 < 9.0e15 {
            Value::from(self.0 as u64)
        } else {
            Value::from(self.0)
        }
    }

    /// `self` limited to `[min, max]`.
    pub fn clamp(self, min: Difficulty, max: Difficulty) -> Difficulty {
        Difficulty(self.0.clamp(min.0, max.0.max(min.0)))
    }
}

impl fmt::Display for Difficulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A BIP310 version-rolling mask: 1-bits may be changed by the miner. Hex like the other
/// `u32` fields (`"1fffe000"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionMask(pub u32);

impl VersionMask {
    /// BIP320's general-purpose bits 13–28.
    pub const BIP320: VersionMask = VersionMask(0x1fff_e000);

    /// Decodes the 8-hex-digit form.
    pub fn from_hex(s: &str) -> Result<Self, WireError> {
        u32_from_hex(s).map(Self)
    }

    /// The 8-hex-digit form.
    pub fn to_hex(self) -> String {
        u32_to_hex(self.0)
    }

    /// True when `version` differs from `base` only in bits of this mask.
    pub fn allows(self, base: u32, version: u32) -> bool {
        (base ^ version) & !self.0 == 0
    }

    /// The header version a pool rebuilds from a job version and submitted `version_bits`
    /// (BIP310: `(job_version & ~mask) | (version_bits & mask)`).
    pub fn apply(self, job_version: u32, version_bits: u32) -> u32 {
        (job_version & !self.0) | (version_bits & self.0)
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
