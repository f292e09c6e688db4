//! Runs as the API shows them, read from the spans the proxy's recorder stored: one
//! playground session per `POST /api/v1/playground/runs` (`playground-<id>`), ended when its
//! variants are done, each variant an LLM span there whose attributes name the span it was
//! run from, its variant, and its first token. The original session names its playground
//! sessions in its metadata (`playground.run.<session>`: `{"span_id"}`), so a span's runs are
//! found without a scan.

use super::answer::Answer;
use super::diff::{Diff, diff};
use flightdeck_model::record::{SpanDetail, SpanStatus};
use flightdeck_model::{Timestamp, Usage};
use flightdeck_store::Store;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// The attribute naming the original session of a run.
pub const OF_SESSION: &str = "playground.of_session";
/// The attribute naming the original span of a run.
pub const OF_SPAN: &str = "playground.of_span";
/// The attribute holding a run's variant (its column, from 0).
pub const VARIANT: &str = "playground.variant";
/// The attribute holding a run's variant label (what it changed).
pub const LABEL: &str = "playground.label";
/// The attribute holding the milliseconds to a run's first token.
pub const FIRST_TOKEN_MS: &str = "playground.first_token_ms";

/// The metadata key prefix by which an original session names its playground sessions.
pub const RUN_KEY: &str = "playground.run.";

/// A new playground session for one request's runs.
pub fn new_session() -> String {
    format!("playground-{}", uuid::Uuid::new_v4().simple())
}

/// A span's answer and figures: the original's or a run's.
#[derive(Debug, Serialize)]
pub struct Call {
    pub session_id: String,
    pub span_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub status: SpanStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    pub answer: Answer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
}

impl Call {
    pub fn of(span: SpanDetail) -> Call {
        let answer = span
            .output
            .as_deref()
            .and_then(|o| serde_json::from_str::<Value>(o.get()).ok())
            .map(|o| Answer::read(&o))
            .unwrap_or_default();
        let s = span.summary;
        Call {
            model: span
                .attributes
                .get("gen_ai.response.model")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or(s.model),
            session_id: s.session_id,
            span_id: s.span_id,
            name: s.name,
            status: s.status,
            error: s.error,
            started_at: s.started_at,
            answer,
            output: span.output,
            usage: s.usage,
            cost_usd: s.cost_usd,
            duration_ms: s.duration_ms,
        }
    }
}

/// One run: its call, which variant it was, and how it differs from the original.
#[derive(Debug, Serialize)]
pub struct Run {
    #[serde(flatten)]
    pub call: Call,
    pub variant: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_token_ms: Option<f64>,
    /// Against the original answer, when the run was made from a span.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<Diff>,
}

impl Run {
    pub fn of(span: SpanDetail, original: Option<&Answer>) -> Run {
        let attr = |k: &str| span.attributes.get(k).cloned();
        let variant = attr(VARIANT).and_then(|v| v.as_u64()).unwrap_or(0);
        let label = attr(LABEL).and_then(|v| v.as_str().map(str::to_owned));
        let first_token_ms = attr(FIRST_TOKEN_MS).and_then(|v| v.as_f64());
        let call = Call::of(span);
        let diff = original.map(|o| diff(o, &call.answer));
        Run {
            call,
            variant,
            label,
            first_token_ms,
            diff,
        }
    }
}

/// The runs made from span `span_id` of `session_id`, oldest first.
pub async fn list(
    store: &dyn Store,
    session_id: &str,
    span_id: &str,
    original: &Answer,
) -> flightdeck_store::Result<Vec<Run>> {
    let metadata = store
        .session(session_id)
        .await?
        .map(|s| s.metadata)
        .unwrap_or_default();
    let sessions = metadata.iter().filter_map(|(k, v)| {
        let of_span = v.get("span_id").and_then(Value::as_str) == Some(span_id);
        k.strip_prefix(RUN_KEY).filter(|_| of_span)
    });
    let mut runs = Vec::new();
    for playground in sessions {
        for summary in store.spans(playground).await? {
            let Some(span) = store.span(playground, &summary.span_id).await? else {
                continue;
            };
            let is = |k: &str, v: &str| span.attributes.get(k).and_then(Value::as_str) == Some(v);
            if is(OF_SESSION, session_id) && is(OF_SPAN, span_id) {
                runs.push(Run::of(span, Some(original)));
            }
        }
    }
    runs.sort_by_key(|r| (r.call.started_at.map(|t| t.0), r.variant));
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playground_session_ids_fit_the_protocol() {
        let a = new_session();
        assert!(a.starts_with("playground-") && a.len() <= 128);
        assert_ne!(a, new_session());
    }
}
