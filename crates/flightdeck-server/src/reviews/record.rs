//! How a review is recorded in its session: a span of kind `review` that runs while the
//! review waits, and, once it is settled, an event with the decision and the span's end with
//! the output the agent goes on with (and an edit's diff).

use flightdeck_model::message::{Event, Level, SpanEnd, SpanKind, SpanOutcome, SpanStart};
use flightdeck_model::review::{Decision, ReviewOpen, ReviewRecord, ReviewState};
use flightdeck_model::{Attributes, Message, Timestamp};
use serde_json::value::RawValue;
use serde_json::{Value, json};

/// The record of a review opened now (under a new id when the client named none).
pub fn new_record(open: ReviewOpen, now: Timestamp) -> ReviewRecord {
    let review_id = open
        .review_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    ReviewRecord::pending(open, review_id, now)
}

fn raw(v: &Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(v).expect("JSON values always serialise")
}

fn attributes(v: Value) -> Option<Attributes> {
    match v {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The review's span, running (waiting for a person) from the request.
pub fn opened(r: &ReviewRecord) -> Vec<Message> {
    let input = json!({"task": r.task, "prompt": r.prompt, "output": r.output});
    vec![Message::SpanStart(SpanStart {
        session_id: r.session_id.clone(),
        span_id: r.review_span_id.clone(),
        parent_id: r.span_id.clone(),
        kind: SpanKind::Review,
        name: r.title.clone().unwrap_or_else(|| "review".to_owned()),
        agent: r.agent.clone(),
        model: None,
        provider: None,
        trace_id: None,
        started_at: Some(r.requested_at),
        input: Some(raw(&input)),
        params: None,
        attributes: attributes(json!({
            "review.id": r.review_id,
            "review.state": "pending",
            "review.timing": r.timing,
            "review.timeout_ms": r.timeout_ms,
            "review.on_timeout": r.on_timeout,
            "review.deadline": r.deadline.to_rfc3339(),
        })),
        scores: None,
    })]
}

/// The decision as an event, and the end of the review's span.
pub fn settled(r: &ReviewRecord) -> Vec<Message> {
    let decision = r.decision.map(Decision::as_str).unwrap_or("continue");
    let at = r.decided_at.unwrap_or_else(Timestamp::now);
    let by = r.decided_by.as_deref().unwrap_or("server");
    let waited_ms = (at.0 - r.requested_at.0).max(0) / 1_000_000;
    let text = match r.state {
        ReviewState::TimedOut => format!("no decision before the deadline: {decision}"),
        ReviewState::Abandoned => "the agent stopped waiting".to_owned(),
        _ => format!("{decision} (by {by})"),
    };
    let failed = r.decision == Some(Decision::Fail);
    vec![
        Message::Event(Event {
            session_id: r.session_id.clone(),
            span_id: Some(r.review_span_id.clone()),
            event_id: Some(format!("{}-settled", r.review_span_id)),
            at: Some(at),
            category: "review".to_owned(),
            level: Some(if failed { Level::Warn } else { Level::Info }),
            agent: r.agent.clone(),
            name: Some(format!("review.{}", r.state.as_str())),
            message: Some(text),
            data: Some(raw(&json!({
                "review_id": r.review_id,
                "decision": decision,
                "comment": r.comment,
                "decided_by": by,
                "diff": r.diff,
            }))),
        }),
        Message::SpanEnd(SpanEnd {
            session_id: r.session_id.clone(),
            span_id: r.review_span_id.clone(),
            ended_at: Some(at),
            status: if failed {
                SpanOutcome::Error
            } else {
                SpanOutcome::Ok
            },
            output: Some(r.final_output().to_owned()),
            usage: None,
            cost_usd: None,
            error: failed.then(|| "the review timed out and its action is fail".to_owned()),
            attributes: attributes(json!({
                "review.state": r.state,
                "review.decision": decision,
                "review.decided_by": by,
                "review.waited_ms": waited_ms,
                "review.diff": r.diff,
            })),
            scores: None,
        }),
    ]
}
