//! Tool calls in each API's own shape: the tools a request declares, the calls a whole
//! response proposes, a person's edit applied back in that shape, and the list the review
//! shows (`{"tool_calls": [{"id", "name", "arguments"}]}`, arguments as JSON).
//!
//! OpenAI chat completions keep a call at `choices[].message.tool_calls[]` with its
//! arguments as a JSON string under `function`; the Responses API as an `output[]` item of
//! type `function_call` (arguments a string, id in `call_id`); Anthropic messages as a
//! `content[]` block of type `tool_use` (arguments an object under `input`).

use super::super::api::Endpoint;
use serde_json::{Map, Value, json};

/// One proposed call.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolCall {
    pub id: Option<String>,
    pub name: String,
    /// The arguments as JSON (a string when the model wrote something that is not JSON).
    pub arguments: Value,
}

/// Where one API keeps a call's parts, relative to the call's object.
struct Shape {
    id: &'static str,
    name: &'static str,
    arguments: &'static str,
    /// The arguments are JSON written into a string (OpenAI), not an object (Anthropic).
    arguments_as_text: bool,
}

fn shape(endpoint: Endpoint) -> Shape {
    match endpoint {
        Endpoint::Responses => Shape {
            id: "/call_id",
            name: "/name",
            arguments: "/arguments",
            arguments_as_text: true,
        },
        Endpoint::Messages => Shape {
            id: "/id",
            name: "/name",
            arguments: "/input",
            arguments_as_text: false,
        },
        _ => Shape {
            id: "/id",
            name: "/function/name",
            arguments: "/function/arguments",
            arguments_as_text: true,
        },
    }
}

/// The call objects of a whole response, in order.
fn call_objects(endpoint: Endpoint, response: &mut Value) -> Vec<&mut Value> {
    let of_type = |v: &Value, t: &str| v.get("type").and_then(Value::as_str) == Some(t);
    match endpoint {
        Endpoint::Responses => items(response, "/output")
            .filter(|v| of_type(v, "function_call"))
            .collect(),
        Endpoint::Messages => items(response, "/content")
            .filter(|v| of_type(v, "tool_use"))
            .collect(),
        _ => items(response, "/choices")
            .flat_map(|choice| items(choice, "/message/tool_calls"))
            .collect(),
    }
}

fn items<'a>(v: &'a mut Value, pointer: &str) -> impl Iterator<Item = &'a mut Value> {
    v.pointer_mut(pointer)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

/// Arguments as JSON: the text parsed when it is JSON, else the text itself.
pub fn arguments_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// Arguments as an OpenAI API writes them: JSON text (a string stays as it is).
pub fn arguments_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Arguments as Anthropic writes them: an object (text is parsed; else it stays text).
fn arguments_object(v: &Value) -> Value {
    match v {
        Value::String(s) => arguments_value(s),
        other => other.clone(),
    }
}

/// The names of the tools a request declares (`tools[]`, and chat's older `functions[]`).
pub fn declared_tools(endpoint: Endpoint, request: &Value) -> Vec<String> {
    let name_at = match endpoint {
        Endpoint::ChatCompletions => "/function/name",
        _ => "/name",
    };
    let mut names: Vec<String> = request
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.pointer(name_at).or_else(|| t.get("name")))
        .chain(
            request
                .get("functions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|f| f.get("name")),
        )
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    names.dedup();
    names
}

/// The calls a whole (not streamed) response proposes.
pub fn in_response(endpoint: Endpoint, response: &Value) -> Vec<ToolCall> {
    let s = shape(endpoint);
    let mut response = response.clone();
    call_objects(endpoint, &mut response)
        .into_iter()
        .map(|c| ToolCall {
            id: c.pointer(s.id).and_then(Value::as_str).map(str::to_owned),
            name: c
                .pointer(s.name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            arguments: match c.pointer(s.arguments) {
                Some(Value::String(text)) if s.arguments_as_text => arguments_value(text),
                Some(v) => v.clone(),
                None => Value::Object(Map::new()),
            },
        })
        .collect()
}

/// The edit that applies to the `position`-th call: the one with its id, else the one at
/// its position when that one names no other id.
pub fn edit_for<'a>(
    edits: &'a [ToolCall],
    call: &ToolCall,
    position: usize,
) -> Option<&'a ToolCall> {
    edits
        .iter()
        .find(|e| e.id.is_some() && e.id == call.id)
        .or_else(|| {
            edits
                .get(position)
                .filter(|e| e.id.is_none() || e.id == call.id)
        })
}

/// The value a call's arguments take in `endpoint`'s shape.
pub fn arguments_in_shape(endpoint: Endpoint, arguments: &Value) -> Value {
    if shape(endpoint).arguments_as_text {
        Value::String(arguments_text(arguments))
    } else {
        arguments_object(arguments)
    }
}

/// Writes the edited names and arguments into a whole response.
pub fn edit_response(endpoint: Endpoint, response: &mut Value, edits: &[ToolCall]) {
    let s = shape(endpoint);
    let calls = in_response(endpoint, response);
    for (position, (object, call)) in call_objects(endpoint, response)
        .into_iter()
        .zip(&calls)
        .enumerate()
    {
        let Some(edit) = edit_for(edits, call, position) else {
            continue;
        };
        if let Some(name) = object.pointer_mut(s.name) {
            *name = Value::String(edit.name.clone());
        }
        let args = arguments_in_shape(endpoint, &edit.arguments);
        match object.pointer_mut(s.arguments) {
            Some(slot) => *slot = args,
            None => set_at(object, s.arguments, args),
        }
    }
}

/// Sets the member at a pointer of object members, making the objects on the way.
fn set_at(v: &mut Value, pointer: &str, value: Value) {
    let mut at = v;
    let keys: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (i, key) in keys.iter().enumerate() {
        let Value::Object(map) = at else { return };
        if i + 1 == keys.len() {
            map.insert((*key).to_owned(), value);
            return;
        }
        at = map.entry((*key).to_owned()).or_insert_with(|| json!({}));
    }
}

/// What the review shows and a person edits.
pub fn review_output(calls: &[ToolCall]) -> Value {
    json!({
        "tool_calls": calls.iter().map(|c| json!({
            "id": c.id,
            "name": c.name,
            "arguments": c.arguments,
        })).collect::<Vec<_>>()
    })
}

/// A person's edit read back: `{"tool_calls": [...]}` or the bare list, each call with a
/// `name` and `arguments` (its `id` when it has one).
pub fn read_edits(edited: &Value) -> Result<Vec<ToolCall>, String> {
    let list = edited
        .get("tool_calls")
        .unwrap_or(edited)
        .as_array()
        .ok_or("the edited output has no tool_calls list")?;
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let name = c
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("edited tool call {} has no name", i + 1))?;
            Ok(ToolCall {
                id: c.get("id").and_then(Value::as_str).map(str::to_owned),
                name: name.to_owned(),
                arguments: c.get("arguments").cloned().unwrap_or_else(|| json!({})),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat() -> Value {
        json!({"id": "c", "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "delete_file", "arguments": "{\"path\": \"/etc\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "ls", "arguments": "{}"}}
            ]}, "finish_reason": "tool_calls"}]})
    }

    #[test]
    fn chat_calls_are_read_and_edited_in_place() {
        let mut v = chat();
        let calls = in_response(Endpoint::ChatCompletions, &v);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].name, "delete_file");
        assert_eq!(calls[0].arguments, json!({"path": "/etc"}));
        let mut edits = read_edits(&review_output(&calls)).unwrap();
        edits[0].arguments = json!({"path": "/tmp/x"});
        edit_response(Endpoint::ChatCompletions, &mut v, &edits);
        let args = v
            .pointer("/choices/0/message/tool_calls/0/function/arguments")
            .unwrap();
        assert_eq!(
            arguments_value(args.as_str().unwrap()),
            json!({"path": "/tmp/x"})
        );
        assert_eq!(
            v["choices"][0]["message"]["tool_calls"][1],
            chat()["choices"][0]["message"]["tool_calls"][1]
        );
    }

    #[test]
    fn responses_and_messages_calls_keep_their_shapes() {
        let mut r = json!({"output": [
            {"type": "message", "content": [{"type": "output_text", "text": "ok"}]},
            {"type": "function_call", "id": "fc_1", "call_id": "call_9", "name": "git_push", "arguments": "{\"force\":true}"}
        ]});
        let calls = in_response(Endpoint::Responses, &r);
        assert_eq!(
            calls,
            vec![ToolCall {
                id: Some("call_9".into()),
                name: "git_push".into(),
                arguments: json!({"force": true})
            }]
        );
        let edit = ToolCall {
            arguments: json!({"force": false}),
            ..calls[0].clone()
        };
        edit_response(Endpoint::Responses, &mut r, &[edit]);
        assert_eq!(r["output"][1]["arguments"], "{\"force\":false}");

        let mut m = json!({"content": [
            {"type": "text", "text": "I will delete it."},
            {"type": "tool_use", "id": "toolu_1", "name": "delete_file", "input": {"path": "/"}}
        ]});
        let calls = in_response(Endpoint::Messages, &m);
        assert_eq!(calls[0].arguments, json!({"path": "/"}));
        let edit = ToolCall {
            id: None,
            name: "delete_file".into(),
            arguments: json!("{\"path\": \"/tmp\"}"),
        };
        edit_response(Endpoint::Messages, &mut m, &[edit]);
        assert_eq!(m["content"][1]["input"], json!({"path": "/tmp"}));
    }

    #[test]
    fn declared_tools_are_read_from_each_request_shape() {
        let chat = json!({"tools": [{"type": "function", "function": {"name": "a"}}], "functions": [{"name": "b"}]});
        assert_eq!(declared_tools(Endpoint::ChatCompletions, &chat), ["a", "b"]);
        let responses =
            json!({"tools": [{"type": "function", "name": "c"}, {"type": "web_search"}]});
        assert_eq!(declared_tools(Endpoint::Responses, &responses), ["c"]);
        let messages = json!({"tools": [{"name": "d", "input_schema": {}}]});
        assert_eq!(declared_tools(Endpoint::Messages, &messages), ["d"]);
        assert!(declared_tools(Endpoint::Messages, &json!({})).is_empty());
    }

    #[test]
    fn edits_are_matched_by_id_then_position_and_checked() {
        let calls = in_response(Endpoint::ChatCompletions, &chat());
        let by_id = [ToolCall {
            id: Some("call_2".into()),
            name: "ls".into(),
            arguments: json!({"a": 1}),
        }];
        assert!(edit_for(&by_id, &calls[0], 0).is_none());
        assert_eq!(
            edit_for(&by_id, &calls[1], 1).unwrap().arguments,
            json!({"a": 1})
        );
        assert!(
            read_edits(&json!({"x": 1}))
                .unwrap_err()
                .contains("tool_calls")
        );
        assert!(
            read_edits(&json!([{"arguments": {}}]))
                .unwrap_err()
                .contains("no name")
        );
    }
}
