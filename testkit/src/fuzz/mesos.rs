//! Mesos wire targets (`proto` crate): RecordIO framing with the event-stream decoder
//! (`mesos_recordio`), and the scheduler and executor `Call`/`Event` messages decoded from
//! protobuf (`mesos_protobuf`) and from Mesos's JSON form (`mesos_json`).
//!
//! Input of `mesos_recordio`: a flags byte (bits 0-2 pick the record limit, bits 3-7 the
//! chunk size 1..=32), then the stream. Input of the message targets: a flags byte (bits
//! 0-1 pick the type: scheduler Call, scheduler Event, executor Call, executor Event), then
//! the body.

use bytes::Bytes;
use prost_reflect::{DynamicMessage, Value};
use proto::recordio::{self, Decoder, RecordIoError};
use proto::stream::{Codec, EventDecoder};
use proto::{Message, Name, executor, json, scheduler};

use super::split_first;

/// Record limits the flags choose from: small ones reach `TooLarge` with short inputs.
const LIMITS: [usize; 8] = [
    0,
    1,
    16,
    255,
    4096,
    65_536,
    1 << 20,
    recordio::DEFAULT_MAX_RECORD,
];

/// Header digits of the longest length (`u64::MAX`) plus the `\n`.
const MAX_HEADER: usize = 21;

/// `mesos_recordio`. Checks: chunked decoding gives the records `decode_all` gives (or
/// fails as it does); an error repeats on every later call; while waiting for input the
/// decoder holds at most one record and one header; a stream that decodes re-encodes to
/// the same bytes; every record that decodes as an event re-encodes and decodes equal, in
/// both codecs.
pub fn recordio(data: &[u8]) {
    let (flags, stream) = split_first(data);
    let max = LIMITS[usize::from(flags & 7)];
    let chunk = usize::from(flags >> 3) + 1;
    let whole = recordio::decode_all(stream, max);
    let (records, error) = chunked(stream, max, chunk);
    match &whole {
        Ok(all) => {
            assert_eq!(
                error, None,
                "chunked decoding failed where decode_all did not"
            );
            assert_eq!(&records, all, "chunking changed the records");
            let mut again = Vec::new();
            for r in all {
                recordio::encode_into(r, &mut again);
            }
            assert_eq!(
                again, stream,
                "a decoded stream does not re-encode to its bytes"
            );
        }
        Err(e) => {
            // Truncation is only known at the end; any other error must show in both.
            if !matches!(e, RecordIoError::Truncated { .. }) {
                let same = error.as_ref().map(std::mem::discriminant);
                assert_eq!(same, Some(std::mem::discriminant(e)), "chunked: {error:?}");
            }
        }
    }
    for record in &records {
        event_round_trip::<scheduler::Event>(record);
        event_round_trip::<executor::Event>(record);
    }
    events::<scheduler::Event>(stream, max, chunk);
    events::<executor::Event>(stream, max, chunk);
}

/// Decodes `stream` fed in `chunk`-byte pieces: the records up to the first error, and it.
fn chunked(stream: &[u8], max: usize, chunk: usize) -> (Vec<Bytes>, Option<RecordIoError>) {
    let mut decoder = Decoder::new(max);
    let mut records = Vec::new();
    for part in stream.chunks(chunk) {
        decoder.feed(part);
        loop {
            match decoder.decode() {
                Ok(Some(r)) => records.push(r),
                Ok(None) => {
                    let held = decoder.buffered();
                    assert!(held <= max.saturating_add(MAX_HEADER), "holds {held} bytes");
                    break;
                }
                Err(e) => {
                    assert_eq!(decoder.decode(), Err(e.clone()), "the error did not repeat");
                    assert_eq!(decoder.finish(), Err(e.clone()), "finish forgot the error");
                    return (records, Some(e));
                }
            }
        }
    }
    let error = decoder.finish().err();
    (records, error)
}

/// A record that decodes as `E` in either codec must survive encode → decode in both.
fn event_round_trip<E: Message + Name + Default>(record: &[u8]) {
    for codec in [Codec::Protobuf, Codec::Json] {
        if let Ok(event) = codec.decode::<E>(record) {
            same_through_codecs(&event);
        }
    }
}

/// `message` encoded in each codec decodes to the same protobuf bytes (NaNs compared as
/// NaN: JSON writes any NaN as `"NaN"`, so its payload bits are not kept, nor meaningful).
fn same_through_codecs<M: Message + Name + Default>(message: &M) {
    let bytes = canonical_nans::<M>(&message.encode_to_vec());
    for codec in [Codec::Protobuf, Codec::Json] {
        let body = codec
            .encode(message)
            .unwrap_or_else(|e| panic!("{codec:?} cannot encode {}: {e}", M::full_name()));
        let back: M = codec.decode(&body).unwrap_or_else(|e| {
            let text = String::from_utf8_lossy(&body);
            panic!(
                "{codec:?} does not decode its own {}: {e}: {text}",
                M::full_name()
            )
        });
        let back = canonical_nans::<M>(&back.encode_to_vec());
        assert_eq!(back, bytes, "{codec:?} changed a {}", M::full_name());
    }
}

/// The protobuf bytes of an `M` with every float NaN replaced by the canonical one.
fn canonical_nans<M: Name>(bytes: &[u8]) -> Vec<u8> {
    let pool = json::descriptor_pool().unwrap_or_else(|e| panic!("descriptors: {e}"));
    let name = M::full_name();
    let desc = pool
        .get_message_by_name(&name)
        .unwrap_or_else(|| panic!("no descriptor of {name}"));
    let mut dynamic = DynamicMessage::decode(desc, bytes)
        .unwrap_or_else(|e| panic!("{name} bytes of prost do not decode dynamically: {e}"));
    canonical_message(&mut dynamic);
    dynamic.encode_to_vec()
}

fn canonical_message(message: &mut DynamicMessage) {
    for (_, value) in message.fields_mut() {
        canonical_value(value);
    }
}

fn canonical_value(value: &mut Value) {
    match value {
        Value::F64(v) if v.is_nan() => *v = f64::NAN,
        Value::F32(v) if v.is_nan() => *v = f32::NAN,
        Value::Message(m) => canonical_message(m),
        Value::List(list) => list.iter_mut().for_each(canonical_value),
        Value::Map(map) => map.values_mut().for_each(canonical_value),
        _ => {}
    }
}

/// The sans-IO event-stream decoder over the same stream, in both codecs: it must stop at
/// a framing error and otherwise hand out exactly the records that decode.
fn events<E: Message + Name + Default>(stream: &[u8], max: usize, chunk: usize) {
    for codec in [Codec::Protobuf, Codec::Json] {
        let mut decoder = EventDecoder::<E>::new(codec, max);
        'feed: for part in stream.chunks(chunk) {
            decoder.feed(part);
            loop {
                match decoder.next_event() {
                    Ok(Some(_)) | Err(proto::stream::StreamError::Event { .. }) => {}
                    Ok(None) => break,
                    Err(proto::stream::StreamError::Framing(_)) => break 'feed,
                }
            }
        }
        let _ = decoder.finish();
    }
}

/// `mesos_protobuf`. Checks: a message that decodes re-encodes canonically (decode of the
/// encoding encodes to the same bytes), and its JSON form decodes back to the same message.
pub fn protobuf(data: &[u8]) {
    let (flags, body) = split_first(data);
    match flags & 3 {
        0 => protobuf_one::<scheduler::Call>(body),
        1 => protobuf_one::<scheduler::Event>(body),
        2 => protobuf_one::<executor::Call>(body),
        _ => protobuf_one::<executor::Event>(body),
    }
}

fn protobuf_one<M: Message + Name + Default>(body: &[u8]) {
    let Ok(message) = M::decode(body) else {
        return;
    };
    let bytes = message.encode_to_vec();
    let again = M::decode(bytes.as_slice())
        .unwrap_or_else(|e| panic!("own {} encoding fails: {e}", M::full_name()));
    assert_eq!(
        again.encode_to_vec(),
        bytes,
        "re-encoding a {} changed it",
        M::full_name()
    );
    same_through_codecs(&message);
}

/// `mesos_json`. Checks: a message that decodes from JSON writes JSON that decodes to the
/// same message, and survives protobuf too.
pub fn json(data: &[u8]) {
    let (flags, body) = split_first(data);
    match flags & 3 {
        0 => json_one::<scheduler::Call>(body),
        1 => json_one::<scheduler::Event>(body),
        2 => json_one::<executor::Call>(body),
        _ => json_one::<executor::Event>(body),
    }
}

fn json_one<M: Message + Name + Default>(body: &[u8]) {
    if let Ok(message) = json::from_json::<M>(body) {
        same_through_codecs(&message);
    }
}
