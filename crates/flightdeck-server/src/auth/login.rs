//! The way in for people: `GET /login` (a page with one field), `POST /login` (the password,
//! or the token, for a session cookie), `POST /logout`.
//!
//! Sessions live in memory (a restart logs everyone out) and last a week. The cookie is
//! `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` unless the page was reached on a
//! loopback host, so beyond localhost a password login wants HTTPS in front of Flightdeck
//! (tokens work over anything).

use super::{on_loopback, same_secret};
use crate::AppState;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const COOKIE: &str = "flightdeck_session";
/// A cookie the page can read (the session's cannot), holding no secret: it only tells the
/// page that a person logged in, so it offers "Log out".
const MARKER: &str = "flightdeck_login";
/// How long a login lasts.
const LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// The most sessions kept; past it the oldest is forgotten.
const MAX_SESSIONS: usize = 1024;
/// How long a wrong password waits before its answer. Wrong answers wait in turn, so
/// guessing runs at two tries a second however many connections it uses.
const FAILURE_DELAY: Duration = Duration::from_millis(500);

/// Logged-in sessions: id -> expiry.
#[derive(Debug, Default)]
pub struct Logins {
    sessions: Mutex<HashMap<String, Instant>>,
    /// Held through each failure's delay: one wrong answer at a time.
    failures: tokio::sync::Mutex<()>,
}

impl Logins {
    /// Starts a session and returns its id (256 random bits, hex).
    fn open(&self) -> std::io::Result<String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut sessions = self.sessions.lock().expect("logins lock");
        sessions.retain(|_, expiry| *expiry > now);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, e)| **e)
                .map(|(k, _)| k.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(id.clone(), now + LIFETIME);
        Ok(id)
    }

    fn close(&self, id: &str) {
        self.sessions.lock().expect("logins lock").remove(id);
    }

    /// True when `headers` carry the cookie of a live session (any of them, should a page
    /// have planted another of the same name beside it).
    pub fn cookie_in(&self, headers: &HeaderMap) -> bool {
        let sessions = self.sessions.lock().expect("logins lock");
        let now = Instant::now();
        session_cookies(headers).any(|id| sessions.get(id).is_some_and(|e| *e > now))
    }

    /// Answers a wrong password after its delay, one at a time.
    async fn refuse(&self) {
        let _turn = self.failures.lock().await;
        tokio::time::sleep(FAILURE_DELAY).await;
    }
}

/// The session ids in a request's cookies.
fn session_cookies(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// `GET /login`.
pub async fn page() -> Html<String> {
    Html(render(None))
}

#[derive(Deserialize)]
pub struct LoginForm {
    password: String,
}

/// `POST /login`: the password (or the token) for a session cookie.
pub async fn login(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let config = &app.auth.config;
    let given = form.password.as_str();
    let matches =
        |secret: &Option<String>| secret.as_deref().is_some_and(|s| same_secret(given, s));
    if !(matches(&config.password) || matches(&config.token)) {
        app.auth.logins.refuse().await;
        let message = if config.is_required() {
            "That is not the password."
        } else {
            "This server has no password: it is open on loopback."
        };
        return (StatusCode::UNAUTHORIZED, Html(render(Some(message)))).into_response();
    }
    let id = match app.auth.logins.open() {
        Ok(id) => id,
        Err(e) => {
            tracing::error!(error = %e, "no randomness for a session id");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let secure = if on_loopback(&headers) {
        ""
    } else {
        "; Secure"
    };
    let age = LIFETIME.as_secs();
    with_cookies(
        Redirect::to("/"),
        &[
            format!("{COOKIE}={id}; HttpOnly; SameSite=Lax; Path=/; Max-Age={age}{secure}"),
            format!("{MARKER}=1; SameSite=Lax; Path=/; Max-Age={age}{secure}"),
        ],
    )
}

/// `POST /logout`: forgets the session and clears the cookies.
pub async fn logout(State(app): State<AppState>, headers: HeaderMap) -> Response {
    for id in session_cookies(&headers) {
        app.auth.logins.close(id);
    }
    with_cookies(
        Redirect::to("/login"),
        &[
            format!("{COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"),
            format!("{MARKER}=; SameSite=Lax; Path=/; Max-Age=0"),
        ],
    )
}

fn with_cookies(redirect: Redirect, cookies: &[String]) -> Response {
    let mut response = redirect.into_response();
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The login page: self-contained (no asset behind the login), both themes. Its one line of
/// script keeps the deep link it was sent from: the browser keeps a URL's fragment (the
/// page's route, `#/s/<session>/...`) across the redirect to `/login` but never sends it,
/// so the form posts to `/login#<route>` and the redirect to `/` inherits the fragment.
fn render(error: Option<&str>) -> String {
    let notice = error
        .map(|e| format!(r#"<p class="error" role="alert">{e}</p>"#))
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · Flightdeck</title>
<style>
:root {{ color-scheme: light dark; --bg: #f4f6f9; --panel: #fff; --text: #1b2330; --muted: #5b6675; --border: #d7dde5; --accent: #2563eb; --error: #dc2626; }}
@media (prefers-color-scheme: dark) {{ :root {{ --bg: #0f141b; --panel: #171e27; --text: #e6ebf2; --muted: #93a0b0; --border: #2a3441; --accent: #5b8def; --error: #f05252; }} }}
body {{ margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--bg); color: var(--text); font: 15px/1.5 system-ui, sans-serif; }}
form {{ background: var(--panel); border: 1px solid var(--border); border-radius: 10px; padding: 28px; width: 300px; }}
h1 {{ font-size: 20px; margin: 0 0 4px; }}
p {{ color: var(--muted); margin: 0 0 18px; font-size: 13px; }}
label {{ display: block; font-size: 13px; margin-bottom: 6px; }}
input {{ width: 100%; box-sizing: border-box; padding: 8px 10px; border: 1px solid var(--border); border-radius: 6px; background: var(--bg); color: var(--text); font: inherit; }}
button {{ margin-top: 14px; width: 100%; padding: 9px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; font: inherit; font-weight: 600; cursor: pointer; }}
.error {{ color: var(--error); margin: 12px 0 0; }}
</style></head>
<body><form method="post" action="/login">
<h1>Flightdeck</h1><p>This server asks for its password (or its access token).</p>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" autofocus required>
{notice}<button type="submit">Log in</button>
</form><script>document.forms[0].action = '/login' + location.hash;</script></body></html>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, value.parse().unwrap());
        h
    }

    #[test]
    fn a_session_is_known_until_closed() {
        let logins = Logins::default();
        let id = logins.open().unwrap();
        assert_eq!(id.len(), 64);
        let cookie = with(header::COOKIE, &format!("theme=dark; {COOKIE}={id}"));
        assert!(logins.cookie_in(&cookie));
        let planted = with(header::COOKIE, &format!("{COOKIE}=planted; {COOKIE}={id}"));
        assert!(
            logins.cookie_in(&planted),
            "a planted cookie does not hide the real one"
        );
        assert!(!logins.cookie_in(&with(header::COOKIE, &format!("{COOKIE}=nope"))));
        logins.close(&id);
        assert!(!logins.cookie_in(&cookie));
    }

    #[test]
    fn sessions_are_bounded() {
        let logins = Logins::default();
        let first = logins.open().unwrap();
        for _ in 0..MAX_SESSIONS {
            logins.open().unwrap();
        }
        assert_eq!(logins.sessions.lock().unwrap().len(), MAX_SESSIONS);
        assert!(!logins.cookie_in(&with(header::COOKIE, &format!("{COOKIE}={first}"))));
    }
}
