//! A `POST /api/v1/playground/runs` body, read and checked into a [`Plan`]: the original
//! span (when named) read from the store, the request (edited, or prefilled from the span),
//! the upstream, the key for this run and the variants. Every refusal names its field.

use super::prefill::{self, kind_of};
use super::runs::{self, Call};
use crate::AppState;
use crate::error::ApiError;
use crate::proxy::Proxy;
use crate::proxy::api::Endpoint;
use axum::http::StatusCode;
use flightdeck_model::SpanKind;
use flightdeck_model::record::SpanDetail;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The most variants one request may run side by side.
pub const MAX_VARIANTS: usize = 8;

/// An API the playground calls, as the API names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    ChatCompletions,
    Responses,
    Messages,
}

impl Api {
    pub fn endpoint(self) -> Endpoint {
        match self {
            Api::ChatCompletions => Endpoint::ChatCompletions,
            Api::Responses => Endpoint::Responses,
            Api::Messages => Endpoint::Messages,
        }
    }

    pub fn of(endpoint: Endpoint) -> Api {
        match endpoint {
            Endpoint::Responses => Api::Responses,
            Endpoint::Messages => Api::Messages,
            _ => Api::ChatCompletions,
        }
    }
}

/// What a client posts. The key is never printed: no `Debug`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Posted {
    session_id: Option<String>,
    span_id: Option<String>,
    upstream: Option<String>,
    api: Option<Api>,
    body: Option<Value>,
    key: Option<String>,
    #[serde(default)]
    variants: Vec<Variant>,
    #[serde(default)]
    stream: bool,
}

/// What one column changes in the request.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub model: Option<String>,
    pub temperature: Option<f64>,
    pub label: Option<String>,
}

/// The span a run is made from.
pub struct Original {
    pub session_id: String,
    pub span_id: String,
    pub call: Call,
}

/// Everything a run needs, checked.
pub struct Plan {
    pub upstream: String,
    pub endpoint: Endpoint,
    pub body: Map<String, Value>,
    /// A key for these runs only: never stored, logged or echoed.
    pub key: Option<String>,
    pub stream: bool,
    /// The playground session the runs are kept in.
    pub session_id: String,
    pub original: Option<Original>,
    pub variants: Vec<Variant>,
}

fn field(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid_field((Some(name.to_owned()), message.into()))
}

/// Reads the LLM span `span_id` of `session_id`: 404 when there is none, 422 when it is
/// not an LLM span.
pub async fn llm_span(
    app: &AppState,
    session_id: &str,
    span_id: &str,
) -> Result<SpanDetail, ApiError> {
    let span = app.store.span(session_id, span_id).await?.ok_or_else(|| {
        ApiError::not_found(format!(
            "span_id: no span {span_id:?} in session {session_id:?}"
        ))
    })?;
    if span.summary.kind != SpanKind::Llm {
        return Err(field(
            "span_id",
            format!(
                "span {span_id:?} is a {} span, not an LLM span",
                span.summary.kind.as_str()
            ),
        ));
    }
    Ok(span)
}

/// The upstream a run of `span` goes to when none is named: the one the proxy recorded it
/// through, else the first configured one of its API with a key, else the first of its API.
/// (An SDK span's `provider` names a vendor, not an upstream, so it is not taken.)
pub fn suggested_upstream(
    proxy: &Proxy,
    span: Option<&SpanDetail>,
    endpoint: Endpoint,
) -> Option<String> {
    let upstreams = proxy.upstreams();
    let kind = kind_of(endpoint);
    let fitting = || upstreams.iter().filter(move |(_, u)| u.kind == kind);
    span.and_then(|s| s.attributes.get("proxy.upstream"))
        .and_then(Value::as_str)
        .filter(|p| upstreams.get(*p).is_some_and(|u| u.kind == kind))
        .map(str::to_owned)
        .or_else(|| {
            fitting()
                .find(|(_, u)| u.api_key.is_some())
                .map(|(n, _)| n.clone())
        })
        .or_else(|| fitting().next().map(|(n, _)| n.clone()))
}

/// Reads and checks a posted body (`stream` also when the client accepts only SSE).
pub async fn read(app: &AppState, bytes: &[u8], wants_sse: bool) -> Result<Plan, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the request body is not JSON: {e}"),
        )
    })?;
    let posted: Posted = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        field(&path, e.into_inner().to_string())
    })?;
    let span = match (&posted.session_id, &posted.span_id) {
        (Some(session), Some(span)) => Some(llm_span(app, session, span).await?),
        (Some(_), None) => return Err(field("span_id", "is required with session_id")),
        (None, Some(_)) => return Err(field("session_id", "is required with span_id")),
        (None, None) => None,
    };
    let (endpoint, body) = match (posted.body, &span) {
        (Some(Value::Object(body)), _) => {
            let endpoint = match (posted.api, &span) {
                (Some(api), _) => api.endpoint(),
                (None, Some(s)) => prefill::endpoint_of(s),
                (None, None) => infer(app, posted.upstream.as_deref(), &body),
            };
            (endpoint, body)
        }
        (Some(_), _) => {
            return Err(field(
                "body",
                "must be a JSON object: the request body of the API",
            ));
        }
        (None, Some(s)) => {
            let r = prefill::request(app.store.as_ref(), s).await;
            (r.endpoint, r.body)
        }
        (None, None) => {
            return Err(field(
                "body",
                "give the session_id and span_id of an LLM span, or a request body",
            ));
        }
    };
    let upstream = match posted.upstream {
        Some(name) => name,
        None => suggested_upstream(&app.proxy, span.as_ref(), endpoint).ok_or_else(|| {
            field(
                "upstream",
                "is required: no configured upstream speaks this API",
            )
        })?,
    };
    check_upstream(&app.proxy, &upstream, endpoint)?;
    if posted.variants.len() > MAX_VARIANTS {
        return Err(field(
            "variants",
            format!("at most {MAX_VARIANTS} variants run at once"),
        ));
    }
    let mut variants = posted.variants;
    if variants.is_empty() {
        variants.push(Variant::default());
    }
    let session_id = runs::new_session();
    let original = span.map(|s| Original {
        session_id: s.summary.session_id.clone(),
        span_id: s.summary.span_id.clone(),
        call: Call::of(s),
    });
    Ok(Plan {
        upstream,
        endpoint,
        body,
        key: posted.key.filter(|k| !k.trim().is_empty()),
        stream: posted.stream || wants_sse,
        session_id,
        original,
        variants,
    })
}

/// The API of an edited body sent with no span: the upstream's kind decides, and for
/// OpenAI a body with `input` and no `messages` is a Responses request.
fn infer(app: &AppState, upstream: Option<&str>, body: &Map<String, Value>) -> Endpoint {
    let anthropic = upstream
        .and_then(|u| app.proxy.upstreams().get(u))
        .is_some_and(|u| kind_of(Endpoint::Messages) == u.kind);
    if anthropic {
        Endpoint::Messages
    } else if body.contains_key("input") && !body.contains_key("messages") {
        Endpoint::Responses
    } else {
        Endpoint::ChatCompletions
    }
}

fn check_upstream(proxy: &Proxy, name: &str, endpoint: Endpoint) -> Result<(), ApiError> {
    let upstreams = proxy.upstreams();
    let Some(upstream) = upstreams.get(name) else {
        let known: Vec<&str> = upstreams.keys().map(String::as_str).collect();
        return Err(field(
            "upstream",
            format!(
                "no upstream named {name:?}; configured: {} (add one under [proxy.upstreams.{name}])",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    if upstream.kind != kind_of(endpoint) {
        return Err(field(
            "upstream",
            format!(
                "{name:?} speaks the {:?} API, and this is a {} request; pick an upstream of that kind",
                upstream.kind,
                endpoint.span_name()
            ),
        ));
    }
    Ok(())
}
