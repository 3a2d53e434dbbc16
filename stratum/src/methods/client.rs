//! Methods a miner sends to a pool (spec/stratum.md Part A.1: mining.subscribe,
//! mining.authorize, mining.configure, mining.suggest_difficulty,
//! mining.extranonce.subscribe, mining.submit), and the results of the first three.

use serde_json::{Map, Value, json};

use super::{Method, ParamProblem, Params, ParamsError, wrong};
use crate::wire::{
    Difficulty, Extranonce1, Extranonce2, JobId, VersionMask, u32_from_hex, u32_to_hex,
};

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

    fn from_params(params: &[Value]) -> Result<Self, ParamsError> {
        let p = Params::new(Self::NAME, params);
        let user_agent = p.opt_str(0, "user_agent")?.map(str::to_owned);
        let session_id = p
            .opt_str(1, "session_id")?
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        Ok(Self {
            user_agent,
            session_id,
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

/// `mining.authorize [username, password]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorize {
    /// Worker name, often `address.worker`.
    pub username: String,
    /// Password (often ignored by pools). Keep it out of logs.
    pub password: String,
}

impl Method for Authorize {
    const NAME: &'static str = "mining.authorize";

    fn to_params(&self) -> Vec<Value> {
        vec![json!(self.username), json!(self.password)]
    }

    fn from_params(params: &[Value]) -> Result<Self, ParamsError> {
        let p = Params::new(Self::NAME, params);
        let username = p.str(0, "username")?.to_owned();
        let password = p.opt_str(1, "password")?.unwrap_or("").to_owned();
        Ok(Self { username, password })
    }
}

/// BIP310 `version-rolling` request parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VersionRollingRequest {
    /// Bits the miner would like to roll (`version-rolling.mask`).
    pub mask: VersionMask,
    /// Minimum number of bits it needs (`version-rolling.min-bit-count`).
    pub min_bit_count: u32,
}

/// `mining.configure [[extensions], {params}]` (BIP310).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Configure {
    /// `version-rolling`, when requested.
    pub version_rolling: Option<VersionRollingRequest>,
    /// `minimum-difficulty` with its `minimum-difficulty.value`.
    pub minimum_difficulty: Option<Difficulty>,
    /// `subscribe-extranonce` (the miner accepts `mining.set_extranonce`).
    pub subscribe_extranonce: bool,
    /// Other extension names (e.g. `info`), kept so a pool can answer them with `false`.
    pub other: Vec<String>,
}

impl Method for Configure {
    const NAME: &'static str = "mining.configure";

    fn to_params(&self) -> Vec<Value> {
        let mut names = Vec::new();
        let mut map = Map::new();
        if let Some(vr) = self.version_rolling {
            names.push(json!("version-rolling"));
            map.insert("version-rolling.mask".into(), json!(vr.mask.to_hex()));
            map.insert(
                "version-rolling.min-bit-count".into(),
                json!(vr.min_bit_count),
            );
        }
        if let Some(d) = self.minimum_difficulty {
            names.push(json!("minimum-difficulty"));
            map.insert("minimum-difficulty.value".into(), d.to_json());
        }
        if self.subscribe_extranonce {
            names.push(json!("subscribe-extranonce"));
        }
        names.extend(self.other.iter().map(|n| json!(n)));
        vec![Value::Array(names), Value::Object(map)]
    }

    fn from_params(params: &[Value]) -> Result<Self, ParamsError> {
        let p = Params::new(Self::NAME, params);
        let names = p
            .get(0, "extensions")?
            .as_array()
            .ok_or_else(|| p.err("extensions", wrong("an array")))?;
        let empty = Map::new();
        let map = match p.opt(1) {
            None => &empty,
            Some(v) => v
                .as_object()
                .ok_or_else(|| p.err("parameters", wrong("an object")))?,
        };
        let mut out = Configure::default();
        for name in names.iter().take(16) {
            match name.as_str() {
                Some("version-rolling") => out.version_rolling = Some(parse_vr(&p, map)?),
                Some("minimum-difficulty") => {
                    let v = map.get("minimum-difficulty.value").unwrap_or(&Value::Null);
                    let d = Difficulty::from_json(v)
                        .map_err(|e| p.err("minimum-difficulty.value", e))?;
                    out.minimum_difficulty = Some(d);
                }
                Some("subscribe-extranonce") => out.subscribe_extranonce = true,
                Some(other) if other.len() <= 64 => out.other.push(other.to_owned()),
                _ => return Err(p.err("extensions", wrong("short strings"))),
            }
        }
        Ok(out)
    }
}

fn parse_vr(
    p: &Params<'_>,
    map: &Map<String, Value>,
) -> Result<VersionRollingRequest, ParamsError> {
    // BIP310: both keys are optional; an absent mask means "all bits", min-bit-count 0.
    let mask = match map.get("version-rolling.mask") {
        None => VersionMask(u32::MAX),
        Some(v) => {
            let s = v
                .as_str()
                .ok_or_else(|| p.err("version-rolling.mask", wrong("a hex string")))?;
            VersionMask::from_hex(s).map_err(|e| p.err("version-rolling.mask", e))?
        }
    };
    let min_bit_count = match map.get("version-rolling.min-bit-count") {
        None => 0,
        Some(v) => v
            .as_u64()
            .filter(|n| *n <= 32)
            .ok_or_else(|| p.err("version-rolling.min-bit-count", wrong("an integer 0..=32")))?
            as u32,
    };
    Ok(VersionRollingRequest {
        mask,
        min_bit_count,
    })
}

/// The result map of `mining.configure`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConfigureResult {
    /// `Some(mask)` when version rolling was accepted with that mask; `None` when refused
    /// or not answered.
    pub version_rolling: Option<VersionMask>,
    /// Answer to `minimum-difficulty`, if any.
    pub minimum_difficulty: Option<bool>,
    /// Answer to `subscribe-extranonce`, if any.
    pub subscribe_extranonce: Option<bool>,
}

impl ConfigureResult {
    /// The `result` value. A refused version-rolling request is `"version-rolling": false`.
    pub fn to_result(&self, version_rolling_asked: bool) -> Value {
        let mut map = Map::new();
        match self.version_rolling {
            Some(mask) => {
                map.insert("version-rolling".into(), json!(true));
                map.insert("version-rolling.mask".into(), json!(mask.to_hex()));
            }
            None if version_rolling_asked => {
                map.insert("version-rolling".into(), json!(false));
            }
            None => {}
        }
        if let Some(b) = self.minimum_difficulty {
            map.insert("minimum-difficulty".into(), json!(b));
        }
        if let Some(b) = self.subscribe_extranonce {
            map.insert("subscribe-extranonce".into(), json!(b));
        }
        Value::Object(map)
    }

    /// Parses a `result` map.
    pub fn from_result(result: &Value) -> Result<Self, ParamsError> {
        let p = Params::new(Configure::NAME, &[]);
        let map = result
            .as_object()
            .ok_or_else(|| p.err("result", wrong("an object")))?;
        let version_rolling = match map.get("version-rolling") {
            Some(Value::Bool(true)) => {
                let s = map.get("version-rolling.mask").and_then(Value::as_str);
                let s = s.ok_or_else(|| p.err("version-rolling.mask", ParamProblem::Missing))?;
                Some(VersionMask::from_hex(s).map_err(|e| p.err("version-rolling.mask", e))?)
            }
            _ => None,
        };
        Ok(Self {
            version_rolling,
            minimum_difficulty: map.get("minimum-difficulty").and_then(Value::as_bool),
            subscribe_extranonce: map.get("subscribe-extranonce").and_then(Value::as_bool),
        })
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
        let d =
            Difficulty::from_json(p.get(0, "difficulty")?).map_err(|e| p.err("difficulty", e))?;
        Ok(Self { difficulty: d })
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
