//! Reading LLM calls for recording: which endpoint a request is, what it asked (model,
//! messages, parameters), and what came back (output, token usage), for plain and streamed
//! responses of the OpenAI (chat completions, responses, completions, embeddings) and
//! Anthropic (messages) APIs. Nothing here is on the request path: the recorder calls it.

use super::config::ApiKind;
use flightdeck_model::Usage;
use serde_json::{Map, Value, json};

/// An endpoint whose calls are recorded as LLM spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    ChatCompletions,
    Responses,
    Completions,
    Embeddings,
    Messages,
}

impl Endpoint {
    /// The endpoint of a POST to `path` on an upstream of `kind`, if it is one we record.
    pub fn detect(kind: ApiKind, path: &str) -> Option<Endpoint> {
        let path = path.trim_end_matches('/');
        match kind {
            ApiKind::Openai if path.ends_with("/chat/completions") => {
                Some(Endpoint::ChatCompletions)
            }
            ApiKind::Openai if path.ends_with("/responses") => Some(Endpoint::Responses),
            ApiKind::Openai if path.ends_with("/completions") => Some(Endpoint::Completions),
            ApiKind::Openai if path.ends_with("/embeddings") => Some(Endpoint::Embeddings),
            ApiKind::Anthropic if path.ends_with("/messages") => Some(Endpoint::Messages),
            _ => None,
        }
    }

    /// The path of the endpoint under an upstream's base URL, for calls Flightdeck makes
    /// itself (`direct`); `None` for endpoints it only records.
    pub fn path(self) -> Option<&'static str> {
        match self {
            Endpoint::ChatCompletions => Some("/v1/chat/completions"),
            Endpoint::Responses => Some("/v1/responses"),
            Endpoint::Messages => Some("/v1/messages"),
            Endpoint::Completions | Endpoint::Embeddings => None,
        }
    }

    /// The span name of a call.
    pub fn span_name(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat.completions",
            Endpoint::Responses => "responses",
            Endpoint::Completions => "completions",
            Endpoint::Embeddings => "embeddings",
            Endpoint::Messages => "messages",
        }
    }
}

/// What a request asked for.
#[derive(Debug, Default, PartialEq)]
pub struct Request {
    pub model: Option<String>,
    pub stream: bool,
    /// The client asked for usage in the stream itself (`stream_options.include_usage`).
    pub wants_stream_usage: bool,
    /// The conversation, as a message list where the API has one.
    pub input: Option<Value>,
    /// Every other field of the request (temperature, tools, max_tokens ...).
    pub params: Map<String, Value>,
}

const NOT_PARAMS: [&str; 9] = [
    "model",
    "messages",
    "input",
    "prompt",
    "system",
    "instructions",
    "stream",
    "stream_options",
    "user",
];

/// Reads a request body; `None` if it is not a JSON object.
pub fn read_request(endpoint: Endpoint, body: &[u8]) -> Option<Request> {
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    let system = |obj: &mut Map<String, Value>, key| {
        obj.get(key)
            .filter(|v| !v.is_null())
            .map(|s| json!({"role": "system", "content": s}))
    };
    let input = match endpoint {
        Endpoint::ChatCompletions => obj.get("messages").cloned(),
        Endpoint::Messages => {
            let mut list: Vec<Value> = system(&mut obj, "system").into_iter().collect();
            if let Some(Value::Array(m)) = obj.get("messages") {
                list.extend(m.iter().cloned());
            }
            Some(Value::Array(list))
        }
        Endpoint::Responses => {
            let mut list: Vec<Value> = system(&mut obj, "instructions").into_iter().collect();
            match obj.get("input") {
                Some(Value::Array(items)) => list.extend(items.iter().cloned()),
                Some(text) => list.push(json!({"role": "user", "content": text})),
                None => {}
            }
            Some(Value::Array(list))
        }
        Endpoint::Completions => obj.get("prompt").cloned(),
        Endpoint::Embeddings => obj.get("input").cloned(),
    };
    let stream = obj.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let wants_stream_usage = obj
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let model = obj.get("model").and_then(Value::as_str).map(str::to_owned);
    for key in NOT_PARAMS {
        obj.remove(key);
    }
    Some(Request {
        model,
        stream,
        wants_stream_usage,
        input,
        params: obj,
    })
}

/// What a response said.
#[derive(Debug, Default, PartialEq)]
pub struct Response {
    pub output: Option<Value>,
    pub usage: Option<Usage>,
    pub model: Option<String>,
    /// An error the API reported in the body (for failed calls and error events).
    pub error: Option<String>,
}

fn tokens(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// Usage in either naming (`prompt_tokens` / `input_tokens`).
fn usage(v: Option<&Value>) -> Option<Usage> {
    let u = v.filter(|u| u.is_object())?;
    Some(Usage {
        input_tokens: tokens(u, "prompt_tokens").max(tokens(u, "input_tokens")),
        output_tokens: tokens(u, "completion_tokens").max(tokens(u, "output_tokens")),
    })
}

fn error_text(v: &Value) -> Option<String> {
    let e = v.get("error")?;
    Some(
        e.get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| e.to_string()),
    )
}

/// Reads a whole (not streamed) response body.
pub fn read_response(endpoint: Endpoint, body: &[u8]) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Response::default();
    };
    let output = match endpoint {
        Endpoint::ChatCompletions => v.pointer("/choices/0/message").cloned(),
        Endpoint::Completions => v.pointer("/choices/0/text").cloned(),
        Endpoint::Responses => v.get("output").cloned(),
        Endpoint::Embeddings => v.get("data").and_then(Value::as_array).map(|d| {
            let dims = d
                .first()
                .and_then(|e| e.get("embedding"))
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            json!({"embeddings": d.len(), "dimensions": dims})
        }),
        Endpoint::Messages => v
            .get("content")
            .map(|c| json!({"role": "assistant", "content": c})),
    };
    Response {
        output,
        usage: usage(v.get("usage")),
        model: v.get("model").and_then(Value::as_str).map(str::to_owned),
        error: error_text(&v),
    }
}

/// A streamed response, read event by event.
#[derive(Debug, Default)]
pub struct Stream {
    text: String,
    tool_calls: Vec<Value>,
    /// The complete output when the API sends it at the end (Responses API).
    final_output: Option<Value>,
    pub usage: Option<Usage>,
    pub model: Option<String>,
    pub error: Option<String>,
}

impl Stream {
    /// Reads one event's data; returns the text it adds to the output, if any.
    pub fn event(&mut self, endpoint: Endpoint, data: &str) -> Option<String> {
        let v: Value = serde_json::from_str(data).ok()?;
        if let Some(e) = error_text(&v) {
            self.error = Some(e);
            return None;
        }
        if let Some(m) = v.get("model").and_then(Value::as_str) {
            self.model = Some(m.to_owned());
        }
        let delta = match endpoint {
            Endpoint::ChatCompletions | Endpoint::Completions => {
                if let Some(u) = usage(v.get("usage")) {
                    self.usage = Some(u);
                }
                if let Some(calls) = v
                    .pointer("/choices/0/delta/tool_calls")
                    .and_then(Value::as_array)
                {
                    self.merge_tool_calls(calls);
                }
                v.pointer("/choices/0/delta/content")
                    .or_else(|| v.pointer("/choices/0/text"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            }
            Endpoint::Responses => match v.get("type").and_then(Value::as_str) {
                Some("response.output_text.delta") => {
                    v.get("delta").and_then(Value::as_str).map(str::to_owned)
                }
                Some("response.completed") => {
                    self.usage = usage(v.pointer("/response/usage"));
                    self.final_output = v.pointer("/response/output").cloned();
                    if let Some(m) = v.pointer("/response/model").and_then(Value::as_str) {
                        self.model = Some(m.to_owned());
                    }
                    None
                }
                _ => None,
            },
            Endpoint::Messages => match v.get("type").and_then(Value::as_str) {
                Some("message_start") => {
                    self.usage = usage(v.pointer("/message/usage"));
                    if let Some(m) = v.pointer("/message/model").and_then(Value::as_str) {
                        self.model = Some(m.to_owned());
                    }
                    None
                }
                Some("content_block_start") => {
                    let block = &v["content_block"];
                    if block["type"] == "tool_use" {
                        self.tool_calls
                            .push(json!({"id": block["id"], "type": "function",
                            "function": {"name": block["name"], "arguments": ""}}));
                    }
                    None
                }
                // A tool call's input arrives as pieces of JSON text: they are its arguments.
                Some("content_block_delta") => match v.pointer("/delta/partial_json") {
                    Some(Value::String(part)) if !self.tool_calls.is_empty() => {
                        let n = self.tool_calls.len() - 1;
                        let slot = &mut self.tool_calls[n]["function"]["arguments"];
                        let old = slot.as_str().unwrap_or_default().to_owned();
                        *slot = Value::String(old + part);
                        None
                    }
                    _ => v
                        .pointer("/delta/text")
                        .or_else(|| v.pointer("/delta/partial_json"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                },
                Some("message_delta") => {
                    if let Some(out) = v.pointer("/usage/output_tokens").and_then(Value::as_u64) {
                        let u = self.usage.get_or_insert_with(Usage::default);
                        u.output_tokens = out;
                    }
                    None
                }
                _ => None,
            },
            Endpoint::Embeddings => None,
        };
        if let Some(d) = &delta {
            self.text.push_str(d);
        }
        delta
    }

    fn merge_tool_calls(&mut self, calls: &[Value]) {
        for call in calls {
            let index = call.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
            while self.tool_calls.len() <= index {
                self.tool_calls
                    .push(json!({"type": "function", "function": {"name": "", "arguments": ""}}));
            }
            let slot = &mut self.tool_calls[index];
            if let Some(id) = call.get("id") {
                slot["id"] = id.clone();
            }
            for key in ["name", "arguments"] {
                if let Some(part) = call
                    .pointer(&format!("/function/{key}"))
                    .and_then(Value::as_str)
                {
                    let old = slot["function"][key].as_str().unwrap_or("").to_owned();
                    slot["function"][key] = Value::String(old + part);
                }
            }
        }
    }

    /// The output of the whole stream.
    pub fn output(&mut self, endpoint: Endpoint) -> Value {
        if let Some(out) = self.final_output.take() {
            return out;
        }
        match endpoint {
            Endpoint::Completions => Value::String(std::mem::take(&mut self.text)),
            _ => {
                let mut message =
                    json!({"role": "assistant", "content": std::mem::take(&mut self.text)});
                if !self.tool_calls.is_empty() {
                    message["tool_calls"] = Value::Array(std::mem::take(&mut self.tool_calls));
                }
                message
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_recorded_endpoints() {
        assert_eq!(
            Endpoint::detect(ApiKind::Openai, "/v1/chat/completions"),
            Some(Endpoint::ChatCompletions)
        );
        assert_eq!(
            Endpoint::detect(ApiKind::Openai, "/v1/completions"),
            Some(Endpoint::Completions)
        );
        assert_eq!(Endpoint::detect(ApiKind::Openai, "/v1/models"), None);
        assert_eq!(
            Endpoint::detect(ApiKind::Anthropic, "/v1/messages"),
            Some(Endpoint::Messages)
        );
        assert_eq!(
            Endpoint::detect(ApiKind::Anthropic, "/v1/chat/completions"),
            None
        );
    }

    #[test]
    fn reads_requests_of_each_api() {
        let r = read_request(
            Endpoint::ChatCompletions,
            br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"stream":true,"stream_options":{"include_usage":true}}"#,
        )
        .unwrap();
        assert_eq!(r.model.as_deref(), Some("gpt-4o"));
        assert!(r.stream && r.wants_stream_usage);
        assert_eq!(r.input.unwrap()[0]["content"], "hi");
        assert_eq!(r.params.keys().collect::<Vec<_>>(), ["temperature"]);

        let r = read_request(
            Endpoint::Messages,
            br#"{"model":"claude-sonnet-4","system":"be brief","messages":[{"role":"user","content":"hi"}],"max_tokens":10}"#,
        )
        .unwrap();
        assert_eq!(r.input.unwrap()[0]["role"], "system");
        assert!(read_request(Endpoint::ChatCompletions, b"not json").is_none());
    }

    #[test]
    fn reads_streams_of_each_api() {
        let mut s = Stream::default();
        for data in [
            r#"{"model":"gpt-4o","choices":[{"delta":{"content":"Hel"}}],"usage":null}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"grep","arguments":"{\"q\""}}]}}]}"#,
            r#"{"choices":[{"delta":{"content":"lo","tool_calls":[{"index":0,"function":{"arguments":":1}"}}]}}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
        ] {
            s.event(Endpoint::ChatCompletions, data);
        }
        assert_eq!(
            s.usage,
            Some(Usage {
                input_tokens: 5,
                output_tokens: 2
            })
        );
        let out = s.output(Endpoint::ChatCompletions);
        assert_eq!(out["content"], "Hello");
        assert_eq!(out["tool_calls"][0]["function"]["arguments"], "{\"q\":1}");

        let mut s = Stream::default();
        for data in [
            r#"{"type":"message_start","message":{"model":"claude-sonnet-4","usage":{"input_tokens":9,"output_tokens":1}}}"#,
            r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"Hi"}}"#,
            r#"{"type":"message_delta","usage":{"output_tokens":3}}"#,
        ] {
            s.event(Endpoint::Messages, data);
        }
        assert_eq!(
            s.usage,
            Some(Usage {
                input_tokens: 9,
                output_tokens: 3
            })
        );
        assert_eq!(s.output(Endpoint::Messages)["content"], "Hi");

        let mut s = Stream::default();
        for data in [
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t1","name":"grep","input":{}}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"q\""}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":":1}"}}"#,
        ] {
            assert_eq!(s.event(Endpoint::Messages, data), None, "not text: {data}");
        }
        let out = s.output(Endpoint::Messages);
        assert_eq!(out["tool_calls"][0]["function"]["name"], "grep");
        assert_eq!(out["tool_calls"][0]["function"]["arguments"], "{\"q\":1}");

        let mut s = Stream::default();
        s.event(
            Endpoint::Messages,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        assert_eq!(s.error.as_deref(), Some("Overloaded"));
    }

    #[test]
    fn reads_whole_responses() {
        let r = read_response(
            Endpoint::ChatCompletions,
            br#"{"model":"gpt-4o-2024","choices":[{"message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#,
        );
        assert_eq!(r.output.unwrap()["content"], "ok");
        assert_eq!(r.usage.unwrap().input_tokens, 3);
        let r = read_response(
            Endpoint::Embeddings,
            br#"{"data":[{"embedding":[0.1,0.2,0.3]}],"usage":{"prompt_tokens":4}}"#,
        );
        assert_eq!(r.output.unwrap()["dimensions"], 3);
        let r = read_response(
            Endpoint::ChatCompletions,
            br#"{"error":{"message":"bad key"}}"#,
        );
        assert_eq!(r.error.as_deref(), Some("bad key"));
    }
}
