//! A session as OTLP/JSON: one `ExportTraceServiceRequest` per session, written on one line,
//! as the OpenTelemetry Collector's file exporter writes them, so any OTLP tool reads it.
//!
//! Spans carry OpenInference's attributes (`openinference.span.kind`, `input.value`,
//! `output.value`, `session.id`, `agent.name`) and the GenAI ones for model, provider and
//! usage: the conventions Flightdeck's own OTLP ingest reads (docs/otel.md), so an export
//! imports back. Ids that are not already OTLP hex (16 bytes of trace, 8 of span) are hashed
//! to that size, and the original is kept as `flightdeck.span_id`. OTLP has only finished
//! spans, so a span still running is written as Logfire writes one: a zero-length "pending
//! span" (`logfire.span_type = pending_span`) under the real span's id, which the ingest
//! shows as running. Events, edges, agents' reports and metrics have no place in an OTLP
//! trace and are left out (native JSONL keeps them).

use crate::otlp::value::{hex, key_value};
use flightdeck_model::record::{Session, SpanDetail, SpanStatus};
use flightdeck_model::{SpanKind, Timestamp};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, status};
use serde_json::Value;

/// The export request of one session's spans.
pub fn session_request(session: &Session, spans: Vec<SpanDetail>) -> ExportTraceServiceRequest {
    let session_id = &session.summary.session_id;
    let spans = spans.into_iter().map(|s| span(session_id, s)).collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            // No service name: at a root, the OTLP ingest would take it for the agent.
            resource: Some(Resource::default()),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "flightdeck".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// The request as one line of OTLP/JSON (no newline).
pub fn to_json_line(request: &ExportTraceServiceRequest) -> String {
    // The generated types serialise without fail (plain data).
    serde_json::to_string(request).unwrap_or_default()
}

fn span(session_id: &str, d: SpanDetail) -> Span {
    let s = d.summary;
    let mut attrs = vec![
        text("session.id", session_id),
        text("openinference.span.kind", kind(s.kind)),
    ];
    if !is_hex(&s.span_id, 16) {
        attrs.push(text("flightdeck.span_id", &s.span_id));
    }
    if let Some(agent) = &s.agent {
        attrs.push(text("agent.name", agent));
    }
    if let Some(model) = &s.model {
        attrs.push(text("gen_ai.request.model", model));
    }
    if let Some(provider) = &d.provider {
        attrs.push(text("gen_ai.provider.name", provider));
    }
    if let Some(u) = s.usage {
        attrs.push(int("gen_ai.usage.input_tokens", u.input_tokens));
        attrs.push(int("gen_ai.usage.output_tokens", u.output_tokens));
    }
    for (key, payload) in [("input", &d.input), ("output", &d.output)] {
        if let Some(p) = payload {
            attrs.push(text(&format!("{key}.value"), p.get()));
            attrs.push(text(&format!("{key}.mime_type"), "application/json"));
        }
    }
    if let Some(p) = &d.params {
        attrs.push(text("llm.invocation_parameters", p.get()));
    }
    for (key, value) in d.attributes {
        attrs.push(key_value(key, value));
    }
    let trace = s.trace_id.as_deref().filter(|t| is_hex(t, 32));
    let (mut id, mut parent) = (
        span_id(&s.span_id),
        s.parent_id.as_deref().map(span_id).unwrap_or_default(),
    );
    let mut end = nanos(s.ended_at);
    if s.status == SpanStatus::Running {
        attrs.push(text("logfire.span_type", "pending_span"));
        attrs.push(text("logfire.pending_parent_id", &hex(&parent)));
        parent = std::mem::replace(&mut id, digest(&format!("{} (pending)", s.span_id), 8));
        end = nanos(s.started_at);
    }
    Span {
        trace_id: match trace {
            Some(t) => unhex(t),
            None => digest(session_id, 16),
        },
        span_id: id,
        parent_span_id: parent,
        name: s.name,
        kind: 1, // SPAN_KIND_INTERNAL
        start_time_unix_nano: nanos(s.started_at),
        end_time_unix_nano: end,
        attributes: attrs,
        status: Some(Status {
            code: match s.status {
                SpanStatus::Error => status::StatusCode::Error,
                SpanStatus::Ok => status::StatusCode::Ok,
                SpanStatus::Running => status::StatusCode::Unset,
            } as i32,
            message: s.error.unwrap_or_default(),
        }),
        ..Default::default()
    }
}

fn kind(k: SpanKind) -> &'static str {
    match k {
        SpanKind::Llm => "LLM",
        SpanKind::Tool => "TOOL",
        SpanKind::Agent => "AGENT",
        SpanKind::Chain => "CHAIN",
        SpanKind::Retriever => "RETRIEVER",
        SpanKind::Review | SpanKind::Custom => "UNKNOWN",
    }
}

fn text(key: &str, value: &str) -> KeyValue {
    key_value(key.to_owned(), Value::from(value))
}

fn int(key: &str, value: u64) -> KeyValue {
    key_value(key.to_owned(), Value::from(value))
}

fn nanos(t: Option<Timestamp>) -> u64 {
    t.map_or(0, |t| u64::try_from(t.0).unwrap_or(0))
}

fn span_id(id: &str) -> Vec<u8> {
    if is_hex(id, 16) {
        unhex(id)
    } else {
        digest(id, 8)
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()) && s.bytes().any(|b| b != b'0')
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect()
}

/// `len` bytes (8 or 16) derived from `id` with FNV-1a, stable across runs and builds, never
/// all zero (an invalid id in OTLP).
fn digest(id: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    for round in 0..len / 8 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ round as u64;
        for b in id.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.extend_from_slice(&(h | 1).to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_otlp_hex_and_hash_the_rest_stably() {
        assert_eq!(hex(&span_id("00f067aa0ba902b7")), "00f067aa0ba902b7");
        assert_eq!(span_id("a1"), span_id("a1"));
        assert_ne!(span_id("a1"), span_id("a2"));
        assert_eq!(digest("s1", 16).len(), 16);
        assert!(!is_hex("0000000000000000", 16));
    }
}
