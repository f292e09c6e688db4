//! One borrowed shape for the four span messages.
//!
//! `span.start`, `span.update`, `span.end` and `span` each say part of what is known of a
//! span. [`SpanView`] lays any of them over the same fields, absent where a message does not
//! say them, so the code that reads span messages (validation, the store's merge) handles them
//! once instead of once per message type.

use crate::message::{Span, SpanEnd, SpanKind, SpanOutcome, SpanStart, SpanUpdate, Usage};
use crate::{Attributes, Scores, Timestamp};
use serde_json::value::RawValue;

/// What one span message says of its span.
#[derive(Clone, Copy, Debug, Default)]
pub struct SpanView<'a> {
    pub session_id: &'a str,
    pub span_id: &'a str,
    pub trace_id: Option<&'a str>,
    pub parent_id: Option<&'a str>,
    pub kind: Option<SpanKind>,
    pub name: Option<&'a str>,
    pub agent: Option<&'a str>,
    pub model: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    /// How it ended: set by `span.end` and `span` only.
    pub outcome: Option<SpanOutcome>,
    pub input: Option<&'a RawValue>,
    pub output: Option<&'a RawValue>,
    pub params: Option<&'a RawValue>,
    /// Final usage with an `outcome`, usage so far without (a `span.update`).
    pub usage: Option<Usage>,
    pub cost_usd: Option<f64>,
    pub error: Option<&'a str>,
    pub attributes: Option<&'a Attributes>,
    pub scores: Option<&'a Scores>,
    /// A streamed chunk (`span.update`), with its `seq` and time when given.
    pub output_delta: Option<&'a str>,
    pub seq: Option<u64>,
    pub at: Option<Timestamp>,
}

impl SpanStart {
    pub fn view(&self) -> SpanView<'_> {
        SpanView {
            session_id: &self.session_id,
            span_id: &self.span_id,
            trace_id: self.trace_id.as_deref(),
            parent_id: self.parent_id.as_deref(),
            kind: Some(self.kind),
            name: Some(&self.name),
            agent: self.agent.as_deref(),
            model: self.model.as_deref(),
            provider: self.provider.as_deref(),
            started_at: self.started_at,
            input: self.input.as_deref(),
            params: self.params.as_deref(),
            attributes: self.attributes.as_ref(),
            scores: self.scores.as_ref(),
            ..SpanView::default()
        }
    }
}

impl SpanUpdate {
    pub fn view(&self) -> SpanView<'_> {
        SpanView {
            session_id: &self.session_id,
            span_id: &self.span_id,
            input: self.input.as_deref(),
            output: self.output.as_deref(),
            usage: self.usage,
            attributes: self.attributes.as_ref(),
            scores: self.scores.as_ref(),
            output_delta: self.output_delta.as_deref(),
            seq: self.seq,
            at: self.at,
            ..SpanView::default()
        }
    }
}

impl SpanEnd {
    pub fn view(&self) -> SpanView<'_> {
        SpanView {
            session_id: &self.session_id,
            span_id: &self.span_id,
            ended_at: self.ended_at,
            outcome: Some(self.status),
            output: self.output.as_deref(),
            usage: self.usage,
            cost_usd: self.cost_usd,
            error: self.error.as_deref(),
            attributes: self.attributes.as_ref(),
            scores: self.scores.as_ref(),
            ..SpanView::default()
        }
    }
}

impl Span {
    pub fn view(&self) -> SpanView<'_> {
        SpanView {
            session_id: &self.session_id,
            span_id: &self.span_id,
            trace_id: self.trace_id.as_deref(),
            parent_id: self.parent_id.as_deref(),
            kind: Some(self.kind),
            name: Some(&self.name),
            agent: self.agent.as_deref(),
            model: self.model.as_deref(),
            provider: self.provider.as_deref(),
            started_at: Some(self.started_at),
            ended_at: Some(self.ended_at),
            outcome: Some(self.status),
            input: self.input.as_deref(),
            output: self.output.as_deref(),
            params: self.params.as_deref(),
            usage: self.usage,
            cost_usd: self.cost_usd,
            error: self.error.as_deref(),
            attributes: self.attributes.as_ref(),
            scores: self.scores.as_ref(),
            ..SpanView::default()
        }
    }
}
