//! Logfire (Pydantic): what a span record is, from `logfire.span_type`.
//!
//! - `pending_span`: exported when a span starts, so a viewer can show work in flight. Its
//!   parent is the real span and `logfire.pending_parent_id` the real span's parent; it becomes
//!   a `span.start` of the real span, which shows as running until the real span arrives.
//! - `log`: a log line (`logfire.info(...)`) written as a zero-length span; it becomes an
//!   event of its parent span, with the level from `logfire.level_num` and the text from
//!   `logfire.msg`.
//! - `span` (or no type): an ordinary span.

use crate::otlp::value::{SpanId, parse_span_hex};
use flightdeck_model::{Attributes, Level};
use serde_json::Value;

/// Logfire's suffix on a pending span's name.
const PENDING_SUFFIX: &str = " (pending)";

/// What a span record stands for.
#[derive(Debug, PartialEq)]
pub enum Shape {
    Span,
    /// A span in flight; `parent` is the real span's parent.
    Pending {
        parent: Option<SpanId>,
    },
    Log {
        level: Option<Level>,
        message: Option<String>,
    },
}

/// Reads (and takes) Logfire's keys; strips the pending suffix from `name`.
pub fn shape(attrs: &mut Attributes, name: &mut String) -> Shape {
    let span_type = match attrs.get("logfire.span_type") {
        Some(Value::String(t)) => t.clone(),
        _ => return Shape::Span,
    };
    attrs.remove("logfire.span_type");
    match span_type.as_str() {
        "pending_span" => {
            let parent = attrs
                .remove("logfire.pending_parent_id")
                .and_then(|v| v.as_str().and_then(parse_span_hex));
            if let Some(real) = name.strip_suffix(PENDING_SUFFIX) {
                name.truncate(real.len());
            }
            Shape::Pending { parent }
        }
        "log" => Shape::Log {
            level: attrs
                .get("logfire.level_num")
                .and_then(Value::as_i64)
                .map(level),
            message: match attrs.remove("logfire.msg") {
                Some(Value::String(m)) => Some(m),
                _ => None,
            },
        },
        _ => Shape::Span,
    }
}

/// Logfire's level numbers (trace 1, debug 5, info 9, notice 10, warn 13, error 17, fatal 21).
fn level(n: i64) -> Level {
    match n {
        ..=8 => Level::Debug,
        9..=12 => Level::Info,
        13..=16 => Level::Warn,
        _ => Level::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pending_spans_name_the_real_parent() {
        let mut a = json!({"logfire.span_type": "pending_span",
                           "logfire.pending_parent_id": "00000000000000ab",
                           "logfire.msg": "crack the safe"})
        .as_object()
        .unwrap()
        .clone();
        let mut name = "crack the safe (pending)".to_owned();
        assert_eq!(
            shape(&mut a, &mut name),
            Shape::Pending {
                parent: Some([0, 0, 0, 0, 0, 0, 0, 0xab])
            }
        );
        assert_eq!(name, "crack the safe");
        assert_eq!(a.len(), 1, "only logfire.msg stays");

        let mut a = json!({"logfire.span_type": "pending_span",
                           "logfire.pending_parent_id": "0000000000000000"})
        .as_object()
        .unwrap()
        .clone();
        assert_eq!(
            shape(&mut a, &mut "root".to_owned()),
            Shape::Pending { parent: None }
        );
    }

    #[test]
    fn logs_and_ordinary_spans() {
        let mut a = json!({"logfire.span_type": "log", "logfire.level_num": 13,
                           "logfire.msg": "alarm armed"})
        .as_object()
        .unwrap()
        .clone();
        assert_eq!(
            shape(&mut a, &mut "alarm {state}".to_owned()),
            Shape::Log {
                level: Some(Level::Warn),
                message: Some("alarm armed".into())
            }
        );
        let mut a = json!({"logfire.span_type": "span"})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(shape(&mut a, &mut "x".to_owned()), Shape::Span);
        assert!(a.is_empty());
        assert_eq!(
            shape(&mut Attributes::new(), &mut "x".to_owned()),
            Shape::Span
        );
    }
}
