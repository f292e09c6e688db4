//! Chat messages from every convention, normalised to the shape Flightdeck uses for LLM input
//! and output (the OpenAI chat shape): `{"role", "content", "tool_calls"?, "tool_call_id"?}`
//! with `tool_calls` as `[{"id", "type": "function", "function": {"name", "arguments"}}]`.
//!
//! Sources here: the older GenAI message events (`gen_ai.user.message`, `gen_ai.choice` ...),
//! OpenInference's `llm.*_messages.N.message.*` and Traceloop's `gen_ai.prompt.N.*` trees (see
//! `flat`). The newer GenAI "parts" messages are in `parts`, which rewrites them from their
//! text without a tree.
//! Whatever a message holds beyond that shape (images, reasoning, unknown parts) is kept.

use super::flat::{at, str_at};
use serde_json::{Map, Value, json};

/// OpenInference: `[{"message": {"role", "content" | "contents", "tool_calls", ...}}]`.
pub fn from_openinference(tree: &Value) -> Vec<Value> {
    list(tree)
        .iter()
        .filter_map(|m| m.get("message"))
        .map(|m| {
            let mut out = Map::new();
            out.insert("role".into(), m.get("role").cloned().unwrap_or_default());
            let content = match (m.get("content"), m.get("contents")) {
                (Some(c), _) => c.clone(),
                (None, Some(parts)) => Value::Array(
                    list(parts)
                        .iter()
                        .filter_map(|p| p.get("message_content"))
                        .map(openinference_part)
                        .collect(),
                ),
                (None, None) => Value::Null,
            };
            out.insert("content".into(), content);
            let calls: Vec<Value> = m
                .get("tool_calls")
                .map(list)
                .unwrap_or_default()
                .iter()
                .filter_map(|c| c.get("tool_call"))
                .map(function_call)
                .collect();
            if !calls.is_empty() {
                out.insert("tool_calls".into(), Value::Array(calls));
            }
            for key in ["tool_call_id", "name"] {
                if let Some(v) = m.get(key) {
                    out.insert(key.into(), v.clone());
                }
            }
            Value::Object(out)
        })
        .collect()
}

fn openinference_part(p: &Value) -> Value {
    match (
        str_at(p, "type"),
        p.get("text"),
        str_at(p, "image.image.url"),
    ) {
        (_, Some(text), _) => json!({"type": "text", "text": text}),
        (_, None, Some(url)) => json!({"type": "image_url", "image_url": {"url": url}}),
        _ => p.clone(),
    }
}

/// Traceloop: `[{"role", "content", "tool_calls": [{"id", "name", "arguments"}], ...}]`.
pub fn from_traceloop(tree: &Value) -> Vec<Value> {
    list(tree)
        .iter()
        .filter(|m| m.is_object())
        .map(|m| {
            let mut out = m.as_object().cloned().unwrap_or_default();
            if let Some(calls) = out.remove("tool_calls") {
                let calls: Vec<Value> = list(&calls)
                    .iter()
                    .map(|c| tool_call(c.get("id"), c.get("name"), c.get("arguments")))
                    .collect();
                out.insert("tool_calls".into(), Value::Array(calls));
            }
            Value::Object(out)
        })
        .collect()
}

/// The older GenAI message events (semconv <= 1.36), on spans or as log records:
/// `gen_ai.{system,user,assistant,tool}.message` give an input message, `gen_ai.choice` an
/// output one. `None` for any other event.
pub fn from_event(name: &str, body: &Value) -> Option<(Side, Value)> {
    let (side, role, m) = match name {
        "gen_ai.system.message" => (Side::Input, "system", body),
        "gen_ai.user.message" => (Side::Input, "user", body),
        "gen_ai.assistant.message" => (Side::Input, "assistant", body),
        "gen_ai.tool.message" => (Side::Input, "tool", body),
        "gen_ai.choice" => (
            Side::Output,
            "assistant",
            body.get("message").unwrap_or(body),
        ),
        _ => return None,
    };
    let mut out = Map::new();
    out.insert(
        "role".into(),
        m.get("role").cloned().unwrap_or_else(|| role.into()),
    );
    out.insert(
        "content".into(),
        m.get("content").cloned().unwrap_or_default(),
    );
    if let Some(calls) = m.get("tool_calls") {
        let calls: Vec<Value> = list(calls).iter().map(function_call).collect();
        out.insert("tool_calls".into(), Value::Array(calls));
    }
    if side == Side::Input
        && role == "tool"
        && let Some(id) = m.get("id")
    {
        out.insert("tool_call_id".into(), id.clone());
    }
    if let Some(reason) = body.get("finish_reason") {
        out.insert("finish_reason".into(), reason.clone());
    }
    Some((side, Value::Object(out)))
}

/// Which payload of the span a message event belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Input,
    Output,
}

/// The output payload of an LLM span: the one answer as an object, several as a list.
pub fn output(mut messages: Vec<Value>) -> Option<Value> {
    match messages.len() {
        0 => None,
        1 => messages.pop(),
        _ => Some(Value::Array(messages)),
    }
}

/// A value that may be a JSON string holding the list (as GenAI sends on spans).
pub fn parse_if_text(v: Value) -> Value {
    match &v {
        Value::String(s) if s.trim_start().starts_with(['[', '{']) => {
            serde_json::from_str(s).unwrap_or(v)
        }
        _ => v,
    }
}

/// A call whose name and arguments sit under `function` (`{id, function: {name, arguments}}`).
fn function_call(c: &Value) -> Value {
    tool_call(
        c.get("id"),
        at(c, "function.name"),
        at(c, "function.arguments"),
    )
}

/// A call in the chat shape; one sent without arguments keeps none (not `""`).
fn tool_call(id: Option<&Value>, name: Option<&Value>, arguments: Option<&Value>) -> Value {
    let mut function = json!({"name": name.cloned().unwrap_or_default()});
    match arguments {
        Some(Value::String(s)) => function["arguments"] = Value::String(s.clone()),
        Some(Value::Null) | None => {}
        Some(other) => function["arguments"] = Value::String(other.to_string()),
    }
    json!({
        "id": id.cloned().unwrap_or_default(),
        "type": "function",
        "function": function,
    })
}

fn list(v: &Value) -> Vec<Value> {
    match parse_if_text(v.clone()) {
        Value::Array(items) => items.into_iter().filter(|i| !i.is_null()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openinference_and_traceloop_trees_become_chat_messages() {
        let oi = json!([
            {"message": {"role": "user", "contents": [{"message_content": {"type": "text", "text": "look"}},
                                                      {"message_content": {"type": "image", "image": {"image": {"url": "http://i"}}}}]}},
            {"message": {"role": "assistant", "tool_calls": [{"tool_call": {"id": "c1", "function": {"name": "scan", "arguments": "{}"}}}]}}
        ]);
        let out = from_openinference(&oi);
        assert_eq!(
            out[0]["content"],
            json!([{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "http://i"}}])
        );
        assert_eq!(out[1]["tool_calls"][0]["function"]["name"], "scan");

        let tl = json!([{"role": "assistant", "content": "ok", "finish_reason": "stop",
                         "tool_calls": [{"id": "c2", "name": "grep", "arguments": "{\"q\":1}"}]}]);
        let out = from_traceloop(&tl);
        assert_eq!(out[0]["finish_reason"], "stop");
        assert_eq!(
            out[0]["tool_calls"][0]["function"]["arguments"],
            "{\"q\":1}"
        );

        // A call sent without arguments keeps none.
        let tl = json!([{"role": "assistant", "tool_calls": [{"id": "c3", "name": "status"}]}]);
        let out = from_traceloop(&tl);
        assert_eq!(
            out[0]["tool_calls"][0]["function"],
            json!({"name": "status"})
        );
    }

    #[test]
    fn old_genai_events_become_messages_on_their_side() {
        let (side, m) = from_event("gen_ai.user.message", &json!({"content": "hi"})).unwrap();
        assert_eq!(
            (side, m),
            (Side::Input, json!({"role": "user", "content": "hi"}))
        );
        let (side, m) = from_event(
            "gen_ai.choice",
            &json!({"index": 0, "finish_reason": "stop", "message": {"content": "hello"}}),
        )
        .unwrap();
        assert_eq!(side, Side::Output);
        assert_eq!(
            m,
            json!({"role": "assistant", "content": "hello", "finish_reason": "stop"})
        );
        let (_, m) =
            from_event("gen_ai.tool.message", &json!({"content": "4", "id": "c1"})).unwrap();
        assert_eq!(m["tool_call_id"], "c1");
        assert!(from_event("exception", &json!({})).is_none());
        assert_eq!(output(vec![json!(1)]), Some(json!(1)));
        assert_eq!(output(vec![json!(1), json!(2)]), Some(json!([1, 2])));
        assert_eq!(output(vec![]), None);
    }
}
