//! The recording LLM proxy: `/proxy/{upstream}/...` forwards any request to a configured
//! OpenAI- or Anthropic-compatible upstream and streams the answer back untouched, chunk by
//! chunk; calls to the LLM endpoints are recorded as LLM spans off the request path.
//!
//! - `config`: upstreams and session grouping; `attribution`: the `x-flightdeck-*` headers
//!   and `traceparent`;
//! - `tap`: the response body on its way back; `sse`: event splitting;
//! - `recorder`: the task that turns records into spans; `api`: reading each API's calls;
//!   `response_id`: the provider's id of a response, which joins an OTel span of the call;
//!   `exchange`: each call's exact exchange, kept for replays (`crate::replay`);
//! - `gate`: zero-code review gates, which hold an answer that calls a gated tool until a
//!   person decides;
//! - `direct`: calls Flightdeck makes itself (the playground's runs), through the same
//!   client, keys and recorder.
//!
//! `/replay/{id}/{upstream}/...` (or `x-flightdeck-replay: {id}` on `/proxy/...`) is the same
//! forwarding, with `crate::replay` deciding per call: answer from the recording, or send
//! (the edit of the fork call) upstream, recorded into the replay's fork session.

pub(crate) mod api;
mod attribution;
pub mod config;
mod direct;
mod exchange;
pub mod gate;
mod recorder;
mod response_id;
pub(crate) mod sse;
mod stream_usage;
mod tap;

use crate::AppState;
use crate::auth::AuthConfig;
use crate::error::ApiError;
use crate::refusals::Refusals;
use crate::replay::Routed;
use api::Endpoint;
use attribution::Attribution;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bytes::Bytes;
use config::{ApiKind, ProxyConfig, Upstream};
pub use direct::{OwnAnswer, OwnCall};
use flightdeck_model::Timestamp;
use flightdeck_store::Store;
use futures_util::StreamExt;
use recorder::{Begin, Record, Recorder};
use std::net::SocketAddr;
use std::sync::Arc;
use tap::Tap;

/// The proxy's state: its upstream client and the recorder.
pub struct Proxy {
    config: ProxyConfig,
    client: reqwest::Client,
    recorder: Recorder,
}

impl Proxy {
    /// Starts the recorder; must run inside the tokio runtime.
    pub fn start(
        config: ProxyConfig,
        store: Arc<dyn Store>,
        refusals: Arc<Refusals>,
        calls: Arc<crate::calls::Calls>,
    ) -> Arc<Proxy> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()
            .expect("the HTTP client builds with static settings");
        let recorder = Recorder::start(store, config.session_idle, refusals, calls);
        Arc::new(Proxy {
            config,
            client,
            recorder,
        })
    }

    /// Calls to the LLM endpoints (the recorded ones) since start.
    pub fn calls(&self) -> u64 {
        self.recorder.calls()
    }

    /// Records that could not be kept because recording fell behind.
    pub fn records_lost(&self) -> u64 {
        self.recorder.lost()
    }

    /// Writes what the recorder still holds; calls ending later are not recorded.
    pub async fn close(&self) {
        self.recorder.close().await;
    }
}

/// The proxy's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/proxy/{upstream}", any(forward_root))
        .route("/proxy/{upstream}/{*rest}", any(forward))
        .route("/replay/{replay}/{upstream}/{*rest}", any(forward_replay))
}

async fn forward_replay(
    state: State<AppState>,
    Path((replay, upstream, rest)): Path<(String, String, String)>,
    req: Request,
) -> Response {
    forward_call(state, upstream, rest, req, Some(replay)).await
}

async fn forward_root(
    state: State<AppState>,
    Path(upstream): Path<String>,
    req: Request,
) -> Response {
    forward(state, Path((upstream, String::new())), req).await
}

/// Headers that belong to one connection and are never forwarded (RFC 9110, 7.6.1).
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    header::HOST,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
    header::CONTENT_LENGTH,
];

/// The request headers the upstream gets: the client's, less hop-by-hop ones and
/// Flightdeck's own: its `x-flightdeck-*` headers, cookies (a login's session), and an
/// `Authorization` that carries Flightdeck's token (`auth`) or that the upstream's own key
/// replaces.
fn forwarded_headers(from: &HeaderMap, upstream: &Upstream, auth: &AuthConfig) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(from.len());
    for (name, value) in from {
        if HOP_BY_HOP.contains(name)
            || name.as_str() == "keep-alive"
            || name == header::COOKIE
            || attribution::is_ours(name.as_str())
        {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    let ours = auth.token_in(&out);
    if ours || upstream.api_key.is_some() {
        out.remove(header::AUTHORIZATION);
    }
    if let Some(key) = &upstream.api_key {
        set_key(&mut out, upstream.kind, key);
    }
    out
}

/// Puts `key` in the header an API of `kind` reads it from.
fn set_key(headers: &mut HeaderMap, kind: ApiKind, key: &str) {
    let (name, value) = match kind {
        ApiKind::Openai => (header::AUTHORIZATION, format!("Bearer {key}")),
        ApiKind::Anthropic => (HeaderName::from_static("x-api-key"), key.to_owned()),
    };
    if let Ok(v) = value.parse() {
        headers.insert(name, v);
    }
}

#[derive(serde::Deserialize)]
struct StreamFlags {
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    stream_options: Option<serde::de::IgnoredAny>,
}

async fn forward(
    state: State<AppState>,
    Path((name, rest)): Path<(String, String)>,
    req: Request,
) -> Response {
    let replay = req
        .headers()
        .get(crate::replay::HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    forward_call(state, name, rest, req, replay).await
}

async fn forward_call(
    State(app): State<AppState>,
    name: String,
    rest: String,
    req: Request,
    replay: Option<String>,
) -> Response {
    let proxy = &app.proxy;
    let Some(upstream) = proxy.config.upstreams.get(&name) else {
        return ApiError::not_found(format!(
            "no upstream named {name:?}; configure [proxy.upstreams.{name}] (known: {})",
            proxy
                .config
                .upstreams
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into_response();
    };
    let path = format!("/{rest}");
    let mut url = format!("{}{}", upstream.base_url.trim_end_matches('/'), path);
    if let Some(q) = req.uri().query() {
        url.push('?');
        url.push_str(q);
    }
    let endpoint = (req.method() == Method::POST)
        .then(|| Endpoint::detect(upstream.kind, &path))
        .flatten();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let mut headers = forwarded_headers(req.headers(), upstream, &app.auth.config);
    let method = req.method().clone();
    let attribution = endpoint.map(|_| Attribution::from_headers(req.headers(), peer));
    // Only the LLM endpoints can be gated; every other call passes without a look.
    let gates = match endpoint
        .map(|_| gate::Gates::for_call(&proxy.config.review_rules, &name, req.headers()))
        .transpose()
    {
        Ok(g) => g.unwrap_or_default(),
        Err(e) => return ApiError::bad_request(e).into_response(),
    };
    let body = req.into_body();
    let mut candidate = None;

    if let (None, Some(id)) = (endpoint, &replay)
        && let Err(e) = app.replays.record(id).await
    {
        return e.into_response();
    }
    let (upstream_body, call, strip_usage) = match endpoint {
        None => (
            reqwest::Body::wrap_stream(body.into_data_stream()),
            None,
            false,
        ),
        Some(endpoint) => {
            let bytes = match axum::body::to_bytes(body, app.config.max_body_bytes).await {
                Ok(b) => b,
                Err(_) => {
                    return ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        format!(
                            "the request body is larger than {} bytes",
                            app.config.max_body_bytes
                        ),
                    )
                    .into_response();
                }
            };
            let started = std::time::Instant::now();
            let mut attribution = attribution.unwrap_or_default();
            let bytes = match replay {
                None => bytes,
                Some(id) => match app
                    .replays
                    .route(&id, &attribution.agent, bytes.clone())
                    .await
                {
                    Err(e) => return e.into_response(),
                    Ok(Routed::Upstream { fork_session, body }) => {
                        attribution.session = Some(fork_session);
                        body
                    }
                    Ok(Routed::Recorded {
                        fork_session,
                        span_id,
                        exchange,
                    }) => {
                        attribution.session = Some(fork_session);
                        let begin = Begin {
                            call: proxy.recorder.call_id(),
                            endpoint,
                            upstream: name,
                            attribution,
                            request: bytes,
                            at: Timestamp::now(),
                            path,
                            started,
                            served: true,
                            placed: None,
                            own: Some(Box::new(recorder::OwnSpan {
                                span_id,
                                name: endpoint.span_name().to_owned(),
                                attributes: serde_json::Map::new(),
                            })),
                        };
                        return from_recording(proxy, begin, &exchange);
                    }
                },
            };
            let flags = serde_json::from_slice::<StreamFlags>(&bytes).ok();
            let inject = endpoint == Endpoint::ChatCompletions
                && upstream.stream_usage
                && flags
                    .as_ref()
                    .is_some_and(|f| f.stream && f.stream_options.is_none());
            let sent = if inject {
                stream_usage::request_with_usage(&bytes)
            } else {
                None
            };
            let call = proxy.recorder.call_id();
            let placed =
                gate::Candidate::new(gates, endpoint, &bytes, &name, attribution.agent.clone())
                    .map(|(c, placed)| {
                        candidate = Some(c);
                        placed
                    });
            // An answer is read here, so it must come as it is: not compressed.
            headers.insert(
                header::ACCEPT_ENCODING,
                axum::http::HeaderValue::from_static("identity"),
            );
            proxy.recorder.send(Record::Begin(Box::new(Begin {
                call,
                endpoint,
                upstream: name.clone(),
                attribution,
                request: bytes.clone(),
                at: Timestamp::now(),
                path: path.clone(),
                started,
                served: false,
                placed,
                own: None,
            })));
            let strip = sent.is_some();
            (
                reqwest::Body::from(sent.unwrap_or(bytes)),
                Some(call),
                strip,
            )
        }
    };

    let result = proxy
        .client
        .request(method, &url)
        .headers(headers)
        .body(upstream_body)
        .send()
        .await;
    let upstream_response = match result {
        Ok(r) => r,
        Err(e) => {
            let message = unreachable(&name, &e);
            if let Some(call) = call {
                proxy.recorder.send(Record::End {
                    call,
                    failure: Some(message.clone()),
                });
            }
            return ApiError::new(StatusCode::BAD_GATEWAY, "upstream_unreachable", message)
                .into_response();
        }
    };
    let status = upstream_response.status();
    if let Some(call) = call {
        proxy.recorder.send(Record::Status {
            call,
            status: status.as_u16(),
            content_type: upstream_response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        });
    }
    let mut response_headers = HeaderMap::with_capacity(upstream_response.headers().len());
    for (name, value) in upstream_response.headers() {
        let changes_length = strip_usage && name == header::CONTENT_LENGTH;
        if !changes_length && (!HOP_BY_HOP.contains(name) || name == header::CONTENT_LENGTH) {
            response_headers.append(name.clone(), value.clone());
        }
    }
    let length = (!strip_usage)
        .then(|| upstream_response.content_length())
        .flatten();
    let tap = Tap::new(proxy.recorder.clone(), call, strip_usage, length);
    let stream = upstream_response.bytes_stream();
    if let Some(candidate) = candidate.filter(|_| status.is_success()) {
        let reviews = std::sync::Arc::clone(&app.reviews);
        return gate::answer(reviews, candidate, status, response_headers, stream, tap).await;
    }
    let mut response = Response::new(tapped(stream, tap));
    *response.status_mut() = status;
    *response.headers_mut() = response_headers;
    response
}

/// Answers a call of a replay with a recorded exchange: its status, content type and bytes,
/// cut where they were cut (without the waits between them), through a `Tap` like an
/// upstream's answer, so the call is recorded into the fork too.
fn from_recording(proxy: &Proxy, begin: Begin, x: &flightdeck_model::replay::Exchange) -> Response {
    let call = begin.call;
    proxy.recorder.send(Record::Begin(Box::new(begin)));
    proxy.recorder.send(Record::Status {
        call,
        status: x.status,
        content_type: x.content_type.clone(),
    });
    let streamed = x
        .content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("text/event-stream"));
    let length = (!streamed).then_some(x.response.len() as u64);
    let whole = Bytes::from(x.response.clone());
    let mut at = 0;
    let chunks: Vec<reqwest::Result<Bytes>> = x
        .chunks
        .iter()
        .map(|c| {
            let end = (at + c.len as usize).min(whole.len());
            let piece = whole.slice(at.min(end)..end);
            at = end;
            Ok(piece)
        })
        .collect();
    let tap = Tap::new(proxy.recorder.clone(), Some(call), false, length);
    let mut response = Response::new(tapped(futures_util::stream::iter(chunks), tap));
    *response.status_mut() = StatusCode::from_u16(x.status).unwrap_or(StatusCode::OK);
    if let Some(t) = x.content_type.as_deref().and_then(|t| t.parse().ok()) {
        response.headers_mut().insert(header::CONTENT_TYPE, t);
    }
    if let Some(n) = length {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, n.into());
    }
    response
}

/// The body the client gets: `stream` passed through `tap`.
fn tapped<S>(stream: S, mut tap: Tap) -> Body
where
    S: futures_util::Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
{
    async_body(stream, move |item| match item {
        Some(Ok(bytes)) => Some(Ok(tap.chunk(bytes))),
        Some(Err(e)) => {
            let message = format!("the upstream stream was cut: {}", root_cause(&e));
            tap.finish(Some(message.clone()));
            Some(Err(std::io::Error::other(message)))
        }
        None => {
            let rest = tap.finish(None);
            (!rest.is_empty()).then_some(Ok(rest))
        }
    })
}

/// A body that maps each upstream item (and the end, as `None`) through `f`; `f` returning
/// `None` at the end finishes the body.
fn async_body<S, F>(upstream: S, mut f: F) -> Body
where
    S: futures_util::Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    F: FnMut(Option<reqwest::Result<Bytes>>) -> Option<std::io::Result<Bytes>> + Send + 'static,
{
    let items = upstream
        .map(Some)
        .chain(futures_util::stream::once(async { None }));
    let mut done = false;
    Body::from_stream(items.filter_map(move |item| {
        let out = if done {
            None
        } else {
            let failed = matches!(item, Some(Err(_)));
            let out = f(item);
            done = failed;
            out
        };
        async move { out }
    }))
}

/// Why a call to the upstream `name` got no answer.
fn unreachable(name: &str, e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("the upstream {name:?} did not answer in time")
    } else {
        format!(
            "the upstream {name:?} could not be reached: {}",
            root_cause(e)
        )
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    const SENT: &[(&str, &str)] = &[
        ("authorization", "Bearer sk-client"),
        ("content-type", "application/json"),
        ("cookie", "flightdeck_session=abc; flightdeck_login=1"),
        ("x-flightdeck-token", "t0ken"),
        ("x-flightdeck-session", "s1"),
        ("connection", "keep-alive"),
    ];

    #[test]
    fn the_clients_key_goes_upstream_and_nothing_of_flightdecks() {
        let auth = AuthConfig {
            token: Some("t0ken".into()),
            password: Some("pw".into()),
        };
        let upstream = Upstream::new("http://up", ApiKind::Openai);
        let out = forwarded_headers(&request(SENT), &upstream, &auth);
        assert_eq!(out[header::AUTHORIZATION], "Bearer sk-client");
        assert_eq!(out[header::CONTENT_TYPE], "application/json");
        for gone in [
            "cookie",
            "x-flightdeck-token",
            "x-flightdeck-session",
            "connection",
        ] {
            assert!(!out.contains_key(gone), "{gone} was forwarded");
        }
    }

    #[test]
    fn flightdecks_token_as_bearer_is_not_forwarded() {
        let auth = AuthConfig {
            token: Some("t0ken".into()),
            password: None,
        };
        let upstream = Upstream::new("http://up", ApiKind::Anthropic);
        let sent = request(&[("authorization", "Bearer t0ken"), ("x-api-key", "sk-ant")]);
        let out = forwarded_headers(&sent, &upstream, &auth);
        assert!(!out.contains_key(header::AUTHORIZATION));
        assert_eq!(out["x-api-key"], "sk-ant");
    }

    #[test]
    fn a_configured_key_replaces_the_clients_authorization() {
        let mut upstream = Upstream::new("http://up", ApiKind::Anthropic);
        upstream.api_key = Some("sk-server".into());
        let sent = request(&[("authorization", "Bearer whatever")]);
        let out = forwarded_headers(&sent, &upstream, &AuthConfig::default());
        assert!(!out.contains_key(header::AUTHORIZATION));
        assert_eq!(out["x-api-key"], "sk-server");
    }
}
