//! Timestamps on the wire: RFC 3339 strings or integer unix nanoseconds in, RFC 3339 out.
//!
//! Internally every time is an `i64` of nanoseconds since the unix epoch (UTC), which covers
//! the years 1677 to 2262 and sorts and subtracts cheaply in the store.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time, in nanoseconds since the unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Timestamp(nanos.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
    }

    /// Nanoseconds since the unix epoch.
    pub fn nanos(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 timestamp (`2026-11-20T10:00:00.123Z`, any offset).
    pub fn parse_rfc3339(s: &str) -> Result<Self, String> {
        let t = OffsetDateTime::parse(s, &Rfc3339)
            .map_err(|e| format!("not an RFC 3339 timestamp ({e}): {s:?}"))?;
        let nanos = t.unix_timestamp_nanos();
        i64::try_from(nanos)
            .map(Timestamp)
            .map_err(|_| format!("timestamp out of range: {s:?}"))
    }

    /// Formats as RFC 3339 in UTC with as many fractional digits as needed.
    pub fn to_rfc3339(self) -> String {
        match OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128) {
            Ok(t) => t.format(&Rfc3339).unwrap_or_else(|_| self.0.to_string()),
            Err(_) => self.0.to_string(),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp string or integer unix nanoseconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                // Query strings carry every value as text, so digits are nanoseconds there too.
                match v.parse::<i64>() {
                    Ok(nanos) => Ok(Timestamp(nanos)),
                    Err(_) => Timestamp::parse_rfc3339(v).map_err(E::custom),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map(Timestamp)
                    .map_err(|_| E::custom("unix nanoseconds out of range"))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms_and_prints_rfc3339() {
        let a: Timestamp = serde_json::from_str("\"2026-11-20T10:00:01.5Z\"").unwrap();
        let b: Timestamp = serde_json::from_str("1795168801500000000").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_rfc3339(), "2026-11-20T10:00:01.5Z");
        let digits: Timestamp = serde_json::from_str("\"1795168801500000000\"").unwrap();
        assert_eq!(digits, a);
        let offset: Timestamp = serde_json::from_str("\"2026-11-20T11:00:01.5+01:00\"").unwrap();
        assert_eq!(offset, a);
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        let err = serde_json::from_str::<Timestamp>("\"yesterday\"").unwrap_err();
        assert!(err.to_string().contains("RFC 3339"), "{err}");
        assert!(serde_json::from_str::<Timestamp>("true").is_err());
    }
}
