//! The replay routes: start one (`POST /api/v1/replays`), read one (`GET
//! /api/v1/replays/{id}`), and read a call's exact exchange (`GET
//! /api/v1/exchanges/{session}/{span}`, which the replay dialog prefills its edit from).

use super::plan;
use crate::AppState;
use crate::api::body;
use crate::error::ApiError;
use crate::proxy::config::ApiKind;
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use flightdeck_model::message::SessionStart;
use flightdeck_model::replay::{OnMismatch, ReplayRecord, Saved};
use flightdeck_model::{Message, Timestamp, decode};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

/// The prefix of the metadata keys by which a session names its forks: `fork.<replay id>`,
/// each `{"fork_session_id", "span_id"}`.
pub const FORK_KEY: &str = "fork.";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Start {
    session_id: String,
    span_id: String,
    #[serde(default)]
    request: Option<Box<RawValue>>,
    #[serde(default)]
    on_mismatch: OnMismatch,
}

/// `POST /api/v1/replays`: forks the session at the call and answers the replay with the
/// base URLs to re-run the agent against.
pub async fn start(
    State(app): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let raw = body(&app, raw)?;
    let text = std::str::from_utf8(&raw)
        .map_err(|_| ApiError::bad_request("the request body is not UTF-8 text"))?;
    let start: Start = decode::parse(text).map_err(ApiError::invalid_field)?;
    if let Some(r) = &start.request
        && !r.get().trim_start().starts_with('{')
    {
        return Err(ApiError::invalid_field((
            Some("request".into()),
            "the edited request must be a JSON object (the whole request body)".into(),
        )));
    }
    let store = app.store.as_ref();
    let (plan, fork) = plan::build(
        store,
        &start.session_id,
        &start.span_id,
        &super::matching::Cursors::default(),
    )
    .await?;
    let original = store.session(&start.session_id).await?;
    let upstream = store
        .exchange(&start.session_id, &start.span_id)
        .await?
        .map(|x| x.upstream)
        .unwrap_or_default();
    let replay_id = uuid::Uuid::new_v4().simple().to_string();
    let fork_session_id = format!("replay-{replay_id}");
    let now = Timestamp::now();
    let mut metadata = serde_json::Map::new();
    metadata.insert(
        "replay".into(),
        json!({"replay_id": replay_id, "session_id": start.session_id, "span_id": start.span_id}),
    );
    let original = original.map(|s| s.summary);
    let name = original
        .as_ref()
        .and_then(|s| s.name.clone())
        .unwrap_or_else(|| start.session_id.clone());
    // The original names its forks too (one key per replay, so forks made at once all stay),
    // restating its own start so nothing else of it changes.
    let mut link = serde_json::Map::new();
    link.insert(
        format!("{FORK_KEY}{replay_id}"),
        json!({"fork_session_id": fork_session_id, "span_id": start.span_id}),
    );
    store
        .append(vec![
            Message::SessionStart(SessionStart {
                session_id: fork_session_id.clone(),
                name: Some(format!("replay of {name}")),
                started_at: Some(now),
                tags: vec!["replay".into()],
                metadata: Some(metadata),
                budget: None,
            }),
            Message::SessionStart(SessionStart {
                session_id: start.session_id.clone(),
                name: None,
                started_at: original.map(|s| s.started_at),
                tags: Vec::new(),
                metadata: Some(link),
                budget: None,
            }),
        ])
        .await?;
    let record = ReplayRecord {
        replay_id: replay_id.clone(),
        session_id: start.session_id,
        span_id: start.span_id,
        fork_session_id,
        created_at: now,
        fork,
        request: start.request,
        on_mismatch: start.on_mismatch,
        recorded_calls: plan.recorded_calls() as u64,
        saved: Saved::default(),
        upstream_calls: 0,
        mismatch: None,
        progress: Vec::new(),
        served_spans: Vec::new(),
        version: 1,
    };
    store.write_replay(record.clone()).await?;
    app.replays.start(record.clone(), plan).await;
    Ok((
        StatusCode::CREATED,
        Json(described(&app, &headers, &record, &upstream)),
    ))
}

/// `GET /api/v1/replays/{id}`.
pub async fn one(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let record = app.replays.record(&id).await?;
    let upstream = app
        .store
        .exchange(&record.session_id, &record.span_id)
        .await?
        .map(|x| x.upstream)
        .unwrap_or_default();
    Ok(Json(described(&app, &headers, &record, &upstream)))
}

/// The record, with where to point the re-run: a base URL per configured upstream, and the
/// environment variable for the upstream the fork call went to.
fn described(app: &AppState, headers: &HeaderMap, r: &ReplayRecord, fork_upstream: &str) -> Value {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:7329");
    let base = format!("http://{host}/replay/{}", r.replay_id);
    let mut urls = serde_json::Map::new();
    let mut env = None;
    for (name, up) in &app.config.proxy.upstreams {
        let (url, var) = match up.kind {
            ApiKind::Openai => (format!("{base}/{name}/v1"), "OPENAI_BASE_URL"),
            ApiKind::Anthropic => (format!("{base}/{name}"), "ANTHROPIC_BASE_URL"),
        };
        if name == fork_upstream {
            env = Some(format!("{var}={url}"));
        }
        urls.insert(name.clone(), url.into());
    }
    let mut v = serde_json::to_value(r).unwrap_or_default();
    v["base_urls"] = urls.into();
    v["env"] = env.into();
    v["header"] = json!({ super::HEADER: r.replay_id });
    v
}

/// `GET /api/v1/exchanges/{session}/{span}`: the call's request and response as recorded.
pub async fn exchange(
    State(app): State<AppState>,
    Path((session_id, span_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let Some(x) = app.store.exchange(&session_id, &span_id).await? else {
        return Err(ApiError::not_found(format!(
            "no recorded exchange for span {span_id:?} of session {session_id:?}: only calls \
             through the proxy are recorded byte for byte"
        )));
    };
    let request = serde_json::from_slice::<Value>(&x.request)
        .unwrap_or_else(|_| String::from_utf8_lossy(&x.request).into_owned().into());
    Ok(Json(json!({
        "session_id": x.session_id,
        "span_id": x.span_id,
        "upstream": x.upstream,
        "path": x.path,
        "started_at": x.started_at,
        "status": x.status,
        "content_type": x.content_type,
        "truncated": x.truncated,
        "request": request,
        "response": String::from_utf8_lossy(&x.response),
        "chunks": x.chunks,
    })))
}
