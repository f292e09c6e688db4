//! Turning caller values into wire payloads, and minting ids and timestamps.

use flightdeck_model::Timestamp;
use serde::Serialize;
use serde_json::value::RawValue;

/// Serializes a payload (`input`, `output`, `params`, `data`). A value that cannot be
/// serialized is replaced by a string saying why, and logged: recording never fails.
pub(crate) fn to_raw<T: Serialize + ?Sized>(value: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "flightdeck: a payload could not be serialized");
        serde_json::value::to_raw_value(&format!("<unserializable: {e}>"))
            .expect("a string always serializes")
    })
}

/// Serializes an attribute value, like [`to_raw`] but as a JSON tree.
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "flightdeck: an attribute could not be serialized");
        serde_json::Value::String(format!("<unserializable: {e}>"))
    })
}

/// A fresh random id (UUIDv4), unique across processes, so a retried batch is deduplicated.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The current time, taken when the caller records something, not when it is sent.
pub(crate) fn now() -> Option<Timestamp> {
    Some(Timestamp::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn unserializable_values_become_an_explaining_string() {
        let bad: HashMap<(u8, u8), u8> = HashMap::from([((1, 2), 3)]);
        assert!(to_raw(&bad).get().starts_with("\"<unserializable: "));
        assert!(
            to_value(&bad)
                .as_str()
                .unwrap()
                .starts_with("<unserializable: ")
        );
        assert_eq!(to_raw(&[1, 2]).get(), "[1,2]");
    }

    #[test]
    fn ids_are_distinct_uuids() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 4);
    }
}
