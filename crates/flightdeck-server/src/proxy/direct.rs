//! Calls Flightdeck makes itself rather than on a client's behalf (the playground's runs).
//! They go to a configured upstream with the proxy's client and key handling, through the
//! same tap, and the recorder files them as LLM spans like any proxied call, under the
//! session and span id the caller chose, so nothing about sending or recording a call is
//! written twice.

use super::api::Endpoint;
use super::attribution::Attribution;
use super::config::{ApiKind, Upstream};
use super::recorder::{Begin, OwnSpan, Record};
use super::tap::Tap;
use super::{Proxy, set_key, tapped, unreachable};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use bytes::Bytes;
use flightdeck_model::Timestamp;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The `anthropic-version` Flightdeck's own calls send (the API requires one).
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// One call to make.
pub struct OwnCall {
    /// A configured upstream's name.
    pub upstream: String,
    pub endpoint: Endpoint,
    /// The request body, sent as it is.
    pub body: Bytes,
    /// A key for this call only, used instead of the upstream's configured one; never
    /// stored or logged.
    pub key: Option<String>,
    pub session_id: String,
    pub span_id: String,
    pub name: String,
    pub attributes: Map<String, Value>,
}

/// The upstream's answer: its status and its body as it arrives.
pub struct OwnAnswer {
    pub status: u16,
    pub body: Body,
}

impl Proxy {
    /// The configured upstreams, by name.
    pub fn upstreams(&self) -> &BTreeMap<String, Upstream> {
        &self.config.upstreams
    }

    /// Sends `call` upstream and records it; `Err` says why no answer came (unknown
    /// upstream, an endpoint Flightdeck does not call, the upstream unreachable).
    pub async fn call_own(&self, call: OwnCall) -> Result<OwnAnswer, String> {
        let upstream = self
            .config
            .upstreams
            .get(&call.upstream)
            .ok_or_else(|| format!("no upstream named {:?}", call.upstream))?;
        let path = call
            .endpoint
            .path()
            .ok_or_else(|| format!("{} calls are not made here", call.endpoint.span_name()))?;
        let url = format!("{}{path}", upstream.base_url.trim_end_matches('/'));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if upstream.kind == ApiKind::Anthropic {
            headers.insert(
                "anthropic-version",
                HeaderValue::from_static(ANTHROPIC_VERSION),
            );
        }
        // The answer is read here, so it must come as it is: not compressed.
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        if let Some(key) = call.key.as_deref().or(upstream.api_key.as_deref()) {
            set_key(&mut headers, upstream.kind, key);
        }
        let id = self.recorder.call_id();
        let started = std::time::Instant::now();
        self.recorder.send(Record::Begin(Box::new(Begin {
            call: id,
            endpoint: call.endpoint,
            upstream: call.upstream.clone(),
            attribution: Attribution {
                session: Some(call.session_id),
                ..Attribution::default()
            },
            request: call.body.clone(),
            at: Timestamp::now(),
            path: path.to_owned(),
            started,
            served: false,
            placed: None,
            own: Some(Box::new(OwnSpan {
                span_id: call.span_id,
                name: call.name,
                attributes: call.attributes,
            })),
        })));
        let sent = self
            .client
            .post(url)
            .headers(headers)
            .body(call.body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                let message = unreachable(&call.upstream, &e);
                self.recorder.send(Record::End {
                    call: id,
                    failure: Some(message.clone()),
                });
                return Err(message);
            }
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self.recorder.send(Record::Status {
            call: id,
            status,
            content_type,
        });
        let length = response.content_length();
        let tap = Tap::new(self.recorder.clone(), Some(id), false, length);
        Ok(OwnAnswer {
            status,
            body: tapped(response.bytes_stream(), tap),
        })
    }
}
