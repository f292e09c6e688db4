//! The text of an answer; word diffs of two texts are `crate::words`'.

use serde_json::Value;
use serde_json::value::RawValue;

/// What an LLM call answered, as text: a string as is; a message's `content` (its text parts
/// joined when it is a list); tool calls and anything else as compact JSON.
pub fn answer(output: Option<&RawValue>) -> Option<String> {
    let v: Value = serde_json::from_str(output?.get()).ok()?;
    Some(match &v {
        Value::String(s) => s.clone(),
        Value::Object(m) => match m.get("content") {
            Some(Value::String(s)) if !m.contains_key("tool_calls") => s.clone(),
            Some(Value::Array(parts)) if parts.iter().all(|p| p.get("text").is_some()) => parts
                .iter()
                .filter_map(|p| p["text"].as_str())
                .collect::<Vec<_>>()
                .join(""),
            _ => v.to_string(),
        },
        _ => v.to_string(),
    })
}

pub use crate::words::diff as words;

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    #[test]
    fn answers_read_as_text() {
        assert_eq!(answer(Some(&raw(r#""hi""#))).as_deref(), Some("hi"));
        let msg = raw(r#"{"role":"assistant","content":"Case the vault"}"#);
        assert_eq!(answer(Some(&msg)).as_deref(), Some("Case the vault"));
        let parts = raw(
            r#"{"role":"assistant","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}"#,
        );
        assert_eq!(answer(Some(&parts)).as_deref(), Some("ab"));
        assert_eq!(answer(None), None);
    }

    #[test]
    fn changed_words_are_marked() {
        let d = words("Case the vault at midnight.", "Case the bank at noon.");
        let changed: Vec<(&str, &str)> = d
            .iter()
            .filter(|p| p.op != "equal")
            .map(|p| (p.op, p.text.as_str()))
            .collect();
        assert_eq!(
            changed,
            [
                ("delete", "vault"),
                ("insert", "bank"),
                ("delete", "midnight."),
                ("insert", "noon.")
            ]
        );
    }
}
