//! How model values are stored in text columns, the same in every store: log levels, span
//! outcomes, and JSON columns read back leniently.

use flightdeck_model::{Level, SpanOutcome};

/// The stored name of a log level.
pub fn level_str(l: Level) -> &'static str {
    match l {
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    }
}

/// The inverse of [`level_str`].
pub fn parse_level(s: &str) -> Option<Level> {
    Some(match s {
        "debug" => Level::Debug,
        "info" => Level::Info,
        "warn" => Level::Warn,
        "error" => Level::Error,
        _ => return None,
    })
}

/// The stored name of a span outcome.
pub fn outcome_str(o: SpanOutcome) -> &'static str {
    match o {
        SpanOutcome::Ok => "ok",
        SpanOutcome::Error => "error",
    }
}

/// Parses a JSON column, treating a missing or unreadable value as the default.
pub fn json_or_default<T: serde::de::DeserializeOwned + Default>(s: Option<String>) -> T {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}
