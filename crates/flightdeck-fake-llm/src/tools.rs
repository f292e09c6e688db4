//! Tool calls the fake makes: a request that offers tools (and does not say `tool_choice:
//! "none"`) gets a call of its first tool with `{"query": <the last user message's text>}`,
//! written in each API's shape, whole and streamed. In chat completions, the model
//! [`NARRATOR`] says a sentence ([`PREAMBLE`]) before its call, as many models do.

use serde_json::{Value, json};

/// The model that speaks before it calls a tool.
pub const NARRATOR: &str = "narrator";
/// What it says.
pub const PREAMBLE: &str = "On it.";

/// The call the fake answers with.
pub struct Call {
    pub name: String,
    /// The arguments as JSON text.
    pub arguments: String,
    /// Text before the call (chat completions).
    pub preamble: Option<&'static str>,
}

/// The call a request gets, if it offers tools.
pub fn call_for(req: &Value) -> Option<Call> {
    let first = req["tools"].as_array()?.first()?;
    if req["tool_choice"] == "none" {
        return None;
    }
    let name = first["function"]["name"]
        .as_str()
        .or(first["name"].as_str())
        .unwrap_or("tool")
        .to_owned();
    let arguments = json!({"query": last_user_text(req)}).to_string();
    let preamble = (req["model"] == NARRATOR).then_some(PREAMBLE);
    Some(Call {
        name,
        arguments,
        preamble,
    })
}

/// The text of the last user message (chat, Anthropic or Responses shape).
fn last_user_text(req: &Value) -> String {
    let list = req["messages"].as_array().or(req["input"].as_array());
    let Some(message) = list.and_then(|l| l.iter().rev().find(|m| m["role"] == "user")) else {
        return req["input"].as_str().unwrap_or_default().to_owned();
    };
    match &message["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// A chat completions message with the call.
pub fn chat_message(c: &Call) -> Value {
    json!({"role": "assistant", "content": c.preamble, "refusal": null, "tool_calls": [
        {"id": "call_fake_1", "type": "function", "function": {"name": c.name, "arguments": c.arguments}}]})
}

/// The chat completions deltas of the call: the name first, the arguments in two pieces.
pub fn chat_deltas(c: &Call) -> Vec<Value> {
    let (a, b) = c.arguments.split_at(c.arguments.len() / 2);
    let text = c.preamble.map(|p| json!({"content": p}));
    text.into_iter()
        .chain([
            json!({"tool_calls": [{"index": 0, "id": "call_fake_1", "type": "function",
                "function": {"name": c.name, "arguments": ""}}]}),
            json!({"tool_calls": [{"index": 0, "function": {"arguments": a}}]}),
            json!({"tool_calls": [{"index": 0, "function": {"arguments": b}}]}),
        ])
        .collect()
}

/// An Anthropic `tool_use` content block with the call.
pub fn anthropic_block(c: &Call) -> Value {
    let input: Value = serde_json::from_str(&c.arguments).unwrap_or_default();
    json!({"type": "tool_use", "id": "toolu_fake_1", "name": c.name, "input": input})
}

/// The streamed Anthropic block: its start, and its `input_json_delta`s.
pub fn anthropic_stream(c: &Call) -> (Value, Vec<Value>) {
    let (a, b) = c.arguments.split_at(c.arguments.len() / 2);
    let start = json!({"type": "tool_use", "id": "toolu_fake_1", "name": c.name, "input": {}});
    let deltas = [a, b]
        .into_iter()
        .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
        .collect();
    (start, deltas)
}

/// A Responses API `function_call` output item with the call.
pub fn responses_item(c: &Call) -> Value {
    json!({"type": "function_call", "id": "fc_fake_1", "call_id": "call_fake_1", "name": c.name,
        "arguments": c.arguments, "status": "completed"})
}
