//! The API's one error type and JSON shape:
//! `{"error": {"code": "...", "message": "...", "errors": [{"index", "field", "message"}]}}`.
//!
//! Codes are stable and documented in docs/api.md; messages are written for the client.
//! A 503 says when to come back (`Retry-After`).
//! Internal details (database errors) are logged, never sent.

use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flightdeck_model::{BatchError, MessageError};
use flightdeck_store::StoreError;
use serde::Serialize;

/// An error answer of the API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub errors: Vec<MessageError>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [MessageError],
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A request body that could not be read: over `limit` bytes (413, with `advice` on
    /// what to send instead), or cut or otherwise unreadable (400).
    pub fn unreadable_body(
        e: &axum::extract::rejection::BytesRejection,
        limit: usize,
        advice: &str,
    ) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the request body is larger than the limit of {limit} bytes; {advice}"),
            )
        } else {
            Self::bad_request(format!(
                "could not read the request body: {}",
                e.body_text()
            ))
        }
    }

    /// 422 `invalid_field`, naming the field (as a path) and what is wrong with it.
    pub fn invalid_field((field, message): flightdeck_model::FieldError) -> Self {
        let text = match &field {
            Some(f) => format!("{f}: {message}"),
            None => message.clone(),
        };
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_field",
            message: text,
            errors: vec![MessageError {
                index: 0,
                field,
                message,
            }],
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                errors: &self.errors,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // Shutting down or overloaded: clients (the SDKs, OTLP exporters) wait this long.
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        }
        response
    }
}

/// The `Retry-After` of a 503, in seconds: a restart is usually back within it.
const RETRY_AFTER_SECS: &str = "2";

impl From<BatchError> for ApiError {
    fn from(e: BatchError) -> Self {
        let message = e.to_string();
        match e {
            BatchError::Invalid { errors } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid_message",
                message,
                errors,
            },
            BatchError::Empty => ApiError::new(StatusCode::BAD_REQUEST, "empty_batch", message),
            BatchError::NotUtf8 | BatchError::Malformed(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", message)
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidQuery(m) => ApiError::bad_request(m),
            StoreError::Unavailable(m) => {
                tracing::warn!(error = %m, "store unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the server is shutting down or cannot store data right now; retry later",
                )
            }
            StoreError::Database(m) => {
                tracing::error!(error = %m, "store failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "storage_failure",
                    "the data could not be stored or read; nothing of this request was kept",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unavailable_answer_says_when_to_retry() {
        let busy = ApiError::from(StoreError::Unavailable("closing".into())).into_response();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()[RETRY_AFTER], RETRY_AFTER_SECS);
        let bad = ApiError::bad_request("no").into_response();
        assert!(bad.headers().get(RETRY_AFTER).is_none());
    }
}
