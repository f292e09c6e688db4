//! The request an LLM span recorded, rebuilt as the body its API takes. It reverses the
//! proxy's reading (`proxy::api::read_request`), which keeps the model, the messages as
//! `input` (Anthropic's `system` and the Responses API's `instructions` folded in as a
//! leading system message) and every other key of the request in `params`, tools and
//! `tool_choice` included. SDK and OTLP spans rebuild as chat completions (or Anthropic
//! messages when the span names Anthropic) from whatever messages and parameters they carry.
//!
//! A call that went through the proxy has its exact request stored with its exchange
//! (`Store::exchange`); [`request`] takes that body as it was sent (less `stream` and
//! `stream_options`, which each run sets), and [`request_of`] rebuilds the rest.

use crate::proxy::api::Endpoint;
use crate::proxy::config::ApiKind;
use flightdeck_model::record::SpanDetail;
use flightdeck_store::Store;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

/// A request ready to send: which endpoint, and its body.
#[derive(Debug, PartialEq)]
pub struct Request {
    pub endpoint: Endpoint,
    pub body: Map<String, Value>,
}

/// The API a span's call was made on.
pub fn endpoint_of(span: &SpanDetail) -> Endpoint {
    match span.summary.name.as_str() {
        "chat.completions" => Endpoint::ChatCompletions,
        "responses" => Endpoint::Responses,
        "messages" => Endpoint::Messages,
        _ => {
            let system = span.attributes.get("gen_ai.system").and_then(Value::as_str);
            let named = [
                span.provider.as_deref(),
                system,
                span.summary.model.as_deref(),
            ];
            if named.iter().flatten().any(|n| {
                let n = n.to_ascii_lowercase();
                n.contains("anthropic") || n.contains("claude")
            }) {
                Endpoint::Messages
            } else {
                Endpoint::ChatCompletions
            }
        }
    }
}

/// The kind of upstream that speaks `endpoint`.
pub fn kind_of(endpoint: Endpoint) -> ApiKind {
    match endpoint {
        Endpoint::Messages => ApiKind::Anthropic,
        _ => ApiKind::Openai,
    }
}

fn parse(raw: Option<&RawValue>) -> Value {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
        .unwrap_or(Value::Null)
}

/// The request of `span`: the exact body the proxy recorded for it when there is one (and it
/// was not cut), else the one [`request_of`] rebuilds.
pub async fn request(store: &dyn Store, span: &SpanDetail) -> Request {
    let rebuilt = request_of(span);
    let s = &span.summary;
    let exact = store
        .exchange(&s.session_id, &s.span_id)
        .await
        .ok()
        .flatten()
        .filter(|x| !x.truncated)
        .and_then(|x| serde_json::from_slice::<Map<String, Value>>(&x.request).ok());
    match exact {
        Some(mut body) => {
            body.remove("stream");
            body.remove("stream_options");
            Request {
                endpoint: rebuilt.endpoint,
                body,
            }
        }
        None => rebuilt,
    }
}

/// The request `span` recorded, rebuilt as its API's body.
pub fn request_of(span: &SpanDetail) -> Request {
    let endpoint = endpoint_of(span);
    let mut body = match parse(span.params.as_deref()) {
        Value::Object(params) => params,
        _ => Map::new(),
    };
    let mut messages = match parse(span.input.as_deref()) {
        Value::Array(list) => list,
        Value::Null => Vec::new(),
        other => vec![json!({"role": "user", "content": other})],
    };
    if let Some(model) = &span.summary.model {
        body.insert("model".into(), model.clone().into());
    }
    let leading_system = |messages: &mut Vec<Value>| {
        let first = messages.first()?;
        (first.get("role")? == "system").then(|| messages.remove(0)["content"].take())
    };
    let (system_key, list_key) = match endpoint {
        Endpoint::Messages => (Some("system"), "messages"),
        Endpoint::Responses => (Some("instructions"), "input"),
        _ => (None, "messages"),
    };
    if let Some(key) = system_key
        && let Some(system) = leading_system(&mut messages)
    {
        body.insert(key.into(), system);
    }
    body.insert(list_key.into(), Value::Array(messages));
    Request { endpoint, body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::api::read_request;

    fn span(name: &str, request: &Value) -> SpanDetail {
        let endpoint = match name {
            "messages" => Endpoint::Messages,
            "responses" => Endpoint::Responses,
            _ => Endpoint::ChatCompletions,
        };
        let read = read_request(endpoint, request.to_string().as_bytes()).unwrap();
        let raw = |v: &Value| Some(RawValue::from_string(v.to_string()).unwrap());
        serde_json::from_value(json!({
            "session_id": "s", "span_id": "a", "kind": "llm", "name": name, "status": "ok",
            "model": read.model, "attributes": {}, "scores": {},
        }))
        .map(|mut d: SpanDetail| {
            d.input = read.input.as_ref().and_then(raw);
            d.params = raw(&Value::Object(read.params));
            d
        })
        .unwrap()
    }

    /// What the proxy read from a request, rebuilt, is the request (less `stream`).
    #[test]
    fn the_proxys_reading_is_reversed_for_each_api() {
        let tools = json!([{"type": "function", "function": {"name": "search",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}]);
        let cases = [
            (
                "chat.completions",
                json!({"model": "gpt-4o", "messages": [{"role": "system", "content": "brief"},
                    {"role": "user", "content": "hi"}], "tools": tools, "tool_choice": "auto",
                    "temperature": 0.3, "response_format": {"type": "json_object"}}),
            ),
            (
                "messages",
                json!({"model": "claude-sonnet-4", "system": "brief", "max_tokens": 64,
                    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
                    "tools": [{"name": "search", "input_schema": {"type": "object"}}]}),
            ),
            (
                "responses",
                json!({"model": "gpt-4o", "instructions": "brief",
                    "input": [{"role": "user", "content": "hi"}], "tools": tools}),
            ),
        ];
        for (name, sent) in cases {
            let mut with_stream = sent.clone();
            with_stream["stream"] = true.into();
            let rebuilt = request_of(&span(name, &with_stream));
            assert_eq!(Value::Object(rebuilt.body), sent, "{name}");
        }
    }

    #[test]
    fn an_sdk_span_with_text_input_becomes_a_chat_request() {
        let mut s = span(
            "chat.completions",
            &json!({"model": "claude-3-haiku", "messages": []}),
        );
        s.summary.name = "llm call".into();
        s.input = Some(RawValue::from_string("\"plan the heist\"".into()).unwrap());
        let r = request_of(&s);
        assert_eq!(r.endpoint, Endpoint::Messages);
        assert_eq!(
            r.body["messages"],
            json!([{"role": "user", "content": "plan the heist"}])
        );
    }
}
