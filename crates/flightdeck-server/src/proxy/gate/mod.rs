//! Zero-code review gates in the proxy: a call whose request declares a gated tool (by a
//! `[[review.rules]]` entry or the `x-flightdeck-review` header) has its answer held when
//! the model calls such a tool; a review opens showing the proposed calls with their
//! arguments, and the client gets the answer once a person (or the deadline) decides:
//! unchanged (approve), with the edited arguments in the API's own format (edit), or as the
//! API's own error (exit early, or a timeout whose action is fail). Streamed answers pass
//! their text at once and hold from the first tool call, with SSE comments keeping the
//! connection alive while the person reads.
//!
//! - `rules`: which calls are gated; `calls`: tool calls in each API's whole responses;
//! - `stream`: a streamed answer held and rebuilt.

mod calls;
pub mod rules;
mod stream;

use super::api::Endpoint;
use super::recorder::Placed;
use super::sse::EventSplitter;
use super::tap::Tap;
use crate::reviews::Reviews;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use calls::ToolCall;
use flightdeck_model::review::{Decision, ReviewOpen, ReviewRecord, ReviewState, Timing};
use futures_util::{Stream, StreamExt};
pub use rules::{Gates, Rule, RuleSettings};
use rules::{Terms, combined};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use stream::{Held, error_event};
use tokio::sync::{mpsc, oneshot};

/// The most of a whole answer held for review; a larger one is refused, not passed unseen.
const MAX_HELD: usize = 32 * 1024 * 1024;
/// How often a held stream gets an SSE comment while its review waits.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The longest a prompt shown with the review is.
const PROMPT_CHARS: usize = 4_000;

/// A call a gate may hold: what the proxy knows of it before the upstream answers.
pub struct Candidate {
    gates: Gates,
    endpoint: Endpoint,
    upstream: String,
    agent: Option<String>,
    prompt: Option<String>,
    placed: oneshot::Receiver<Placed>,
}

impl Candidate {
    /// A candidate when `gates` cover a tool the request declares (a request that declares
    /// none cannot call one); with the sender the recorder answers with the call's place.
    pub fn new(
        gates: Gates,
        endpoint: Endpoint,
        request: &[u8],
        upstream: &str,
        agent: Option<String>,
    ) -> Option<(Candidate, oneshot::Sender<Placed>)> {
        if gates.is_empty()
            || !matches!(
                endpoint,
                Endpoint::ChatCompletions | Endpoint::Responses | Endpoint::Messages
            )
        {
            return None;
        }
        let request: Value = serde_json::from_slice(request).ok()?;
        if !gates.any(&calls::declared_tools(endpoint, &request)) {
            return None;
        }
        let (tx, placed) = oneshot::channel();
        Some((
            Candidate {
                gates,
                endpoint,
                upstream: upstream.to_owned(),
                agent,
                prompt: last_user_text(&request),
                placed,
            },
            tx,
        ))
    }

    /// The terms the gated ones among `calls` wait under; `None` when none is gated.
    fn terms(&self, calls: &[ToolCall]) -> Option<Terms> {
        combined(calls.iter().filter_map(|c| self.gates.terms(&c.name)))
    }
}

/// The text of the last user message of a request, to show with the review.
fn last_user_text(request: &Value) -> Option<String> {
    let text_of = |content: &Value| -> Option<String> {
        match content {
            Value::String(s) => Some(s.clone()),
            Value::Array(parts) => {
                let text: Vec<&str> = parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect();
                (!text.is_empty()).then(|| text.join("\n"))
            }
            _ => None,
        }
    };
    let list = request.get("messages").or_else(|| request.get("input"))?;
    let text = match list {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items
            .iter()
            .rev()
            .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            .find_map(|m| m.get("content").and_then(text_of)),
        _ => None,
    }?;
    Some(text.chars().take(PROMPT_CHARS).collect())
}

/// What the client gets once the review is settled.
enum Verdict {
    /// The answer as the upstream gave it.
    AsIs,
    /// The answer with these calls written in.
    Edited(Vec<ToolCall>),
    /// An error in the API's shape instead of the answer.
    Stop {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
}

fn unavailable(why: impl std::fmt::Display) -> Verdict {
    Verdict::Stop {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "review_unavailable",
        message: format!(
            "Flightdeck could not hold this call for review ({why}); it was not passed on \
             unreviewed"
        ),
    }
}

fn verdict(r: &ReviewRecord) -> Verdict {
    let by = r.decided_by.as_deref().unwrap_or("server");
    let comment = r
        .comment
        .as_deref()
        .map(|c| format!(": {c}"))
        .unwrap_or_default();
    let stop = |code, message: String| Verdict::Stop {
        status: StatusCode::FORBIDDEN,
        code,
        message,
    };
    match (r.state, r.decision) {
        (ReviewState::Abandoned, _) => stop(
            "review_abandoned",
            format!("Flightdeck review {} was abandoned", r.review_id),
        ),
        (_, Some(Decision::Continue)) | (_, None) => Verdict::AsIs,
        (_, Some(Decision::Edit)) => {
            let edited = r
                .revised_output
                .as_deref()
                .map(|o| serde_json::from_str::<Value>(o.get()))
                .and_then(Result::ok)
                .ok_or_else(|| "the edit has no revised output".to_owned())
                .and_then(|v| calls::read_edits(&v));
            match edited {
                Ok(calls) => Verdict::Edited(calls),
                Err(e) => stop(
                    "review_edit_unusable",
                    format!(
                        "Flightdeck review {}: the edit by {by} could not be applied ({e})",
                        r.review_id
                    ),
                ),
            }
        }
        (_, Some(Decision::ExitEarly)) => stop(
            "review_exit_early",
            match r.state {
                ReviewState::TimedOut => format!(
                    "Flightdeck review {}: nobody decided before the deadline, and its action \
                     is exit early",
                    r.review_id
                ),
                _ => format!(
                    "Flightdeck review {}: {by} stopped this call (exit early){comment}",
                    r.review_id
                ),
            },
        ),
        (_, Some(Decision::Fail)) => stop(
            "review_failed",
            format!(
                "Flightdeck review {}: nobody decided before the deadline, and its action is \
                 fail",
                r.review_id
            ),
        ),
    }
}

/// Opens the review of `calls`; its id.
async fn open(
    reviews: &Reviews,
    c: &mut Candidate,
    calls: &[ToolCall],
    terms: Terms,
) -> Result<String, Verdict> {
    let placed = (&mut c.placed)
        .await
        .map_err(|_| unavailable("the proxy's recorder fell behind"))?;
    let gated: Vec<&str> = calls
        .iter()
        .filter(|t| c.gates.terms(&t.name).is_some())
        .map(|t| t.name.as_str())
        .collect();
    let who = c.agent.as_deref().unwrap_or("An agent");
    let output = calls::review_output(calls);
    let open = ReviewOpen {
        session_id: placed.session,
        review_id: None,
        span_id: Some(placed.span),
        agent: c.agent.clone(),
        title: Some(format!("Tool call: {}", gated.join(", "))),
        task: Some(format!(
            "{who} is about to run {} ({} via the proxy; gated by {}). Approve lets the call \
             through, Edit changes its arguments, Exit early stops it with an error.",
            gated.join(", "),
            c.upstream,
            c.gates.patterns().join(", ")
        )),
        output: serde_json::value::to_raw_value(&output).expect("JSON values serialise"),
        prompt: c.prompt.clone(),
        timing: Timing::Before,
        timeout_ms: terms.timeout_ms,
        on_timeout: terms.on_timeout,
        choices: Vec::new(),
    };
    reviews
        .open(open)
        .await
        .map(|r| r.review_id)
        .map_err(|e| unavailable(format!("the review could not be opened: {}", e.message)))
}

/// The review once settled, asked in slices of `slice`; after each slice that ends
/// pending, a held stream's client gets an SSE comment. `None` when that client went away.
async fn settled(
    reviews: &Reviews,
    review_id: &str,
    slice: Duration,
    client: Option<&mpsc::Sender<Bytes>>,
) -> Option<Result<ReviewRecord, Verdict>> {
    loop {
        match reviews.wait(review_id, slice).await {
            Ok(r) if r.state != ReviewState::Pending => return Some(Ok(r)),
            Ok(_) => {
                if let Some(tx) = client {
                    let comment = Bytes::from_static(b": waiting for a Flightdeck review\n\n");
                    tx.send(comment).await.ok()?;
                }
            }
            Err(e) => return Some(Err(unavailable(e.message))),
        }
    }
}

/// The answer of a gated call whose upstream answered with a success: held, reviewed, then
/// passed on as decided.
pub async fn answer<S>(
    reviews: Arc<Reviews>,
    candidate: Candidate,
    status: StatusCode,
    mut headers: HeaderMap,
    upstream: S,
    tap: Tap,
) -> Response
where
    S: Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
{
    let streamed = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/event-stream"));
    headers.remove(header::CONTENT_LENGTH);
    if streamed {
        let (tx, rx) = mpsc::channel(32);
        tokio::spawn(hold_stream(reviews, candidate, upstream, tap, tx));
        let body = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
        });
        return response(status, headers, Body::from_stream(body));
    }
    let endpoint = candidate.endpoint;
    match hold_whole(reviews, candidate, upstream, tap).await {
        Ok(body) => response(status, headers, Body::from(body)),
        Err(stop) => stop_response(endpoint, stop),
    }
}

fn response(status: StatusCode, headers: HeaderMap, body: Body) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    r
}

/// The error a stopped call gets in place of a whole answer, in the API's shape.
fn stop_response(endpoint: Endpoint, v: Verdict) -> Response {
    let Verdict::Stop {
        status,
        code,
        message,
    } = v
    else {
        unreachable!("only a stop is answered as an error")
    };
    let body = match endpoint {
        Endpoint::Messages => json!({"type": "error", "error": {"type": code, "message": message}}),
        _ => json!({"error": {"message": message, "type": code, "code": code, "param": null}}),
    };
    let mut r = response(status, HeaderMap::new(), Body::from(body.to_string()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A whole answer: read, reviewed when it calls a gated tool; the body to send, or the stop.
async fn hold_whole<S>(
    reviews: Arc<Reviews>,
    mut c: Candidate,
    upstream: S,
    mut tap: Tap,
) -> Result<Bytes, Verdict>
where
    S: Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
{
    let endpoint = c.endpoint;
    let mut body = BytesMut::new();
    let mut upstream = std::pin::pin!(upstream);
    while let Some(item) = upstream.next().await {
        match item {
            Ok(b) => body.extend_from_slice(&tap.chunk(b)),
            Err(e) => {
                let message = format!("the upstream answer was cut: {e}");
                tap.finish(Some(message.clone()));
                return Err(stop_bad_gateway(message));
            }
        }
        if body.len() > MAX_HELD {
            tap.finish(Some("the answer was too large to hold for review".into()));
            return Err(stop_bad_gateway(format!(
                "the upstream answer is larger than the {MAX_HELD} bytes Flightdeck holds for \
                 review; it was not passed on unreviewed"
            )));
        }
    }
    body.extend_from_slice(&tap.finish(None));
    let body = body.freeze();
    let Ok(mut answer) = serde_json::from_slice::<Value>(&body) else {
        return Ok(body);
    };
    let proposed = calls::in_response(endpoint, &answer);
    let Some(terms) = c.terms(&proposed) else {
        return Ok(body);
    };
    let id = open(&reviews, &mut c, &proposed, terms).await?;
    let record = settled(&reviews, &id, reviews.config.max_wait, None)
        .await
        .expect("a whole answer waits until settled")?;
    match verdict(&record) {
        Verdict::AsIs => Ok(body),
        Verdict::Edited(edits) => {
            calls::edit_response(endpoint, &mut answer, &edits);
            Ok(Bytes::from(answer.to_string()))
        }
        stop => Err(stop),
    }
}

fn stop_bad_gateway(message: String) -> Verdict {
    Verdict::Stop {
        status: StatusCode::BAD_GATEWAY,
        code: "upstream_unreadable",
        message,
    }
}

/// A streamed answer: events pass until a tool call starts; the rest is held, reviewed when
/// a gated tool is called, and sent as decided. Stops when the client goes away.
async fn hold_stream<S>(
    reviews: Arc<Reviews>,
    mut c: Candidate,
    upstream: S,
    mut tap: Tap,
    tx: mpsc::Sender<Bytes>,
) where
    S: Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
{
    let endpoint = c.endpoint;
    let mut splitter = EventSplitter::default();
    let mut held = Held::new(endpoint);
    let mut upstream = std::pin::pin!(upstream);
    let mut cut = None;
    loop {
        let events = match upstream.next().await {
            Some(Ok(b)) => splitter.push(&tap.chunk(b)),
            Some(Err(e)) => {
                let message = format!("the upstream stream was cut: {e}");
                tap.finish(Some(message.clone()));
                cut = Some(message);
                break;
            }
            None => {
                let mut events = splitter.push(&tap.finish(None));
                events.extend(splitter.rest());
                for e in events {
                    if let Some(pass) = held.push(e)
                        && tx.send(pass).await.is_err()
                    {
                        return;
                    }
                }
                break;
            }
        };
        for e in events {
            if let Some(pass) = held.push(e)
                && tx.send(pass).await.is_err()
            {
                return;
            }
        }
    }
    if let Some(message) = cut {
        let _ = tx
            .send(error_event(endpoint, "upstream_cut", &message))
            .await;
        return;
    }
    if !held.holding() {
        return;
    }
    let proposed = held.calls();
    let Some(terms) = c.terms(&proposed) else {
        let _ = tx.send(held.release()).await;
        return;
    };
    let settled = match open(&reviews, &mut c, &proposed, terms).await {
        Err(v) => Err(v),
        Ok(id) => match settled(&reviews, &id, KEEP_ALIVE, Some(&tx)).await {
            None => return,
            Some(r) => r,
        },
    };
    let out = match settled.map(|r| verdict(&r)) {
        Ok(Verdict::AsIs) => held.release(),
        Ok(Verdict::Edited(edits)) => held.edited(&edits),
        Ok(Verdict::Stop { code, message, .. }) | Err(Verdict::Stop { code, message, .. }) => {
            error_event(endpoint, code, &message)
        }
        Err(_) => unreachable!("an error is always a stop"),
    };
    let _ = tx.send(out).await;
}
