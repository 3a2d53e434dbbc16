//! A decoded `mining.notify` job and the merkle root (spec/stratum.md Part A.1).

use crate::kernels::sha256d;

/// Coinbase parts longer than this are refused: a real coinbase is a few hundred bytes and
/// the Stratum line itself is bounded, so anything bigger is a broken or hostile pool.
pub const MAX_COINBASE_PART: usize = 100_000;
/// A merkle branch has one entry per tree level; 32 levels is four billion transactions.
pub const MAX_BRANCH: usize = 32;

/// What can be wrong with a job or its connection parameters.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WorkError {
    #[error("job field {field}: not valid hex")]
    Hex { field: &'static str },
    #[error("job field {field}: expected {expected} bytes, got {got}")]
    Length {
        field: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("job field {field}: {got} bytes is over the limit of {max}")]
    TooLong {
        field: &'static str,
        got: usize,
        max: usize,
    },
    #[error("extranonce2 size {0} is not usable (must be 1..=32 bytes)")]
    Extranonce2Size(usize),
}

/// One `mining.notify`, decoded into header-ready values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// Opaque job id, sent back in `mining.submit`.
    pub job_id: String,
    /// Previous block hash in header (internal) byte order.
    pub prevhash: [u8; 32],
    /// Coinbase bytes before extranonce1.
    pub coinb1: Vec<u8>,
    /// Coinbase bytes after extranonce2.
    pub coinb2: Vec<u8>,
    /// Merkle branch, internal byte order, leaf level first.
    pub merkle_branch: Vec<[u8; 32]>,
    /// nVersion as a number (the header stores it little-endian).
    pub version: u32,
    /// nBits as a number.
    pub nbits: u32,
    /// nTime as a number; submitted back unchanged (we never roll ntime).
    pub ntime: u32,
    /// True when every earlier job is void.
    pub clean_jobs: bool,
}

/// The hex strings of a `mining.notify`, in wire order (params 0..=8).
#[derive(Clone, Copy, Debug)]
pub struct NotifyHex<'a> {
    pub job_id: &'a str,
    pub prevhash: &'a str,
    pub coinb1: &'a str,
    pub coinb2: &'a str,
    pub merkle_branch: &'a [String],
    pub version: &'a str,
    pub nbits: &'a str,
    pub ntime: &'a str,
    pub clean_jobs: bool,
}

fn decode(field: &'static str, text: &str) -> Result<Vec<u8>, WorkError> {
    if text.len() / 2 > MAX_COINBASE_PART {
        return Err(WorkError::TooLong {
            field,
            got: text.len() / 2,
            max: MAX_COINBASE_PART,
        });
    }
    hex::decode(text).map_err(|_| WorkError::Hex { field })
}

fn fixed<const N: usize>(field: &'static str, text: &str) -> Result<[u8; N], WorkError> {
    let bytes = decode(field, text)?;
    let got = bytes.len();
    bytes.try_into().map_err(|_| WorkError::Length {
        field,
        expected: N,
        got,
    })
}

/// A uint32 sent as big-endian hex (`"%08x"`), as version, nbits and ntime are.
pub fn be_u32(field: &'static str, text: &str) -> Result<u32, WorkError> {
    Ok(u32::from_be_bytes(fixed::<4>(field, text)?))
}

impl Job {
    /// Decodes the notify fields. The prevhash is sent with each 4-byte word byte-reversed
    /// relative to the header (spec: "byte-reverse each 4-byte word"); we undo that here.
    pub fn from_hex(n: NotifyHex<'_>) -> Result<Job, WorkError> {
        let mut prevhash = fixed::<32>("prevhash", n.prevhash)?;
        for word in prevhash.chunks_exact_mut(4) {
            word.reverse();
        }
        if n.merkle_branch.len() > MAX_BRANCH {
            return Err(WorkError::TooLong {
                field: "merkle_branch",
                got: n.merkle_branch.len(),
                max: MAX_BRANCH,
            });
        }
        let merkle_branch = n
            .merkle_branch
            .iter()
            .map(|h| fixed::<32>("merkle_branch", h))
            .collect::<Result<_, _>>()?;
        Ok(Job {
            job_id: n.job_id.to_owned(),
            prevhash,
            coinb1: decode("coinb1", n.coinb1)?,
            coinb2: decode("coinb2", n.coinb2)?,
            merkle_branch,
            version: be_u32("version", n.version)?,
            nbits: be_u32("nbits", n.nbits)?,
            ntime: be_u32("ntime", n.ntime)?,
            clean_jobs: n.clean_jobs,
        })
    }

    /// The job of a `mining.notify` the `stratum` crate already decoded.
    pub fn from_notify(n: &stratum::methods::Notify) -> Job {
        Job {
            job_id: n.job_id.as_str().to_owned(),
            prevhash: n.prevhash.header_bytes(),
            coinb1: n.coinb1.clone(),
            coinb2: n.coinb2.clone(),
            merkle_branch: n.merkle_branch.clone(),
            version: n.version,
            nbits: n.nbits,
            ntime: n.ntime,
            clean_jobs: n.clean_jobs,
        }
    }

    /// Header bytes: version LE ‖ prevhash ‖ merkle root ‖ ntime LE ‖ nbits LE ‖ nonce LE.
    pub fn header(&self, version: u32, merkle_root: &[u8; 32], nonce: u32) -> [u8; 80] {
        let mut h = [0u8; 80];
        h[0..4].copy_from_slice(&version.to_le_bytes());
        h[4..36].copy_from_slice(&self.prevhash);
        h[36..68].copy_from_slice(merkle_root);
        h[68..72].copy_from_slice(&self.ntime.to_le_bytes());
        h[72..76].copy_from_slice(&self.nbits.to_le_bytes());
        h[76..80].copy_from_slice(&nonce.to_le_bytes());
        h
    }

    /// ntime as it goes back in `mining.submit` (8-hex big-endian, unchanged from notify).
    pub fn ntime_hex(&self) -> String {
        format!("{:08x}", self.ntime)
    }
}

/// Merkle root from the coinbase and the branch: h = sha256d(coinbase), then for each
/// branch entry b, h = sha256d(h ‖ b). Internal byte order throughout; no swapping.
pub fn merkle_root(coinbase: &[u8], branch: &[[u8; 32]]) -> [u8; 32] {
    let mut h = sha256d(coinbase);
    let mut pair = [0u8; 64];
    for b in branch {
        pair[..32].copy_from_slice(&h);
        pair[32..].copy_from_slice(b);
        h = sha256d(&pair);
    }
    h
}
