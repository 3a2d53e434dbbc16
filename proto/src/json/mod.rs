//! Mesos's JSON form of the same messages (spec §1.2): `.proto` field names (snake_case),
//! enum values by name, `bytes` as standard base64, 64-bit integers as plain numbers — what a
//! real master writes on a JSON subscription (recording `2-json-stream.body.bin`).
//!
//! Transcoded through the descriptor set of our own .proto files (prost-reflect), so no
//! message is mapped by hand. Input is untrusted: serde_json bounds nesting depth, and a
//! body that is not JSON or does not fit the message is an error, never a panic. Unknown
//! JSON fields and unknown enum names are skipped (the field stays unset), as prost skips
//! unknown protobuf fields: a newer Mesos may add both, and an unset `type` is "unknown".

mod write;

use prost_reflect::{DescriptorPool, DeserializeOptions, DynamicMessage, MessageDescriptor};
use std::sync::OnceLock;

/// Why a JSON body could not become a message, or a message JSON.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// The message type is not in our descriptor set (a build problem, not an input one).
    #[error("message type {0} is not in the descriptor set")]
    UnknownType(String),
    /// Not JSON, or JSON that does not fit the message (wrong types, unknown enum names).
    #[error("invalid JSON for {message}: {reason}")]
    Invalid {
        /// Full name of the message type.
        message: String,
        /// What the JSON parser or transcoder objected to.
        reason: String,
    },
    /// The transcoded bytes did not decode as the typed message.
    #[error("transcoding {message} failed: {reason}")]
    Transcode {
        /// Full name of the message type.
        message: String,
        /// The protobuf decoder's error.
        reason: String,
    },
}

/// The descriptor pool of our .proto files, decoded once.
pub fn descriptor_pool() -> Result<&'static DescriptorPool, JsonError> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(crate::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| JsonError::UnknownType(format!("(descriptor set does not decode: {e})")))
}

fn descriptor<M: prost::Name>() -> Result<MessageDescriptor, JsonError> {
    let name = M::full_name();
    descriptor_pool()?
        .get_message_by_name(&name)
        .ok_or(JsonError::UnknownType(name))
}

/// Mesos's compact JSON for a message.
pub fn to_json<M: prost::Message + prost::Name>(message: &M) -> Result<Vec<u8>, JsonError> {
    let desc = descriptor::<M>()?;
    let transcode = |reason: String| JsonError::Transcode {
        message: desc.full_name().to_owned(),
        reason,
    };
    let dynamic = DynamicMessage::decode(desc.clone(), message.encode_to_vec().as_slice())
        .map_err(|e| transcode(e.to_string()))?;
    let mut out = String::new();
    write::message(&dynamic, &mut out);
    Ok(out.into_bytes())
}

/// A message from its JSON form (field names as in the .proto or lowerCamelCase).
pub fn from_json<M: prost::Message + prost::Name + Default>(json: &[u8]) -> Result<M, JsonError> {
    let desc = descriptor::<M>()?;
    let invalid = |reason: String| JsonError::Invalid {
        message: desc.full_name().to_owned(),
        reason,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let options = DeserializeOptions::new().deny_unknown_fields(false);
    let dynamic =
        DynamicMessage::deserialize_with_options(desc.clone(), &mut deserializer, &options)
            .map_err(|e| invalid(e.to_string()))?;
    deserializer.end().map_err(|e| invalid(e.to_string()))?;
    M::decode(prost::Message::encode_to_vec(&dynamic).as_slice()).map_err(|e| {
        JsonError::Transcode {
            message: desc.full_name().to_owned(),
            reason: e.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::{Event, event};

    #[test]
    fn heartbeat_is_the_spec_json() {
        let heartbeat = Event {
            r#type: Some(event::Type::Heartbeat as i32),
            ..Event::default()
        };
        assert_eq!(to_json(&heartbeat).unwrap(), br#"{"type":"HEARTBEAT"}"#);
        assert_eq!(
            from_json::<Event>(br#"{"type":"HEARTBEAT"}"#).unwrap(),
            heartbeat
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"type\":[]}",
            b"{\"type\":1.5}",
            b"{} x",
        ] {
            assert!(
                from_json::<Event>(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = "[".repeat(100_000);
        assert!(from_json::<Event>(deep.as_bytes()).is_err());
    }

    #[test]
    fn unknown_enum_names_leave_the_field_unset() {
        let event = from_json::<Event>(br#"{"type":"NO_SUCH_TYPE"}"#).unwrap();
        assert_eq!(event.r#type, None);
    }

    #[test]
    fn bytes_are_base64_and_unknown_fields_ignored() {
        let json = br#"{"type":"MESSAGE","message":{"agent_id":{"value":"a"},"executor_id":{"value":"e"},"data":"aGk="},"extra":1}"#;
        let event = from_json::<Event>(json).unwrap();
        assert_eq!(
            event.message.as_ref().map(|m| m.data.as_slice()),
            Some(&b"hi"[..])
        );
        let back = String::from_utf8(to_json(&event).unwrap()).unwrap();
        assert!(back.contains(r#""data":"aGk=""#), "{back}");
    }
}
