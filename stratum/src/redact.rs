//! Credentials out of log lines (issue 11 hole 7): the `mining.authorize` password is the
//! one secret on a Stratum connection. Drivers log lines only through [`redact_line`], on
//! either side of the connection; the types that hold the password ([`ClientConfig`],
//! [`Authorize`]) print it as [`REDACTED`] in their `Debug`.
//!
//! [`ClientConfig`]: crate::client::ClientConfig
//! [`Authorize`]: crate::methods::Authorize

use std::borrow::Cow;

use serde_json::Value;

use crate::Method;
use crate::methods::Authorize;

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// `line` (sent or received, with or without its newline) fit for a log: the password of a
/// `mining.authorize` request replaced by [`REDACTED`], however the JSON spells the method
/// (escapes included). Any other line comes back as it is, except one that does not parse
/// and mentions `authorize`: it may be a cut-off authorize, so only its length is shown.
pub fn redact_line(line: &str) -> Cow<'_, str> {
    let Ok(mut value) = serde_json::from_str::<Value>(line) else {
        if line.to_ascii_lowercase().contains("authorize") {
            return Cow::Owned(format!("<{} bytes, not JSON, {REDACTED}>", line.len()));
        }
        return Cow::Borrowed(line);
    };
    let is_authorize = value
        .get("method")
        .and_then(Value::as_str)
        .is_some_and(|m| m == Authorize::NAME);
    if !is_authorize {
        return Cow::Borrowed(line);
    }
    if let Some(params) = value.get_mut("params").and_then(Value::as_array_mut) {
        for secret in params.iter_mut().skip(1) {
            *secret = Value::from(REDACTED);
        }
    }
    Cow::Owned(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorize_password_is_hidden_in_every_spelling() {
        let pw = "s3cr3t\"pw";
        let lines = [
            r#"{"id":4,"method":"mining.authorize","params":["u","s3cr3t\"pw"]}"#.to_owned(),
            r#"{"params":["u","s3cr3t\"pw"],"method":"mining\u002eauthorize","id":4}"#.to_owned(),
            format!(
                "{}\n",
                r#"{"id":4,"method":"mining.authorize","params":["u","s3cr3t\"pw","x"]}"#
            ),
            r#"{"id":4,"method":"mining.authorize","params":["u","s3cr3t"#.to_owned(),
        ];
        for line in &lines {
            let out = redact_line(line);
            assert!(!out.contains("s3cr3t"), "{out}");
            assert!(out.contains(REDACTED), "{out}");
            assert!(!out.contains(pw));
        }
        assert!(redact_line(&lines[0]).contains(r#"["u","<redacted>"]"#));
    }

    #[test]
    fn other_lines_are_untouched() {
        for line in [
            r#"{"id":3,"method":"mining.extranonce.subscribe","params":[]}"#,
            r#"{"id":5,"method":"mining.submit","params":["x","j","00","01","02"]}"#,
            "not json at all",
            r#"{"id":2,"result":true,"error":null}"#,
        ] {
            assert_eq!(redact_line(line), line);
        }
    }
}
