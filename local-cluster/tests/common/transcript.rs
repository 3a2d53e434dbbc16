//! Reads the recorded exchanges of `testdata/mesos-transcripts/*.txt`: each request and
//! the real Mesos' raw response, as printed there (Python bytes literals or plain text).

use std::path::PathBuf;

/// The recordings folder: `testdata/mesos-transcripts` of this repository (facts recorded
/// from a real Mesos 1.12; its README says how).
pub(crate) fn dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/mesos-transcripts");
    assert!(
        dir.join("README.md").is_file(),
        "recordings missing at {}",
        dir.display()
    );
    dir
}

pub(crate) fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// One HTTP message: request (method, target) or response (status).
#[derive(Clone, Debug, Default)]
pub(crate) struct Http {
    pub start: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Http {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn status(&self) -> u16 {
        self.start
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    pub(crate) fn method(&self) -> &str {
        self.start.split(' ').next().unwrap_or("")
    }

    pub(crate) fn target(&self) -> &str {
        self.start.split(' ').nth(1).unwrap_or("")
    }
}

/// A recorded exchange.
#[derive(Clone, Debug)]
pub(crate) struct Exchange {
    pub title: String,
    pub request: Http,
    pub response: Http,
}

/// Decodes a Python bytes literal (`b'…'` or `b"…"`); returns the bytes and the rest.
pub(crate) fn py_bytes(text: &str) -> Option<(Vec<u8>, &str)> {
    let rest = text.strip_prefix('b')?;
    let quote = rest.chars().next()?;
    let mut out = Vec::new();
    let bytes = rest.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        let c = bytes[i];
        if c == quote as u8 {
            return Some((out, &rest[i + 1..]));
        }
        if c == b'\\' {
            let e = *bytes.get(i + 1)?;
            i += 2;
            match e {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'\\' => out.push(b'\\'),
                b'\'' => out.push(b'\''),
                b'"' => out.push(b'"'),
                b'x' => {
                    let hex = std::str::from_utf8(bytes.get(i..i + 2)?).ok()?;
                    out.push(u8::from_str_radix(hex, 16).ok()?);
                    i += 2;
                }
                other => {
                    out.push(b'\\');
                    out.push(other);
                }
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    None
}

/// Parses raw HTTP bytes (head `\r\n` or `\n` separated, then the body).
pub(crate) fn parse_http(raw: &[u8]) -> Http {
    let (head, body) = match find(raw, b"\r\n\r\n") {
        Some(i) => (&raw[..i], raw[i + 4..].to_vec()),
        None => match find(raw, b"\n\n") {
            Some(i) => (&raw[..i], raw[i + 2..].to_vec()),
            None => (raw, Vec::new()),
        },
    };
    let head = String::from_utf8_lossy(head).replace("\r\n", "\n");
    let mut lines = head.lines();
    let start = lines.next().unwrap_or("").to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Http {
        start,
        headers,
        body,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Every `### title` section with a raw request and a raw response.
pub(crate) fn exchanges(name: &str) -> Vec<Exchange> {
    let text = String::from_utf8_lossy(&read(name)).to_string();
    let mut out = Vec::new();
    for section in text.split("\n### ").skip(1) {
        let title = section.lines().next().unwrap_or("").to_string();
        let Some(req_at) = section.find("--- request (raw) ---\n") else {
            continue;
        };
        let req_text = &section[req_at + "--- request (raw) ---\n".len()..];
        let req_text = &req_text[..req_text
            .find("\n--- response status line ---")
            .unwrap_or(req_text.len())];
        let request = match py_bytes(req_text.trim_start()) {
            Some((raw, _)) => parse_http(&raw),
            None => parse_http(req_text.as_bytes()),
        };
        let Some(resp_at) = section.find("--- response raw bytes (repr) ---\n") else {
            continue;
        };
        let Some((raw, _)) =
            py_bytes(&section[resp_at + "--- response raw bytes (repr) ---\n".len()..])
        else {
            continue;
        };
        out.push(Exchange {
            title,
            request,
            response: parse_http(&raw),
        });
    }
    out
}

/// Replaces every occurrence of `from` by `to` (same length keeps protobuf lengths valid).
pub(crate) fn replace(data: &[u8], from: &str, to: &str) -> Vec<u8> {
    assert_eq!(
        from.len(),
        to.len(),
        "substitutions must keep lengths: {from} -> {to}"
    );
    let (f, t) = (from.as_bytes(), to.as_bytes());
    let mut out = data.to_vec();
    let mut i = 0;
    while i + f.len() <= out.len() {
        if &out[i..i + f.len()] == f {
            out[i..i + f.len()].copy_from_slice(t);
            i += f.len();
        } else {
            i += 1;
        }
    }
    out
}
