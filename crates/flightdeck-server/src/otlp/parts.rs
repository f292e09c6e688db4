//! GenAI "parts" messages (`gen_ai.input.messages`, `gen_ai.output.messages`,
//! `gen_ai.system_instructions`; semconv >= 1.37) rewritten to the chat shape of native LLM
//! spans (see `messages`): `[{"role", "parts": [{"type": "text", "content"}, ...]}]` becomes
//! `[{"role", "content"}]`, tool calls `tool_calls`, tool results `tool_call_id` + `content`.
//!
//! Messages are most of an LLM span's bytes, so they are rewritten from their JSON text in one
//! pass without building a tree: contents are borrowed and written out as they came. Parts of
//! other types (images, files, reasoning ...) are kept, with the text parts, as a `content`
//! list; a message without parts is kept as it is.

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::{RawValue, to_raw_value};
use std::borrow::Cow;

/// The input payload: the system instructions (a list of parts, or text) as a first system
/// message, then the messages. `None` when `messages` is not a list of messages.
pub fn input(system: Option<&Value>, messages: &Value) -> Option<Box<RawValue>> {
    let text = json_text(messages);
    let mut chats = parse(&text)?;
    let system_text = system.map(json_text);
    let system_role = to_raw_value("system").ok()?;
    let plain;
    if let Some(s) = &system_text {
        let parts = match parse_parts(s) {
            Some(parts) => parts,
            None => {
                plain = to_raw_value(s.as_ref()).ok()?;
                vec![Part::Text(&plain)]
            }
        };
        chats.insert(
            0,
            Chat::Parts {
                role: Some(&system_role),
                parts,
                finish_reason: None,
                name: None,
            },
        );
    }
    to_raw_value(&chats).ok()
}

/// The output payload: the one answer as itself, several as a list; `None` when `messages` is
/// not a list, or an empty one.
pub fn output(messages: &Value) -> Option<Box<RawValue>> {
    let text = json_text(messages);
    let chats = parse(&text)?;
    match chats.as_slice() {
        [] => None,
        [one] => to_raw_value(one).ok(),
        many => to_raw_value(many).ok(),
    }
}

/// The JSON text an attribute holds (JSON sent as a string), or the value written out.
fn json_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

/// One message, read.
enum Chat<'a> {
    Parts {
        role: Option<&'a RawValue>,
        parts: Vec<Part<'a>>,
        finish_reason: Option<&'a RawValue>,
        name: Option<&'a RawValue>,
    },
    /// Not a parts message: kept as it is.
    Raw(&'a RawValue),
}

enum Part<'a> {
    Text(&'a RawValue),
    Call {
        id: Option<&'a RawValue>,
        name: Option<&'a RawValue>,
        arguments: Option<&'a RawValue>,
    },
    Response {
        id: Option<&'a RawValue>,
        response: Option<&'a RawValue>,
    },
    Other(&'a RawValue),
}

/// The usual message, read in one pass: only the part types the chat shape has.
#[derive(Deserialize)]
struct Known<'a> {
    #[serde(borrow)]
    role: Option<&'a RawValue>,
    #[serde(borrow)]
    parts: Vec<KnownPart<'a>>,
    #[serde(borrow)]
    finish_reason: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Option<&'a RawValue>,
}

/// A part of a type the chat shape has (any other type fails the read).
#[derive(Deserialize)]
struct KnownPart<'a> {
    #[serde(rename = "type")]
    kind: Kind,
    #[serde(borrow)]
    content: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Option<&'a RawValue>,
    #[serde(borrow)]
    arguments: Option<&'a RawValue>,
    #[serde(borrow)]
    response: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Text,
    ToolCall,
    ToolCallResponse,
}

impl<'a> From<KnownPart<'a>> for Part<'a> {
    fn from(p: KnownPart<'a>) -> Self {
        match p.kind {
            Kind::Text => Part::Text(p.content.unwrap_or(RawValue::NULL)),
            Kind::ToolCall => Part::Call {
                id: p.id,
                name: p.name,
                arguments: p.arguments,
            },
            Kind::ToolCallResponse => Part::Response {
                id: p.id,
                response: p.response,
            },
        }
    }
}

/// Any message, read part by part (for messages the one-pass read does not take).
#[derive(Deserialize)]
struct Loose<'a> {
    #[serde(borrow)]
    role: Option<&'a RawValue>,
    #[serde(borrow)]
    parts: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    finish_reason: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Option<&'a RawValue>,
}

fn parse(text: &str) -> Option<Vec<Chat<'_>>> {
    if let Ok(known) = serde_json::from_str::<Vec<Known<'_>>>(text) {
        return Some(
            known
                .into_iter()
                .map(|m| Chat::Parts {
                    role: m.role,
                    parts: m.parts.into_iter().map(Part::from).collect(),
                    finish_reason: m.finish_reason,
                    name: m.name,
                })
                .collect(),
        );
    }
    let list: Vec<&RawValue> = serde_json::from_str(text).ok()?;
    Some(
        list.into_iter()
            .map(|raw| match serde_json::from_str::<Loose<'_>>(raw.get()) {
                Ok(Loose {
                    role,
                    parts: Some(parts),
                    finish_reason,
                    name,
                }) => Chat::Parts {
                    role,
                    parts: parts.into_iter().map(part).collect(),
                    finish_reason,
                    name,
                },
                _ => Chat::Raw(raw),
            })
            .collect(),
    )
}

/// A list of parts (system instructions), when `text` is one.
fn parse_parts(text: &str) -> Option<Vec<Part<'_>>> {
    if let Ok(known) = serde_json::from_str::<Vec<KnownPart<'_>>>(text) {
        return Some(known.into_iter().map(Part::from).collect());
    }
    let list: Vec<&RawValue> = serde_json::from_str(text).ok()?;
    Some(list.into_iter().map(part).collect())
}

fn part(raw: &RawValue) -> Part<'_> {
    serde_json::from_str::<KnownPart<'_>>(raw.get()).map_or(Part::Other(raw), Part::from)
}

impl Serialize for Chat<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (role, parts, finish_reason, name) = match self {
            Chat::Raw(raw) => return raw.serialize(s),
            Chat::Parts {
                role,
                parts,
                finish_reason,
                name,
            } => (role, parts, finish_reason, name),
        };
        let mut texts: Vec<Cow<'_, RawValue>> = Vec::new();
        let mut other = Vec::new();
        let mut calls = Vec::new();
        let mut tool_call_id = None;
        for p in parts {
            match p {
                Part::Text(t) => texts.push(Cow::Borrowed(*t)),
                Part::Call {
                    id,
                    name,
                    arguments,
                } => calls.push(Call {
                    id: id.unwrap_or(RawValue::NULL),
                    kind: "function",
                    function: Function {
                        name: name.unwrap_or(RawValue::NULL),
                        arguments: as_text(*arguments),
                    },
                }),
                Part::Response { id, response } => {
                    tool_call_id = tool_call_id.or(*id);
                    texts.push(as_text(*response).unwrap_or(Cow::Borrowed(RawValue::NULL)));
                }
                Part::Other(raw) => other.push(*raw),
            }
        }
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("role", role.unwrap_or(RawValue::NULL))?;
        if !other.is_empty() {
            let mut list: Vec<ContentPart<'_>> = texts
                .into_iter()
                .map(|text| ContentPart::Text { kind: "text", text })
                .collect();
            list.extend(other.into_iter().map(ContentPart::Other));
            m.serialize_entry("content", &list)?;
        } else if texts.len() > 1 {
            let joined: Vec<String> = texts
                .iter()
                .map(|t| serde_json::from_str(t.get()).unwrap_or_else(|_| t.get().to_owned()))
                .collect();
            m.serialize_entry("content", &joined.join("\n"))?;
        } else {
            let one = texts.pop().unwrap_or(Cow::Borrowed(RawValue::NULL));
            m.serialize_entry("content", &one)?;
        }
        if !calls.is_empty() {
            m.serialize_entry("tool_calls", &calls)?;
        }
        for (key, v) in [
            ("tool_call_id", tool_call_id),
            ("finish_reason", *finish_reason),
            ("name", *name),
        ] {
            if let Some(v) = v {
                m.serialize_entry(key, v)?;
            }
        }
        m.end()
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum ContentPart<'a> {
    Text {
        #[serde(rename = "type")]
        kind: &'static str,
        text: Cow<'a, RawValue>,
    },
    Other(&'a RawValue),
}

#[derive(Serialize)]
struct Call<'a> {
    id: &'a RawValue,
    #[serde(rename = "type")]
    kind: &'static str,
    function: Function<'a>,
}

/// A call's function; a call sent without arguments keeps none (not `""`).
#[derive(Serialize)]
struct Function<'a> {
    name: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    arguments: Option<Cow<'a, RawValue>>,
}

/// A JSON string as is; any other JSON as a string holding its text (tool arguments and
/// results are strings in the chat shape); `None` when missing or null.
fn as_text(raw: Option<&RawValue>) -> Option<Cow<'_, RawValue>> {
    let r = raw?;
    match r.get() {
        "null" => None,
        t if t.starts_with('"') => Some(Cow::Borrowed(r)),
        t => to_raw_value(t).ok().map(Cow::Owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(raw: Option<Box<RawValue>>) -> Value {
        serde_json::from_str(raw.unwrap().get()).unwrap()
    }

    #[test]
    fn a_call_without_arguments_keeps_none() {
        let m = json!([{"role": "assistant", "parts": [
            {"type": "tool_call", "id": "c1", "name": "status"},
            {"type": "tool_call", "id": "c2", "name": "scan", "arguments": null}]}]);
        let out = parsed(output(&m));
        for call in out["tool_calls"].as_array().unwrap() {
            assert!(call["function"].get("arguments").is_none(), "{call}");
        }
    }

    #[test]
    fn parts_become_chat_messages() {
        let messages = json!([
            {"role": "user", "parts": [{"type": "text", "content": "When does the \"vault\" open?"}]},
            {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "scan", "arguments": {"floor": 2}}]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": {"cameras": 4}}]},
            {"role": "assistant", "parts": [{"type": "text", "content": "one"}, {"type": "text", "content": "two"}], "finish_reason": "stop"}
        ]);
        let want = json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "When does the \"vault\" open?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "scan", "arguments": "{\"floor\":2}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "{\"cameras\":4}"},
            {"role": "assistant", "content": "one\ntwo", "finish_reason": "stop"}
        ]);
        // JSON text (on spans) or a structured list (in log records); instructions as parts
        // or as plain text: the same.
        let system = json!([{"type": "text", "content": "Be brief."}]);
        for sent in [Value::String(messages.to_string()), messages.clone()] {
            for sys in [
                Value::String(system.to_string()),
                system.clone(),
                json!("Be brief."),
            ] {
                assert_eq!(parsed(input(Some(&sys), &sent)), want);
            }
        }
        assert_eq!(parsed(input(None, &messages))[0], want[1]);
    }

    #[test]
    fn other_parts_and_other_messages_are_kept() {
        let messages = json!([
            {"role": "user", "parts": [{"type": "text", "content": "and?"},
                                       {"type": "uri", "uri": "s3://x", "modality": "image"}]},
            {"role": "user", "content": "not parts", "extra": 1}
        ]);
        let out = parsed(input(None, &messages));
        assert_eq!(
            out[0]["content"],
            json!([{"type": "text", "text": "and?"}, {"type": "uri", "uri": "s3://x", "modality": "image"}])
        );
        assert_eq!(out[1], messages[1]);
        assert!(input(None, &json!("not a list")).is_none());
    }

    #[test]
    fn one_answer_is_an_object_several_a_list() {
        let one = json!([{"role": "assistant", "parts": [{"type": "text", "content": "Midnight."}], "finish_reason": "stop"}]);
        assert_eq!(
            parsed(output(&one)),
            json!({"role": "assistant", "content": "Midnight.", "finish_reason": "stop"})
        );
        let two = json!([one[0], one[0]]);
        assert_eq!(parsed(output(&two)).as_array().unwrap().len(), 2);
        assert!(output(&json!([])).is_none());
    }
}
