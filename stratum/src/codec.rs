//! Newline-delimited framing with a maximum line length (spec Part A.1 "Transport": one JSON
//! object per line, terminated by `\n`).
//!
//! [`LineCodec`] is incremental: feed bytes split anywhere, take complete lines. A line
//! longer than the limit yields one [`CodecError::LineTooLong`] as soon as the limit is
//! passed (so memory stays bounded), and the codec then discards bytes up to the next `\n`
//! and carries on. `\r\n` endings are accepted, blank lines are skipped, and a line that is
//! not UTF-8 yields [`CodecError::InvalidUtf8`] without affecting the next one.

use std::collections::VecDeque;

/// The default maximum line length in bytes (without the line ending). A notify with a
/// 32-entry branch and a large coinbase stays well below it.
pub const DEFAULT_MAX_LINE: usize = 16 * 1024;

/// A line could not be taken from the stream. The codec has recovered when it returns one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The line exceeded the limit; its bytes up to the next `\n` are dropped.
    #[error("line longer than {limit} bytes")]
    LineTooLong {
        /// The configured maximum.
        limit: usize,
    },
    /// The line is not valid UTF-8.
    #[error("line is not valid UTF-8")]
    InvalidUtf8,
}

/// Incremental splitter of a byte stream into bounded lines.
#[derive(Debug, Clone)]
pub struct LineCodec {
    max_line: usize,
    partial: Vec<u8>,
    discarding: bool,
    ready: VecDeque<Result<String, CodecError>>,
}

impl Default for LineCodec {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_LINE)
    }
}

impl LineCodec {
    /// A codec accepting lines of at most `max_line` bytes (excluding `\r\n`; minimum 1).
    pub fn new(max_line: usize) -> Self {
        Self {
            max_line: max_line.max(1),
            partial: Vec::new(),
            discarding: false,
            ready: VecDeque::new(),
        }
    }

    /// The configured maximum line length.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// Bytes held for an unfinished line (never more than `max_line + 1`).
    pub fn buffered(&self) -> usize {
        self.partial.len()
    }

    /// Feeds received bytes; complete lines become available from [`next_line`](Self::next_line).
    pub fn feed(&mut self, mut data: &[u8]) {
        while let Some(pos) = data.iter().position(|&b| b == b'\n') {
            self.append(&data[..pos]);
            self.finish_line();
            data = &data[pos + 1..];
        }
        self.append(data);
    }

    /// The next complete line (without its ending), or an error for a bad line; `None` when
    /// no complete line is buffered.
    pub fn next_line(&mut self) -> Option<Result<String, CodecError>> {
        self.ready.pop_front()
    }

    fn append(&mut self, chunk: &[u8]) {
        if self.discarding || chunk.is_empty() {
            return;
        }
        // One extra byte of room for a `\r` that belongs to the line ending.
        if self.partial.len() + chunk.len() > self.max_line + 1 {
            self.too_long();
            return;
        }
        self.partial.extend_from_slice(chunk);
    }

    fn too_long(&mut self) {
        self.partial.clear();
        self.discarding = true;
        self.ready.push_back(Err(CodecError::LineTooLong {
            limit: self.max_line,
        }));
    }

    fn finish_line(&mut self) {
        if std::mem::take(&mut self.discarding) {
            return;
        }
        let mut line = std::mem::take(&mut self.partial);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.len() > self.max_line {
            self.too_long();
            self.discarding = false;
            return;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let item = String::from_utf8(line).map_err(|_| CodecError::InvalidUtf8);
        self.ready.push_back(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(c: &mut LineCodec) -> Vec<Result<String, CodecError>> {
        std::iter::from_fn(|| c.next_line()).collect()
    }

    fn stream() -> (Vec<u8>, Vec<Result<String, CodecError>>) {
        let long = "x".repeat(40);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"{\"id\":1}\n\r\n\n");
        bytes.extend_from_slice(b"crlf line\r\n");
        bytes.extend_from_slice(long.as_bytes());
        bytes.extend_from_slice(b"\nafter long\n");
        bytes.extend_from_slice(b"bad \xff\xfe utf8\n   \n");
        bytes.extend_from_slice(b"exactly-32-bytes-long-line-ok-!!\r\n");
        bytes.extend_from_slice(b"unterminated");
        let expected = vec![
            Ok("{\"id\":1}".to_owned()),
            Ok("crlf line".to_owned()),
            Err(CodecError::LineTooLong { limit: 32 }),
            Ok("after long".to_owned()),
            Err(CodecError::InvalidUtf8),
            Ok("exactly-32-bytes-long-line-ok-!!".to_owned()),
        ];
        (bytes, expected)
    }

    #[test]
    fn every_split_point_gives_the_same_lines() {
        let (bytes, expected) = stream();
        for cut in 0..=bytes.len() {
            let mut c = LineCodec::new(32);
            c.feed(&bytes[..cut]);
            let mut got = drain(&mut c);
            c.feed(&bytes[cut..]);
            got.extend(drain(&mut c));
            assert_eq!(got, expected, "cut at {cut}");
            assert_eq!(c.buffered(), "unterminated".len());
        }
    }

    #[test]
    fn byte_by_byte_and_two_cuts() {
        let (bytes, expected) = stream();
        let mut c = LineCodec::new(32);
        let mut got = Vec::new();
        for b in &bytes {
            c.feed(std::slice::from_ref(b));
            got.extend(drain(&mut c));
            assert!(c.buffered() <= 33);
        }
        assert_eq!(got, expected);
        for a in (0..bytes.len()).step_by(3) {
            for b in a..=bytes.len() {
                let mut c = LineCodec::new(32);
                c.feed(&bytes[..a]);
                c.feed(&bytes[a..b]);
                c.feed(&bytes[b..]);
                assert_eq!(drain(&mut c), expected, "cuts {a} {b}");
            }
        }
    }

    #[test]
    fn over_long_line_reported_before_its_newline() {
        let mut c = LineCodec::new(8);
        c.feed(b"1234567890");
        assert_eq!(
            drain(&mut c),
            vec![Err(CodecError::LineTooLong { limit: 8 })]
        );
        c.feed(&[b'z'; 10_000]);
        assert_eq!(drain(&mut c), vec![]);
        assert_eq!(c.buffered(), 0);
        c.feed(b"zz\nok\n");
        assert_eq!(drain(&mut c), vec![Ok("ok".to_owned())]);
        // 8 bytes + \r is fine; 9 bytes + \r is not.
        c.feed(b"12345678\r\n123456789\r\n");
        assert_eq!(
            drain(&mut c),
            vec![
                Ok("12345678".to_owned()),
                Err(CodecError::LineTooLong { limit: 8 })
            ]
        );
    }
}
