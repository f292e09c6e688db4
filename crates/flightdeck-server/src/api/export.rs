//! `GET /api/v1/sessions/{id}/export?format=native|otlp`: one session as a trace file, for
//! download (see `crate::files::export`).

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
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
