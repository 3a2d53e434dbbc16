//! Methods a pool sends to a miner (spec/stratum.md Part A.1: mining.notify,
//! mining.set_difficulty, mining.set_extranonce, mining.set_version_mask, client.reconnect,
//! client.get_version, client.show_message, mining.ping).

use serde_json::{Value, json};

use super::{MAX_TEXT_PARAM, Method, ParamProblem, Params, ParamsError, wrong};
use crate::wire::{
    Difficulty, Extranonce1, JobId, PrevHash, VersionMask, WireError, bytes_from_hex, u32_from_hex,
    u32_to_hex,
};

/// Longest coinb1 or coinb2 accepted, in bytes.
pub const MAX_COINBASE_PART: usize = 16 * 1024;

/// Most merkle branch entries accepted (32 levels = 4 billion transactions).
pub const MAX_MERKLE_BRANCH: usize = 32;

/// `mining.notify`: a job (9 params; table in spec Part A.1).
#[derive(Debug, Clone, PartialEq)]
pub struct Notify {
    /// Opaque job id, echoed in submits.
    pub job_id: JobId,
    /// Previous block hash (param 1 is in the word-swapped notify form).
    pub prevhash: PrevHash,
    /// Coinbase bytes before extranonce1.
    pub coinb1: Vec<u8>,
    /// Coinbase bytes after extranonce2.
    pub coinb2: Vec<u8>,
    /// Merkle branch hashes in internal byte order (used as is, no reversal).
    pub merkle_branch: Vec<[u8; 32]>,
    /// Block version (BE hex on the wire, little-endian in the header).
    pub version: u32,
    /// Compact target (BE hex on the wire).
    pub nbits: u32,
    /// Header time (BE hex on the wire).
    pub ntime: u32,
    /// True: every earlier job is void (new prevhash).
    pub clean_jobs: bool,
}

impl Method for Notify {
    const NAME: &'static str = "mining.notify";

    fn to_params(&self) -> Vec<Value> {
        let branch: Vec<Value> = self
            .merkle_branch
            .iter()
            .map(|h| json!(hex::encode(h)))
            .collect();
        vec![
            json!(self.job_id.as_str()),
            json!(self.prevhash.to_notify_hex()),
            json!(hex::encode(&self.coinb1)),
            json!(hex::encode(&self.coinb2)),
            Value::Array(branch),
            json!(u32_to_hex(self.version)),
            json!(u32_to_hex(self.nbits)),
            json!(u32_to_hex(self.ntime)),
            json!(self.clean_jobs),
        ]
    }

    fn from_params(params: &[Value]) -> Result<Self, ParamsError> {
        let p = Params::new(Self::NAME, params);
        let coinb = |i, name| p.wire(i, name, |s| bytes_from_hex(s, MAX_COINBASE_PART));
        Ok(Self {
            job_id: p.wire(0, "job_id", |s| JobId::new(s))?,
            prevhash: p.wire(1, "prevhash", PrevHash::from_notify_hex)?,
            coinb1: coinb(2, "coinb1")?,
            coinb2: coinb(3, "coinb2")?,
            merkle_branch: parse_branch(&p)?,
            version: p.wire(5, "version", u32_from_hex)?,
            nbits: p.wire(6, "nbits", u32_from_hex)?,
            ntime: p.wire(7, "ntime", u32_from_hex)?,
            clean_jobs: p.bool(8, "clean_jobs")?,
        })
    }
}

fn parse_branch(p: &Params<'_>) -> Result<Vec<[u8; 32]>, ParamsError> {
    let list = p.get(4, "merkle_branch")?.as_array();
    let list = list.ok_or_else(|| p.err("merkle_branch", wrong("an array")))?;
    if list.len() > MAX_MERKLE_BRANCH {
        return Err(p.err(
            "merkle_branch",
            ParamProblem::Invalid("more than 32 entries"),
        ));
    }
    list.iter()
        .map(|v| {
            let s = v
                .as_str()
                .ok_or_else(|| p.err("merkle_branch", wrong("hex strings")))?;
            let mut h = [0u8; 32];
            if s.len() != 64 {
                let e = WireError::Length {
                    expected: 64,
                    got: s.len(),
                };
                return Err(p.err("merkle_branch", e));
            }
            hex::decode_to_slice(s, &mut h)
                .map_err(|_| p.err("merkle_branch", WireError::NotHex))?;
            Ok(h)
        })
        .collect()
}

/// `mining.set_difficulty [difficulty]`; applies from the next job (cpuminer, cgminer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SetDifficulty {
    /// The new share difficulty (may be fractional).
    pub difficulty: Difficulty,
}

impl Method for SetDifficulty {
    const NAME: &'static str = "mining.set_difficulty";

    fn to_params(&self) -> Vec<Value> {
        vec![self.difficulty.to_json()]
    }

    fn from_params(params: &[Value]) -> Result<Self, ParamsError> {
        let p = Params::new(Self::NAME, params);
        let d =
            Difficulty::from_json(p.get(0, "difficulty")?).map_err(|e| p.err("difficulty", e))?;
        Ok(Self { difficulty: d })
    }
}

/// `mining.set_extranonce [extranonce1, extranonce2_size]`; applies from the next job.
#[derive(Debug, Clone, PartialEq)]
pub struct SetExtranonce {
    /// New extranonce1.
    pub extranonce1: Extranonce1,
    /// New extranonce2 size (1..=32).
    pub extranonce2_size: usize,
}

impl Method for SetExtranonce {
    const NAME: &'static str = "mining.set_extranonce";

    fn to_params(&self) -> Vec<Value> {
        vec![
            json!(self.extranonce1.to_hex()),
            json!(self.extranonce2_size),
        ]
    }

    fn from_params(params: &[Value]) -> Result<Self, ParamsError> {
        let p = Params::new(Self::NAME, params);
        Ok(Self {
            extranonce1: p.wire(0, "extranonce1", Extranonce1::from_hex)?,
            extranonce2_size: p.en2_size(1, "extranonce2_size")?,
        })
    }
}

/// `mining.set_version_mask [mask]` (BIP310); valid immediately.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SetVersionMask {
    /// The new mask.
    pub mask: VersionMask,
}

impl Method for SetVersionMask {
    const NAME: &'static str = "mining.set_version_mask";

    fn to_params(&self) -> Vec<Value> {
        vec![json!(self.mask.to_hex())]
    }

    fn from_params(params: &[Value]) -> Result<Self, ParamsError> {
        let p = Params::new(Self::NAME, params);
        Ok(Self {
            mask: p.wire(0, "mask", VersionMask::from_hex)?,
        })
    }
}

/// `client.reconnect [host?, port?, wait_seconds?]`; absent host/port mean the same server.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reconnect {
    /// New host, if given and not empty.
    pub host: Option<String>,
    /// New port, if given (number or numeric string).
    pub port: Option<u16>,
    /// Seconds to wait before reconnecting, if given.
    pub wait: Option<u64>,
}

/// An optional number that pools send as a JSON number, a numeric string, or `""` for absent.
fn opt_number(p: &Params<'_>, i: usize, name: &'static str) -> Result<Option<u64>, ParamsError> {
    match p.opt(i) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .map(Some)
            .ok_or_else(|| p.err(name, wrong("a number"))),
    }
}

impl Method for Reconnect {
    const NAME: &'static str = "client.reconnect";

    fn to_params(&self) -> Vec<Value> {
        let mut v = vec![
            json!(self.host.as_deref().unwrap_or("")),
            self.port.map_or(Value::Null, |p| json!(p)),
        ];
        if let Some(w) = self.wait {
            v.push(json!(w));
        }
        v
    }

    fn from_params(params: &[Value]) -> Result<Self, ParamsError> {
        let p = Params::new(Self::NAME, params);
        let host = p
            .opt_str(0, "host")?
            .filter(|h| !h.is_empty())
            .map(str::to_owned);
        if host.as_ref().is_some_and(|h| h.len() > 255) {
            return Err(p.err("host", WireError::TooLong { max: 255 }));
        }
        let port = match opt_number(&p, 1, "port")? {
            None => None,
            Some(n) => Some(u16::try_from(n).map_err(|_| p.err("port", wrong("a port number")))?),
        };
        let wait = opt_number(&p, 2, "wait")?;
        Ok(Self { host, port, wait })
    }
}

/// `client.get_version []`: a request; the miner answers with its agent string.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GetVersion;

impl Method for GetVersion {
    const NAME: &'static str = "client.get_version";

    fn to_params(&self) -> Vec<Value> {
        vec![]
    }

    fn from_params(_: &[Value]) -> Result<Self, ParamsError> {
        Ok(Self)
    }
}

/// `client.show_message [text]`: a message for the operator.
#[derive(Debug, Clone, PartialEq)]
pub struct ShowMessage {
    /// The text (bounded to [`MAX_TEXT_PARAM`] bytes).
    pub text: String,
}

impl Method for ShowMessage {
    const NAME: &'static str = "client.show_message";

    fn to_params(&self) -> Vec<Value> {
        vec![json!(self.text)]
    }

    fn from_params(params: &[Value]) -> Result<Self, ParamsError> {
        let p = Params::new(Self::NAME, params);
        let text = p.str(0, "text")?;
        debug_assert!(text.len() <= MAX_TEXT_PARAM);
        Ok(Self {
            text: text.to_owned(),
        })
    }
}

/// `mining.ping []`: a request; cgminer answers `"pong"`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Ping;

impl Method for Ping {
    const NAME: &'static str = "mining.ping";

    fn to_params(&self) -> Vec<Value> {
        vec![]
    }

    fn from_params(_: &[Value]) -> Result<Self, ParamsError> {
        Ok(Self)
    }
}

/// A call a miner can receive, dispatched by method name.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    /// `mining.notify`
    Notify(Notify),
    /// `mining.set_difficulty`
    SetDifficulty(SetDifficulty),
    /// `mining.set_extranonce`
    SetExtranonce(SetExtranonce),
    /// `mining.set_version_mask`
    SetVersionMask(SetVersionMask),
    /// `client.reconnect`
    Reconnect(Reconnect),
    /// `client.show_message`
    ShowMessage(ShowMessage),
    /// `client.get_version` (expects a reply)
    GetVersion,
    /// `mining.ping` (expects a reply)
    Ping,
}

impl ServerMessage {
    /// Parses the params of `method`; `Ok(None)` for a method this crate does not know.
    pub fn parse(method: &str, params: &[Value]) -> Result<Option<Self>, ParamsError> {
        Ok(Some(match method {
            Notify::NAME => Self::Notify(Notify::from_params(params)?),
            SetDifficulty::NAME => Self::SetDifficulty(SetDifficulty::from_params(params)?),
            SetExtranonce::NAME => Self::SetExtranonce(SetExtranonce::from_params(params)?),
            SetVersionMask::NAME => Self::SetVersionMask(SetVersionMask::from_params(params)?),
            Reconnect::NAME => Self::Reconnect(Reconnect::from_params(params)?),
            ShowMessage::NAME => Self::ShowMessage(ShowMessage::from_params(params)?),
            GetVersion::NAME => Self::GetVersion,
            Ping::NAME => Self::Ping,
            _ => return Ok(None),
        }))
    }
}
