//! A subscription stream as the client sees it: RecordIO records, each one Event in the
//! negotiated codec (spec §1.2, §1.3). [`EventDecoder`] is sans-IO: the HTTP driver feeds
//! it body bytes as they arrive and takes out whole events. [`Codec`] also encodes calls.

use crate::json::{self, JsonError};
use crate::recordio::{self, RecordIoError};
use crate::wire::{CONTENT_TYPE_JSON, CONTENT_TYPE_PROTOBUF};
use std::marker::PhantomData;

/// The body encoding of calls and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// `application/x-protobuf` (what the scheduler and executor should use).
    Protobuf,
    /// `application/json` (Mesos's JSON form, see [`crate::json`]).
    Json,
}

/// Why a message could not be encoded or decoded in its codec.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The bytes are not a valid protobuf message of the expected type.
    #[error("protobuf does not decode: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// The JSON body does not transcode to or from the message type.
    #[error(transparent)]
    Json(#[from] JsonError),
}

impl Codec {
    /// The codec of an exact `Content-Type` value (Mesos compares it byte for byte).
    pub fn from_content_type(content_type: &str) -> Option<Codec> {
        match content_type {
            CONTENT_TYPE_PROTOBUF => Some(Codec::Protobuf),
            CONTENT_TYPE_JSON => Some(Codec::Json),
            _ => None,
        }
    }

    /// The `Content-Type` (and `Accept`) value for this codec.
    pub fn content_type(self) -> &'static str {
        match self {
            Codec::Protobuf => CONTENT_TYPE_PROTOBUF,
            Codec::Json => CONTENT_TYPE_JSON,
        }
    }

    /// A message as a body in this codec.
    pub fn encode<M: prost::Message + prost::Name>(
        self,
        message: &M,
    ) -> Result<Vec<u8>, CodecError> {
        match self {
            Codec::Protobuf => Ok(message.encode_to_vec()),
            Codec::Json => Ok(json::to_json(message)?),
        }
    }

    /// A body in this codec as a message.
    pub fn decode<M: prost::Message + prost::Name + Default>(
        self,
        body: &[u8],
    ) -> Result<M, CodecError> {
        match self {
            Codec::Protobuf => Ok(M::decode(body)?),
            Codec::Json => Ok(json::from_json(body)?),
        }
    }
}

/// Why the stream cannot go on, grouped by what the client does next.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The framing is broken: no later byte can be trusted; drop the connection and
    /// subscribe again.
    #[error(transparent)]
    Framing(#[from] RecordIoError),
    /// One record was framed correctly but is not an Event; the framing is intact, so the
    /// caller may skip it (and should log it) or treat the stream as broken.
    #[error("event record of {len} bytes: {source}")]
    Event {
        /// Size of the record.
        len: usize,
        /// Why it does not decode as an Event.
        source: CodecError,
    },
}

/// Decodes events of type `E` (scheduler or executor `Event`) from a subscription body.
#[derive(Debug)]
pub struct EventDecoder<E> {
    records: recordio::Decoder,
    codec: Codec,
    event: PhantomData<fn() -> E>,
}

impl<E: prost::Message + prost::Name + Default> EventDecoder<E> {
    /// A decoder for `codec` refusing records over `max_record` bytes.
    pub fn new(codec: Codec, max_record: usize) -> Self {
        Self {
            records: recordio::Decoder::new(max_record),
            codec,
            event: PhantomData,
        }
    }

    /// Buffers body bytes (any chunking).
    pub fn feed(&mut self, bytes: &[u8]) {
        self.records.feed(bytes);
    }

    /// The next whole event, `Ok(None)` until more bytes arrive.
    pub fn next_event(&mut self) -> Result<Option<E>, StreamError> {
        let Some(record) = self.records.decode()? else {
            return Ok(None);
        };
        self.codec
            .decode(&record)
            .map(Some)
            .map_err(|source| StreamError::Event {
                len: record.len(),
                source,
            })
    }

    /// At the end of the body: an error if it stopped inside a record.
    pub fn finish(&self) -> Result<(), StreamError> {
        Ok(self.records.finish()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::scheduler as ev;
    use crate::scheduler::{Event, event::Type};

    #[test]
    fn both_codecs_carry_the_same_events_across_any_cut() {
        let events = vec![
            ev::heartbeat(),
            ev::error("Framework failed over"),
            ev::message("a".into(), "e".into(), vec![0, 255]),
        ];
        for codec in [Codec::Protobuf, Codec::Json] {
            let mut body = Vec::new();
            for e in &events {
                recordio::encode_into(&codec.encode(e).unwrap(), &mut body);
            }
            for cut in 0..=body.len() {
                let mut decoder = EventDecoder::<Event>::new(codec, 1024);
                let mut got = Vec::new();
                for part in [&body[..cut], &body[cut..]] {
                    decoder.feed(part);
                    while let Some(e) = decoder.next_event().unwrap() {
                        got.push(e);
                    }
                }
                decoder.finish().unwrap();
                assert_eq!(got, events, "{codec:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn a_bad_record_is_an_event_error_and_the_stream_goes_on() {
        let mut decoder = EventDecoder::<Event>::new(Codec::Protobuf, 1024);
        decoder.feed(b"2\n\xff\xff2\n\x08\x08");
        assert!(matches!(
            decoder.next_event(),
            Err(StreamError::Event { len: 2, .. })
        ));
        assert_eq!(
            decoder.next_event().unwrap().map(|e| e.r#type()),
            Some(Type::Heartbeat)
        );
        decoder.feed(b"x");
        assert!(matches!(decoder.next_event(), Err(StreamError::Framing(_))));
    }

    #[test]
    fn content_types_are_exact() {
        assert_eq!(
            Codec::from_content_type("application/x-protobuf"),
            Some(Codec::Protobuf)
        );
        assert_eq!(
            Codec::from_content_type("application/json"),
            Some(Codec::Json)
        );
        assert_eq!(
            Codec::from_content_type("application/json; charset=utf-8"),
            None
        );
        assert_eq!(Codec::from_content_type("Application/X-Protobuf"), None);
    }
}
