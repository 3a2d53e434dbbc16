//! One module per subcommand.

pub(crate) mod bench;
pub(crate) mod executor;
pub(crate) mod hash;
pub(crate) mod local;
pub(crate) mod mine;
pub(crate) mod pool;
pub(crate) mod scan;
pub(crate) mod scheduler;

use crate::UsageError;

/// Decodes hex given by the user into exactly `N` bytes, or a [`UsageError`] naming `what`.
pub(crate) fn hex_array<const N: usize>(what: &str, text: &str) -> Result<[u8; N], UsageError> {
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
