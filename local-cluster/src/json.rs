//! JSON bodies and streams (spec §1.2): protobuf JSON with the .proto field names, enum
//! names and base64 bytes, as a real master writes them (`2-json-stream.decoded.txt`).
//! Transcoded through the `proto` crate's descriptor set, so no message is hand-mapped.

use std::sync::OnceLock;

use prost::Message;
use prost_reflect::{DescriptorPool, DeserializeOptions, DynamicMessage, SerializeOptions};

fn pool() -> Option<&'static DescriptorPool> {
    static POOL: OnceLock<Option<DescriptorPool>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(proto::FILE_DESCRIPTOR_SET).ok())
        .as_ref()
}

/// Parses a JSON body into the protobuf bytes of message `full_name`. The error texts follow
/// the recorded one for an empty body ("Failed to parse body into JSON: ...").
pub fn to_protobuf(full_name: &str, body: &[u8]) -> Result<Vec<u8>, String> {
    let desc = pool()
        .and_then(|p| p.get_message_by_name(full_name))
        .ok_or_else(|| format!("Unknown message type {full_name}"))?;
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        let near = String::from_utf8_lossy(body)
            .chars()
            .take(32)
            .collect::<String>();
        let _ = e;
        format!("Failed to parse body into JSON: syntax error at line 1 near: {near}")
    })?;
    let options = DeserializeOptions::new().deny_unknown_fields(false);
    let msg = DynamicMessage::deserialize_with_options(desc, value, &options)
        .map_err(|e| format!("Failed to convert JSON into Call protobuf: {e}"))?;
    Ok(msg.encode_to_vec())
}

/// Renders the protobuf bytes of message `full_name` as compact JSON. Bytes that do not
/// decode (never produced by this crate) render as `{}`.
pub fn to_json(full_name: &str, bytes: &[u8]) -> Vec<u8> {
    let Some(desc) = pool().and_then(|p| p.get_message_by_name(full_name)) else {
        return b"{}".to_vec();
    };
    let Ok(msg) = DynamicMessage::decode(desc, bytes) else {
        return b"{}".to_vec();
    };
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .stringify_64_bit_integers(false);
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::new(&mut out);
    match msg.serialize_with_options(&mut ser, &options) {
        Ok(()) => out,
        Err(_) => b"{}".to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_renders_as_recorded() {
        let hb = crate::pb::sched::Event {
            r#type: Some(8),
            ..Default::default()
        };
        assert_eq!(
            to_json("mesos.v1.scheduler.Event", &hb.encode_to_vec()),
            br#"{"type":"HEARTBEAT"}"#.to_vec()
        );
    }

    #[test]
    fn recorded_json_decline_parses() {
        let body = br#"{"type": "DECLINE", "framework_id": {"value": "f-0006"}, "decline": {"offer_ids": [{"value": "f-O6"}], "filters": {"refuse_seconds": 5.0}}}"#;
        let bytes = to_protobuf("mesos.v1.scheduler.Call", body).expect("parses");
        let call = crate::pb::sched::Call::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(call.r#type, Some(4));
        assert_eq!(
            call.decline
                .and_then(|d| d.filters)
                .and_then(|f| f.refuse_seconds),
            Some(5.0)
        );
    }

    #[test]
    fn empty_body_error_text_is_recorded_one() {
        assert_eq!(
            to_protobuf("mesos.v1.scheduler.Call", b"").unwrap_err(),
            "Failed to parse body into JSON: syntax error at line 1 near: "
        );
    }
}
