//! What the conventions learn about one span, and the helpers they share to take it out of
//! the attributes.
//!
//! A convention fills a fact only while it is still empty, and removes an attribute only when
//! it filled a fact from it: what a native field now holds is not stored twice, and what no
//! field took stays an attribute. Conventions run in a fixed order (see `convention`), so the
//! first one that knows a fact wins.

use flightdeck_model::{Attributes, SpanKind, Usage};
use serde_json::Value;

/// A span's facts in Flightdeck's terms.
#[derive(Debug, Default, PartialEq)]
pub struct Facts {
    pub kind: Option<SpanKind>,
    /// A better name than the span's own (the tool's name for a tool call).
    pub name: Option<String>,
    /// The agent this span belongs to, when the span itself says so.
    pub agent: Option<String>,
    /// The session, when the span itself says so.
    pub session: Option<String>,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub input: Option<Value>,
    pub output: Option<Value>,
    pub params: Option<Value>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
}

impl Facts {
    /// Token usage, when either count is known.
    pub fn usage(&self) -> Option<Usage> {
        (self.input_tokens.is_some() || self.output_tokens.is_some()).then(|| Usage {
            input_tokens: self.input_tokens.unwrap_or(0),
            output_tokens: self.output_tokens.unwrap_or(0),
        })
    }
}

/// Fills an empty `slot` with the text of `key`, removing the key.
pub fn fill_str(slot: &mut Option<String>, attrs: &mut Attributes, key: &str) {
    if slot.is_none()
        && let Some(Value::String(s)) = attrs.get(key)
        && !s.is_empty()
    {
        *slot = Some(s.clone());
        attrs.remove(key);
    }
}

/// Fills an empty `slot` with the count at `key` (a number, or digits in a string).
pub fn fill_u64(slot: &mut Option<u64>, attrs: &mut Attributes, key: &str) {
    if slot.is_some() {
        return;
    }
    let n = match attrs.get(key) {
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    if n.is_some() {
        *slot = n;
        attrs.remove(key);
    }
}

/// Fills an empty `slot` with the JSON at `key`; a string that holds JSON text (these keys
/// carry serialised JSON) is parsed, any other string kept as text.
pub fn fill_json(slot: &mut Option<Value>, attrs: &mut Attributes, key: &str) {
    if slot.is_none()
        && let Some(v) = attrs.remove(key)
    {
        *slot = Some(match v {
            Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
            other => other,
        });
    }
}

/// Fills an empty `slot` with `value` (computed by the caller).
pub fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// The text at `key`, left in place.
pub fn text<'a>(attrs: &'a Attributes, key: &str) -> Option<&'a str> {
    attrs.get(key).and_then(Value::as_str)
}
