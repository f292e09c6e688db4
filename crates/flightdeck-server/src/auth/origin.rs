//! The Origin check, against pages of other sites using this server through the browser:
//! opening `/ws` with the user's cookies to read everything (cross-site WebSocket hijacking),
//! or posting to it (cross-site request forgery: junk traces, or proxied calls on the
//! server's own upstream keys). It guards the WebSocket upgrade and every request that is not
//! a read (`GET`, `HEAD`, `OPTIONS`).
//!
//! Allowed: requests without `Origin` (non-browser clients send none), the served origin
//! (`Origin`'s host and port equal the `Host` header), and the configured origins. Anything
//! else gets a 403 `forbidden_origin`. SSE needs no check: a cross-site `EventSource` is a
//! CORS request, and the server sends no CORS headers.

use crate::error::ApiError;
use axum::http::{HeaderMap, StatusCode, header};

/// Checks the request's `Origin` header.
pub fn check(headers: &HeaderMap, allowed: &[String]) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    let trimmed = origin.trim_end_matches('/');
    if allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(trimmed))
    {
        return Ok(());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let authority = trimmed.split_once("://").map(|(_, rest)| rest);
    if authority.is_some_and(|a| !host.is_empty() && a.eq_ignore_ascii_case(host)) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden_origin",
        format!(
            "a page from {origin:?} may not use the server at {host:?}; \
             allow it with --allow-origin or allowed_origins"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn no_origin_same_origin_and_configured_origins_pass() {
        let allowed = vec!["http://localhost:5173/".to_owned()];
        let host = "127.0.0.1:7329";
        assert!(check(&headers(None, host), &allowed).is_ok());
        assert!(check(&headers(Some("http://127.0.0.1:7329"), host), &allowed).is_ok());
        assert!(check(&headers(Some("https://127.0.0.1:7329"), host), &allowed).is_ok());
        assert!(check(&headers(Some("http://LOCALHOST:5173"), host), &allowed).is_ok());
    }

    #[test]
    fn other_origins_are_refused_with_a_clear_code() {
        let host = "127.0.0.1:7329";
        for origin in [
            "http://evil.example",
            "http://127.0.0.1:7330",
            "http://127.0.0.1",
            "null",
            "http://127.0.0.1:7329.evil.example",
        ] {
            let e = check(&headers(Some(origin), host), &[]).unwrap_err();
            assert_eq!(
                (e.status, e.code),
                (StatusCode::FORBIDDEN, "forbidden_origin")
            );
        }
    }
}
