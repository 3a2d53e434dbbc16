//! `mining.configure` (BIP310): the request with its extensions, and the result map.

use serde_json::{Map, Value, json};

use super::{Method, ParamProblem, Params, ParamsError, wrong};
use crate::wire::{Difficulty, VersionMask};

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
