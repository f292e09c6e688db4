//! A fake LLM server that speaks the OpenAI (chat completions, embeddings, models) and
//! Anthropic (messages) APIs on loopback, with fixed answers, so that a direct call and a
//! proxied one can be compared byte for byte. It behaves like the real APIs where clients
//! can tell: `stream_options.include_usage` adds `"usage":null` to every chunk and a final
//! usage chunk; errors are JSON bodies with the real status codes.
//!
//! A request that offers tools, in a conversation with no tool result yet, is answered with a
//! short text and a call of the first tool offered (arguments [`TOOL_ARGUMENTS`], streamed
//! in pieces), as an agent's model would answer.
//!
//! Models with special names misbehave on purpose: `fail-429` and `fail-500` answer with
//! that status, `cut-stream` breaks the connection after two chunks. A [`Style`] makes it
//! write its streams the way other OpenAI-compatible servers do (spaced JSON, CRLF line
//! ends, one byte per write, `stream_options` ignored), so the proxy can be held to passing
//! on any of them as a direct call would see it.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the fake behaves.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Wait this long before answering (and between stream chunks: a tenth of it).
    pub latency: Duration,
    /// Give each response an id of its own (`chatcmpl-fake-N`, `msg_fake_N`), as the real
    /// APIs do; by default every response has the same id, so answers compare byte for byte.
    pub unique_ids: bool,
    /// How streamed answers are written.
    pub style: Style,
}

/// How a streamed answer is written, as servers other than OpenAI's write them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// JSON as Python's `json.dumps` writes it by default: `{"a": 1, "b": [1, 2]}`.
    pub spaced: bool,
    /// Lines end with CRLF instead of LF.
    pub crlf: bool,
    /// Every byte of the stream is written (and flushed) on its own.
    pub byte_per_write: bool,
    /// `stream_options.include_usage` is ignored: no usage in the stream.
    pub ignores_stream_options: bool,
}

impl Style {
    fn json(self, v: &Value) -> String {
        if !self.spaced {
            return v.to_string();
        }
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, Spaced);
        serde::Serialize::serialize(v, &mut ser).expect("a Value serialises");
        String::from_utf8(out).expect("JSON is UTF-8")
    }

    /// An SSE event: an optional `event:` line, a `data:` line, and a blank line.
    fn event(self, name: Option<&str>, data: &str) -> String {
        let nl = if self.crlf { "\r\n" } else { "\n" };
        match name {
            Some(name) => format!("event: {name}{nl}data: {data}{nl}{nl}"),
            None => format!("data: {data}{nl}{nl}"),
        }
    }
}

/// Python's default JSON separators: `", "` between items and `": "` after keys.
struct Spaced;

impl serde_json::ser::Formatter for Spaced {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

/// A running fake; the headers of the last request are kept for inspection.
pub struct FakeLlm {
    pub addr: SocketAddr,
    last_headers: Arc<Mutex<HeaderMap>>,
}

impl FakeLlm {
    /// Starts on a free loopback port.
    pub async fn start(options: Options) -> std::io::Result<FakeLlm> {
        Self::start_at(([127, 0, 0, 1], 0).into(), options).await
    }

    /// Starts at `addr` (port 0: a free one).
    pub async fn start_at(addr: SocketAddr, options: Options) -> std::io::Result<FakeLlm> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let last_headers = Arc::new(Mutex::new(HeaderMap::new()));
        let state = Fake {
            options,
            last_headers: Arc::clone(&last_headers),
            responses: Arc::new(AtomicU64::new(0)),
        };
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/embeddings", post(embeddings))
            .route("/v1/messages", post(messages))
            .route("/v1/models", get(models))
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(FakeLlm { addr, last_headers })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The headers of the last request received.
    pub fn last_headers(&self) -> HeaderMap {
        self.last_headers
            .lock()
            .map(|h| h.clone())
            .unwrap_or_default()
    }
}

#[derive(Clone)]
struct Fake {
    options: Options,
    last_headers: Arc<Mutex<HeaderMap>>,
    responses: Arc<AtomicU64>,
}

impl Fake {
    async fn arrive(&self, headers: &HeaderMap) {
        if let Ok(mut h) = self.last_headers.lock() {
            *h = headers.clone();
        }
        if !self.options.latency.is_zero() {
            tokio::time::sleep(self.options.latency).await;
        }
    }

    /// The id of the next response: `base`, or `base` and a number with `unique_ids`.
    fn response_id(&self, base: &str, separator: char) -> String {
        if !self.options.unique_ids {
            return base.to_owned();
        }
        let n = self.responses.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{base}{separator}{n}")
    }
}

const ANSWER: [&str; 4] = ["Case", " the vault", " at", " midnight."];
/// The text before a tool call.
const TOOL_PREAMBLE: &str = "On it.";
/// The arguments of every tool call, in the pieces a stream sends them in.
pub const TOOL_ARGUMENTS: [&str; 3] = ["{\"path\": ", "\"/srv/vault\", ", "\"force\": true}"];

/// The tool to call: the first one offered, when no tool result is in the conversation yet.
fn tool_to_call(req: &Value, anthropic: bool) -> Option<String> {
    let name = if anthropic {
        req.pointer("/tools/0/name")
    } else {
        req.pointer("/tools/0/function/name")
    }?
    .as_str()?
    .to_owned();
    let messages = req["messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let answered = messages.iter().any(|m| {
        m["role"] == "tool"
            || m["content"]
                .as_array()
                .is_some_and(|parts| parts.iter().any(|p| p["type"] == "tool_result"))
    });
    (!answered).then_some(name)
}

fn tool_arguments() -> Value {
    serde_json::from_str(&TOOL_ARGUMENTS.concat()).expect("the fixed arguments are JSON")
}

fn failure(model: &str) -> Option<Response> {
    let (status, kind) = match model {
        "fail-429" => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded"),
        "fail-500" => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        _ => return None,
    };
    let body = json!({"error": {"message": format!("fake failure: {kind}"), "type": kind, "param": null, "code": kind}});
    Some((status, Json(body)).into_response())
}

async fn chat(State(fake): State<Fake>, headers: HeaderMap, Json(req): Json<Value>) -> Response {
    fake.arrive(&headers).await;
    let model = req["model"].as_str().unwrap_or("gpt-4o").to_owned();
    if let Some(r) = failure(&model) {
        return r;
    }
    let id = fake.response_id("chatcmpl-fake", '-');
    let tool = tool_to_call(&req, false);
    if req["stream"].as_bool() != Some(true) {
        let (message, finish) = match &tool {
            Some(name) => (
                json!({"role": "assistant", "content": TOOL_PREAMBLE, "refusal": null,
                       "tool_calls": [{"id": "call_fake_1", "type": "function",
                                       "function": {"name": name, "arguments": TOOL_ARGUMENTS.concat()}}]}),
                "tool_calls",
            ),
            None => (
                json!({"role": "assistant", "content": ANSWER.concat(), "refusal": null}),
                "stop",
            ),
        };
        return Json(json!({
            "id": id, "object": "chat.completion", "created": 1_700_000_000,
            "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
            "system_fingerprint": "fp_fake"
        }))
        .into_response();
    }
    let style = fake.options.style;
    let usage = req["stream_options"]["include_usage"].as_bool() == Some(true)
        && !style.ignores_stream_options;
    let chunk = |delta: Value, finish: Value| {
        let mut c = json!({"id": id, "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": model, "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]});
        if usage {
            c["usage"] = Value::Null;
        }
        style.event(None, &style.json(&c))
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    match &tool {
        Some(name) => {
            events.push(chunk(json!({"content": TOOL_PREAMBLE}), Value::Null));
            events.push(chunk(
                json!({"tool_calls": [{"index": 0, "id": "call_fake_1", "type": "function",
                                       "function": {"name": name, "arguments": ""}}]}),
                Value::Null,
            ));
            events.extend(TOOL_ARGUMENTS.iter().map(|piece| {
                chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
                    Value::Null,
                )
            }));
            events.push(chunk(json!({}), json!("tool_calls")));
        }
        None => {
            events.extend(
                ANSWER
                    .iter()
                    .map(|t| chunk(json!({"content": t}), Value::Null)),
            );
            events.push(chunk(json!({}), json!("stop")));
        }
    }
    if usage {
        let u = json!({"id": id, "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": model, "system_fingerprint": "fp_fake", "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}});
        events.push(style.event(None, &style.json(&u)));
    }
    events.push(style.event(None, "[DONE]"));
    sse(fake.options, events, model == "cut-stream")
}

/// An SSE response of `events`, a tenth of the latency apart (each byte on its own when the
/// style says so); `cut` breaks it after two events.
fn sse(options: Options, events: Vec<String>, cut: bool) -> Response {
    let gap = options.latency / 10;
    let pieces: Vec<Bytes> = if options.style.byte_per_write {
        events
            .iter()
            .flat_map(|e| e.bytes().map(|b| Bytes::from(vec![b])))
            .collect()
    } else {
        events.into_iter().map(Bytes::from).collect()
    };
    let per_event = !options.style.byte_per_write;
    let stream = futures_util::stream::unfold(
        (pieces.into_iter(), 0usize),
        move |(mut it, n)| async move {
            if n > 0 && per_event && !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
            if cut && n == 2 {
                // Let the head and the first chunks reach the client first: a cut mid-way.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Some((
                    Err(std::io::Error::other("fake: connection cut")),
                    (it, n + 1),
                ));
            }
            if !per_event {
                // Pending between bytes, so the server writes each one out by itself.
                tokio::task::yield_now().await;
            }
            let next = it.next()?;
            Some((Ok::<_, std::io::Error>(next), (it, n + 1)))
        },
    );
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        "text/event-stream".parse().expect("static"),
    );
    r
}

async fn embeddings(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(req): Json<Value>,
) -> Response {
    fake.arrive(&headers).await;
    Json(json!({
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.125, -0.5, 0.25]}],
        "model": req["model"], "usage": {"prompt_tokens": 4, "total_tokens": 4}
    }))
    .into_response()
}

async fn models(State(fake): State<Fake>, headers: HeaderMap) -> Response {
    fake.arrive(&headers).await;
    Json(json!({"object": "list", "data": [{"id": "gpt-4o", "object": "model", "created": 1_700_000_000, "owned_by": "fake"}]}))
        .into_response()
}

async fn messages(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(req): Json<Value>,
) -> Response {
    fake.arrive(&headers).await;
    let model = req["model"]
        .as_str()
        .unwrap_or("claude-sonnet-4")
        .to_owned();
    if let Some(r) = failure(&model) {
        return r;
    }
    let id = fake.response_id("msg_fake", '_');
    let tool = tool_to_call(&req, true);
    if req["stream"].as_bool() != Some(true) {
        let (content, stop) = match &tool {
            Some(name) => (
                json!([{"type": "text", "text": TOOL_PREAMBLE},
                       {"type": "tool_use", "id": "toolu_fake_1", "name": name, "input": tool_arguments()}]),
                "tool_use",
            ),
            None => (
                json!([{"type": "text", "text": ANSWER.concat()}]),
                "end_turn",
            ),
        };
        return Json(json!({
            "id": id, "type": "message", "role": "assistant", "model": model,
            "content": content,
            "stop_reason": stop, "stop_sequence": null,
            "usage": {"input_tokens": 10, "output_tokens": 6}
        }))
        .into_response();
    }
    let style = fake.options.style;
    let event = |name: &str, data: Value| style.event(Some(name), &style.json(&data));
    let mut events = vec![
        event(
            "message_start",
            json!({"type": "message_start", "message": {"id": id, "type": "message",
            "role": "assistant", "model": model, "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        ),
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
    ];
    let text: &[&str] = if tool.is_some() {
        &[TOOL_PREAMBLE]
    } else {
        &ANSWER
    };
    events.extend(text.iter().map(|t| {
        event("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}))
    }));
    events.push(event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    if let Some(name) = &tool {
        events.push(event("content_block_start", json!({"type": "content_block_start", "index": 1,
            "content_block": {"type": "tool_use", "id": "toolu_fake_1", "name": name, "input": {}}})));
        events.extend(TOOL_ARGUMENTS.iter().map(|piece| {
            event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": piece}}),
            )
        }));
        events.push(event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 1}),
        ));
    }
    let stop = if tool.is_some() {
        "tool_use"
    } else {
        "end_turn"
    };
    events.push(event("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": 6}})));
    events.push(event("message_stop", json!({"type": "message_stop"})));
    sse(fake.options, events, model == "cut-stream")
}
