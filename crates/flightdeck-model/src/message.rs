//! The wire protocol v1: every message a client may send to `POST /api/v1/events`.
//!
//! Each message is a JSON object with a `type` and a `session_id`. The names here are the
//! contract with the SDKs and outside clients (docs/protocol.md): extend them, never rename.
//! Unknown fields are ignored so that newer clients keep working against older servers.
//!
//! Free-form payloads (`input`, `output`, `params`, `data`) are kept as raw JSON text: they
//! are stored and forwarded as they came, without being parsed into a tree and printed again.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// Free JSON object of attributes; merged key by key when several messages carry it.
pub type Attributes = serde_json::Map<String, serde_json::Value>;
/// Named numeric scores of a span (for example the components of an energy function).
pub type Scores = BTreeMap<String, f64>;

/// One message of the wire protocol.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type")]
pub enum Message {
    #[serde(rename = "session.start")]
    SessionStart(SessionStart),
    #[serde(rename = "session.end")]
    SessionEnd(SessionEnd),
    #[serde(rename = "session.move")]
    SessionMove(SessionMove),
    #[serde(rename = "span.move")]
    SpanMove(SpanMove),
    #[serde(rename = "span.start")]
    SpanStart(SpanStart),
    #[serde(rename = "span.update")]
    SpanUpdate(SpanUpdate),
    #[serde(rename = "span.end")]
    SpanEnd(SpanEnd),
    #[serde(rename = "span")]
    Span(Span),
    #[serde(rename = "edge")]
    Edge(Edge),
    #[serde(rename = "event")]
    Event(Event),
    #[serde(rename = "agent.status")]
    AgentStatus(AgentStatus),
    #[serde(rename = "metric")]
    Metric(Metric),
}

impl Message {
    /// Every message type name, in protocol order.
    pub const TYPES: [&'static str; 12] = [
        "session.start",
        "session.end",
        "session.move",
        "span.start",
        "span.update",
        "span.end",
        "span",
        "span.move",
        "edge",
        "event",
        "agent.status",
        "metric",
    ];

    /// The session the message belongs to; `None` only for a metric outside any session.
    pub fn session_id(&self) -> Option<&str> {
        Some(match self {
            Message::SessionStart(m) => &m.session_id,
            Message::SessionEnd(m) => &m.session_id,
            Message::SessionMove(m) => &m.session_id,
            Message::SpanMove(m) => &m.session_id,
            Message::SpanStart(m) => &m.session_id,
            Message::SpanUpdate(m) => &m.session_id,
            Message::SpanEnd(m) => &m.session_id,
            Message::Span(m) => &m.session_id,
            Message::Edge(m) => &m.session_id,
            Message::Event(m) => &m.session_id,
            Message::AgentStatus(m) => &m.session_id,
            Message::Metric(m) => return m.session_id.as_deref(),
        })
    }

    /// The session the message belongs to, to re-file it (see [`SessionMove`]).
    pub fn session_id_mut(&mut self) -> Option<&mut String> {
        Some(match self {
            Message::SessionStart(m) => &mut m.session_id,
            Message::SessionEnd(m) => &mut m.session_id,
            Message::SessionMove(m) => &mut m.session_id,
            Message::SpanMove(m) => &mut m.session_id,
            Message::SpanStart(m) => &mut m.session_id,
            Message::SpanUpdate(m) => &mut m.session_id,
            Message::SpanEnd(m) => &mut m.session_id,
            Message::Span(m) => &mut m.session_id,
            Message::Edge(m) => &mut m.session_id,
            Message::Event(m) => &mut m.session_id,
            Message::AgentStatus(m) => &mut m.session_id,
            Message::Metric(m) => return m.session_id.as_mut(),
        })
    }

    /// The protocol name of this message's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::SessionStart(_) => "session.start",
            Message::SessionEnd(_) => "session.end",
            Message::SessionMove(_) => "session.move",
            Message::SpanMove(_) => "span.move",
            Message::SpanStart(_) => "span.start",
            Message::SpanUpdate(_) => "span.update",
            Message::SpanEnd(_) => "span.end",
            Message::Span(_) => "span",
            Message::Edge(_) => "edge",
            Message::Event(_) => "event",
            Message::AgentStatus(_) => "agent.status",
            Message::Metric(_) => "metric",
        }
    }
}

/// Budget of a session; the overview shows how much of it is used.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
}

/// `session.start`: a run of a multi-agent system begins.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionStart {
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Attributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
}

/// How a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionOutcome {
    #[default]
    Completed,
    Failed,
}

/// `session.end`: the run is over.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionEnd {
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    #[serde(default)]
    pub status: SessionOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `session.move`: everything filed under `session_id` belongs to the session `into`. Its
/// spans, events, edges, agents and totals move there, `session_id` disappears, and later
/// messages that name `session_id` are filed under `into`. A session moves once: a second
/// move of the same id is ignored. (OTLP uses it when a trace first filed under its trace id
/// turns out to name its session.)
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionMove {
    pub session_id: String,
    pub into: String,
}

/// What a span stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    Agent,
    Llm,
    Tool,
    Chain,
    Retriever,
    Review,
    Custom,
}

impl SpanKind {
    /// The protocol name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Agent => "agent",
            SpanKind::Llm => "llm",
            SpanKind::Tool => "tool",
            SpanKind::Chain => "chain",
            SpanKind::Retriever => "retriever",
            SpanKind::Review => "review",
            SpanKind::Custom => "custom",
        }
    }

    /// The inverse of [`SpanKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "agent" => SpanKind::Agent,
            "llm" => SpanKind::Llm,
            "tool" => SpanKind::Tool,
            "chain" => SpanKind::Chain,
            "retriever" => SpanKind::Retriever,
            "review" => SpanKind::Review,
            "custom" => SpanKind::Custom,
            _ => return None,
        })
    }
}

/// How a finished span ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanOutcome {
    #[default]
    Ok,
    Error,
}

/// Token usage of an LLM call (so far, in a `span.update`; final, in a `span.end`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
}

/// `span.start`: a unit of work begins; it shows as running until its end arrives.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpanStart {
    pub session_id: String,
    pub span_id: String,
    /// The trace the span belongs to in a tracing system (OpenTelemetry's, as hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    pub kind: SpanKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Attributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Scores>,
}

/// `span.update`: progress of a running span: a streamed output chunk, usage so far, new
/// attributes or scores. Chunks with a `seq` are placed by it and never doubled.
///
/// `input` and `output` set the span's payloads without touching its status or times: for
/// sources that learn them apart from the span's start and end (OTLP message logs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpanUpdate {
    pub session_id: String,
    pub span_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_delta: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Attributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Scores>,
}

/// `span.end`: the span finished, with its outcome and result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpanEnd {
    pub session_id: String,
    pub span_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    #[serde(default)]
    pub status: SpanOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Attributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Scores>,
}

/// `span`: a finished span in one message, for recorders that only know finished work.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Span {
    pub session_id: String,
    pub span_id: String,
    /// The trace the span belongs to in a tracing system (OpenTelemetry's, as hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    pub kind: SpanKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    #[serde(default)]
    pub status: SpanOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Attributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Scores>,
}

/// `span.move`: the span `span_id` of `session_id` is the span `into_span` of the session
/// `into`: the same work reported twice (an LLM call seen by the proxy and by an OTel-traced
/// client). What the moved copy holds fills what the kept one lacks, its chunks, events and
/// children follow, the totals count it once, and later messages about the moved span are
/// filed under the kept one. A span moves once.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpanMove {
    pub session_id: String,
    pub span_id: String,
    pub into: String,
    pub into_span: String,
}

/// The kind of a relation between spans or agents that is not parent and child.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    Delegation,
    Message,
    DependsOn,
}

impl EdgeKind {
    /// The protocol name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Delegation => "delegation",
            EdgeKind::Message => "message",
            EdgeKind::DependsOn => "depends_on",
        }
    }

    /// The inverse of [`EdgeKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "delegation" => EdgeKind::Delegation,
            "message" => EdgeKind::Message,
            "depends_on" => EdgeKind::DependsOn,
            _ => return None,
        })
    }
}

/// `edge`: a delegation, a message from agent to agent, or a dependency between tasks. Each
/// end is a span, an agent, or both.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Edge {
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_id: Option<String>,
    pub kind: EdgeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_span: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_span: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
}

/// Severity of a log event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// `event`: a timestamped record in a session or span: a log line (`category: "log"`), a
/// decision (`"decision"`), or any custom category.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Event {
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    #[serde(default = "default_category")]
    pub category: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Box<RawValue>>,
}

fn default_category() -> String {
    "log".to_owned()
}

/// The state of a live agent; `offline` is also derived from a missed heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    Initializing,
    Idle,
    Active,
    Error,
    Offline,
}

impl AgentState {
    /// The protocol name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Initializing => "initializing",
            AgentState::Idle => "idle",
            AgentState::Active => "active",
            AgentState::Error => "error",
            AgentState::Offline => "offline",
        }
    }
}

/// `agent.status`: an agent reports its state and current task. Without `status` it is a
/// heartbeat: the agent is alive and unchanged.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AgentStatus {
    pub session_id: String,
    pub agent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AgentState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
}

/// `metric`: one point of a named time series (queue depth, CPU, custom). A metric of no
/// session (system metrics) leaves out `session_id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Metric {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    pub name: String,
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}
