//! What the conventions learn about one span, and the helpers they share to take it out of
//! the attributes.
//!
//! A convention fills a fact only while it is still empty, and removes an attribute only when
//! it filled a fact from it: what a native field now holds is not stored twice, and what no
//! field took stays an attribute. Conventions run in a fixed order (see `convention`), so the
//! first one that knows a fact wins.

use flightdeck_model::{Attributes, SpanKind, Usage};
use serde_json::Value;
use serde_json::value::{RawValue, to_raw_value};

/// A payload (input, output, params): a JSON tree, or JSON text already in its final form
/// (GenAI messages are rewritten without building a tree: they are most of the bytes).
#[derive(Debug)]
pub enum Payload {
    Tree(Value),
    Text(Box<RawValue>),
}

impl Payload {
    pub fn into_raw(self) -> serde_json::Result<Box<RawValue>> {
        match self {
            Payload::Tree(v) => to_raw_value(&v),
            Payload::Text(t) => Ok(t),
        }
    }

    pub fn into_value(self) -> Value {
        match self {
            Payload::Tree(v) => v,
            Payload::Text(t) => serde_json::from_str(t.get()).unwrap_or_default(),
        }
    }
}

impl From<Value> for Payload {
    fn from(v: Value) -> Self {
        Payload::Tree(v)
    }
}

/// A span's facts in Flightdeck's terms.
#[derive(Debug, Default)]
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
    pub input: Option<Payload>,
    pub output: Option<Payload>,
    pub params: Option<Payload>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    /// Work this span hands to other agents (a handoff, a `transfer_to_*` tool, a goto).
    pub handoffs: Vec<Handoff>,
    /// The span is a framework's workflow root, not an agent (its name names the session).
    pub workflow: bool,
}

/// A hand-over of work to another agent, read from one span: a delegation edge from `from`
/// (else the span's settled agent) to `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct Handoff {
    pub from: Option<String>,
    pub to: String,
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
    if slot.is_some() {
        return;
    }
    match attrs.remove(key) {
        Some(Value::String(s)) if !s.is_empty() => *slot = Some(s),
        Some(other) => {
            attrs.insert(key.to_owned(), other);
        }
        None => {}
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
pub fn fill_json(slot: &mut Option<Payload>, attrs: &mut Attributes, key: &str) {
    if slot.is_none()
        && let Some(v) = attrs.remove(key)
    {
        *slot = Some(Payload::Tree(match v {
            Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
            other => other,
        }));
    }
}

/// The attribute that keeps the model that answered, when it is not the one requested.
pub const RESPONSE_MODEL: &str = "gen_ai.response.model";

/// Reads the model that answered from `key`. The span's model is the one requested, where a
/// convention found it: then the answering model (often a dated version of it, `gpt-4o` vs
/// `gpt-4o-2024-08-06`) stays as a detail under [`RESPONSE_MODEL`] when it differs, and goes
/// when it says the same. Without a requested model, the answering one is the span's model.
/// So one call is one row of the LLM stats, whether it succeeded (answered) or not.
pub fn response_model(facts: &mut Facts, attrs: &mut Attributes, key: &str) {
    let Some(requested) = facts.model.as_deref() else {
        return fill_str(&mut facts.model, attrs, key);
    };
    let Some(Value::String(answered)) = attrs.get(key) else {
        return;
    };
    if answered == requested {
        attrs.remove(key);
    } else if key != RESPONSE_MODEL
        && !attrs.contains_key(RESPONSE_MODEL)
        && let Some(v) = attrs.remove(key)
    {
        attrs.insert(RESPONSE_MODEL.to_owned(), v);
    }
}

/// The model a convention's `apply` reads from `attrs`, and the answering model it keeps.
#[cfg(test)]
pub fn models_after(
    apply: fn(&mut Attributes, &mut Facts),
    attrs: Value,
) -> (Option<String>, Option<Value>) {
    let mut attrs = attrs.as_object().cloned().unwrap_or_default();
    let mut facts = Facts::default();
    apply(&mut attrs, &mut facts);
    (facts.model, attrs.get(RESPONSE_MODEL).cloned())
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
