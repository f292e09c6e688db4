//! The web UI, served from the files of `ui/` at the repository root.
//!
//! Release builds embed the files at compile time; debug builds read them from disk on every
//! request, so the UI can be edited without recompiling (rust-embed's default). [`router`]
//! serves the page at `/` and the files under `/assets/`; every answer carries a strong
//! ETag (the SHA-256 of the file), honours `If-None-Match` with `304`, says `no-cache` (so a
//! new binary's UI is picked up at once, at the price of one cheap revalidation) and
//! `X-Content-Type-Options: nosniff`. Paths that name no file are `404`.
//!
//! The browser tests and their `node_modules` live in `ui/tests/` and are not embedded.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../ui/"]
#[exclude = "tests/*"]
struct Assets;

/// The page and its assets: `GET /` and `GET /assets/{path}`.
pub fn router() -> Router {
    Router::new()
        .route("/", get(|headers: HeaderMap| async move { serve("index.html", &headers) }))
        .route(
            "/assets/{*path}",
            get(|Path(path): Path<String>, headers: HeaderMap| async move {
                serve(&path, &headers)
            }),
        )
}

/// The paths of the page's files inside `ui/` (tests excluded).
pub fn files() -> impl Iterator<Item = String> {
    Assets::iter().map(|p| p.into_owned())
}

/// The file at `path` inside `ui/`.
pub fn file(path: &str) -> Option<Vec<u8>> {
    Assets::get(path).map(|f| f.data.into_owned())
}

/// Answers with the file at `path` inside `ui/`, or `304` when the client holds it already.
fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(file) = Assets::get(path) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()));
    let common = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "no-cache".to_owned()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ];
    if matches(headers.get(header::IF_NONE_MATCH), &etag) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let content_type = [(header::CONTENT_TYPE, content_type(path).to_owned())];
    (common, content_type, file.data.into_owned()).into_response()
}

/// Whether an `If-None-Match` header names `etag` (or is `*`).
fn matches(if_none_match: Option<&HeaderValue>, etag: &str) -> bool {
    let Some(value) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// The content type of the file types `ui/` holds; anything else is served as bytes.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("md" | "txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
