//! The error values of a reply: the 20–25 share codes, the `error` member, and the
//! [`Rejection`] that either error form (array or ckpool's reject-reason) becomes.

use std::fmt;

use serde_json::{Value, json};

use super::MessageError;

/// The Stratum share error codes 20–25 (spec "Error codes"; the same enum as Miningcore's
/// `StratumError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 20: other / unknown (also bad extranonce2 length, ntime out of range).
    Other = 20,
    /// 21: job not found — used for stale shares.
    JobNotFound = 21,
    /// 22: duplicate share.
    Duplicate = 22,
    /// 23: low difficulty share.
    LowDifficulty = 23,
    /// 24: unauthorized worker.
    Unauthorized = 24,
    /// 25: not subscribed.
    NotSubscribed = 25,
}

impl ErrorCode {
    /// The code for a number, if it is one of 20–25.
    pub fn from_code(code: i64) -> Option<ErrorCode> {
        Some(match code {
            20 => ErrorCode::Other,
            21 => ErrorCode::JobNotFound,
            22 => ErrorCode::Duplicate,
            23 => ErrorCode::LowDifficulty,
            24 => ErrorCode::Unauthorized,
            25 => ErrorCode::NotSubscribed,
            _ => return None,
        })
    }

    /// The numeric code.
    pub fn code(self) -> i64 {
        self as i64
    }

    /// The conventional message text for this code.
    pub fn default_message(self) -> &'static str {
        match self {
            ErrorCode::Other => "Other/Unknown",
            ErrorCode::JobNotFound => "Job not found",
            ErrorCode::Duplicate => "Duplicate share",
            ErrorCode::LowDifficulty => "Low difficulty share",
            ErrorCode::Unauthorized => "Unauthorized worker",
            ErrorCode::NotSubscribed => "Not subscribed",
        }
    }
}

/// The `error` member of a reply.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// Numeric code (20–25 for share errors; anything for others).
    pub code: i64,
    /// Human-readable text (what cpuminer prints as the reject reason).
    pub message: String,
    /// Third array element (traceback), usually null.
    pub data: Value,
}

impl RpcError {
    /// An error with one of the standard codes and the given message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code: code.code(),
            message: message.into(),
            data: Value::Null,
        }
    }

    /// The standard code, if the number is one of 20–25.
    pub fn kind(&self) -> Option<ErrorCode> {
        ErrorCode::from_code(self.code)
    }

    pub(super) fn from_json(v: &Value) -> Result<Option<RpcError>, MessageError> {
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        Ok(Some(match v {
            Value::Null => return Ok(None),
            Value::Array(a) => RpcError {
                code: a
                    .first()
                    .and_then(Value::as_i64)
                    .ok_or(MessageError::BadError)?,
                message: text(a.get(1)),
                data: a.get(2).cloned().unwrap_or(Value::Null),
            },
            Value::Object(o) => RpcError {
                code: o
                    .get("code")
                    .and_then(Value::as_i64)
                    .ok_or(MessageError::BadError)?,
                message: text(o.get("message")),
                data: o.get("data").cloned().unwrap_or(Value::Null),
            },
            Value::String(s) => RpcError {
                code: 20,
                message: s.clone(),
                data: Value::Null,
            },
            _ => return Err(MessageError::BadError),
        }))
    }

    pub(super) fn to_json(&self) -> Value {
        json!([self.code, self.message, self.data])
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

/// Why a reply does not mean success: a code when the peer gave one, and the text to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// The error code, if the array/object error form was used.
    pub code: Option<i64>,
    /// The reason: error message, ckpool's reject-reason, or a description of the result.
    pub reason: String,
}

impl Rejection {
    /// The standard code, if one of 20–25 was given.
    pub fn kind(&self) -> Option<ErrorCode> {
        self.code.and_then(ErrorCode::from_code)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => write!(f, "{} (code {code})", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}
