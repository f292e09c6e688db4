//! Access control: who may read and write traces.
//!
//! On loopback with nothing configured, every request that names a loopback host passes (the
//! default: one developer on their own machine; the host check stops web pages that reach the
//! server through a DNS name rebound to 127.0.0.1). With a token or a password configured (required when listening beyond
//! loopback; the binary refuses to start otherwise), every route but `/healthz`, `/readyz` and the login
//! page asks for one of:
//! - `Authorization: Bearer <token>`, for SDKs, OTLP exporters and scripts;
//! - `X-Flightdeck-Token: <token>`, for the LLM proxy, whose `Authorization` header carries the
//!   upstream's API key;
//! - the session cookie that `POST /login` sets after the password (for people, in the
//!   browser), for reads only (`GET`, `HEAD`): the page never writes with it.
//!
//! In either mode, a browser request that writes (any other method) must come from the served
//! origin or a configured one (see [`origin`]): pages of other sites cannot post traces or
//! spend the proxy's upstream keys.
//!
//! Browsers asking for a page without credentials are sent to `/login`; API clients get a JSON
//! 401. Secrets are compared in time that depends only on their length.

pub mod login;
pub mod origin;

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use login::Logins;

/// What a client must present. Both `None`: open (loopback only).
#[derive(Clone, Default)]
pub struct AuthConfig {
    /// Accepted as a bearer token (or `X-Flightdeck-Token`) on every route.
    pub token: Option<String>,
    /// Accepted by `POST /login`, which answers with a session cookie.
    pub password: Option<String>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, only whether it is set.
        f.debug_struct("AuthConfig")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl AuthConfig {
    /// True when a credential is configured, so requests must present one.
    pub fn is_required(&self) -> bool {
        self.token.is_some() || self.password.is_some()
    }

    /// True when `headers` carry the configured token.
    pub fn token_in(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.token else {
            return false;
        };
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token);
        let own = headers
            .get("x-flightdeck-token")
            .and_then(|v| v.to_str().ok());
        [bearer, own]
            .into_iter()
            .flatten()
            .any(|given| same_secret(given.trim(), token))
    }
}

/// The access state of a running server: its configuration and the logged-in sessions.
#[derive(Debug, Default)]
pub struct Auth {
    pub config: AuthConfig,
    pub logins: Logins,
}

impl Auth {
    pub fn new(config: AuthConfig) -> Self {
        Auth {
            config,
            logins: Logins::default(),
        }
    }

    /// True when a request with `headers` and `method` may pass: credentials are not
    /// required, or it carries the token, or it reads with a login's cookie.
    pub fn allows(&self, method: &Method, headers: &HeaderMap) -> bool {
        !self.config.is_required()
            || self.config.token_in(headers)
            || (is_read(method) && self.logins.cookie_in(headers))
    }
}

impl Auth {
    /// Who a request with `headers` is, for the record of a decision: `token`, `login` (a
    /// person logged in with the password), or `loopback` on a server without credentials.
    pub fn who(&self, headers: &HeaderMap) -> &'static str {
        if !self.config.is_required() {
            "loopback"
        } else if self.config.token_in(headers) {
            "token"
        } else if self.logins.cookie_in(headers) {
            "login"
        } else {
            "unknown"
        }
    }
}

/// Writes a logged-in person makes from the page (the cookie passes for these, not only for
/// reads): review decisions.
fn is_person_write(method: &Method, path: &str) -> bool {
    *method == Method::POST
        && path
            .strip_prefix("/api/v1/reviews/")
            .is_some_and(|rest| rest.ends_with("/decision"))
}

/// The token of an `Authorization: Bearer <token>` value (the scheme in any case).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token)
}

/// Methods that only read.
fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Paths open to everyone: the health and readiness checks and the way in and out.
fn is_open(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/login" | "/logout")
}

/// The middleware in front of every route.
pub async fn require(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if !app.auth.config.is_required() && !names_loopback(&request) {
        // Open, so on loopback: a request naming another host is a web page that reached this
        // server through a DNS name rebound to 127.0.0.1. It must not read traces.
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            "this server has no credentials, so it answers only to loopback host names \
             (localhost, 127.0.0.1, [::1]); set a token or password to use another name",
        )
        .into_response();
    }
    if !is_read(request.method())
        && let Err(e) = origin::check(request.headers(), &app.config.allowed_origins)
    {
        return e.into_response();
    }
    let person_write = is_person_write(request.method(), request.uri().path())
        && app.auth.logins.cookie_in(request.headers());
    if is_open(request.uri().path())
        || person_write
        || app.auth.allows(request.method(), request.headers())
    {
        return next.run(request).await;
    }
    if wants_page(&request) {
        return Redirect::to("/login").into_response();
    }
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "this server needs credentials: send `Authorization: Bearer <token>` (or \
         `X-Flightdeck-Token: <token>` through the proxy), or log in at /login",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("valid"));
    response
}

/// A browser navigating to a page (not a script, not the live socket).
fn wants_page(request: &Request) -> bool {
    request.method() == Method::GET
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// True when the request names a loopback host (`Host`, or the HTTP/2 authority), or none.
fn names_loopback(request: &Request) -> bool {
    match request.headers().get(header::HOST) {
        Some(host) => host.to_str().is_ok_and(is_loopback_host),
        None => request
            .uri()
            .authority()
            .is_none_or(|a| is_loopback_host(a.as_str())),
    }
}

/// True when the request reached a loopback host name (where plain HTTP is normal). Behind a
/// reverse proxy that rewrites `Host` to 127.0.0.1 this is wrong: such setups need
/// credentials (see the README).
pub(crate) fn on_loopback(headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    is_loopback_host(host)
}

/// `localhost` (or a name under it, which browsers resolve locally), a loopback address; with
/// or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Compares two secrets in time that depends only on their lengths.
pub fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn open_without_credentials_configured() {
        assert!(Auth::new(AuthConfig::default()).allows(&Method::POST, &HeaderMap::new()));
    }

    #[test]
    fn the_token_passes_as_bearer_or_own_header_only() {
        let auth = Auth::new(AuthConfig {
            token: Some("s3cret".into()),
            password: None,
        });
        let allows = |h: &[(&'static str, &str)]| auth.allows(&Method::POST, &headers(h));
        assert!(!allows(&[]));
        assert!(allows(&[("authorization", "Bearer s3cret")]));
        assert!(allows(&[("authorization", "bearer s3cret")]));
        assert!(allows(&[("x-flightdeck-token", "s3cret")]));
        assert!(!allows(&[("authorization", "Bearer s3cre")]));
        assert!(!allows(&[("authorization", "Basic s3cret")]));
        assert!(!allows(&[("authorization", "Bearer s3cret-not")]));
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in [
            "localhost:7329",
            "127.0.0.1:7329",
            "[::1]:7329",
            "localhost",
            "ui.localhost:7329",
            "LOCALHOST.:7329",
            "[::ffff:127.0.0.1]:7329",
        ] {
            assert!(on_loopback(&headers(&[("host", host)])), "{host}");
        }
        for host in [
            "flightdeck.example.com",
            "10.0.0.5:7329",
            "[2001:db8::1]:80",
            "localhost.attacker.example",
        ] {
            assert!(!on_loopback(&headers(&[("host", host)])), "{host}");
        }
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("ab", "abc"));
        assert!(!same_secret("", "abc"));
    }

    #[test]
    fn debug_output_hides_the_secrets() {
        let text = format!(
            "{:?}",
            AuthConfig {
                token: Some("s3cret".into()),
                password: Some("hunter2".into())
            }
        );
        assert!(
            !text.contains("s3cret") && !text.contains("hunter2"),
            "{text}"
        );
    }
}
