//! A streamed response under a gate: events pass on as they come until the first tool call
//! starts; from there every event is held. At the end the held events give the proposed
//! calls, and go out as they came (approved), rewritten with a person's edit in the API's
//! own events (edited), or give way to the API's own error event (stopped).
//!
//! An edit writes a call's whole new arguments into the first event that carried a piece
//! of them and drops the later pieces (OpenAI chat keeps those chunks, with empty pieces,
//! since they may carry more; Anthropic gets one `input_json_delta` with the whole input
//! right after the block's start); summary events (`response.function_call_arguments.done`,
//! `response.output_item.done`, `response.completed`) get the new arguments too.

use super::super::api::Endpoint;
use super::super::sse;
use super::calls::{ToolCall, arguments_in_shape, arguments_text, arguments_value, edit_for};
use bytes::{Bytes, BytesMut};
use serde_json::{Map, Value, json};

/// One held event: its bytes and, when its data is JSON, the data.
struct Event {
    bytes: Bytes,
    data: Option<Value>,
}

/// A call being put together from a stream's pieces, under its key (chat: choice and call
/// index; Responses: output index; Anthropic: content block index).
#[derive(Default)]
struct Assembly {
    key: (u64, u64),
    id: Option<String>,
    name: String,
    arguments: String,
    /// The complete arguments, when a summary event gave them.
    done: Option<String>,
    /// Arguments came as an object (Anthropic's start block), not as pieces.
    object: Option<Value>,
}

/// The events of one streamed response under a gate.
pub struct Held {
    endpoint: Endpoint,
    events: Vec<Event>,
}

fn u(v: &Value, pointer: &str) -> u64 {
    v.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}

fn s<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

impl Held {
    pub fn new(endpoint: Endpoint) -> Held {
        Held {
            endpoint,
            events: Vec::new(),
        }
    }

    /// Whether events are being held.
    pub fn holding(&self) -> bool {
        !self.events.is_empty()
    }

    /// One event of the stream: returned to pass on now, or held (`None`).
    pub fn push(&mut self, bytes: Bytes) -> Option<Bytes> {
        let data = sse::data(&bytes).and_then(|d| serde_json::from_str::<Value>(&d).ok());
        if !self.holding() && !data.as_ref().is_some_and(|d| self.starts_a_call(d)) {
            return Some(bytes);
        }
        self.events.push(Event { bytes, data });
        None
    }

    fn starts_a_call(&self, d: &Value) -> bool {
        match self.endpoint {
            // Any event of a function call (a server may leave out `output_item.added`).
            Endpoint::Responses => match s(d, "/type") {
                Some("response.output_item.added" | "response.output_item.done") => {
                    s(d, "/item/type") == Some("function_call")
                }
                Some(t) => t.starts_with("response.function_call_arguments."),
                None => false,
            },
            Endpoint::Messages => {
                s(d, "/type") == Some("content_block_start")
                    && s(d, "/content_block/type") == Some("tool_use")
            }
            _ => d
                .get("choices")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|c| {
                    c.pointer("/delta/tool_calls")
                        .and_then(Value::as_array)
                        .is_some_and(|t| !t.is_empty())
                }),
        }
    }

    /// The pieces of calls in one event: (key, id, name, arguments piece).
    fn pieces(&self, d: &Value) -> Vec<Piece> {
        let mut out = Vec::new();
        match self.endpoint {
            Endpoint::Responses => match s(d, "/type") {
                Some("response.output_item.added")
                    if s(d, "/item/type") == Some("function_call") =>
                {
                    out.push(Piece::start(
                        (0, u(d, "/output_index")),
                        s(d, "/item/call_id"),
                        s(d, "/item/name"),
                    ));
                }
                Some("response.function_call_arguments.delta") => {
                    out.push(Piece::args((0, u(d, "/output_index")), s(d, "/delta")));
                }
                Some("response.function_call_arguments.done") => {
                    out.push(Piece::done((0, u(d, "/output_index")), s(d, "/arguments")));
                }
                Some("response.output_item.done")
                    if s(d, "/item/type") == Some("function_call") =>
                {
                    out.push(Piece::whole((0, u(d, "/output_index")), &d["item"]));
                }
                Some("response.completed") => {
                    for (i, item) in d
                        .pointer("/response/output")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .enumerate()
                        .filter(|(_, item)| s(item, "/type") == Some("function_call"))
                    {
                        out.push(Piece::whole((0, i as u64), item));
                    }
                }
                _ => {}
            },
            Endpoint::Messages => match s(d, "/type") {
                Some("content_block_start") if s(d, "/content_block/type") == Some("tool_use") => {
                    let mut p = Piece::start(
                        (0, u(d, "/index")),
                        s(d, "/content_block/id"),
                        s(d, "/content_block/name"),
                    );
                    p.object = d.pointer("/content_block/input").cloned();
                    out.push(p);
                }
                Some("content_block_delta") if s(d, "/delta/type") == Some("input_json_delta") => {
                    out.push(Piece::args(
                        (0, u(d, "/index")),
                        s(d, "/delta/partial_json"),
                    ));
                }
                _ => {}
            },
            _ => {
                for choice in d
                    .get("choices")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let c = u(choice, "/index");
                    for call in choice
                        .pointer("/delta/tool_calls")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let mut p = Piece::start(
                            (c, u(call, "/index")),
                            s(call, "/id"),
                            s(call, "/function/name"),
                        );
                        p.arguments = s(call, "/function/arguments").map(str::to_owned);
                        out.push(p);
                    }
                }
            }
        }
        out
    }

    fn assemble(&self) -> Vec<Assembly> {
        let mut calls: Vec<Assembly> = Vec::new();
        for d in self.events.iter().filter_map(|e| e.data.as_ref()) {
            for p in self.pieces(d) {
                let i = match calls.iter().position(|c| c.key == p.key) {
                    Some(i) => i,
                    None => {
                        calls.push(Assembly {
                            key: p.key,
                            ..Assembly::default()
                        });
                        calls.len() - 1
                    }
                };
                let a = &mut calls[i];
                if let Some(id) = p.id {
                    a.id = Some(id);
                }
                match p.name {
                    // A summary names the call whole; pieces add up.
                    Some(name) if p.done.is_some() => a.name = name,
                    Some(name) => a.name.push_str(&name),
                    None => {}
                }
                if let Some(args) = p.arguments {
                    a.arguments.push_str(&args);
                }
                if p.done.is_some() {
                    a.done = p.done;
                }
                if p.object.is_some() {
                    a.object = p.object;
                }
            }
        }
        calls
    }

    /// The calls the held events propose, in order.
    pub fn calls(&self) -> Vec<ToolCall> {
        self.assemble()
            .into_iter()
            .map(|a| {
                let text = a.done.unwrap_or(a.arguments);
                ToolCall {
                    id: a.id,
                    name: a.name,
                    arguments: match (text.trim().is_empty(), a.object) {
                        (true, Some(object)) => object,
                        (true, None) => json!({}),
                        (false, _) => arguments_value(&text),
                    },
                }
            })
            .collect()
    }

    /// The held events as they came.
    pub fn release(self) -> Bytes {
        let mut out = BytesMut::new();
        for e in self.events {
            out.extend_from_slice(&e.bytes);
        }
        out.freeze()
    }

    /// The held events with `edits` written in.
    pub fn edited(self, edits: &[ToolCall]) -> Bytes {
        let calls = self.calls();
        let keys: Vec<(u64, u64)> = self.assemble().iter().map(|a| a.key).collect();
        let mut plan: Vec<(u64, u64, &ToolCall)> = Vec::new();
        for (position, (call, key)) in calls.iter().zip(&keys).enumerate() {
            if let Some(e) = edit_for(edits, call, position) {
                plan.push((key.0, key.1, e));
            }
        }
        let edit_of = |key: (u64, u64)| plan.iter().find(|p| (p.0, p.1) == key).map(|p| p.2);
        let mut written: Vec<(u64, u64)> = Vec::new();
        let mut out = BytesMut::new();
        let endpoint = self.endpoint;
        for e in self.events {
            let Some(mut d) = e.data else {
                out.extend_from_slice(&e.bytes);
                continue;
            };
            let before = d.clone();
            let keep = rewrite(endpoint, &mut d, &edit_of, &mut written);
            let extra = anthropic_input(endpoint, &d, &edit_of, &written);
            if keep {
                if d == before {
                    out.extend_from_slice(&e.bytes);
                } else {
                    out.extend_from_slice(&sse::with_data(&e.bytes, &d.to_string()));
                }
            }
            if let Some((key, extra)) = extra {
                written.push(key);
                out.extend_from_slice(&extra);
            }
        }
        out.freeze()
    }
}

/// A piece of a call found in one event.
#[derive(Default)]
struct Piece {
    key: (u64, u64),
    id: Option<String>,
    name: Option<String>,
    arguments: Option<String>,
    done: Option<String>,
    object: Option<Value>,
}

impl Piece {
    fn start(key: (u64, u64), id: Option<&str>, name: Option<&str>) -> Piece {
        Piece {
            key,
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
            ..Piece::default()
        }
    }

    fn args(key: (u64, u64), piece: Option<&str>) -> Piece {
        Piece {
            key,
            arguments: piece.map(str::to_owned),
            ..Piece::default()
        }
    }

    /// A Responses API `function_call` item, whole: its id, name and arguments.
    fn whole(key: (u64, u64), item: &Value) -> Piece {
        Piece {
            key,
            id: s(item, "/call_id").map(str::to_owned),
            name: s(item, "/name").map(str::to_owned),
            done: s(item, "/arguments").map(str::to_owned),
            ..Piece::default()
        }
    }

    fn done(key: (u64, u64), arguments: Option<&str>) -> Piece {
        Piece {
            key,
            done: arguments.map(str::to_owned),
            ..Piece::default()
        }
    }
}

/// Writes the edits into one event's data; `false` when the event is to be dropped (a later
/// piece of edited arguments). `written` lists the calls whose arguments went out.
fn rewrite<'e>(
    endpoint: Endpoint,
    d: &mut Value,
    edit_of: &impl Fn((u64, u64)) -> Option<&'e ToolCall>,
    written: &mut Vec<(u64, u64)>,
) -> bool {
    let full =
        |e: &ToolCall| arguments_text(&arguments_in_shape(Endpoint::ChatCompletions, &e.arguments));
    match endpoint {
        Endpoint::Responses => {
            let key = (0, u(d, "/output_index"));
            let kind = s(d, "/type").unwrap_or_default().to_owned();
            if kind == "response.completed" {
                for item in d
                    .pointer_mut("/response/output")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .filter_map(|(i, item)| edit_of((0, i as u64)).map(|e| (item, e)))
                {
                    item.0["name"] = json!(item.1.name);
                    item.0["arguments"] = json!(full(item.1));
                }
                return true;
            }
            let Some(e) = edit_of(key) else { return true };
            match kind.as_str() {
                "response.output_item.added" => d["item"]["name"] = json!(e.name),
                "response.function_call_arguments.delta" => {
                    if written.contains(&key) {
                        return false;
                    }
                    written.push(key);
                    d["delta"] = json!(full(e));
                }
                "response.function_call_arguments.done" => d["arguments"] = json!(full(e)),
                "response.output_item.done" => {
                    d["item"]["name"] = json!(e.name);
                    d["item"]["arguments"] = json!(full(e));
                }
                _ => {}
            }
            true
        }
        Endpoint::Messages => {
            let key = (0, u(d, "/index"));
            let Some(e) = edit_of(key) else { return true };
            match s(d, "/type") {
                Some("content_block_start") if s(d, "/content_block/type") == Some("tool_use") => {
                    d["content_block"]["name"] = json!(e.name);
                }
                // The whole input went out right after the block's start.
                Some("content_block_delta") if s(d, "/delta/type") == Some("input_json_delta") => {
                    return false;
                }
                _ => {}
            }
            true
        }
        _ => {
            for choice in d
                .get_mut("choices")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                let c = u(choice, "/index");
                for call in choice
                    .pointer_mut("/delta/tool_calls")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    let key = (c, u(call, "/index"));
                    let Some(e) = edit_of(key) else { continue };
                    let Some(Value::Object(f)) = call.get_mut("function") else {
                        continue;
                    };
                    if f.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| !n.is_empty())
                    {
                        f.insert("name".into(), json!(e.name));
                        if !f.contains_key("arguments") && !written.contains(&key) {
                            f.insert("arguments".into(), json!(""));
                        }
                    }
                    if f.contains_key("arguments") {
                        let text = if written.contains(&key) {
                            String::new()
                        } else {
                            written.push(key);
                            full(e)
                        };
                        f.insert("arguments".into(), json!(text));
                    }
                }
            }
            true
        }
    }
}

/// Anthropic only: after an edited tool block's start, one `input_json_delta` with the whole
/// edited input (the block's own pieces are dropped).
fn anthropic_input<'e>(
    endpoint: Endpoint,
    d: &Value,
    edit_of: &impl Fn((u64, u64)) -> Option<&'e ToolCall>,
    written: &[(u64, u64)],
) -> Option<((u64, u64), Bytes)> {
    if endpoint != Endpoint::Messages || s(d, "/type") != Some("content_block_start") {
        return None;
    }
    let key = (0, u(d, "/index"));
    let e = edit_of(key)?;
    if written.contains(&key) {
        return None;
    }
    let object = arguments_in_shape(Endpoint::Messages, &e.arguments);
    let mut delta = Map::new();
    delta.insert("type".into(), json!("content_block_delta"));
    delta.insert("index".into(), json!(key.1));
    delta.insert(
        "delta".into(),
        json!({"type": "input_json_delta", "partial_json": object.to_string()}),
    );
    Some((
        key,
        Bytes::from(format!(
            "event: content_block_delta\ndata: {}\n\n",
            Value::Object(delta)
        )),
    ))
}

/// The API's own error event, which its client libraries raise as an error.
pub fn error_event(endpoint: Endpoint, code: &str, message: &str) -> Bytes {
    let text = match endpoint {
        Endpoint::Messages => format!(
            "event: error\ndata: {}\n\n",
            json!({"type": "error", "error": {"type": code, "message": message}})
        ),
        Endpoint::Responses => format!(
            "event: error\ndata: {}\n\n",
            json!({"type": "error", "code": code, "message": message, "param": null,
                   "error": {"type": code, "code": code, "message": message}})
        ),
        _ => format!(
            "data: {}\n\n",
            json!({"error": {"message": message, "type": code, "code": code, "param": null}})
        ),
    };
    Bytes::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(endpoint: Endpoint, events: &[String]) -> (Held, Vec<Bytes>) {
        let mut held = Held::new(endpoint);
        let passed = events
            .iter()
            .filter_map(|e| held.push(Bytes::from(e.clone())))
            .collect();
        (held, passed)
    }

    fn data_of(bytes: &Bytes) -> Vec<Value> {
        let mut splitter = sse::EventSplitter::default();
        splitter
            .push(bytes)
            .iter()
            .filter_map(|e| sse::data(e))
            .filter_map(|d| serde_json::from_str(&d).ok())
            .collect()
    }

    fn chat_events() -> Vec<String> {
        let chunk = |delta: Value| {
            format!(
                "data: {}\n\n",
                json!({"choices": [{"index": 0, "delta": delta}]})
            )
        };
        vec![
            chunk(json!({"role": "assistant", "content": "Let me "})),
            chunk(json!({"content": "clean up."})),
            chunk(
                json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "delete_file", "arguments": ""}}]}),
            ),
            chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"path\":"}}]})),
            chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": " \"/etc\"}"}}]})),
            format!(
                "data: {}\n\n",
                json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
            ),
            "data: [DONE]\n\n".to_owned(),
        ]
    }

    #[test]
    fn chat_text_passes_and_the_call_is_held_then_edited() {
        let (held, passed) = feed(Endpoint::ChatCompletions, &chat_events());
        assert_eq!(passed.len(), 2, "the text before the call streams at once");
        let calls = held.calls();
        assert_eq!(calls[0].name, "delete_file");
        assert_eq!(calls[0].arguments, json!({"path": "/etc"}));
        let edit = ToolCall {
            arguments: json!({"path": "/tmp/x"}),
            ..calls[0].clone()
        };
        let out = held.edited(&[edit]);
        assert!(out.ends_with(b"data: [DONE]\n\n"));
        let mut args = String::new();
        for d in data_of(&out) {
            if let Some(a) = s(&d, "/choices/0/delta/tool_calls/0/function/arguments") {
                args.push_str(a);
            }
        }
        assert_eq!(arguments_value(&args), json!({"path": "/tmp/x"}));
    }

    #[test]
    fn approved_events_go_out_byte_for_byte() {
        let events = chat_events();
        let (held, passed) = feed(Endpoint::ChatCompletions, &events);
        let mut all: Vec<u8> = passed.iter().flat_map(|b| b.to_vec()).collect();
        all.extend_from_slice(&held.release());
        assert_eq!(all, events.concat().into_bytes());
    }

    #[test]
    fn responses_edits_reach_pieces_and_summaries() {
        let ev = |t: &str, d: Value| {
            let mut d = d;
            d["type"] = json!(t);
            format!("event: {t}\ndata: {d}\n\n")
        };
        let item = json!({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "git_push", "arguments": ""});
        let events = vec![
            ev("response.created", json!({"response": {"id": "r"}})),
            ev(
                "response.output_item.added",
                json!({"output_index": 0, "item": item}),
            ),
            ev(
                "response.function_call_arguments.delta",
                json!({"output_index": 0, "item_id": "fc_1", "delta": "{\"force\""}),
            ),
            ev(
                "response.function_call_arguments.delta",
                json!({"output_index": 0, "item_id": "fc_1", "delta": ":true}"}),
            ),
            ev(
                "response.function_call_arguments.done",
                json!({"output_index": 0, "item_id": "fc_1", "arguments": "{\"force\":true}"}),
            ),
            ev(
                "response.output_item.done",
                json!({"output_index": 0, "item": {"type": "function_call", "call_id": "call_1", "name": "git_push", "arguments": "{\"force\":true}"}}),
            ),
            ev(
                "response.completed",
                json!({"response": {"output": [{"type": "function_call", "call_id": "call_1", "name": "git_push", "arguments": "{\"force\":true}"}]}}),
            ),
        ];
        let (held, passed) = feed(Endpoint::Responses, &events);
        assert_eq!(passed.len(), 1);
        let calls = held.calls();
        assert_eq!(calls[0].arguments, json!({"force": true}));
        let out = held.edited(&[ToolCall {
            arguments: json!({"force": false}),
            ..calls[0].clone()
        }]);
        let data = data_of(&out);
        let deltas: Vec<&Value> = data
            .iter()
            .filter(|d| s(d, "/type") == Some("response.function_call_arguments.delta"))
            .collect();
        assert_eq!(deltas.len(), 1);
        assert_eq!(deltas[0]["delta"], "{\"force\":false}");
        let completed = data
            .iter()
            .find(|d| s(d, "/type") == Some("response.completed"))
            .unwrap();
        assert_eq!(
            completed["response"]["output"][0]["arguments"],
            "{\"force\":false}"
        );
        assert!(
            std::str::from_utf8(&out)
                .unwrap()
                .contains("event: response.output_item.done\n")
        );
    }

    #[test]
    fn anthropic_edits_replace_input_pieces_or_add_one() {
        let ev = |t: &str, d: Value| {
            let mut d = d;
            d["type"] = json!(t);
            format!("event: {t}\ndata: {d}\n\n")
        };
        let start = |i: u64, name: &str| {
            ev(
                "content_block_start",
                json!({"index": i, "content_block": {"type": "tool_use", "id": format!("toolu_{i}"), "name": name, "input": {}}}),
            )
        };
        let events = vec![
            ev("message_start", json!({"message": {"id": "m"}})),
            ev(
                "content_block_start",
                json!({"index": 0, "content_block": {"type": "text", "text": ""}}),
            ),
            ev(
                "content_block_delta",
                json!({"index": 0, "delta": {"type": "text_delta", "text": "Deleting."}}),
            ),
            ev("content_block_stop", json!({"index": 0})),
            start(1, "delete_file"),
            ev(
                "content_block_delta",
                json!({"index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"path\": "}}),
            ),
            ev(
                "content_block_delta",
                json!({"index": 1, "delta": {"type": "input_json_delta", "partial_json": "\"/\"}"}}),
            ),
            ev("content_block_stop", json!({"index": 1})),
            start(2, "ls"),
            ev("content_block_stop", json!({"index": 2})),
            ev("message_stop", json!({})),
        ];
        let (held, passed) = feed(Endpoint::Messages, &events);
        assert_eq!(passed.len(), 4);
        let calls = held.calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].arguments, json!({"path": "/"}));
        assert_eq!(calls[1].arguments, json!({}));
        let edits = vec![
            ToolCall {
                arguments: json!({"path": "/tmp"}),
                ..calls[0].clone()
            },
            ToolCall {
                arguments: json!({"all": true}),
                ..calls[1].clone()
            },
        ];
        let data = data_of(&held.edited(&edits));
        let pieces = |i: u64| -> String {
            data.iter()
                .filter(|d| s(d, "/type") == Some("content_block_delta") && u(d, "/index") == i)
                .filter_map(|d| s(d, "/delta/partial_json").map(str::to_owned))
                .collect()
        };
        assert_eq!(arguments_value(&pieces(1)), json!({"path": "/tmp"}));
        assert_eq!(arguments_value(&pieces(2)), json!({"all": true}));
        let order: Vec<&str> = data.iter().filter_map(|d| s(d, "/type")).collect();
        assert_eq!(
            order[order.len() - 4..],
            [
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_stop"
            ]
        );
    }

    #[test]
    fn error_events_are_what_each_client_raises() {
        let chat = error_event(Endpoint::ChatCompletions, "review_exit_early", "stopped");
        assert_eq!(data_of(&chat)[0]["error"]["message"], "stopped");
        let anthropic = error_event(Endpoint::Messages, "review_exit_early", "stopped");
        assert!(anthropic.starts_with(b"event: error\n"));
        assert_eq!(data_of(&anthropic)[0]["error"]["message"], "stopped");
    }
}
