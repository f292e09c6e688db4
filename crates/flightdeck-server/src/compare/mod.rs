//! Compare two runs: `GET /api/v1/compare?a=&b=` (a fork and its original, or any two
//! sessions). Steps are aligned by agent and call order (`align`); a step differs when its
//! kind, name, input or output does; the first differing step is the divergence point. Each
//! differing answer gets a word diff (`text`), and so do the runs' final outputs (the last
//! top-level span's output, else the last step's); the deltas are of tokens, cost, LLM calls,
//! LLM latency (their durations added up) and duration (first step's start to last end).

mod align;
mod text;

use crate::AppState;
use crate::api::ApiQuery;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use flightdeck_model::{Session, SpanDetail, SpanKind, SpanSummary};
use flightdeck_store::Store;
use serde::Deserialize;
use serde_json::{Value, json};

/// Steps compared in full (their payloads read); past this the rest are listed unread.
const MAX_STEPS: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareQuery {
    a: String,
    b: String,
}

/// `GET /api/v1/compare?a=SESSION&b=SESSION`.
pub async fn get(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<CompareQuery>,
) -> Result<Json<Value>, ApiError> {
    let store = app.store.as_ref();
    let (a, b) = (run(store, &q.a, "a").await?, run(store, &q.b, "b").await?);
    let pairs = align::align(&a.spans, &b.spans);
    let mut steps = Vec::with_capacity(pairs.len());
    let mut divergence = Value::Null;
    for (i, p) in pairs.iter().enumerate() {
        let read = i < MAX_STEPS;
        let (da, db) = if read {
            (detail(store, p.a).await?, detail(store, p.b).await?)
        } else {
            (None, None)
        };
        let same_input =
            read && da.is_some() && payload(&da, |d| &d.input) == payload(&db, |d| &d.input);
        let ans =
            |d: &Option<SpanDetail>| d.as_ref().and_then(|d| text::answer(d.output.as_deref()));
        let (answer_a, answer_b) = (ans(&da), ans(&db));
        let same_output = read && da.is_some() && db.is_some() && answer_a == answer_b;
        let same_kind =
            matches!((p.a, p.b), (Some(x), Some(y)) if x.kind == y.kind && x.name == y.name);
        let same = same_kind && same_input && same_output;
        let answer_diff = match (&answer_a, &answer_b) {
            (Some(x), Some(y)) if !same_output => json!(text::words(x, y)),
            _ => Value::Null,
        };
        if !same && divergence.is_null() && read {
            divergence = json!({"step": i, "agent": p.agent, "call": p.call});
        }
        steps.push(json!({
            "agent": p.agent,
            "call": p.call,
            "a": side(p.a, answer_a.as_deref()),
            "b": side(p.b, answer_b.as_deref()),
            "same": same,
            "same_input": same_input,
            "same_output": same_output,
            "answer_diff": answer_diff,
        }));
    }
    let (fa, fb) = (
        final_output(store, &a).await?,
        final_output(store, &b).await?,
    );
    let final_diff = match (&fa, &fb) {
        (Some(x), Some(y)) => json!(text::words(x, y)),
        _ => Value::Null,
    };
    Ok(Json(json!({
        "a": summary(&a),
        "b": summary(&b),
        "steps": steps,
        "divergence": divergence,
        "final": {"a": fa, "b": fb, "same": fa == fb, "diff": final_diff},
        "deltas": deltas(&a, &b),
    })))
}

/// One session with its spans.
struct Run {
    session: Session,
    spans: Vec<SpanSummary>,
}

async fn run(store: &dyn Store, id: &str, which: &str) -> Result<Run, ApiError> {
    let Some(session) = store.session(id).await? else {
        return Err(ApiError::not_found(format!("{which}: no session {id:?}")));
    };
    Ok(Run {
        session,
        spans: store.spans(id).await?,
    })
}

async fn detail(
    store: &dyn Store,
    s: Option<&SpanSummary>,
) -> Result<Option<SpanDetail>, ApiError> {
    match s {
        Some(s) => Ok(store.span(&s.session_id, &s.span_id).await?),
        None => Ok(None),
    }
}

/// A payload in normalised form (keys sorted), so key order does not make two differ.
fn payload(
    d: &Option<SpanDetail>,
    f: impl Fn(&SpanDetail) -> &Option<Box<serde_json::value::RawValue>>,
) -> Option<Value> {
    let raw = f(d.as_ref()?).as_ref()?;
    serde_json::from_str(raw.get()).ok()
}

fn side(s: Option<&SpanSummary>, answer: Option<&str>) -> Value {
    let Some(s) = s else {
        return Value::Null;
    };
    json!({
        "span_id": s.span_id,
        "kind": s.kind,
        "name": s.name,
        "model": s.model,
        "status": s.status,
        "duration_ms": s.duration_ms,
        "usage": s.usage,
        "cost_usd": s.cost_usd,
        "answer": answer,
    })
}

fn summary(r: &Run) -> Value {
    let s = &r.session.summary;
    json!({
        "session_id": s.session_id,
        "name": s.name,
        "status": s.status,
        "started_at": s.started_at,
        "replay": r.session.metadata.get("replay"),
    })
}

/// The run's final output: the last-ending top-level span's, else the last step's.
async fn final_output(store: &dyn Store, r: &Run) -> Result<Option<String>, ApiError> {
    let last = |top: bool| {
        r.spans
            .iter()
            .filter(|s| !top || s.parent_id.is_none())
            .filter(|s| top || matches!(s.kind, SpanKind::Llm | SpanKind::Tool))
            .max_by_key(|s| (s.ended_at, s.started_at))
    };
    let Some(s) = last(true).or_else(|| last(false)) else {
        return Ok(None);
    };
    Ok(detail(store, Some(s))
        .await?
        .and_then(|d| text::answer(d.output.as_deref())))
}

/// The figures compared, each as `{a, b, delta}` (`b - a`).
fn deltas(a: &Run, b: &Run) -> Value {
    let figures = |r: &Run| {
        let t = &r.session.summary.totals;
        let llm = r.spans.iter().filter(|s| s.kind == SpanKind::Llm);
        let latency: f64 = llm.clone().filter_map(|s| s.duration_ms).sum();
        let start = r.spans.iter().filter_map(|s| s.started_at).min();
        let end = r
            .spans
            .iter()
            .filter_map(|s| s.ended_at.or(s.started_at))
            .max();
        let duration = match (start, end) {
            (Some(s), Some(e)) => (e.0 - s.0) as f64 / 1e6,
            _ => 0.0,
        };
        [
            ("input_tokens", t.input_tokens as f64),
            ("output_tokens", t.output_tokens as f64),
            ("cost_usd", t.cost_usd),
            ("llm_calls", t.llm_calls as f64),
            ("latency_ms", latency),
            ("duration_ms", duration),
        ]
    };
    let (fa, fb) = (figures(a), figures(b));
    let mut out = serde_json::Map::new();
    for ((name, x), (_, y)) in fa.iter().zip(fb.iter()) {
        out.insert((*name).into(), json!({"a": x, "b": y, "delta": y - x}));
    }
    out.into()
}
