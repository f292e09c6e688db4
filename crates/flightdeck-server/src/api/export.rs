//! Downloads of one session: `GET /api/v1/sessions/{id}/export?format=native|otlp`, a trace
//! file (see `crate::files::export`), and `GET /api/v1/sessions/{id}/share`, one HTML file
//! that opens offline (see `crate::files::share`).

use super::ApiQuery;
use crate::AppState;
use crate::error::ApiError;
use crate::files::export::{ExportFormat, render};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    #[serde(default)]
    format: ExportFormat,
}

pub async fn export(
    State(app): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let body = render(app.store.as_ref(), &id, q.format)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no session {id:?}")))?;
    let (content_type, ext) = match q.format {
        ExportFormat::Native => ("application/x-ndjson", "jsonl"),
        ExportFormat::Otlp => ("application/x-ndjson", "otlp.jsonl"),
    };
    Ok(attachment(&id, ext, content_type, body))
}

pub async fn share(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let page = crate::files::share::page(app.store.as_ref(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no session {id:?}")))?;
    Ok(attachment(&id, "html", "text/html; charset=utf-8", page))
}

/// `body` as a download named after the session (characters a file name may not hold
/// become `_`).
fn attachment(id: &str, ext: &str, content_type: &str, body: String) -> Response {
    let name: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{name}.{ext}\"");
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}
