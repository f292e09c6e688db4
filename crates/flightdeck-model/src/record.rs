//! What the query API returns: sessions with totals, spans, edges, events, agents and stats.
//!
//! These are read models, shaped for the API and the page; the wire messages in
//! [`crate::message`] are what clients send. Both are part of the public contract.

use crate::message::{
    AgentState, Attributes, Budget, EdgeKind, Level, Scores, SpanKind, SpanOutcome, Usage,
};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Status of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Running,
    Completed,
    Failed,
}

impl SessionStatus {
    /// The API and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Running => "running",
            SessionStatus::Completed => "completed",
            SessionStatus::Failed => "failed",
        }
    }

    /// The inverse of [`SessionStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => SessionStatus::Running,
            "completed" => SessionStatus::Completed,
            "failed" => SessionStatus::Failed,
            _ => return None,
        })
    }
}

/// Status of a span: running until its end arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanStatus {
    Running,
    Ok,
    Error,
}

impl SpanStatus {
    /// The API and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            SpanStatus::Running => "running",
            SpanStatus::Ok => "ok",
            SpanStatus::Error => "error",
        }
    }

    /// The inverse of [`SpanStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => SpanStatus::Running,
            "ok" => SpanStatus::Ok,
            "error" => SpanStatus::Error,
            _ => return None,
        })
    }
}

impl From<SpanOutcome> for SpanStatus {
    fn from(o: SpanOutcome) -> Self {
        match o {
            SpanOutcome::Ok => SpanStatus::Ok,
            SpanOutcome::Error => SpanStatus::Error,
        }
    }
}

/// Running totals of a session or an agent, kept up to date on every write.
///
/// `cost_usd` sums the known costs; `unpriced_llm_calls` counts the LLM calls whose cost is
/// unknown (see [`cost_unknown`]), so with any of them the cost is a lower bound. In JSON the
/// cost is `null` when nothing of it is known (unpriced calls and no cost beside them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
pub struct Totals {
    pub spans: i64,
    pub llm_calls: i64,
    pub tool_calls: i64,
    pub errors: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    #[serde(deserialize_with = "null_as_zero")]
    pub cost_usd: f64,
    #[serde(default)]
    pub unpriced_llm_calls: i64,
}

/// Whether an LLM call's cost is unknown: it has none (no price for its model, no model, or
/// no usage to price), yet it was billed, as far as anyone can tell: it reported tokens or
/// it succeeded. A call still running without usage is not counted (its cost is not due
/// yet), nor one that failed without usage (nothing says it was billed).
pub fn cost_unknown(
    kind: Option<SpanKind>,
    cost_usd: Option<f64>,
    has_usage: bool,
    ok: bool,
) -> bool {
    kind == Some(SpanKind::Llm) && cost_usd.is_none() && (has_usage || ok)
}

/// Written field by field so that the cost is `null` when none of it is known.
impl Serialize for Totals {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut t = s.serialize_struct("Totals", 8)?;
        t.serialize_field("spans", &self.spans)?;
        t.serialize_field("llm_calls", &self.llm_calls)?;
        t.serialize_field("tool_calls", &self.tool_calls)?;
        t.serialize_field("errors", &self.errors)?;
        t.serialize_field("input_tokens", &self.input_tokens)?;
        t.serialize_field("output_tokens", &self.output_tokens)?;
        t.serialize_field(
            "cost_usd",
            &known_cost(self.cost_usd, self.unpriced_llm_calls),
        )?;
        t.serialize_field("unpriced_llm_calls", &self.unpriced_llm_calls)?;
        t.end()
    }
}

/// A cost written as `null` (nothing known) reads back as 0 beside its unpriced calls.
fn null_as_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(0.0))
}

/// A summed cost as the API shows it: `None` when calls without a price are all there is.
pub fn known_cost(cost_usd: f64, unpriced: i64) -> Option<f64> {
    (unpriced == 0 || cost_usd != 0.0).then_some(cost_usd)
}

impl Totals {
    /// Adds `other` times `sign` (+1 or -1) to these totals.
    pub fn add(&mut self, other: &Totals, sign: i64) {
        self.spans += sign * other.spans;
        self.llm_calls += sign * other.llm_calls;
        self.tool_calls += sign * other.tool_calls;
        self.errors += sign * other.errors;
        self.input_tokens += sign * other.input_tokens;
        self.output_tokens += sign * other.output_tokens;
        self.cost_usd += sign as f64 * other.cost_usd;
        self.unpriced_llm_calls += sign * other.unpriced_llm_calls;
    }

    /// True when every counter is zero.
    pub fn is_zero(&self) -> bool {
        *self == Totals::default()
    }
}

/// A session as listed on the overview.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub session_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: SessionStatus,
    pub started_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    /// Wall time so far (running) or in all (ended), in milliseconds.
    pub duration_ms: f64,
    pub tags: Vec<String>,
    pub agents: Vec<String>,
    pub totals: Totals,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One session with its metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    #[serde(flatten)]
    pub summary: SessionSummary,
    pub metadata: Attributes,
}

/// A span without its payloads: what the graph and timeline need for thousands of spans.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpanSummary {
    pub session_id: String,
    pub span_id: String,
    /// The tracing system's trace (OpenTelemetry's, as hex): one per user turn, typically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    pub kind: SpanKind,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    pub status: SpanStatus,
    /// `None` only while a span's end has arrived before its start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Scores::is_empty")]
    pub scores: Scores,
}

/// One span in full, payloads included.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpanDetail {
    #[serde(flatten)]
    pub summary: SpanSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Box<RawValue>>,
    /// The final output, or while running the streamed chunks so far (as a string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<Box<RawValue>>,
    pub attributes: Attributes,
}

/// A stored edge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EdgeRecord {
    pub edge_id: String,
    pub kind: EdgeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_span: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_span: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
}

/// A stored event (log line, decision, custom), with its position in the session.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EventRecord {
    /// Position in the session's event list, for paging (`after=`).
    pub seq: i64,
    pub event_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    pub at: Timestamp,
    pub category: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Box<RawValue>>,
}

/// A log line of any session (`GET /api/v1/logs`): a `log` event without its data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// Its place among every event stored, for paging and following (`before=`, `after=`).
    pub seq: i64,
    pub session_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    pub at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// An agent of a session: its last reported state and its activity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentSummary {
    pub agent: String,
    /// The last reported state; `offline` when its heartbeat is overdue; `None` if the agent
    /// never reported one (it only appears on spans).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<AgentState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    pub totals: Totals,
    /// Edges of kind `message` or `delegation` this agent sent and received.
    pub messages_sent: i64,
    pub messages_received: i64,
}

/// An agent as the Agents page lists it across sessions (`GET /api/v1/agents`): its
/// session, and the agent as its session's agent list has it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveAgent {
    pub session_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    #[serde(flatten)]
    pub agent: AgentSummary,
}

/// LLM calls of one model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlmStats {
    pub model: String,
    pub requests: i64,
    pub errors: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// The known cost; `None` when every call of the model has an unknown cost.
    pub cost_usd: Option<f64>,
    /// Calls whose cost is unknown (see [`cost_unknown`]); with any, the cost is a lower bound.
    pub unpriced_requests: i64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
}

/// Calls of one tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolStats {
    pub tool: String,
    pub calls: i64,
    pub errors: i64,
    /// Share of finished calls that succeeded, 0 to 1; `None` while none has finished.
    pub success_rate: Option<f64>,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
}

/// Headline figures over all sessions (or a time range).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OverviewStats {
    pub sessions: i64,
    pub running: i64,
    pub completed: i64,
    pub failed: i64,
    /// Completed over ended sessions, 0 to 1; `None` when none has ended.
    pub completion_rate: Option<f64>,
    pub avg_spans_per_session: f64,
    pub totals: Totals,
}

/// A metric sample as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    pub at: Timestamp,
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
}

/// One page of a list, newest first, with the cursor of the next page.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
