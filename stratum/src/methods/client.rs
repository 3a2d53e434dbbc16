//! Methods a miner sends to a pool (spec/stratum.md Part A.1: mining.subscribe,
//! mining.authorize, mining.configure, mining.suggest_difficulty,
//! mining.extranonce.subscribe, mining.submit), and the subscribe result. `mining.configure`
//! is in [`super::configure`].

use serde_json::{Value, json};

use super::{Configure, Method, Params, ParamsError, wrong};
use crate::wire::{Difficulty, Extranonce1, Extranonce2, JobId, u32_from_hex, u32_to_hex};

/// `mining.subscribe [user_agent?, session_id?]`. A session id asks the pool to resume the
/// earlier session (same extranonce1).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Subscribe {
    /// e.g. `"mesos-miner/0.1.0"`.
    pub user_agent: Option<String>,
    /// The session id received earlier, to resume.
    pub session_id: Option<String>,
}

impl Method for Subscribe {
    const NAME: &'static str = "mining.subscribe";

    fn to_params(&self) -> Vec<Value> {
        match (&self.user_agent, &self.session_id) {
            (None, None) => vec![],
            (agent, None) => vec![json!(agent)],
            (agent, Some(sid)) => vec![json!(agent.as_deref().unwrap_or("")), json!(sid)],
        }
    }

    /// Never fails: both params are hints, and refusing a subscribe stops a miner for good.
    /// A user agent or session id that is not a string of at most [`super::MAX_TEXT_PARAM`]
    /// bytes is ignored (NiceHash-style clients send host and port after them; some send
    /// numbers or null).
    fn from_params(params: &[Value]) -> Result<Self, ParamsError> {
        let p = Params::new(Self::NAME, params);
        let text = |i: usize| {
            p.opt(i)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty() && s.len() <= super::MAX_TEXT_PARAM)
                .map(str::to_owned)
        };
        Ok(Self {
            user_agent: text(0),
            session_id: text(1),
        })
    }
}

/// The result of `mining.subscribe`: `[subscriptions, extranonce1, extranonce2_size]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscribeResult {
    /// `[method, subscription id]` pairs (ckpool lists only `mining.notify`).
    pub subscriptions: Vec<(String, String)>,
    /// This connection's extranonce1.
    pub extranonce1: Extranonce1,
    /// Bytes of extranonce2 the miner owns (1..=32).
    pub extranonce2_size: usize,
}

impl SubscribeResult {
    /// The session id to offer on resume: the id paired with `mining.notify` (as cpuminer
    /// does), else the first subscription's id.
    pub fn session_id(&self) -> Option<&str> {
        let notify = self
            .subscriptions
            .iter()
            .find(|(m, _)| m == "mining.notify");
        notify
            .or(self.subscriptions.first())
            .map(|(_, id)| id.as_str())
    }

    /// The `result` value.
    pub fn to_result(&self) -> Value {
        let subs: Vec<Value> = self
            .subscriptions
            .iter()
            .map(|(m, id)| json!([m, id]))
            .collect();
        json!([subs, self.extranonce1.to_hex(), self.extranonce2_size])
    }

    /// Parses a `result`; accepts a list of pairs or a single flat pair as subscriptions.
    pub fn from_result(result: &Value) -> Result<Self, ParamsError> {
        let items = result.as_array().map(Vec::as_slice).unwrap_or(&[]);
        let p = Params::new(Subscribe::NAME, items);
        if result.as_array().is_none() {
            return Err(p.err("result", wrong("an array")));
        }
        let subscriptions = parse_subscriptions(p.get(0, "subscriptions")?)
            .ok_or_else(|| p.err("subscriptions", wrong("[method, id] pairs")))?;
        let extranonce1 = p.wire(1, "extranonce1", Extranonce1::from_hex)?;
        let extranonce2_size = p.en2_size(2, "extranonce2_size")?;
        Ok(Self {
            subscriptions,
            extranonce1,
            extranonce2_size,
        })
    }
}

fn parse_subscriptions(v: &Value) -> Option<Vec<(String, String)>> {
    let pair = |v: &Value| -> Option<(String, String)> {
        let a = v.as_array()?;
        let text = |v: &Value| {
            v.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string())
        };
        Some((a.first()?.as_str()?.to_owned(), text(a.get(1)?)))
    };
    let list = v.as_array()?;
    if list.len() > 16 {
        return None;
    }
    // Flat form `["mining.notify", "id"]`.
    if list.first().is_some_and(Value::is_string) {
        return pair(v).map(|p| vec![p]);
    }
    list.iter().map(pair).collect()
}

/// `mining.authorize [username, password]`. Its `Debug` hides the password.
#[derive(Clone, PartialEq)]
pub struct Authorize {
    /// Worker name, often `address.worker`.
    pub username: String,
    /// Password (often ignored by pools). Keep it out of logs.
    pub password: String,
}

impl std::fmt::Debug for Authorize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorize")
            .field("username", &self.username)
            .field("password", &crate::REDACTED)
            .finish()
    }
}

impl Method for Authorize {
    const NAME: &'static str = "mining.authorize";

    fn to_params(&self) -> Vec<Value> {
        vec![json!(self.username), json!(self.password)]
    }

    fn from_params(params: &[Value]) -> Result<Self, ParamsError> {
        let p = Params::new(Self::NAME, params);
        let username = p.str(0, "username")?.to_owned();
        // Pools mostly ignore the password, so any shape (a number, an over-long text) is
        // read as empty rather than refusing the worker.
        let password = p
            .opt(1)
            .and_then(Value::as_str)
            .filter(|s| s.len() <= super::MAX_TEXT_PARAM)
            .unwrap_or("")
            .to_owned();
        Ok(Self { username, password })
    }
}

/// `mining.suggest_difficulty [difficulty]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SuggestDifficulty {
    /// The difficulty the miner would like.
    pub difficulty: Difficulty,
}

impl Method for SuggestDifficulty {
    const NAME: &'static str = "mining.suggest_difficulty";

    fn to_params(&self) -> Vec<Value> {
        vec![self.difficulty.to_json()]
    }

    fn from_params(params: &[Value]) -> Result<Self, ParamsError> {
        let p = Params::new(Self::NAME, params);
        let v = p.get(0, "difficulty")?;
        // cpuminer-opt's --stratum-keepalive sends the difficulty as a string ("%f").
        let d = match v.as_str() {
            Some(text) => text
                .trim()
                .parse::<f64>()
                .map_err(|_| crate::WireError::WrongType("a number or a decimal string"))
                .and_then(Difficulty::new),
            None => Difficulty::from_json(v),
        };
        Ok(Self {
            difficulty: d.map_err(|e| p.err("difficulty", e))?,
        })
    }
}

/// `mining.extranonce.subscribe []` (NiceHash extension): the miner accepts
/// `mining.set_extranonce`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ExtranonceSubscribe;

impl Method for ExtranonceSubscribe {
    const NAME: &'static str = "mining.extranonce.subscribe";

    fn to_params(&self) -> Vec<Value> {
        vec![]
    }

    fn from_params(_: &[Value]) -> Result<Self, ParamsError> {
        Ok(Self)
    }
}

/// `mining.submit [worker, job_id, extranonce2, ntime, nonce, version_bits?]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Submit {
    /// The authorized worker name.
    pub worker: String,
    /// The job the share was found on.
    pub job_id: JobId,
    /// Exactly `extranonce2_size` bytes, in coinbase order.
    pub extranonce2: Extranonce2,
    /// The header time (8-hex BE on the wire).
    pub ntime: u32,
    /// The nonce value (8-hex BE on the wire; little-endian in the header).
    pub nonce: u32,
    /// BIP310 version bits (`version & mask`), present once version rolling is negotiated.
    pub version_bits: Option<u32>,
}

impl Method for Submit {
    const NAME: &'static str = "mining.submit";

    fn to_params(&self) -> Vec<Value> {
        let mut v = vec![
            json!(self.worker),
            json!(self.job_id.as_str()),
            json!(self.extranonce2.to_hex()),
            json!(u32_to_hex(self.ntime)),
            json!(u32_to_hex(self.nonce)),
        ];
        if let Some(bits) = self.version_bits {
            v.push(json!(u32_to_hex(bits)));
        }
        v
    }

    fn from_params(params: &[Value]) -> Result<Self, ParamsError> {
        let p = Params::new(Self::NAME, params);
        Ok(Self {
            worker: p.str(0, "worker")?.to_owned(),
            job_id: p.wire(1, "job_id", |s| JobId::new(s))?,
            extranonce2: p.wire(2, "extranonce2", Extranonce2::from_hex)?,
            ntime: p.wire(3, "ntime", u32_from_hex)?,
            nonce: p.wire(4, "nonce", u32_from_hex)?,
            version_bits: match p.opt(5) {
                None => None,
                Some(_) => Some(p.wire(5, "version_bits", u32_from_hex)?),
            },
        })
    }
}

/// A request a pool can receive, dispatched by method name.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientRequest {
    /// `mining.subscribe`
    Subscribe(Subscribe),
    /// `mining.authorize`
    Authorize(Authorize),
    /// `mining.configure`
    Configure(Configure),
    /// `mining.suggest_difficulty`
    SuggestDifficulty(SuggestDifficulty),
    /// `mining.extranonce.subscribe`
    ExtranonceSubscribe,
    /// `mining.submit`
    Submit(Submit),
}

impl ClientRequest {
    /// Parses the params of `method`; `Ok(None)` for a method this crate does not know.
    pub fn parse(method: &str, params: &[Value]) -> Result<Option<Self>, ParamsError> {
        Ok(Some(match method {
            Subscribe::NAME => Self::Subscribe(Subscribe::from_params(params)?),
            Authorize::NAME => Self::Authorize(Authorize::from_params(params)?),
            Configure::NAME => Self::Configure(Configure::from_params(params)?),
            SuggestDifficulty::NAME => {
                Self::SuggestDifficulty(SuggestDifficulty::from_params(params)?)
            }
            ExtranonceSubscribe::NAME => Self::ExtranonceSubscribe,
            Submit::NAME => Self::Submit(Submit::from_params(params)?),
            _ => return Ok(None),
        }))
    }
}
