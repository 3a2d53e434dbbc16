//! Readers for the recordings of a real Mesos 1.12 in testdata/mesos-transcripts/
//! (layout: its README). `.bin` files hold raw bytes (HTTP responses with chunked framing,
//! de-chunked RecordIO bodies, request bodies); `.txt` files hold Python `bytes` reprs of
//! whole HTTP requests and responses and `hex` dumps of single events.

#![allow(dead_code)] // each test binary uses a different part

pub(crate) mod rebuild;

use std::path::{Path, PathBuf};

/// `testdata/mesos-transcripts` of this repository. Missing recordings fail the test loudly,
/// never pass it.
pub(crate) fn transcripts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/mesos-transcripts");
    assert!(
        dir.join("README.md").is_file(),
        "the Mesos recordings are missing: expected {} (testdata/ of the repository)",
        dir.display()
    );
    dir
}

/// Every file under the recordings (one level of sub-folders), sorted, with this suffix.
pub(crate) fn files_ending(suffix: &str) -> Vec<PathBuf> {
    let root = transcripts_dir();
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable recordings dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A short name for messages: the path below the recordings folder.
pub(crate) fn short(path: &Path) -> String {
    let root = transcripts_dir();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Whether the file belongs to the executor side (events/calls of `mesos.v1.executor`).
pub(crate) fn is_executor_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.starts_with("5-executor") || name.starts_with("exec-")
}

/// Every Python bytes literal (`b'...'` / `b"..."`) in `text`, decoded, in order.
/// A literal must start at a word boundary and close on the same line.
pub(crate) fn py_bytes_literals(text: &str) -> Vec<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if boundary
            && bytes[i] == b'b'
            && (bytes[i + 1] == b'\'' || bytes[i + 1] == b'"')
            && let Some((value, end)) = parse_literal(bytes, i + 1)
        {
            out.push(value);
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// Parses a literal whose opening quote is at `start`; returns it and the index after it.
fn parse_literal(bytes: &[u8], start: usize) -> Option<(Vec<u8>, usize)> {
    let quote = bytes[start];
    let mut out = Vec::new();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => return None,
            b if b == quote => return Some((out, i + 1)),
            b'\\' => {
                let esc = *bytes.get(i + 1)?;
                i += 2;
                match esc {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'\\' | b'\'' | b'"' => out.push(esc),
                    b'x' => {
                        let hex = std::str::from_utf8(bytes.get(i..i + 2)?).ok()?;
                        out.push(u8::from_str_radix(hex, 16).ok()?);
                        i += 2;
                    }
                    _ => return None,
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

/// One recorded request, with the response recorded after it (if any).
pub(crate) struct Recorded {
    pub origin: String,
    pub request: Http,
    pub response: Option<Http>,
}

pub(crate) fn recorded_requests() -> Vec<Recorded> {
    let mut out = Vec::new();
    for path in files_ending(".txt") {
        let text = std::fs::read_to_string(&path).expect("readable .txt");
        let parsed: Vec<Http> = py_bytes_literals(&text)
            .iter()
            .filter_map(|l| Http::parse(l).ok())
            .collect();
        for (i, http) in parsed.iter().enumerate() {
            if !http.is_request() || !http.start_line.starts_with("POST ") {
                continue;
            }
            let response = parsed[i + 1..]
                .iter()
                .take_while(|h| !h.is_request())
                .next()
                .cloned();
            out.push(Recorded {
                origin: format!("{} request #{i} {}", short(&path), http.path()),
                request: http.clone(),
                response,
            });
        }
    }
    for path in files_ending("request.bin") {
        let raw = std::fs::read(&path).expect("readable .bin");
        let request = Http::parse(&raw).unwrap_or_else(|e| panic!("{}: {e}", short(&path)));
        out.push(Recorded {
            origin: short(&path),
            request,
            response: None,
        });
    }
    out
}

/// Payloads of `hex: <hex>` / `hex=<hex>` dumps (one event each); `(omitted)` is skipped.
pub(crate) fn hex_dumps(text: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for line in text.lines() {
        for marker in ["hex: ", "hex="] {
            let Some(pos) = line.find(marker) else {
                continue;
            };
            let rest = &line[pos + marker.len()..];
            let digits: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
            if !digits.is_empty() && digits.len().is_multiple_of(2) {
                out.push(hex::decode(&digits).expect("even-length hex"));
            }
        }
    }
    out
}

/// One HTTP message as recorded.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    pub start_line: String,
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked if it was chunked.
    pub body: Vec<u8>,
}

impl Http {
    /// Parses a request or a response; a chunked body may end without the terminator
    /// (recorded TCP closes) but never inside a chunk.
    pub(crate) fn parse(raw: &[u8]) -> Result<Self, String> {
        let split = find(raw, b"\r\n\r\n").ok_or("no end of HTTP head")?;
        let head = std::str::from_utf8(&raw[..split]).map_err(|e| e.to_string())?;
        let rest = &raw[split + 4..];
        let mut lines = head.split("\r\n");
        let start_line = lines.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let mut http = Http {
            start_line,
            headers,
            body: Vec::new(),
        };
        http.body = if http.header("transfer-encoding") == Some("chunked") {
            dechunk(rest)?
        } else if let Some(len) = http.header("content-length") {
            let len: usize = len.parse().map_err(|_| "bad content-length")?;
            rest.get(..len)
                .ok_or("body shorter than content-length")?
                .to_vec()
        } else {
            rest.to_vec()
        };
        Ok(http)
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn is_request(&self) -> bool {
        !self.start_line.starts_with("HTTP/")
    }

    /// Request path, e.g. `/api/v1/scheduler`.
    pub(crate) fn path(&self) -> &str {
        self.start_line.split(' ').nth(1).unwrap_or_default()
    }

    /// Response status code.
    pub(crate) fn status(&self) -> u16 {
        self.start_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let eol = find(data, b"\r\n").ok_or("chunk size line without CRLF")?;
        let size_text = std::str::from_utf8(&data[..eol]).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(size_text.trim(), 16)
            .map_err(|e| format!("chunk size {size_text:?}: {e}"))?;
        data = &data[eol + 2..];
        if size == 0 {
            break;
        }
        let chunk = data.get(..size).ok_or("stream ends inside a chunk")?;
        out.extend_from_slice(chunk);
        data = data.get(size + 2..).unwrap_or_default();
    }
    Ok(out)
}

/// The protobuf wire bytes with the fields of every (apparently) nested message sorted by
/// field number, repeated fields keeping their order. Used only to show that two encodings
/// differ in field order alone: a length-delimited value that happens to parse as a message
/// is sorted the same way on both sides, so the comparison stays consistent.
pub(crate) fn canonical_wire(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut fields = parse_fields(bytes)?;
    for field in &mut fields {
        if field.wire_type == 2
            && !field.value.is_empty()
            && let Some(inner) = canonical_wire(&field.value)
        {
            field.value = inner;
        }
    }
    fields.sort_by_key(|f| f.number);
    let mut out = Vec::with_capacity(bytes.len());
    for field in fields {
        put_varint(&mut out, field.number << 3 | u64::from(field.wire_type));
        if field.wire_type == 2 {
            put_varint(&mut out, field.value.len() as u64);
        }
        out.extend_from_slice(&field.value);
    }
    Some(out)
}

struct WireField {
    number: u64,
    wire_type: u8,
    /// Raw value bytes (the varint bytes, the fixed bytes, or the payload without length).
    value: Vec<u8>,
}

fn parse_fields(mut data: &[u8]) -> Option<Vec<WireField>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (key, rest) = get_varint(data)?;
        let (number, wire_type) = (key >> 3, (key & 7) as u8);
        if number == 0 {
            return None;
        }
        let (value, rest) = match wire_type {
            0 => {
                let (_, after) = get_varint(rest)?;
                (&rest[..rest.len() - after.len()], after)
            }
            1 => (rest.get(..8)?, &rest[8..]),
            5 => (rest.get(..4)?, &rest[4..]),
            2 => {
                let (len, after) = get_varint(rest)?;
                let len = usize::try_from(len).ok()?;
                (after.get(..len)?, &after[len..])
            }
            _ => return None,
        };
        out.push(WireField {
            number,
            wire_type,
            value: value.to_vec(),
        });
        data = rest;
    }
    Some(out)
}

fn get_varint(data: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, byte) in data.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, &data[i + 1..]));
        }
    }
    None
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}
