//! Refusals that are heard. OTel exporters do not show OTLP partial success, and an SDK
//! that gets a 422 may log it where nobody looks, so every refusal of incoming data (a
//! native batch, OTLP spans or log records, a whole OTLP request) is counted here by source
//! and reason, logged at warn level once per client and reason a minute, and served at
//! `GET /api/v1/refusals` for the page: "412 spans refused in the last hour: ...".

use crate::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::header::USER_AGENT;
use axum::http::{Extensions, HeaderMap};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a refusal counts as recent.
const WINDOW: Duration = Duration::from_secs(3600);
/// Counts are kept per minute of the window.
const BUCKET: Duration = Duration::from_secs(60);
/// At most one warning per client and reason in this time.
const LOG_EVERY: Duration = Duration::from_secs(60);
/// Reasons kept at most (the oldest quiet one goes first), so odd input cannot grow this.
const MAX_REASONS: usize = 256;
/// Clients remembered per reason for the warning's rate limit.
const MAX_CLIENTS: usize = 64;

/// Where refused data came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `POST /api/v1/events`.
    Native,
    /// OTLP over HTTP or gRPC.
    Otlp,
    /// The LLM proxy's recorder, which could not keep what passed through.
    Proxy,
}

/// One refusal: what was refused, by which rule, and an example of the message sent back.
pub struct Refusal<'a> {
    pub source: Source,
    /// Who sent it (address and user agent, as far as known).
    pub client: &'a str,
    /// The rule that was broken, the same text for every item that broke it.
    pub reason: &'a str,
    /// What was refused: `batches`, `spans`, `log records`, `requests`, `records`.
    pub unit: &'static str,
    pub count: u64,
    /// The full message the client got.
    pub example: &'a str,
}

/// The counters of every reason seen.
#[derive(Default)]
pub struct Refusals {
    reasons: Mutex<HashMap<Key, Reason>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    source: Source,
    unit: &'static str,
    reason: String,
}

struct Reason {
    /// (start of the minute, count), oldest first, within the window.
    minutes: VecDeque<(Instant, u64)>,
    total: u64,
    example: String,
    last: Instant,
    last_client: String,
    /// When each client was last warned about, and what was refused since without a word.
    warned: HashMap<String, (Instant, u64)>,
}

/// A reason's figures, as the API serves them.
#[derive(Debug, Serialize, PartialEq)]
pub struct Summary {
    pub source: Source,
    pub unit: &'static str,
    pub reason: String,
    /// Refused in the last hour.
    pub last_hour: u64,
    /// Refused since the server started.
    pub total: u64,
    /// Seconds since the last one.
    pub last_secs_ago: u64,
    pub last_client: String,
    pub example: String,
}

impl Refusals {
    /// Counts a refusal, and warns about it unless this client was warned about this
    /// reason in the last minute.
    pub fn record(&self, r: Refusal<'_>) {
        self.record_at(r, Instant::now());
    }

    fn record_at(&self, r: Refusal<'_>, now: Instant) {
        if r.count == 0 {
            return;
        }
        let mut reasons = self.reasons.lock().unwrap_or_else(|e| e.into_inner());
        let key = Key {
            source: r.source,
            unit: r.unit,
            reason: r.reason.to_owned(),
        };
        if !reasons.contains_key(&key) && reasons.len() >= MAX_REASONS {
            let oldest = reasons
                .iter()
                .min_by_key(|(_, v)| v.last)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                reasons.remove(&k);
            }
        }
        let reason = reasons.entry(key).or_insert_with(|| Reason {
            minutes: VecDeque::new(),
            total: 0,
            example: String::new(),
            last: now,
            last_client: String::new(),
            warned: HashMap::new(),
        });
        reason.total += r.count;
        reason.last = now;
        r.example.clone_into(&mut reason.example);
        r.client.clone_into(&mut reason.last_client);
        match reason.minutes.back_mut() {
            Some((start, n)) if now.duration_since(*start) < BUCKET => *n += r.count,
            _ => reason.minutes.push_back((now, r.count)),
        }
        reason.forget_before(now);
        let due = match reason.warned.get(r.client) {
            Some((at, _)) => now.duration_since(*at) >= LOG_EVERY,
            None => true,
        };
        if due {
            let unheard = reason.warned.remove(r.client).map_or(0, |(_, n)| n);
            if reason.warned.len() >= MAX_CLIENTS {
                reason.warned.clear();
            }
            reason.warned.insert(r.client.to_owned(), (now, 0));
            tracing::warn!(
                source = ?r.source,
                client = r.client,
                refused = r.count,
                unit = r.unit,
                unreported_since_last_warning = unheard,
                "refused {} {}: {}",
                r.count,
                r.unit,
                r.example
            );
        } else if let Some((_, n)) = reason.warned.get_mut(r.client) {
            *n += r.count;
        }
    }

    /// Every reason with refusals in the last hour, the most refused first.
    pub fn summary(&self) -> Vec<Summary> {
        self.summary_at(Instant::now())
    }

    fn summary_at(&self, now: Instant) -> Vec<Summary> {
        let mut reasons = self.reasons.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<Summary> = reasons
            .iter_mut()
            .filter_map(|(key, reason)| {
                reason.forget_before(now);
                let last_hour: u64 = reason.minutes.iter().map(|(_, n)| n).sum();
                (last_hour > 0).then(|| Summary {
                    source: key.source,
                    unit: key.unit,
                    reason: key.reason.clone(),
                    last_hour,
                    total: reason.total,
                    last_secs_ago: now.duration_since(reason.last).as_secs(),
                    last_client: reason.last_client.clone(),
                    example: reason.example.clone(),
                })
            })
            .collect();
        out.sort_by(|a, b| b.last_hour.cmp(&a.last_hour).then(a.reason.cmp(&b.reason)));
        out
    }
}

impl Reason {
    fn forget_before(&mut self, now: Instant) {
        while let Some((start, _)) = self.minutes.front() {
            if now.duration_since(*start) < WINDOW {
                break;
            }
            self.minutes.pop_front();
        }
    }
}

/// `GET /api/v1/refusals`: what was refused in the last hour, by source and reason.
pub async fn get(State(app): State<AppState>) -> Json<Vec<Summary>> {
    Json(app.refusals.summary())
}

/// Who sent an HTTP request, for the warning: the peer's address and its user agent.
pub fn client(extensions: &Extensions, headers: &HeaderMap) -> String {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let agent = headers.get(USER_AGENT).and_then(|v| v.to_str().ok());
    client_at(peer, agent)
}

/// Who sent a request: the peer's address and its user agent, as far as known.
pub fn client_at(peer: Option<SocketAddr>, user_agent: Option<&str>) -> String {
    let ip = peer.map_or_else(|| "unknown address".to_owned(), |p| p.ip().to_string());
    match user_agent {
        Some(ua) if !ua.is_empty() => format!("{ip} ({ua})"),
        _ => ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal<'a>(client: &'a str, reason: &'a str, count: u64) -> Refusal<'a> {
        Refusal {
            source: Source::Otlp,
            client,
            reason,
            unit: "spans",
            count,
            example: "span 01: trace_id must be 16 bytes",
        }
    }

    #[test]
    fn refusals_are_counted_per_reason_within_the_hour() {
        let r = Refusals::default();
        let t0 = Instant::now();
        r.record_at(refusal("a", "trace_id", 400), t0);
        r.record_at(refusal("b", "trace_id", 12), t0 + Duration::from_secs(90));
        r.record_at(
            refusal("a", "input too large", 1),
            t0 + Duration::from_secs(100),
        );
        let s = r.summary_at(t0 + Duration::from_secs(120));
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].reason.as_str(), s[0].last_hour), ("trace_id", 412));
        assert_eq!(s[0].last_client, "b");
        assert_eq!(s[0].last_secs_ago, 30);
        assert_eq!(s[1].last_hour, 1);
        // An hour after the first minute, only the later ones count; the total stays.
        let s = r.summary_at(t0 + Duration::from_secs(3601));
        assert_eq!((s[0].last_hour, s[0].total), (12, 412));
        assert!(r.summary_at(t0 + Duration::from_secs(7200)).is_empty());
    }

    #[test]
    fn reasons_are_bounded() {
        let r = Refusals::default();
        let t0 = Instant::now();
        for i in 0..(MAX_REASONS + 50) {
            let reason = format!("reason {i}");
            r.record_at(
                refusal("a", &reason, 1),
                t0 + Duration::from_millis(i as u64),
            );
        }
        let s = r.summary_at(t0 + Duration::from_secs(1));
        assert_eq!(s.len(), MAX_REASONS);
        assert!(
            s.iter()
                .any(|s| s.reason == format!("reason {}", MAX_REASONS + 49))
        );
        assert!(!s.iter().any(|s| s.reason == "reason 0"), "the oldest went");
    }
}
