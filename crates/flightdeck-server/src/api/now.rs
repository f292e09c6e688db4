//! `GET /api/v1/now?sessions=a,b`: what each running session does at this moment, for the
//! overview's rows: its innermost running spans (the work itself, not the agents waiting on
//! it), newest first. Read through `Store::running_spans`, which touches only running spans,
//! so a row costs its running work, not its history.

use super::ApiQuery;
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use flightdeck_model::record::SpanSummary;
use flightdeck_model::{SpanKind, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// Sessions one request may ask about (the overview shows 50 a page).
const MAX_SESSIONS: usize = 100;
/// Spans named per session; the rest are counted.
const SHOWN: usize = 5;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NowQuery {
    /// Session ids, separated by commas.
    sessions: String,
}

/// One running piece of work.
#[derive(Serialize)]
pub struct Work {
    span_id: String,
    kind: SpanKind,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<Timestamp>,
}

/// What one session does now.
#[derive(Serialize, Default)]
pub struct Now {
    /// Its innermost running spans, newest first, at most five.
    running: Vec<Work>,
    /// Innermost running spans past those.
    more: usize,
}

#[derive(Serialize)]
pub struct NowAnswer {
    sessions: BTreeMap<String, Now>,
}

pub async fn get(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<NowQuery>,
) -> Result<Json<NowAnswer>, ApiError> {
    let ids: Vec<&str> = q
        .sessions
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() || ids.len() > MAX_SESSIONS {
        return Err(ApiError::invalid_field((
            Some("sessions".into()),
            format!("give 1 to {MAX_SESSIONS} session ids, separated by commas"),
        )));
    }
    let reads = ids.iter().map(|id| app.store.running_spans(id));
    let mut sessions = BTreeMap::new();
    for (id, spans) in ids.iter().zip(futures_util::future::join_all(reads).await) {
        sessions.insert((*id).to_owned(), now_of(spans?));
    }
    Ok(Json(NowAnswer { sessions }))
}

/// The innermost of `running` (no running child), newest first.
fn now_of(running: Vec<SpanSummary>) -> Now {
    let busy: HashSet<&str> = running
        .iter()
        .filter_map(|s| s.parent_id.as_deref())
        .collect();
    let mut work: Vec<&SpanSummary> = running
        .iter()
        .filter(|s| !busy.contains(s.span_id.as_str()))
        .collect();
    work.sort_by_key(|s| std::cmp::Reverse(s.started_at.map(|t| t.0)));
    let more = work.len().saturating_sub(SHOWN);
    let running = work
        .into_iter()
        .take(SHOWN)
        .map(|s| Work {
            span_id: s.span_id.clone(),
            kind: s.kind,
            name: s.name.clone(),
            agent: s.agent.clone(),
            model: s.model.clone(),
            started_at: s.started_at,
        })
        .collect();
    Now { running, more }
}
