//! HTTP-level facts shared by the master and the agents, without any I/O: the request as
//! the cores see it, the reply they decide, content negotiation and body decoding, with the
//! exact status codes and error texts of the recordings (`mesos-transcripts/3-error-responses.txt`,
//! `2d-accept-negotiation.txt`, `5-executor-calls.txt`).

use bytes::Bytes;
use prost::{Message, Name};

/// `Content-Type` of protobuf bodies and streams.
pub(crate) const PROTOBUF: &str = "application/x-protobuf";
/// `Content-Type` of JSON bodies and streams.
pub(crate) const JSON: &str = "application/json";
/// `Content-Type` of every error body (recorded: `text/plain; charset=utf-8`).
pub(crate) const TEXT: &str = "text/plain; charset=utf-8";

/// Largest accepted request body. Mesos sets no limit; we refuse more than this with 413
/// rather than buffering without bound (a deliberate difference, see the crate docs).
pub(crate) const MAX_BODY: usize = 8 * 1024 * 1024;

/// The encoding of a request body or of a subscription stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Protobuf,
    Json,
}

impl Format {
    /// The `Content-Type` value for this format.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Protobuf => PROTOBUF,
            Format::Json => JSON,
        }
    }
}

/// One HTTP request as the sans-IO cores see it (headers already extracted, body whole).
#[derive(Clone, Debug, Default)]
pub(crate) struct Request {
    pub method: String,
    /// Path plus `?query` if any, e.g. `/api/v1/scheduler`.
    pub path_and_query: String,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub stream_id: Option<String>,
    pub authorization: Option<String>,
    pub body: Bytes,
}

/// What the HTTP driver must answer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Reply {
    /// A plain response. `body` is sent as `text/plain; charset=utf-8` when non-empty.
    Plain {
        code: u16,
        body: String,
        headers: Vec<(&'static str, String)>,
    },
    /// `200 OK` with a RecordIO stream: the driver opens stream `id` (events for it follow as
    /// outputs), `Content-Type` from `format`, and `Mesos-Stream-Id` when given.
    Stream {
        id: u64,
        format: Format,
        mesos_stream_id: Option<String>,
    },
}

impl Reply {
    /// A response with a text body (or none when `body` is empty).
    pub(crate) fn text(code: u16, body: impl Into<String>) -> Reply {
        Reply::Plain {
            code,
            body: body.into(),
            headers: Vec::new(),
        }
    }

    /// `202 Accepted`, empty body: the call is queued.
    pub(crate) fn accepted() -> Reply {
        Reply::text(202, "")
    }

    /// The status code of this reply.
    #[cfg(test)]
    pub(crate) fn code(&self) -> u16 {
        match self {
            Reply::Plain { code, .. } => *code,
            Reply::Stream { .. } => 200,
        }
    }
}

/// `405` for anything but POST (recorded text and `Allow` header).
pub(crate) fn method_not_allowed(method: &str) -> Reply {
    Reply::Plain {
        code: 405,
        body: format!(
            "405 Method Not Allowed. Expecting one of {{ 'POST' }}, but received '{method}'."
        ),
        headers: vec![("Allow", "POST".to_string())],
    }
}

/// The body's format from `Content-Type`: exact string equality, as Mesos does (spec §1.2).
pub(crate) fn request_format(content_type: Option<&str>) -> Result<Format, Reply> {
    match content_type {
        None => Err(Reply::text(400, "Expecting 'Content-Type' to be present")),
        Some(PROTOBUF) => Ok(Format::Protobuf),
        Some(JSON) => Ok(Format::Json),
        Some(_) => Err(Reply::text(
            415,
            "Expecting 'Content-Type' of application/json or application/x-protobuf",
        )),
    }
}

/// The stream's format from `Accept`: JSON is tested first, so a missing header, `*/*` or
/// any list naming JSON gives JSON (recorded in `2d-accept-negotiation.txt`).
pub(crate) fn response_format(accept: Option<&str>) -> Result<Format, Reply> {
    let Some(accept) = accept else {
        return Ok(Format::Json);
    };
    let types: Vec<String> = accept
        .split(',')
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .collect();
    let allows = |wanted: &str| {
        let (major, _) = wanted.split_once('/').unwrap_or((wanted, ""));
        types
            .iter()
            .any(|t| t == wanted || t == "*/*" || *t == format!("{major}/*"))
    };
    if allows(JSON) {
        Ok(Format::Json)
    } else if allows(PROTOBUF) {
        Ok(Format::Protobuf)
    } else {
        Err(Reply::text(
            406,
            "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'",
        ))
    }
}

/// Decodes a `Call` body (protobuf, or Mesos's JSON form through `proto::json`). The texts
/// are the recorded ones: "Failed to parse body into JSON: syntax error at line 1 near: …"
/// for what is not JSON (`3-error-responses.txt`).
pub(crate) fn decode<M: Message + Name + Default>(format: Format, body: &[u8]) -> Result<M, Reply> {
    match format {
        Format::Protobuf => {
            M::decode(body).map_err(|_| Reply::text(400, "Failed to parse body into Call protobuf"))
        }
        Format::Json => {
            if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
                let near: String = String::from_utf8_lossy(body).chars().take(32).collect();
                return Err(Reply::text(
                    400,
                    format!("Failed to parse body into JSON: syntax error at line 1 near: {near}"),
                ));
            }
            proto::json::from_json::<M>(body).map_err(|e| {
                Reply::text(
                    400,
                    format!("Failed to convert JSON into Call protobuf: {e}"),
                )
            })
        }
    }
}

/// Encodes one event as one RecordIO record (`<length>\n<bytes>`, spec §1.3), in Mesos's
/// field order for JSON (`proto::json`).
pub(crate) fn record<M: Message + Name>(format: Format, event: &M) -> Bytes {
    let payload = match format {
        Format::Protobuf => event.encode_to_vec(),
        Format::Json => proto::json::to_json(event).unwrap_or_else(|_| b"{}".to_vec()),
    };
    Bytes::from(proto::recordio::encode(&payload))
}

/// Whether `bytes` is a valid 16-byte UUID as `UUID::fromBytes` accepts it.
pub(crate) fn valid_uuid(bytes: &[u8]) -> bool {
    bytes.len() == 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_is_exact() {
        assert_eq!(request_format(Some(PROTOBUF)), Ok(Format::Protobuf));
        assert_eq!(request_format(None).unwrap_err().code(), 400);
        assert_eq!(
            request_format(Some("application/json; charset=utf-8"))
                .unwrap_err()
                .code(),
            415
        );
        assert_eq!(
            request_format(Some("Application/X-Protobuf"))
                .unwrap_err()
                .code(),
            415
        );
    }

    #[test]
    fn accept_prefers_json_as_recorded() {
        assert_eq!(response_format(None), Ok(Format::Json));
        assert_eq!(response_format(Some("*/*")), Ok(Format::Json));
        assert_eq!(
            response_format(Some("application/x-protobuf, application/json")),
            Ok(Format::Json)
        );
        assert_eq!(
            response_format(Some("application/json;q=0.1, application/x-protobuf")),
            Ok(Format::Json)
        );
        assert_eq!(response_format(Some(PROTOBUF)), Ok(Format::Protobuf));
        assert_eq!(
            response_format(Some("application/recordio"))
                .unwrap_err()
                .code(),
            406
        );
        assert_eq!(response_format(Some("text/html")).unwrap_err().code(), 406);
    }
}
