//! The HTTP routes, one module per resource; the live routes' handlers are in `crate::hub`.
//! Extractors here turn malformed requests into the API's JSON errors instead of axum's
//! plain-text rejections.

mod export;
mod health;
mod ingest;
mod now;
mod reviews;
mod sessions;
mod stats;

use crate::error::ApiError;
use crate::hub::{sse, stats as hub_stats, ws};
use crate::{AppState, ServerConfig};
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use tower_http::decompression::RequestDecompressionLayer;

/// All routes of the server.
pub fn routes(config: &ServerConfig) -> Router<AppState> {
    let ingest = Router::new()
        .route("/api/v1/events", post(ingest::post_events))
        .route("/api/v1/reviews", post(reviews::open).get(reviews::list))
        .route(
            "/api/v1/reviews/{review_id}/decision",
            post(reviews::decide),
        )
        .route("/v1/traces", post(crate::otlp::http::traces))
        .route("/v1/logs", post(crate::otlp::http::logs))
        .route("/v1/metrics", post(crate::otlp::http::metrics))
        .route("/api/v1/replays", post(crate::replay::api::start))
        .layer(axum::extract::DefaultBodyLimit::max(config.max_body_bytes))
        .layer(RequestDecompressionLayer::new());
    Router::new()
        .merge(ingest)
        .merge(crate::proxy::routes())
        .merge(crate::playground::routes(config))
        .route(
            "/login",
            get(crate::auth::login::page).post(crate::auth::login::login),
        )
        .route("/logout", post(crate::auth::login::logout))
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/readyz", get(health::ready))
        .route("/metrics", get(health::metrics))
        .route("/api/v1/sessions", get(sessions::list))
        .route("/api/v1/now", get(now::get))
        .route("/api/v1/sessions/{session_id}", get(sessions::one))
        .route("/api/v1/sessions/{session_id}/spans", get(sessions::spans))
        .route(
            "/api/v1/sessions/{session_id}/spans/{span_id}",
            get(sessions::span),
        )
        .route("/api/v1/spans/{session_id}/{span_id}", get(sessions::span))
        .route("/api/v1/sessions/{session_id}/edges", get(sessions::edges))
        .route(
            "/api/v1/sessions/{session_id}/search",
            get(sessions::search),
        )
        .route(
            "/api/v1/sessions/{session_id}/events",
            get(sessions::events),
        )
        .route(
            "/api/v1/sessions/{session_id}/agents",
            get(sessions::agents),
        )
        .route("/api/v1/sessions/{session_id}/export", get(export::export))
        .route("/api/v1/sessions/{session_id}/share", get(export::share))
        .route("/api/v1/sessions/{session_id}/llm", get(sessions::llm))
        .route("/api/v1/sessions/{session_id}/tools", get(sessions::tools))
        .route("/api/v1/reviews/{review_id}", get(reviews::one))
        .route("/api/v1/replays/{replay_id}", get(crate::replay::api::one))
        .route(
            "/api/v1/exchanges/{session_id}/{span_id}",
            get(crate::replay::api::exchange),
        )
        .route("/api/v1/compare", get(crate::compare::get))
        .route("/api/v1/stats/overview", get(stats::overview))
        .route("/api/v1/stats/sessions", get(stats::sessions))
        .route("/api/v1/stats/llm", get(stats::llm))
        .route("/api/v1/stats/tools", get(stats::tools))
        .route("/api/v1/metrics", get(stats::metrics))
        .route("/api/v1/system", get(stats::system))
        .route("/api/v1/logs", get(stats::logs))
        .route("/api/v1/agents", get(stats::live_agents))
        .route("/ws", get(ws::upgrade))
        .route("/api/v1/stream", get(sse::stream))
        .route("/api/v1/hub", get(hub_stats::get))
        .route("/api/v1/refusals", get(crate::refusals::get))
        .fallback(|| async { ApiError::not_found("no such route; see docs/api.md") })
}

/// The request body, or the API's error: 413 past `max_body_bytes`.
pub(crate) fn body(app: &AppState, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        ApiError::unreadable_body(&e, app.config.max_body_bytes, "send smaller batches")
    })
}

/// `Query<T>` whose rejection is the API's JSON error, naming the bad parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| {
                ApiError::bad_request(format!("invalid query parameters: {}", e.body_text()))
            })
    }
}
