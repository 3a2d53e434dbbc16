//! The JSON-RPC envelope of Stratum v1 (spec/stratum.md Part A.1 "Transport"): requests
//! (`id`, `method`, `params`), replies (`id`, `result`, `error`) and notifications (a
//! `method` with `"id": null`). Both error forms are understood: the classic array
//! `[code, "message", data]` and ckpool's `result:false` + `"reject-reason"`.

use std::fmt;

use serde_json::{Map, Value, json};

mod errors;
pub use errors::{ErrorCode, Rejection, RpcError};

/// Longest id accepted, as a string or as a number's text.
const MAX_ID_LEN: usize = 64;

/// A request id. Stratum peers use integers; strings and any other JSON number are
/// accepted because JSON-RPC allows them, and a reply must echo the id exactly (JSON-RPC
/// 2.0 §5: "the same as the value of the id member in the Request").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Id {
    /// A numeric id that fits a u64 (what every pool and miner here uses).
    Num(u64),
    /// A string id.
    Str(String),
    /// Any other JSON number (negative, fractional, or beyond u64), kept as its exact
    /// token: `123456789012345678901234567890` is echoed so, not as the float it parses to.
    Other(String),
}

impl Id {
    /// The id of `v`, the parsed `id` member of `line` (whose text gives a number's token).
    fn from_json(v: &Value, line: &str) -> Result<Option<Id>, MessageError> {
        match v {
            Value::Null => Ok(None),
            Value::Number(n) => match n.as_u64() {
                Some(n) => Ok(Some(Id::Num(n))),
                None => number_token(line).map(|t| Some(Id::Other(t))),
            },
            Value::String(s) if s.len() <= MAX_ID_LEN => Ok(Some(Id::Str(s.clone()))),
            _ => Err(MessageError::BadId),
        }
    }

    /// The id as JSON text.
    fn to_json_text(&self) -> String {
        match self {
            Id::Num(n) => n.to_string(),
            Id::Str(s) => json!(s).to_string(),
            Id::Other(token) => token.clone(),
        }
    }
}

/// The exact text of the top-level `id` member of `line`, a JSON number that is no u64:
/// serde_json (without `arbitrary_precision`, which would change every crate's numbers)
/// reads such a number as an f64 and loses digits, so the token is read again as raw JSON.
fn number_token(line: &str) -> Result<String, MessageError> {
    let members: std::collections::BTreeMap<String, &serde_json::value::RawValue> =
        serde_json::from_str(line).map_err(|_| MessageError::BadId)?;
    let token = members.get("id").map(|raw| raw.get().trim());
    match token {
        Some(t)
            if t.len() <= MAX_ID_LEN && t.starts_with(|c: char| c == '-' || c.is_ascii_digit()) =>
        {
            Ok(t.to_owned())
        }
        _ => Err(MessageError::BadId),
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Num(n) => write!(f, "{n}"),
            Id::Str(s) => write!(f, "{s:?}"),
            Id::Other(n) => write!(f, "{n}"),
        }
    }
}

/// A request: has an id and expects a reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Matches the reply to this request.
    pub id: Id,
    /// Method name, e.g. `mining.submit`.
    pub method: String,
    /// Positional params.
    pub params: Vec<Value>,
}

/// A notification: a method call with `"id": null`, no reply expected.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Method name, e.g. `mining.notify`.
    pub method: String,
    /// Positional params.
    pub params: Vec<Value>,
}

/// A reply to a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The request's id (null when the peer could not read the request's id).
    pub id: Option<Id>,
    /// `result` (null when absent).
    pub result: Value,
    /// `error`, when not null.
    pub error: Option<RpcError>,
    /// ckpool's `"reject-reason"` key, sent with `result:false` on a rejected share.
    pub reject_reason: Option<String>,
}

impl Response {
    /// A success reply.
    pub fn ok(id: Id, result: Value) -> Self {
        Self {
            id: Some(id),
            result,
            error: None,
            reject_reason: None,
        }
    }

    /// An error reply in the classic array form (`result: null`).
    pub fn err(id: Option<Id>, error: RpcError) -> Self {
        Self {
            id,
            result: Value::Null,
            error: Some(error),
            reject_reason: None,
        }
    }

    /// The error, if any, as a [`Rejection`] (either error form).
    pub fn rejection(&self) -> Option<Rejection> {
        if let Some(e) = &self.error {
            let reason = match (&self.reject_reason, e.message.is_empty()) {
                (Some(r), true) => r.clone(),
                _ => e.message.clone(),
            };
            return Some(Rejection {
                code: Some(e.code),
                reason,
            });
        }
        None
    }

    /// Interprets a reply whose success value is `true` (authorize, submit, extranonce
    /// subscribe): `Ok` for `true`; otherwise the error, ckpool's reject-reason, or a text
    /// describing the unexpected result.
    pub fn bool_outcome(&self) -> Result<(), Rejection> {
        if let Some(r) = self.rejection() {
            return Err(r);
        }
        match (&self.result, &self.reject_reason) {
            (Value::Bool(true), _) => Ok(()),
            (_, Some(reason)) => Err(Rejection {
                code: None,
                reason: reason.clone(),
            }),
            (other, None) => Err(Rejection {
                code: None,
                reason: format!("result {other}"),
            }),
        }
    }
}

/// Any Stratum line.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A method call expecting a reply.
    Request(Request),
    /// A method call with a null id.
    Notification(Notification),
    /// A reply.
    Response(Response),
}

/// Why a line is not a Stratum message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MessageError {
    /// Not JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// JSON, but not an object.
    #[error("not a JSON object")]
    NotObject,
    /// `id` is neither null, a number nor a short string.
    #[error("invalid id")]
    BadId,
    /// `method` is not a string.
    #[error("method is not a string")]
    BadMethod,
    /// `params` is neither absent, null nor an array.
    #[error("params is not an array")]
    ParamsNotArray,
    /// `error` is not null, an array/object with a numeric code, or a string.
    #[error("invalid error member")]
    BadError,
    /// No `method`, `result` or `error`.
    #[error("neither a request nor a reply")]
    Unrecognised,
}

impl Message {
    /// Parses one line (without its newline).
    pub fn parse(line: &str) -> Result<Message, MessageError> {
        let value: Value =
            serde_json::from_str(line).map_err(|e| MessageError::Json(e.to_string()))?;
        let Value::Object(obj) = value else {
            return Err(MessageError::NotObject);
        };
        let id = Id::from_json(obj.get("id").unwrap_or(&Value::Null), line)?;
        if let Some(method) = obj.get("method").filter(|m| !m.is_null()) {
            let method = method.as_str().ok_or(MessageError::BadMethod)?.to_owned();
            let params = match obj.get("params") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a.clone(),
                Some(_) => return Err(MessageError::ParamsNotArray),
            };
            return Ok(match id {
                Some(id) => Message::Request(Request { id, method, params }),
                None => Message::Notification(Notification { method, params }),
            });
        }
        if !obj.contains_key("result") && !obj.contains_key("error") {
            return Err(MessageError::Unrecognised);
        }
        let error = RpcError::from_json(obj.get("error").unwrap_or(&Value::Null))?;
        let reject_reason = obj
            .get("reject-reason")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let result = obj.get("result").cloned().unwrap_or(Value::Null);
        Ok(Message::Response(Response {
            id,
            result,
            error,
            reject_reason,
        }))
    }

    /// The JSON text, without a newline.
    pub fn to_json_string(&self) -> String {
        let mut obj = Map::new();
        let id = match self {
            Message::Request(r) => Some(&r.id),
            Message::Notification(_) => None,
            Message::Response(r) => r.id.as_ref(),
        };
        // A placeholder where the id goes: its text is written as it is (see `Id::Other`).
        obj.insert("id".into(), Value::Null);
        match self {
            Message::Request(r) => {
                obj.insert("method".into(), json!(r.method));
                obj.insert("params".into(), Value::Array(r.params.clone()));
            }
            Message::Notification(n) => {
                obj.insert("method".into(), json!(n.method));
                obj.insert("params".into(), Value::Array(n.params.clone()));
            }
            Message::Response(r) => {
                obj.insert("result".into(), r.result.clone());
                obj.insert(
                    "error".into(),
                    r.error.as_ref().map_or(Value::Null, RpcError::to_json),
                );
                if let Some(reason) = &r.reject_reason {
                    obj.insert("reject-reason".into(), json!(reason));
                }
            }
        }
        let Some(id) = id else {
            return Value::Object(obj).to_string();
        };
        // serde_json's compact form, member by member, with the id's own text.
        let mut out = String::from("{");
        for (i, (key, value)) in obj.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&json!(key).to_string());
            out.push(':');
            match key.as_str() {
                "id" => out.push_str(&id.to_json_text()),
                _ => out.push_str(&value.to_string()),
            }
        }
        out.push('}');
        out
    }

    /// The line to write: JSON followed by `\n`.
    pub fn to_line(&self) -> String {
        let mut s = self.to_json_string();
        s.push('\n');
        s
    }
}

impl From<Request> for Message {
    fn from(r: Request) -> Self {
        Message::Request(r)
    }
}

impl From<Notification> for Message {
    fn from(n: Notification) -> Self {
        Message::Notification(n)
    }
}

impl From<Response> for Message {
    fn from(r: Response) -> Self {
        Message::Response(r)
    }
}

#[cfg(test)]
mod tests;
