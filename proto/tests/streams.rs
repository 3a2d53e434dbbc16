//! Whole recorded subscription bodies through `stream::EventDecoder`, cut at every byte:
//! the events come out complete and in the order the real master and agent sent them.

use crate::common;

use proto::recordio::DEFAULT_MAX_RECORD;
use proto::stream::{Codec, EventDecoder};
use proto::{executor, scheduler};

fn decode_cut<E: proto::Message + proto::Name + Default>(
    body: &[u8],
    codec: Codec,
    cut: usize,
) -> Vec<E> {
    let mut decoder = EventDecoder::<E>::new(codec, DEFAULT_MAX_RECORD);
    let mut events = Vec::new();
    for part in [&body[..cut], &body[cut..]] {
        decoder.feed(part);
        while let Some(event) = decoder.next_event().expect("recorded events decode") {
            events.push(event);
        }
    }
    decoder
        .finish()
        .expect("recorded body ends on a record boundary");
    events
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(common::transcripts_dir().join(name)).expect("recorded body")
}

#[test]
fn scheduler_streams_in_both_codecs_at_every_cut() {
    use scheduler::event::Type::{self, *};
    for (name, codec) in [
        ("1-proto-stream.body.bin", Codec::Protobuf),
        ("2-json-stream.body.bin", Codec::Json),
    ] {
        let body = read(name);
        let whole: Vec<scheduler::Event> = decode_cut(&body, codec, body.len());
        let types: Vec<Type> = whole.iter().map(|e| e.r#type()).collect();
        // README: an extra HEARTBEAT right after SUBSCRIBED, then OFFERS, then 15 s heartbeats.
        assert_eq!(
            types[..4],
            [Subscribed, Heartbeat, Offers, Heartbeat],
            "{name}"
        );
        for cut in 0..=body.len() {
            assert_eq!(
                decode_cut::<scheduler::Event>(&body, codec, cut),
                whole,
                "{name} cut at {cut}"
            );
        }
    }
}

#[test]
fn the_protobuf_stream_holds_every_kind_of_event_a_framework_sees() {
    use scheduler::event::Type;
    let body = read("1-proto-stream.body.bin");
    let events: Vec<scheduler::Event> = decode_cut(&body, Codec::Protobuf, 0);
    let kinds: std::collections::BTreeSet<i32> = events.iter().filter_map(|e| e.r#type).collect();
    for kind in [
        Type::Subscribed,
        Type::Heartbeat,
        Type::Offers,
        Type::Update,
        Type::Message,
        Type::Failure,
    ] {
        assert!(
            kinds.contains(&(kind as i32)),
            "no {kind:?} in the recorded stream"
        );
    }
    let acked = events
        .iter()
        .filter_map(|e| e.update.as_ref())
        .filter(|u| u.status.uuid.is_some());
    let fid = events[0]
        .subscribed
        .as_ref()
        .expect("SUBSCRIBED first")
        .framework_id
        .clone();
    for update in acked {
        let ack = proto::calls::scheduler::acknowledge_status(&fid, &update.status)
            .expect("ack for a uuid update");
        assert_eq!(ack.acknowledge.expect("ack").uuid.len(), 16);
    }
}

#[test]
fn executor_stream_at_every_cut() {
    use executor::event::Type::*;
    let body = read("5-executor-subscribe.body.bin");
    let whole: Vec<executor::Event> = decode_cut(&body, Codec::Protobuf, body.len());
    let types: Vec<_> = whole.iter().map(|e| e.r#type()).collect();
    assert_eq!(types[..2], [Subscribed, Launch]);
    assert!(types.contains(&Acknowledged) && types.contains(&Message));
    for cut in 0..=body.len() {
        assert_eq!(
            decode_cut::<executor::Event>(&body, Codec::Protobuf, cut),
            whole,
            "cut at {cut}"
        );
    }
}
