//! RecordIO framing of the Mesos v1 event streams (spec §1.3).
//!
//! A record is `<length as ASCII decimal digits> 0x0A <exactly length bytes>`; the next
//! record's digits follow the last data byte directly. HTTP chunk boundaries mean nothing,
//! so the [`Decoder`] buffers across any split of the input. A record larger than the
//! decoder's maximum, or a header that is not plain digits, is a typed [`RecordIoError`];
//! "not enough bytes yet" is the normal `Ok(None)`. After an error the stream cannot be
//! resynchronised, so the decoder keeps answering the same error.

use bytes::{Buf, Bytes, BytesMut};

/// A sane default cap for one record (spec §1.3 suggests 64 MiB).
pub const DEFAULT_MAX_RECORD: usize = 64 * 1024 * 1024;

/// Decimal digits of `u64::MAX`: a longer length cannot be a record size at all.
const MAX_DIGITS: usize = 20;

/// Why a RecordIO stream cannot be decoded further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordIoError {
    /// A header byte other than an ASCII digit or the terminating `\n`
    /// (signs, spaces, `\r`, junk before the digits).
    #[error("RecordIO header byte {byte:#04x} at header offset {offset} is not an ASCII digit")]
    NonDigit {
        /// The offending byte.
        byte: u8,
        /// Its position within the header (0 = first byte of the length).
        offset: usize,
    },
    /// A `\n` with no digits before it.
    #[error("RecordIO header has no length digits")]
    EmptyLength,
    /// `0` followed by more digits: Mesos never pads lengths (spec §1.3).
    #[error("RecordIO length has a leading zero")]
    LeadingZero,
    /// More digits than any 64-bit length can have.
    #[error("RecordIO length has more than {MAX_DIGITS} digits")]
    TooManyDigits,
    /// The announced length exceeds the decoder's maximum (reported as soon as the digits
    /// read so far exceed it, before any allocation).
    #[error("RecordIO record of at least {len} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// The length read so far (a lower bound of the announced one).
        len: u64,
        /// The decoder's maximum record size.
        max: usize,
    },
    /// The stream ended inside a header or a record (from [`Decoder::finish`]).
    #[error("RecordIO stream ended inside a record ({buffered} bytes pending)")]
    Truncated {
        /// Bytes of the unfinished header or record.
        buffered: usize,
    },
}

/// Appends one record (`<len>\n<data>`) to `out`.
pub fn encode_into(data: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(data.len().to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(data);
}

/// One record as a new buffer.
pub fn encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 12);
    encode_into(data, &mut out);
    out
}

/// One protobuf message as a RecordIO record.
pub fn encode_message(message: &impl prost::Message) -> Vec<u8> {
    encode(&message.encode_to_vec())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading digits: how many so far, and their value.
    Header { digits: usize, value: u64 },
    /// Waiting for `len` data bytes.
    Body { len: usize },
}

const FRESH_HEADER: State = State::Header {
    digits: 0,
    value: 0,
};

/// Incremental RecordIO decoder: [`feed`](Decoder::feed) bytes as they arrive, then call
/// [`decode`](Decoder::decode) until it returns `Ok(None)`.
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    state: State,
    max_record: usize,
    failed: Option<RecordIoError>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_RECORD)
    }
}

impl Decoder {
    /// A decoder that refuses records longer than `max_record` bytes.
    pub fn new(max_record: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            state: FRESH_HEADER,
            max_record,
            failed: None,
        }
    }

    /// Buffers more input. Nothing is parsed until [`decode`](Decoder::decode).
    pub fn feed(&mut self, data: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(data);
        }
    }

    /// The next complete record, `Ok(None)` if more input is needed.
    pub fn decode(&mut self) -> Result<Option<Bytes>, RecordIoError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        match self.step() {
            Ok(record) => Ok(record),
            Err(err) => {
                self.failed = Some(err.clone());
                self.buf.clear();
                Err(err)
            }
        }
    }

    fn step(&mut self) -> Result<Option<Bytes>, RecordIoError> {
        if let State::Header { .. } = self.state
            && !self.read_header()?
        {
            return Ok(None);
        }
        let State::Body { len } = self.state else {
            return Ok(None);
        };
        if self.buf.len() < len {
            return Ok(None);
        }
        self.state = FRESH_HEADER;
        Ok(Some(self.buf.split_to(len).freeze()))
    }

    /// Consumes header bytes; true once the `\n` is reached and the state is `Body`.
    fn read_header(&mut self) -> Result<bool, RecordIoError> {
        let State::Header {
            mut digits,
            mut value,
        } = self.state
        else {
            return Ok(true);
        };
        let mut consumed = 0;
        let mut done = false;
        for &byte in self.buf.iter() {
            consumed += 1;
            if byte == b'\n' {
                if digits == 0 {
                    return Err(RecordIoError::EmptyLength);
                }
                done = true;
                break;
            }
            if !byte.is_ascii_digit() {
                return Err(RecordIoError::NonDigit {
                    byte,
                    offset: digits,
                });
            }
            if digits == 1 && value == 0 {
                return Err(RecordIoError::LeadingZero);
            }
            digits += 1;
            if digits > MAX_DIGITS {
                return Err(RecordIoError::TooManyDigits);
            }
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(byte - b'0')))
                .ok_or(RecordIoError::TooLarge {
                    len: u64::MAX,
                    max: self.max_record,
                })?;
            if value > self.max_record as u64 {
                return Err(RecordIoError::TooLarge {
                    len: value,
                    max: self.max_record,
                });
            }
        }
        self.buf.advance(consumed);
        self.state = if done {
            // `value <= max_record`, a usize, so the conversion is lossless.
            State::Body {
                len: value as usize,
            }
        } else {
            State::Header { digits, value }
        };
        Ok(done)
    }

    /// Bytes received but not yet returned as a record (excluding parsed header digits).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Call at end of stream: an error if the stream stopped inside a header or a record.
    pub fn finish(&self) -> Result<(), RecordIoError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let mid_header = matches!(self.state, State::Header { digits, .. } if digits > 0);
        let mid_body = matches!(self.state, State::Body { .. });
        if mid_header || mid_body || !self.buf.is_empty() {
            return Err(RecordIoError::Truncated {
                buffered: self.buf.len(),
            });
        }
        Ok(())
    }
}

/// Decodes a complete RecordIO byte string (e.g. a whole recorded body) into its records.
pub fn decode_all(data: &[u8], max_record: usize) -> Result<Vec<Bytes>, RecordIoError> {
    let mut decoder = Decoder::new(max_record);
    decoder.feed(data);
    let mut records = Vec::new();
    while let Some(record) = decoder.decode()? {
        records.push(record);
    }
    decoder.finish()?;
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_error(input: &[u8], max: usize) -> RecordIoError {
        let mut decoder = Decoder::new(max);
        decoder.feed(input);
        loop {
            match decoder.decode() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("no error for {input:?}"),
                Err(err) => return err,
            }
        }
    }

    #[test]
    fn heartbeat_record_matches_the_spec_bytes() {
        assert_eq!(encode(&[0x08, 0x08]), [0x32, 0x0a, 0x08, 0x08]);
        assert_eq!(
            encode(br#"{"type":"HEARTBEAT"}"#),
            b"20\n{\"type\":\"HEARTBEAT\"}".to_vec()
        );
    }

    #[test]
    fn bad_headers_are_typed_errors() {
        use RecordIoError::*;
        let cases: &[(&[u8], RecordIoError)] = &[
            (b"\n", EmptyLength),
            (b"2\n\x08\x08\n", EmptyLength),
            (
                b"a\n",
                NonDigit {
                    byte: b'a',
                    offset: 0,
                },
            ),
            (
                b" 2\n",
                NonDigit {
                    byte: b' ',
                    offset: 0,
                },
            ),
            (
                b"+2\n",
                NonDigit {
                    byte: b'+',
                    offset: 0,
                },
            ),
            (
                b"-2\n",
                NonDigit {
                    byte: b'-',
                    offset: 0,
                },
            ),
            (
                b"2\r\n",
                NonDigit {
                    byte: b'\r',
                    offset: 1,
                },
            ),
            (
                b"12x",
                NonDigit {
                    byte: b'x',
                    offset: 2,
                },
            ),
            (b"007\n", LeadingZero),
            (b"101\n", TooLarge { len: 101, max: 100 }),
            (
                b"1000",
                TooLarge {
                    len: 1000,
                    max: 100,
                },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(&first_error(input, 100), want, "input {input:?}");
        }
        let mut long = vec![b'1'];
        long.extend_from_slice(&[b'0'; 20]);
        assert_eq!(first_error(&long, usize::MAX), TooManyDigits);
        let huge = b"99999999999999999999\n";
        assert!(matches!(first_error(huge, usize::MAX), TooLarge { .. }));
    }

    #[test]
    fn an_error_is_sticky() {
        let mut decoder = Decoder::new(10);
        decoder.feed(b"x");
        assert!(decoder.decode().is_err());
        decoder.feed(b"2\n\x08\x08");
        assert_eq!(
            decoder.decode(),
            Err(RecordIoError::NonDigit {
                byte: b'x',
                offset: 0
            })
        );
        assert!(decoder.finish().is_err());
    }

    #[test]
    fn zero_length_record_is_empty() {
        assert_eq!(
            decode_all(b"0\n2\nab", 10).unwrap(),
            vec![Bytes::new(), Bytes::from_static(b"ab")]
        );
    }

    #[test]
    fn finish_reports_truncation() {
        for input in [&b"1"[..], b"3\n", b"3\nab"] {
            let mut decoder = Decoder::new(10);
            decoder.feed(input);
            assert_eq!(decoder.decode(), Ok(None));
            assert!(
                matches!(decoder.finish(), Err(RecordIoError::Truncated { .. })),
                "{input:?}"
            );
        }
        assert_eq!(decode_all(b"", 10), Ok(vec![]));
    }
}
