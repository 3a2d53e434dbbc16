//! One type per Stratum method, each converting its positional params to and from JSON
//! ([`Method`]). [`client`] holds what a miner sends, [`server`] what a pool sends; the
//! enums [`ClientRequest`] and [`ServerMessage`] dispatch a parsed line by method name.

pub mod client;
pub mod configure;
pub mod server;

pub use client::{
    Authorize, ClientRequest, ExtranonceSubscribe, Submit, Subscribe, SubscribeResult,
    SuggestDifficulty,
};
pub use configure::{Configure, ConfigureResult, VersionRollingRequest};
pub use server::{
    GetVersion, Notify, Ping, Reconnect, ServerMessage, SetDifficulty, SetExtranonce,
    SetVersionMask, ShowMessage,
};

use serde_json::Value;

use crate::envelope::{Id, Notification, Request};
use crate::wire::{MAX_EXTRANONCE_SIZE, WireError};

/// Longest free-text param accepted (user agent, username, password, host, message).
pub const MAX_TEXT_PARAM: usize = 1024;

/// A Stratum method with positional params.
pub trait Method: Sized {
    /// The wire name, e.g. `"mining.submit"`.
    const NAME: &'static str;

    /// The params array.
    fn to_params(&self) -> Vec<Value>;

    /// Parses the params array (extra trailing params are ignored, as pools do).
    fn from_params(params: &[Value]) -> Result<Self, ParamsError>;

    /// This call as a request with `id`.
    fn to_request(&self, id: Id) -> Request {
        Request {
            id,
            method: Self::NAME.to_owned(),
            params: self.to_params(),
        }
    }

    /// This call as a notification (`"id": null`).
    fn to_notification(&self) -> Notification {
        Notification {
            method: Self::NAME.to_owned(),
            params: self.to_params(),
        }
    }
}

/// What is wrong with one param.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamProblem {
    /// Not present.
    #[error("missing")]
    Missing,
    /// Present with the wrong JSON type.
    #[error("expected {0}")]
    WrongType(&'static str),
    /// A bad wire value (hex, length, difficulty).
    #[error("{0}")]
    Wire(#[from] WireError),
    /// Well-formed but not acceptable.
    #[error("{0}")]
    Invalid(&'static str),
}

/// A method's params (or result) could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{method}: {param}: {problem}")]
pub struct ParamsError {
    /// The method.
    pub method: &'static str,
    /// Which param (or `"result"`).
    pub param: &'static str,
    /// What is wrong.
    pub problem: ParamProblem,
}

/// Reads positional params for one method, producing [`ParamsError`]s that name the param.
pub(crate) struct Params<'a> {
    pub method: &'static str,
    pub values: &'a [Value],
}

impl<'a> Params<'a> {
    pub(crate) fn new(method: &'static str, values: &'a [Value]) -> Self {
        Self { method, values }
    }

    pub(crate) fn err(&self, param: &'static str, problem: impl Into<ParamProblem>) -> ParamsError {
        ParamsError {
            method: self.method,
            param,
            problem: problem.into(),
        }
    }

    /// The value at `i`, treating JSON null as absent.
    pub(crate) fn opt(&self, i: usize) -> Option<&'a Value> {
        self.values.get(i).filter(|v| !v.is_null())
    }

    pub(crate) fn get(&self, i: usize, name: &'static str) -> Result<&'a Value, ParamsError> {
        self.opt(i)
            .ok_or_else(|| self.err(name, ParamProblem::Missing))
    }

    /// A string of any length (for values with their own bound, such as hex).
    fn raw_str(&self, i: usize, name: &'static str) -> Result<&'a str, ParamsError> {
        self.get(i, name)?
            .as_str()
            .ok_or_else(|| self.err(name, wrong("a string")))
    }

    /// A free-text string of at most [`MAX_TEXT_PARAM`] bytes.
    pub(crate) fn str(&self, i: usize, name: &'static str) -> Result<&'a str, ParamsError> {
        let s = self.raw_str(i, name)?;
        if s.len() > MAX_TEXT_PARAM {
            return Err(self.err(
                name,
                WireError::TooLong {
                    max: MAX_TEXT_PARAM,
                },
            ));
        }
        Ok(s)
    }

    pub(crate) fn opt_str(
        &self,
        i: usize,
        name: &'static str,
    ) -> Result<Option<&'a str>, ParamsError> {
        match self.opt(i) {
            None => Ok(None),
            Some(_) => self.str(i, name).map(Some),
        }
    }

    pub(crate) fn wire<T>(
        &self,
        i: usize,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, WireError>,
    ) -> Result<T, ParamsError> {
        parse(self.raw_str(i, name)?).map_err(|e| self.err(name, e))
    }

    pub(crate) fn bool(&self, i: usize, name: &'static str) -> Result<bool, ParamsError> {
        self.get(i, name)?
            .as_bool()
            .ok_or_else(|| self.err(name, wrong("a boolean")))
    }

    /// An extranonce2 size: a JSON integer in 1..=[`MAX_EXTRANONCE_SIZE`] (cpuminer refuses 0).
    pub(crate) fn en2_size(&self, i: usize, name: &'static str) -> Result<usize, ParamsError> {
        let n = self
            .get(i, name)?
            .as_u64()
            .ok_or_else(|| self.err(name, wrong("an integer")))?;
        if n == 0 || n > MAX_EXTRANONCE_SIZE as u64 {
            return Err(self.err(
                name,
                ParamProblem::Invalid("extranonce2_size must be 1..=32"),
            ));
        }
        Ok(n as usize)
    }
}

pub(crate) fn wrong(what: &'static str) -> ParamProblem {
    ParamProblem::WrongType(what)
}

#[cfg(test)]
pub(crate) mod tests;
