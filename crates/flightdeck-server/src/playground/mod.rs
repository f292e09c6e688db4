//! The playground: an LLM call run again, edited or as recorded, against a configured
//! upstream of the proxy, with several variants side by side, each answer compared with the
//! original ([playground.md](../../../../docs/playground.md)).
//!
//! - `prefill`: the request a span recorded, rebuilt as its API's body (the one place);
//! - `plan`: a posted run request, read and checked; `run`: one variant sent through the
//!   proxy's own calls and streamed; `runs`: runs as the API shows them, read from the store;
//! - `answer`: text and tool calls of any output shape; `diff`: word and tool-call diffs.

mod answer;
mod diff;
mod plan;
mod prefill;
mod run;
mod runs;

use crate::api::ApiQuery;
use crate::error::ApiError;
use crate::{AppState, ServerConfig};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use flightdeck_model::Message;
use flightdeck_model::Timestamp;
use flightdeck_model::message::{SessionEnd, SessionOutcome, SessionStart};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::mpsc;

use plan::Api;

/// The playground's routes; a posted run may be as large as `max_body_bytes`.
pub fn routes(config: &ServerConfig) -> Router<AppState> {
    Router::new()
        .route("/api/v1/playground/upstreams", get(upstreams))
        .route("/api/v1/playground/request", get(request))
        .route("/api/v1/playground/runs", get(list).post(post))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
}

#[derive(Serialize)]
struct UpstreamInfo {
    name: String,
    kind: crate::proxy::config::ApiKind,
    base_url: String,
    /// A key is configured (`api_key` or `api_key_env`); else a key must be pasted.
    key_configured: bool,
}

async fn upstreams(State(app): State<AppState>) -> Json<Value> {
    let list: Vec<UpstreamInfo> = app
        .proxy
        .upstreams()
        .iter()
        .map(|(name, u)| UpstreamInfo {
            name: name.clone(),
            kind: u.kind,
            base_url: u.base_url.clone(),
            key_configured: u.api_key.is_some(),
        })
        .collect();
    Json(json!({ "upstreams": list }))
}

/// Names one span.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpanRef {
    session_id: String,
    span_id: String,
}

/// `GET /api/v1/playground/request`: the request a span recorded, prefilled, with the
/// upstream it would go to and the original answer.
async fn request(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<SpanRef>,
) -> Result<Json<Value>, ApiError> {
    let span = plan::llm_span(&app, &q.session_id, &q.span_id).await?;
    let r = prefill::request(app.store.as_ref(), &span).await;
    let upstream = plan::suggested_upstream(&app.proxy, Some(&span), r.endpoint);
    Ok(Json(json!({
        "api": Api::of(r.endpoint),
        "upstream": upstream,
        "body": r.body,
        "original": runs::Call::of(span),
    })))
}

/// `GET /api/v1/playground/runs`: the runs made from a span, with their diffs.
async fn list(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<SpanRef>,
) -> Result<Json<Value>, ApiError> {
    let span = plan::llm_span(&app, &q.session_id, &q.span_id).await?;
    let original = runs::Call::of(span);
    let runs = runs::list(
        app.store.as_ref(),
        &q.session_id,
        &q.span_id,
        &original.answer,
    )
    .await?;
    Ok(Json(json!({ "original": original, "runs": runs })))
}

/// `POST /api/v1/playground/runs`: runs the variants; answers JSON once all are done, or
/// Server-Sent Events as they go (`"stream": true`, or `Accept: text/event-stream`).
async fn post(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            let limit = app.config.max_body_bytes;
            let advice = "send a smaller request, or raise max_body_bytes";
            return ApiError::unreadable_body(&e, limit, advice).into_response();
        }
    };
    let wants_sse = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    let plan = match plan::read(&app, &body, wants_sse).await {
        Ok(p) => Arc::new(p),
        Err(e) => return e.into_response(),
    };
    open_session(&app, &plan);
    let span_ids: Vec<String> = plan
        .variants
        .iter()
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    if !plan.stream {
        let runs = futures_util::future::join_all(
            span_ids
                .into_iter()
                .enumerate()
                .map(|(i, span)| run::run(&app, &plan, i, span, &|_| {})),
        )
        .await;
        end_session(&app, &plan).await;
        return match runs.into_iter().collect::<Result<Vec<_>, _>>() {
            Ok(runs) => Json(json!({
                "original": plan.original.as_ref().map(|o| &o.call),
                "runs": runs,
            }))
            .into_response(),
            Err(e) => e.into_response(),
        };
    }
    streamed(app, plan, span_ids).into_response()
}

/// Starts the variants and answers with their progress as events: `start` (the original,
/// the request and each run's span id), `delta` (text of one variant), `run` (one variant
/// done), `error` (one variant could not be read back), `end`.
fn streamed(
    app: AppState,
    plan: Arc<plan::Plan>,
    span_ids: Vec<String>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    // Unbounded, so a slow reader never holds a run back; a run's events are its answer's
    // size. A reader that went away does not stop the runs: they are kept all the same.
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let model = |v: &plan::Variant| {
        v.model.clone().or_else(|| {
            plan.body
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
    };
    let start = json!({
        "original": plan.original.as_ref().map(|o| &o.call),
        "upstream": plan.upstream,
        "api": Api::of(plan.endpoint),
        "body": plan.body,
        "session_id": plan.session_id,
        "runs": span_ids.iter().zip(&plan.variants).enumerate().map(|(i, (s, v))| json!({
            "variant": i, "span_id": s, "label": v.label, "model": model(v),
        })).collect::<Vec<_>>(),
    });
    let _ = tx.send(event("start", &start));
    let mut tasks = Vec::new();
    for (i, span) in span_ids.into_iter().enumerate() {
        let (app, plan, tx) = (Arc::clone(&app), Arc::clone(&plan), tx.clone());
        tasks.push(tokio::spawn(async move {
            let delta = |text: String| {
                let _ = tx.send(event("delta", &json!({"variant": i, "text": text})));
            };
            let done = match run::run(&app, &plan, i, span, &delta).await {
                Ok(r) => event("run", &r),
                Err(e) => event("error", &json!({"variant": i, "message": e.message})),
            };
            let _ = tx.send(done);
        }));
    }
    tokio::spawn(async move {
        for t in tasks {
            let _ = t.await;
        }
        end_session(&app, &plan).await;
        let _ = tx.send(event("end", &json!({})));
    });
    Sse::new(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).map(Ok))
}

fn event(name: &str, data: &impl Serialize) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|_| Event::default().event("error"))
}

/// Names and tags the playground session the runs go to, off the request path (a run's
/// first token does not wait for it; the runs' spans open the session anyway).
fn open_session(app: &AppState, plan: &plan::Plan) {
    let of = plan.original.as_ref().map(|o| o.session_id.clone());
    let session_id = plan.session_id.clone();
    let store = Arc::clone(&app.store);
    tokio::spawn(async move {
        let name = match &of {
            Some(id) => {
                let original = store.session(id).await.ok().flatten();
                let name = original.and_then(|s| s.summary.name);
                format!("playground: {}", name.as_deref().unwrap_or(id))
            }
            None => "playground".to_owned(),
        };
        let metadata = of
            .map(|id| Map::from_iter([(runs::OF_SESSION.to_owned(), Value::from(id))]))
            .unwrap_or_default();
        let start = Message::SessionStart(SessionStart {
            session_id,
            name: Some(name),
            started_at: None,
            tags: vec!["playground".to_owned()],
            metadata: Some(metadata),
            budget: None,
        });
        if let Err(e) = store.append(vec![start]).await {
            tracing::warn!(error = %e, "the playground session could not be named");
        }
    });
}

/// Once the runs are done (they are stored by then): ends the playground session, so it lists
/// as completed with the errors of failed runs counted, and links it from the original
/// session, so the span's runs are listed as soon as the answer is out.
async fn end_session(app: &AppState, plan: &plan::Plan) {
    let mut messages = Vec::new();
    if let Some(o) = &plan.original {
        let original = app.store.session(&o.session_id).await.ok().flatten();
        let link = (
            format!("{}{}", runs::RUN_KEY, plan.session_id),
            json!({ "span_id": o.call.span_id }),
        );
        // Restating the original's start, so nothing else of it changes.
        messages.push(Message::SessionStart(SessionStart {
            session_id: o.session_id.clone(),
            name: None,
            started_at: original.map(|s| s.summary.started_at),
            tags: Vec::new(),
            metadata: Some(Map::from_iter([link])),
            budget: None,
        }));
    }
    messages.push(Message::SessionEnd(SessionEnd {
        session_id: plan.session_id.clone(),
        ended_at: Some(Timestamp::now()),
        status: SessionOutcome::Completed,
        error: None,
    }));
    if let Err(e) = app.store.append(messages).await {
        tracing::warn!(error = %e, "the playground session could not be ended");
    }
}
