//! `POST /api/v1/events`: the native ingest endpoint. A batch is decoded and validated whole,
//! stored durably, and only then acknowledged; a refused one is counted in `refusals`.

use super::super::AppState;
use crate::error::ApiError;
use crate::refusals::{self, Refusal, Source};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::Extensions;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use flightdeck_model::decode_batch;
use serde_json::{Value, json};

/// Content types a batch may be sent as (none is accepted too).
const ACCEPTED_TYPES: [&str; 3] = [
    "application/json",
    "application/x-ndjson",
    "application/jsonl",
];

pub async fn post_events(
    State(app): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let result = accept(&app, &headers, body).await;
    if let Err(e) = &result
        && e.status.is_client_error()
    {
        let reason = match e.errors.first().and_then(|f| f.field.as_deref()) {
            Some(field) => format!("{} ({field})", e.code),
            None => e.code.to_owned(),
        };
        app.refusals.record(Refusal {
            source: Source::Native,
            client: &refusals::client(&extensions, &headers),
            reason: &reason,
            unit: "batches",
            count: 1,
            example: &e.message,
        });
    }
    result
}

async fn accept(
    app: &AppState,
    headers: &HeaderMap,
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
    let body = super::body(app, body)?;
    let messages = decode_batch(&body, &app.config.limits)?;
    let accepted = messages.len();
    app.store.append(messages).await?;
    Ok(Json(json!({ "accepted": accepted })))
}
