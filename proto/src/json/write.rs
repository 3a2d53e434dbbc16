//! Writes a message as Mesos writes JSON (stout `jsonify` of a protobuf): fields in the
//! order the .proto declares them (not by number: `Offer.url`, field 8, comes right after
//! `hostname`, field 4), only fields that are set, enums by name, bytes as standard base64,
//! doubles in their shortest form with a `.0` for whole numbers. The recordings of a real
//! master are reproduced byte for byte by this (tests/json.rs).

use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MapKey, ReflectMessage, Value};
use std::fmt::Write;

/// Appends the JSON object of `message` to `out`.
pub(super) fn message(message: &DynamicMessage, out: &mut String) {
    out.push('{');
    let mut first = true;
    let desc = message.descriptor();
    // `fields()` runs by number; the DescriptorProto keeps the declaration order.
    let declared = desc
        .descriptor_proto()
        .field
        .iter()
        .filter_map(|f| f.number.and_then(|n| u32::try_from(n).ok()));
    for field in declared.filter_map(|n| desc.get_field(n)) {
        if !message.has_field(&field) {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        string(field.name(), out);
        out.push(':');
        field_value(&field, &message.get_field(&field), out);
    }
    out.push('}');
}

fn field_value(field: &FieldDescriptor, value: &Value, out: &mut String) {
    match value {
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                single(&field.kind(), item, out);
            }
            out.push(']');
        }
        Value::Map(map) => {
            let value_kind = match field.kind() {
                Kind::Message(entry) => entry.map_entry_value_field().kind(),
                other => other,
            };
            // Sorted keys: a deterministic document (Mesos's own order is its hash order).
            let mut entries: Vec<(String, &Value)> =
                map.iter().map(|(k, v)| (map_key(k), v)).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(&key, out);
                out.push(':');
                single(&value_kind, item, out);
            }
            out.push('}');
        }
        other => single(&field.kind(), other, out),
    }
}

fn single(kind: &Kind, value: &Value, out: &mut String) {
    match value {
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::I32(n) => push_display(out, n),
        Value::I64(n) => push_display(out, n),
        Value::U32(n) => push_display(out, n),
        Value::U64(n) => push_display(out, n),
        Value::F32(x) => double(f64::from(*x), out),
        Value::F64(x) => double(*x, out),
        Value::String(s) => string(s, out),
        Value::Bytes(b) => {
            out.push('"');
            base64(b, out);
            out.push('"');
        }
        Value::EnumNumber(n) => match kind.as_enum().and_then(|e| e.get_value(*n)) {
            Some(v) => string(v.name(), out),
            None => push_display(out, n),
        },
        Value::Message(m) => message(m, out),
        // Lists and maps only occur as whole fields, handled in `field_value`.
        Value::List(_) | Value::Map(_) => out.push_str("null"),
    }
}

fn push_display(out: &mut String, value: impl std::fmt::Display) {
    let _ = write!(out, "{value}");
}

/// Shortest round-trip form, `.0` on whole numbers (as Mesos prints `15.0`, `23081.0`);
/// the non-finite values as the strings protobuf JSON uses for them.
fn double(x: f64, out: &mut String) {
    if x.is_nan() {
        out.push_str("\"NaN\"");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        });
    } else {
        // serde_json prints f64 with ryu: shortest digits, `15.0` for whole numbers.
        out.push_str(&serde_json::Value::from(x).to_string());
    }
}

fn string(s: &str, out: &mut String) {
    out.push_str(&serde_json::Value::from(s).to_string());
}

fn map_key(key: &MapKey) -> String {
    match key {
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
        MapKey::String(s) => s.clone(),
    }
}

/// Standard base64 with padding (RFC 4648 §4), as protobuf JSON and Mesos write `bytes`.
fn base64(data: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, want) in cases {
            let mut out = String::new();
            super::base64(input.as_bytes(), &mut out);
            assert_eq!(out, want);
        }
    }

    #[test]
    fn doubles_print_like_mesos() {
        for (x, want) in [
            (15.0, "15.0"),
            (0.1, "0.1"),
            (23081.0, "23081.0"),
            (f64::INFINITY, "\"Infinity\""),
            (-0.5, "-0.5"),
        ] {
            let mut out = String::new();
            super::double(x, &mut out);
            assert_eq!(out, want);
        }
    }
}
