//! One module per subcommand.

pub mod bench;
pub mod executor;
pub mod hash;
pub mod local;
pub mod mine;
pub mod pool;
pub mod scan;
pub mod scheduler;

use crate::UsageError;

/// Decodes hex given by the user into exactly `N` bytes, or a [`UsageError`] naming `what`.
pub fn hex_array<const N: usize>(what: &str, text: &str) -> Result<[u8; N], UsageError> {
    let bytes =
        hex::decode(text.trim()).map_err(|e| UsageError(format!("{what}: not valid hex ({e})")))?;
    bytes.try_into().map_err(|b: Vec<u8>| {
        UsageError(format!(
            "{what}: expected {N} bytes ({} hex digits), got {} bytes",
            2 * N,
            b.len()
        ))
    })
}
