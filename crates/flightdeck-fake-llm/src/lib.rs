//! A fake LLM server that speaks the OpenAI (chat completions, embeddings, models) and
//! Anthropic (messages) APIs on loopback, with fixed answers, so that a direct call and a
//! proxied one can be compared byte for byte. It behaves like the real APIs where clients
//! can tell: `stream_options.include_usage` adds `"usage":null` to every chunk and a final
//! usage chunk; errors are JSON bodies with the real status codes.
//!
//! It answers the OpenAI Responses API too (`responses.rs`), and a request that offers tools
//! gets a call of its first tool, whose `query` argument is the last user message's text
//! (`tools.rs`), so an edited prompt shows in the call. The last request's headers and body
//! are kept for tests to assert on.
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

mod responses;
mod tools;

pub use tools::{NARRATOR, PREAMBLE};

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
    pub(crate) fn json(self, v: &Value) -> String {
        if !self.spaced {
            return v.to_string();
        }
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, Spaced);
        serde::Serialize::serialize(v, &mut ser).expect("a Value serialises");
        String::from_utf8(out).expect("JSON is UTF-8")
    }

    /// An SSE event: an optional `event:` line, a `data:` line, and a blank line.
    pub(crate) fn event(self, name: Option<&str>, data: &str) -> String {
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

/// A running fake; the headers and body of the last request are kept for inspection.
pub struct FakeLlm {
    pub addr: SocketAddr,
    last_headers: Arc<Mutex<HeaderMap>>,
    last_body: Arc<Mutex<Value>>,
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
        let last_body = Arc::new(Mutex::new(Value::Null));
        let state = Fake {
            options,
            last_headers: Arc::clone(&last_headers),
            last_body: Arc::clone(&last_body),
            responses: Arc::new(AtomicU64::new(0)),
        };
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/responses", post(responses::responses))
            .route("/v1/embeddings", post(embeddings))
            .route("/v1/messages", post(messages))
            .route("/v1/models", get(models))
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(FakeLlm {
            addr,
            last_headers,
            last_body,
        })
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

    /// The body of the last request received (`null` before any, or for a GET).
    pub fn last_body(&self) -> Value {
        self.last_body.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

#[derive(Clone)]
pub(crate) struct Fake {
    options: Options,
    last_headers: Arc<Mutex<HeaderMap>>,
    last_body: Arc<Mutex<Value>>,
    responses: Arc<AtomicU64>,
}

impl Fake {
    pub(crate) async fn arrive(&self, headers: &HeaderMap, body: &Value) {
        if let Ok(mut h) = self.last_headers.lock() {
            *h = headers.clone();
        }
        if let Ok(mut b) = self.last_body.lock() {
            *b = body.clone();
        }
        if !self.options.latency.is_zero() {
            tokio::time::sleep(self.options.latency).await;
        }
    }

    /// The id of the next response: `base`, or `base` and a number with `unique_ids`.
    pub(crate) fn response_id(&self, base: &str, separator: char) -> String {
        if !self.options.unique_ids {
            return base.to_owned();
        }
        let n = self.responses.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{base}{separator}{n}")
    }
}

pub(crate) const ANSWER: [&str; 4] = ["Case", " the vault", " at", " midnight."];

pub(crate) fn failure(model: &str) -> Option<Response> {
    let (status, kind) = match model {
        "fail-429" => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded"),
        "fail-500" => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        _ => return None,
    };
    let body = json!({"error": {"message": format!("fake failure: {kind}"), "type": kind, "param": null, "code": kind}});
    Some((status, Json(body)).into_response())
}

async fn chat(State(fake): State<Fake>, headers: HeaderMap, Json(req): Json<Value>) -> Response {
    fake.arrive(&headers, &req).await;
    let model = req["model"].as_str().unwrap_or("gpt-4o").to_owned();
    if let Some(r) = failure(&model) {
        return r;
    }
    let id = fake.response_id("chatcmpl-fake", '-');
    let call = tools::call_for(&req);
    if req["stream"].as_bool() != Some(true) {
        let (message, finish) = match &call {
            Some(c) => (tools::chat_message(c), "tool_calls"),
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
    match &call {
        Some(c) => {
            events.extend(
                tools::chat_deltas(c)
                    .into_iter()
                    .map(|d| chunk(d, Value::Null)),
            );
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
pub(crate) fn sse(options: Options, events: Vec<String>, cut: bool) -> Response {
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
    fake.arrive(&headers, &req).await;
    Json(json!({
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.125, -0.5, 0.25]}],
        "model": req["model"], "usage": {"prompt_tokens": 4, "total_tokens": 4}
    }))
    .into_response()
}

async fn models(State(fake): State<Fake>, headers: HeaderMap) -> Response {
    fake.arrive(&headers, &Value::Null).await;
    Json(json!({"object": "list", "data": [{"id": "gpt-4o", "object": "model", "created": 1_700_000_000, "owned_by": "fake"}]}))
        .into_response()
}

async fn messages(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(req): Json<Value>,
) -> Response {
    fake.arrive(&headers, &req).await;
    let model = req["model"]
        .as_str()
        .unwrap_or("claude-sonnet-4")
        .to_owned();
    if let Some(r) = failure(&model) {
        return r;
    }
    let id = fake.response_id("msg_fake", '_');
    let call = tools::call_for(&req);
    if req["stream"].as_bool() != Some(true) {
        let (content, stop) = match &call {
            Some(c) => (json!([tools::anthropic_block(c)]), "tool_use"),
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
    let mut events = vec![event(
        "message_start",
        json!({"type": "message_start", "message": {"id": id, "type": "message",
            "role": "assistant", "model": model, "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 10, "output_tokens": 1}}}),
    )];
    let (block, deltas) = match &call {
        Some(c) => tools::anthropic_stream(c),
        None => (
            json!({"type": "text", "text": ""}),
            ANSWER
                .iter()
                .map(|t| json!({"type": "text_delta", "text": t}))
                .collect(),
        ),
    };
    events.push(event(
        "content_block_start",
        json!({"type": "content_block_start", "index": 0, "content_block": block}),
    ));
    events.extend(deltas.into_iter().map(|d| {
        event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": d}),
        )
    }));
    events.push(event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    let stop = if call.is_some() {
        "tool_use"
    } else {
        "end_turn"
    };
    events.push(event("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": 6}})));
    events.push(event("message_stop", json!({"type": "message_stop"})));
    sse(fake.options, events, model == "cut-stream")
}
