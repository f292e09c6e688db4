//! OTLP values in Flightdeck's terms: `AnyValue` as JSON, attribute lists as an attribute
//! map, ids as lowercase hex, times as [`Timestamp`]s.
//!
//! Attribute values become the JSON they stand for: strings, numbers and booleans as such,
//! arrays and key-value lists as arrays and objects, bytes as base64 text (as in OTLP/JSON).

use flightdeck_model::{Attributes, Timestamp};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use serde_json::{Number, Value};

/// A trace id: 16 bytes.
pub type TraceId = [u8; 16];
/// A span id: 8 bytes.
pub type SpanId = [u8; 8];

/// The JSON form of an attribute value; `None` for an empty value. Takes the value, so its
/// strings (prompts, mostly) move instead of being copied.
pub fn into_json(v: AnyValue) -> Option<Value> {
    use any_value::Value as V;
    Some(match v.value? {
        V::StringValue(s) => Value::String(s),
        V::BoolValue(b) => Value::Bool(b),
        V::IntValue(i) => Value::Number(i.into()),
        V::DoubleValue(d) => Number::from_f64(d).map_or(Value::Null, Value::Number),
        V::ArrayValue(a) => Value::Array(
            a.values
                .into_iter()
                .map(|v| into_json(v).unwrap_or(Value::Null))
                .collect(),
        ),
        V::KvlistValue(kv) => Value::Object(into_attributes(kv.values)),
        V::BytesValue(b) => Value::String(base64(&b)),
        // Only meaningful inside profiles, which Flightdeck does not take.
        V::StringValueStrindex(_) => return None,
    })
}

/// The inverse of [`into_json`]: JSON as an attribute value (`null` as an empty value).
pub fn from_json(v: Value) -> AnyValue {
    use any_value::Value as V;
    let value = match v {
        Value::Null => None,
        Value::Bool(b) => Some(V::BoolValue(b)),
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => V::IntValue(i),
            None => V::DoubleValue(n.as_f64().unwrap_or_default()),
        }),
        Value::String(s) => Some(V::StringValue(s)),
        Value::Array(a) => Some(V::ArrayValue(
            opentelemetry_proto::tonic::common::v1::ArrayValue {
                values: a.into_iter().map(from_json).collect(),
            },
        )),
        Value::Object(o) => Some(V::KvlistValue(
            opentelemetry_proto::tonic::common::v1::KeyValueList {
                values: o.into_iter().map(|(key, v)| key_value(key, v)).collect(),
            },
        )),
    };
    AnyValue { value }
}

/// One attribute, its value given as JSON.
pub fn key_value(key: String, value: Value) -> KeyValue {
    KeyValue {
        key,
        value: Some(from_json(value)),
        ..Default::default()
    }
}

/// [`into_json`] of a borrowed value.
pub fn json(v: &AnyValue) -> Option<Value> {
    into_json(v.clone())
}

/// An attribute list as a map; empty values are left out and a repeated key keeps its last
/// value.
pub fn into_attributes(list: Vec<KeyValue>) -> Attributes {
    let mut map = Attributes::new();
    for kv in list {
        if let Some(v) = kv.value.and_then(into_json) {
            map.insert(kv.key, v);
        }
    }
    map
}

/// A borrowed attribute list as a map, each key behind `prefix`.
pub fn attributes(list: &[KeyValue], prefix: &str) -> Attributes {
    let mut map = Attributes::new();
    for kv in list {
        if let Some(v) = kv.value.as_ref().and_then(json) {
            map.insert(format!("{prefix}{}", kv.key), v);
        }
    }
    map
}

/// A trace id from its bytes, or why not.
pub fn trace_id(bytes: &[u8], field: &str) -> Result<TraceId, String> {
    let id: TraceId = bytes
        .try_into()
        .map_err(|_| wrong_length(field, 16, bytes))?;
    if id == [0; 16] {
        return Err(format!(
            "{field} is all zeros, which OTLP defines as invalid"
        ));
    }
    Ok(id)
}

/// A span id from its bytes, or why not.
pub fn span_id(bytes: &[u8], field: &str) -> Result<SpanId, String> {
    let id: SpanId = bytes
        .try_into()
        .map_err(|_| wrong_length(field, 8, bytes))?;
    if id == [0; 8] {
        return Err(format!(
            "{field} is all zeros, which OTLP defines as invalid"
        ));
    }
    Ok(id)
}

/// A parent span id: empty (or all zeros) for a root span.
pub fn parent_id(bytes: &[u8], field: &str) -> Result<Option<SpanId>, String> {
    if bytes.is_empty() || bytes.iter().all(|b| *b == 0) && bytes.len() == 8 {
        return Ok(None);
    }
    span_id(bytes, field).map(Some)
}

fn wrong_length(field: &str, want: usize, got: &[u8]) -> String {
    format!(
        "{field} must be {want} bytes ({} hex digits), got {} bytes",
        want * 2,
        got.len()
    )
}

/// Lowercase hex, as OTLP/JSON and W3C trace context write ids.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// A span id written as 16 hex digits (Logfire's `logfire.pending_parent_id`); `None` for the
/// zero id or anything else.
pub fn parse_span_hex(s: &str) -> Option<SpanId> {
    if s.len() != 16 {
        return None;
    }
    let mut id = [0u8; 8];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    (id != [0; 8]).then_some(id)
}

/// Unix nanoseconds as a timestamp; `None` for 0 (unset in OTLP) or out of range.
pub fn time(nanos: u64) -> Option<Timestamp> {
    (nanos != 0).then_some(())?;
    i64::try_from(nanos).ok().map(Timestamp)
}

pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use any_value::Value as V;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};

    fn any(v: V) -> AnyValue {
        AnyValue { value: Some(v) }
    }

    fn kv(key: &str, v: V) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(any(v)),
            ..Default::default()
        }
    }

    #[test]
    fn values_become_the_json_they_stand_for() {
        let nested = any(V::KvlistValue(KeyValueList {
            values: vec![
                kv("role", V::StringValue("user".into())),
                kv(
                    "parts",
                    V::ArrayValue(ArrayValue {
                        values: vec![any(V::IntValue(-3)), any(V::DoubleValue(0.5))],
                    }),
                ),
                kv("ok", V::BoolValue(true)),
            ],
        }));
        assert_eq!(
            json(&nested).unwrap(),
            serde_json::json!({"role": "user", "parts": [-3, 0.5], "ok": true})
        );
        assert_eq!(
            json(&any(V::BytesValue(b"hi!?".to_vec()))).unwrap(),
            "aGkhPw=="
        );
        assert_eq!(json(&AnyValue { value: None }), None);
    }

    #[test]
    fn attribute_lists_take_a_prefix_and_skip_empty_values() {
        let list = vec![
            kv("service.name", V::StringValue("crew".into())),
            KeyValue {
                key: "empty".into(),
                value: None,
                ..Default::default()
            },
        ];
        let map = attributes(&list, "resource.");
        assert_eq!(map.len(), 1);
        assert_eq!(map["resource.service.name"], "crew");
    }

    #[test]
    fn ids_are_checked_and_written_in_hex() {
        assert_eq!(hex(&[0x0a, 0xff]), "0aff");
        assert!(trace_id(&[1; 16], "trace_id").is_ok());
        let e = trace_id(&[1; 5], "trace_id").unwrap_err();
        assert!(e.contains("16 bytes") && e.contains("got 5"), "{e}");
        assert!(span_id(&[0; 8], "span_id").unwrap_err().contains("zeros"));
        assert_eq!(parent_id(&[], "p").unwrap(), None);
        assert_eq!(parent_id(&[0; 8], "p").unwrap(), None);
        assert!(parent_id(&[1; 3], "p").is_err());
        assert_eq!(
            parse_span_hex("00000000000000ff"),
            Some([0, 0, 0, 0, 0, 0, 0, 255])
        );
        assert_eq!(parse_span_hex("0000000000000000"), None);
        assert_eq!(parse_span_hex("xyz"), None);
        assert_eq!(time(0), None);
        assert_eq!(time(5), Some(Timestamp(5)));
    }
}
