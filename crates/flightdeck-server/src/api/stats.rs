//! Statistics across sessions (overview, LLM by model, tools) and metric samples.
//!
//! LLM and tool statistics read spans, so without a range they cover the sessions started
//! in the last 24 hours; the overview reads only session totals and covers all time.

use super::ApiQuery;
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use flightdeck_model::Timestamp;
use flightdeck_model::record::*;
use flightdeck_store::{MetricQuery, SessionQuery, StatsScope};
use serde::Deserialize;

const DAY_NS: i64 = 24 * 3600 * 1_000_000_000;

/// A time range (`from`, `to`: RFC 3339 or unix nanoseconds).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    from: Option<Timestamp>,
    to: Option<Timestamp>,
}

impl Range {
    fn scope(self, default_days: Option<i64>) -> StatsScope {
        let from = self
            .from
            .or_else(|| default_days.map(|d| Timestamp(Timestamp::now().0 - d * DAY_NS)));
        StatsScope {
            session_id: None,
            from,
            to: self.to,
        }
    }
}

pub async fn overview(
    State(app): State<AppState>,
    ApiQuery(r): ApiQuery<Range>,
) -> Result<Json<OverviewStats>, ApiError> {
    Ok(Json(app.store.overview(r.scope(None)).await?))
}

/// `GET /api/v1/stats/sessions` with the session list's filters: the headline figures over
/// every session they match.
pub async fn sessions(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<SessionQuery>,
) -> Result<Json<OverviewStats>, ApiError> {
    Ok(Json(app.store.session_stats(q).await?))
}

pub async fn llm(
    State(app): State<AppState>,
    ApiQuery(r): ApiQuery<Range>,
) -> Result<Json<Vec<LlmStats>>, ApiError> {
    Ok(Json(app.store.llm_stats(r.scope(Some(1))).await?))
}

pub async fn tools(
    State(app): State<AppState>,
    ApiQuery(r): ApiQuery<Range>,
) -> Result<Json<Vec<ToolStats>>, ApiError> {
    Ok(Json(app.store.tool_stats(r.scope(Some(1))).await?))
}

pub async fn metrics(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<MetricQuery>,
) -> Result<Json<Vec<MetricPoint>>, ApiError> {
    Ok(Json(app.store.metrics(q).await?))
}

/// `GET /api/v1/system`: the sampling interval, the host, and the GPUs (or why there are
/// none).
pub async fn system(State(app): State<AppState>) -> Json<serde_json::Value> {
    Json(app.system.describe())
}

/// `GET /api/v1/logs`: log lines of every session, filtered, paged back and followed.
pub async fn logs(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<flightdeck_store::LogQuery>,
) -> Result<Json<Vec<flightdeck_model::record::LogLine>>, ApiError> {
    Ok(Json(app.store.logs(q).await?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveAgentsQuery {
    /// Agents seen this recently, besides those of running sessions (default an hour).
    since_secs: Option<u64>,
    limit: Option<usize>,
}

/// `GET /api/v1/agents`: the agents of running sessions and of recently active ones.
pub async fn live_agents(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<LiveAgentsQuery>,
) -> Result<Json<Vec<flightdeck_model::record::LiveAgent>>, ApiError> {
    let now = flightdeck_model::Timestamp::now();
    let since = now.0 - q.since_secs.unwrap_or(3600).min(30 * 86_400) as i64 * 1_000_000_000;
    let limit = q.limit.unwrap_or(500).clamp(1, 5000);
    Ok(Json(
        app.store
            .live_agents(flightdeck_model::Timestamp(since), now, limit)
            .await?,
    ))
}
