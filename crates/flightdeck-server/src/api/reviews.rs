//! The review gates' routes: open (`POST /api/v1/reviews`), wait (`GET
//! /api/v1/reviews/{id}?wait=`), decide (`POST /api/v1/reviews/{id}/decision`), and the queue
//! and history (`GET /api/v1/reviews`). The rules are in `crate::reviews`.

use super::{ApiQuery, body};
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use bytes::Bytes;
use flightdeck_model::decode;
use flightdeck_model::review::{DecisionInput, ReviewOpen, ReviewRecord};
use flightdeck_store::ReviewQuery;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// Reads a JSON body as `T`; a bad field is named by its path (422).
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the request body is not UTF-8 text"))?;
    decode::parse(text).map_err(ApiError::invalid_field)
}

pub async fn open(
    State(app): State<AppState>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<ReviewRecord>, ApiError> {
    let open: ReviewOpen = parse(&body(&app, raw)?)?;
    Ok(Json(app.reviews.open(open).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitQuery {
    /// Seconds to wait for a decision (0: answer now). Capped by the server.
    wait: Option<f64>,
}

pub async fn one(
    State(app): State<AppState>,
    Path(review_id): Path<String>,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<Json<ReviewRecord>, ApiError> {
    let wait = match q.wait {
        None => Duration::ZERO,
        Some(s) if s.is_finite() && s >= 0.0 => Duration::from_secs_f64(s.min(3600.0)),
        Some(_) => {
            return Err(ApiError::bad_request(
                "wait: seconds to wait, a number >= 0",
            ));
        }
    };
    // A shutdown ends the wait (answering the review as it is), so the server stops at once
    // and the agent polls again, wherever the server comes back.
    let stopped = app.hub.stopped();
    let review = tokio::select! {
        r = app.reviews.wait(&review_id, wait) => r?,
        _ = stopped => app.reviews.get(&review_id).await?,
    };
    Ok(Json(review))
}

pub async fn decide(
    State(app): State<AppState>,
    Path(review_id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<ReviewRecord>, ApiError> {
    let input: DecisionInput = parse(&body(&app, raw)?)?;
    let by = app.auth.who(&headers);
    Ok(Json(app.reviews.decide(&review_id, input, by).await?))
}

pub async fn list(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> Result<Json<Value>, ApiError> {
    let reviews = app.reviews.list(q).await?;
    Ok(Json(json!({ "reviews": reviews })))
}
