//! `POST /api/v1/events`: the native ingest endpoint. A batch is decoded and validated whole,
//! stored durably, and only then acknowledged.

use super::super::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use flightdeck_model::decode_batch;
use serde_json::{Value, json};

/// Content types a batch may be sent as (none is accepted too).
const ACCEPTED_TYPES: [&str; 4] = [
    "application/json",
    "application/x-ndjson",
    "application/jsonl",
    "text/plain",
];

pub async fn post_events(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct
            .to_str()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim();
        if !ACCEPTED_TYPES.iter().any(|t| ct.eq_ignore_ascii_case(t)) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!(
                    "content type {ct:?} is not accepted; send application/json (an array) or application/x-ndjson"
                ),
            ));
        }
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "the request body is larger than the limit of {} bytes; send smaller batches",
                    app.config.max_body_bytes
                ),
            )
        } else {
            ApiError::bad_request(format!(
                "could not read the request body: {}",
                e.body_text()
            ))
        }
    })?;
    let messages = decode_batch(&body, &app.config.limits)?;
    let accepted = messages.len();
    app.store.append(messages).await?;
    Ok(Json(json!({ "accepted": accepted })))
}
