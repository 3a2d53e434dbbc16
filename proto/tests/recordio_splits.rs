//! RecordIO decoding must not depend on where the transport cuts the bytes (STYLE habit 4):
//! the same stream is fed whole, cut at every offset, cut at every pair of offsets and
//! byte by byte, and always gives the same records.

use proto::recordio::{self, Decoder, RecordIoError};

fn records() -> Vec<Vec<u8>> {
    vec![
        vec![0x08, 0x08],
        br#"{"type":"HEARTBEAT"}"#.to_vec(),
        Vec::new(),
        (0..=255u8).cycle().take(1234).collect(),
        b"\n\n12\n".to_vec(),
        vec![b'7'; 10],
    ]
}

fn stream() -> Vec<u8> {
    let mut out = Vec::new();
    for record in records() {
        recordio::encode_into(&record, &mut out);
    }
    out
}

/// Feeds `parts` in order, draining after each, and checks the result and a clean end.
fn decode_parts(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut decoder = Decoder::new(4096);
    let mut got = Vec::new();
    for part in parts {
        decoder.feed(part);
        while let Some(record) = decoder.decode().expect("valid stream") {
            got.push(record.to_vec());
        }
    }
    decoder.finish().expect("stream ends on a record boundary");
    got
}

#[test]
fn whole_stream() {
    assert_eq!(decode_parts(&[&stream()]), records());
}

#[test]
fn split_at_every_offset() {
    let data = stream();
    for cut in 0..=data.len() {
        let (a, b) = data.split_at(cut);
        assert_eq!(decode_parts(&[a, b]), records(), "cut at {cut}");
    }
}

#[test]
fn split_at_every_pair_of_offsets() {
    // The long record is left out to keep the quadratic loop small; cuts still fall on
    // every header and data byte of each other record.
    let wanted: Vec<Vec<u8>> = records().into_iter().filter(|r| r.len() < 100).collect();
    let mut data = Vec::new();
    for record in &wanted {
        recordio::encode_into(record, &mut data);
    }
    for i in 0..=data.len() {
        for j in i..=data.len() {
            let parts = [&data[..i], &data[i..j], &data[j..]];
            assert_eq!(decode_parts(&parts), wanted, "cuts at {i} and {j}");
        }
    }
}

#[test]
fn byte_by_byte() {
    let data = stream();
    let parts: Vec<&[u8]> = data.chunks(1).collect();
    assert_eq!(decode_parts(&parts), records());
}

#[test]
fn incomplete_is_not_an_error_at_any_cut() {
    let data = stream();
    for cut in 0..data.len() {
        let mut decoder = Decoder::new(4096);
        decoder.feed(&data[..cut]);
        while decoder
            .decode()
            .expect("prefix of a valid stream")
            .is_some()
        {}
    }
}

#[test]
fn oversized_record_is_refused_before_its_body_arrives() {
    let mut decoder = Decoder::new(1000);
    decoder.feed(b"2\n\x08\x08100");
    assert_eq!(decoder.decode().unwrap().as_deref(), Some(&[8u8, 8][..]));
    assert_eq!(decoder.decode(), Ok(None));
    decoder.feed(b"1");
    assert_eq!(
        decoder.decode(),
        Err(RecordIoError::TooLarge {
            len: 1001,
            max: 1000
        })
    );
}

#[test]
fn bad_header_after_good_records_at_every_cut() {
    let mut data = stream();
    data.extend_from_slice(b"12a\n");
    for cut in 0..=data.len() {
        let mut decoder = Decoder::new(4096);
        let mut count = 0;
        let mut error = None;
        for part in [&data[..cut], &data[cut..]] {
            decoder.feed(part);
            loop {
                match decoder.decode() {
                    Ok(Some(_)) => count += 1,
                    Ok(None) => break,
                    Err(err) => {
                        error = Some(err);
                        break;
                    }
                }
            }
        }
        assert_eq!(count, records().len(), "cut at {cut}");
        assert_eq!(
            error,
            Some(RecordIoError::NonDigit {
                byte: b'a',
                offset: 2
            }),
            "cut at {cut}"
        );
    }
}

#[test]
fn spec_heartbeat_records() {
    use proto::Message;
    let heartbeat = proto::scheduler::Event {
        r#type: Some(proto::scheduler::event::Type::Heartbeat as i32),
        ..Default::default()
    };
    assert_eq!(
        recordio::encode_message(&heartbeat),
        [0x32, 0x0a, 0x08, 0x08]
    );
    assert_eq!(heartbeat.encode_to_vec(), [0x08, 0x08]);
    assert_eq!(
        recordio::encode(br#"{"type":"HEARTBEAT"}"#),
        b"20\n{\"type\":\"HEARTBEAT\"}"
    );
}
