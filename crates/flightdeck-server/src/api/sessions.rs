//! The session resource: the list with filters and paging, and everything inside one
//! session (spans, one span, edges, events, agents, LLM and tool statistics).

use super::ApiQuery;
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use flightdeck_model::Timestamp;
use flightdeck_model::record::*;
use flightdeck_store::{EventQuery, SearchQuery, SessionQuery, StatsScope};

pub async fn list(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<SessionQuery>,
) -> Result<Json<Page<SessionSummary>>, ApiError> {
    Ok(Json(app.store.sessions(q).await?))
}

fn no_session(id: &str) -> ApiError {
    ApiError::not_found(format!("no session {id:?}"))
}

/// Answers 404 unless the session exists (for lists that would otherwise be empty).
async fn require_session(app: &AppState, id: &str) -> Result<(), ApiError> {
    match app.store.session(id).await? {
        Some(_) => Ok(()),
        None => Err(no_session(id)),
    }
}

pub async fn one(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Session>, ApiError> {
    app.store
        .session(&id)
        .await?
        .map(Json)
        .ok_or_else(|| no_session(&id))
}

pub async fn spans(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<SpanSummary>>, ApiError> {
    let spans = app.store.spans(&id).await?;
    if spans.is_empty() {
        require_session(&app, &id).await?;
    }
    Ok(Json(spans))
}

pub async fn span(
    State(app): State<AppState>,
    Path((session_id, span_id)): Path<(String, String)>,
) -> Result<Json<SpanDetail>, ApiError> {
    app.store
        .span(&session_id, &span_id)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found(format!("no span {span_id:?} in session {session_id:?}"))
        })
}

/// The longest search text accepted.
const MAX_SEARCH_CHARS: usize = 200;

/// `{"span_ids": [...]}`: the spans whose input or output holds `q`.
pub async fn search(
    State(app): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let chars = q.q.chars().count();
    if chars == 0 || chars > MAX_SEARCH_CHARS {
        return Err(ApiError::bad_request(format!(
            "q must be 1 to {MAX_SEARCH_CHARS} characters long (got {chars})"
        )));
    }
    require_session(&app, &id).await?;
    let ids = app.store.spans_with_text(&id, &q.q).await?;
    Ok(Json(serde_json::json!({ "span_ids": ids })))
}

pub async fn edges(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<EdgeRecord>>, ApiError> {
    require_session(&app, &id).await?;
    Ok(Json(app.store.edges(&id).await?))
}

pub async fn events(
    State(app): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> Result<Json<Page<EventRecord>>, ApiError> {
    require_session(&app, &id).await?;
    Ok(Json(app.store.events(&id, q).await?))
}

pub async fn agents(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<AgentSummary>>, ApiError> {
    require_session(&app, &id).await?;
    Ok(Json(app.store.agents(&id, Timestamp::now()).await?))
}

fn session_scope(id: String) -> StatsScope {
    StatsScope {
        session_id: Some(id),
        ..Default::default()
    }
}

pub async fn llm(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<LlmStats>>, ApiError> {
    require_session(&app, &id).await?;
    Ok(Json(app.store.llm_stats(session_scope(id)).await?))
}

pub async fn tools(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<ToolStats>>, ApiError> {
    require_session(&app, &id).await?;
    Ok(Json(app.store.tool_stats(session_scope(id)).await?))
}
