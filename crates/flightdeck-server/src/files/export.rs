//! A stored session as the protocol's own messages: `session.start`, one message per span
//! (`span` when it ended, `span.start` and a `span.update` while it runs), its edges, events,
//! agents' last reports, metrics and `session.end`. Appending them to an empty store gives the
//! same API answers (ids, times, payloads, totals): the merge rules derive totals from the
//! spans, and every time and id is written out, so nothing is filled from the clock.

use flightdeck_model::message as m;
use flightdeck_model::record::{EventRecord, Session, SpanDetail, SpanStatus};
use flightdeck_model::{Message, SessionOutcome, SessionStatus, SpanOutcome, Timestamp};
use flightdeck_store::{EventQuery, MetricQuery, Result, Store};

/// Every message of session `id`, or `None` when there is no such session.
pub async fn session_messages(store: &dyn Store, id: &str) -> Result<Option<Vec<Message>>> {
    let Some(session) = store.session(id).await? else {
        return Ok(None);
    };
    let mut out = vec![session_start(&session)];
    for span in details(store, id).await? {
        span_messages(id, span, &mut out);
    }
    out.extend(store.edges(id).await?.into_iter().map(|e| {
        Message::Edge(m::Edge {
            session_id: id.to_owned(),
            edge_id: Some(e.edge_id),
            kind: e.kind,
            from_span: e.from_span,
            to_span: e.to_span,
            from_agent: e.from_agent,
            to_agent: e.to_agent,
            label: e.label,
            at: e.at,
        })
    }));
    out.extend(events(store, id).await?.into_iter().map(|e| {
        Message::Event(m::Event {
            session_id: id.to_owned(),
            span_id: e.span_id,
            event_id: Some(e.event_id),
            at: Some(e.at),
            category: e.category,
            level: e.level,
            agent: e.agent,
            name: e.name,
            message: e.message,
            data: e.data,
        })
    }));
    for a in store.agents(id, Timestamp::now()).await? {
        let reported = a.status.is_some() || a.role.is_some() || a.model.is_some();
        if reported || a.task.is_some() || a.last_seen.is_some() {
            out.push(Message::AgentStatus(m::AgentStatus {
                session_id: id.to_owned(),
                agent: a.agent,
                status: a.status,
                role: a.role,
                model: a.model,
                task: a.task,
                at: a.last_seen,
            }));
        }
    }
    let metrics = MetricQuery {
        session_id: Some(id.to_owned()),
        limit: Some(10_000),
        ..MetricQuery::default()
    };
    out.extend(store.metrics(metrics).await?.into_iter().map(|p| {
        Message::Metric(m::Metric {
            session_id: p.session_id,
            name: p.name,
            value: p.value,
            at: Some(p.at),
            unit: p.unit,
            labels: p.labels,
        })
    }));
    let s = &session.summary;
    if let (Some(ended_at), false) = (s.ended_at, s.status == SessionStatus::Running) {
        out.push(Message::SessionEnd(m::SessionEnd {
            session_id: id.to_owned(),
            ended_at: Some(ended_at),
            status: match s.status {
                SessionStatus::Failed => SessionOutcome::Failed,
                _ => SessionOutcome::Completed,
            },
            error: s.error.clone(),
        }));
    }
    Ok(Some(out))
}

/// Every event of session `id`, in order (all pages).
pub async fn events(store: &dyn Store, id: &str) -> Result<Vec<EventRecord>> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let q = EventQuery {
            category: None,
            limit: Some(1000),
            cursor,
        };
        let page = store.events(id, q).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Every span of session `id` in full, in start order.
pub async fn details(store: &dyn Store, id: &str) -> Result<Vec<SpanDetail>> {
    let mut out = Vec::new();
    for summary in store.spans(id).await? {
        out.extend(store.span(id, &summary.span_id).await?);
    }
    Ok(out)
}

/// The messages as JSON lines, each ending in a newline.
pub fn to_jsonl(messages: &[Message]) -> String {
    let mut out = String::new();
    for msg in messages {
        // A message is plain data (strings, numbers, raw JSON): it always serialises.
        out.push_str(&serde_json::to_string(msg).unwrap_or_default());
        out.push('\n');
    }
    out
}

fn session_start(session: &Session) -> Message {
    let s = &session.summary;
    Message::SessionStart(m::SessionStart {
        session_id: s.session_id.clone(),
        name: s.name.clone(),
        started_at: Some(s.started_at),
        tags: s.tags.clone(),
        metadata: (!session.metadata.is_empty()).then(|| session.metadata.clone()),
        budget: s.budget.clone(),
    })
}

/// One span as the fewest messages that restore it.
fn span_messages(session_id: &str, span: SpanDetail, out: &mut Vec<Message>) {
    let s = span.summary;
    let attributes = (!span.attributes.is_empty()).then_some(span.attributes);
    let scores = (!s.scores.is_empty()).then_some(s.scores);
    let status = match s.status {
        SpanStatus::Error => SpanOutcome::Error,
        _ => SpanOutcome::Ok,
    };
    match (s.status, s.started_at, s.ended_at) {
        (SpanStatus::Running, _, _) | (_, _, None) => {
            out.push(Message::SpanStart(m::SpanStart {
                session_id: session_id.to_owned(),
                span_id: s.span_id.clone(),
                trace_id: s.trace_id,
                parent_id: s.parent_id,
                kind: s.kind,
                name: s.name,
                agent: s.agent,
                model: s.model,
                provider: span.provider,
                started_at: s.started_at,
                input: span.input,
                params: span.params,
                attributes,
                scores,
            }));
            if span.output.is_some() || s.usage.is_some() {
                out.push(Message::SpanUpdate(m::SpanUpdate {
                    session_id: session_id.to_owned(),
                    span_id: s.span_id,
                    seq: None,
                    at: None,
                    output_delta: None,
                    input: None,
                    output: span.output,
                    usage: s.usage,
                    attributes: None,
                    scores: None,
                }));
            }
        }
        (_, Some(started_at), Some(ended_at)) => out.push(Message::Span(m::Span {
            session_id: session_id.to_owned(),
            span_id: s.span_id,
            trace_id: s.trace_id,
            parent_id: s.parent_id,
            kind: s.kind,
            name: s.name,
            agent: s.agent,
            model: s.model,
            provider: span.provider,
            started_at,
            ended_at,
            status,
            input: span.input,
            output: span.output,
            params: span.params,
            usage: s.usage,
            cost_usd: s.cost_usd,
            error: s.error,
            attributes,
            scores,
        })),
        // An end that arrived without its start: the end alone, as it was sent.
        (_, None, Some(ended_at)) => out.push(Message::SpanEnd(m::SpanEnd {
            session_id: session_id.to_owned(),
            span_id: s.span_id,
            ended_at: Some(ended_at),
            status,
            output: span.output,
            usage: s.usage,
            cost_usd: s.cost_usd,
            error: s.error,
            attributes,
            scores,
        })),
    }
}

/// The two export formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Native protocol messages, one JSON object a line (imports back exactly).
    #[default]
    Native,
    /// One OTLP/JSON `ExportTraceServiceRequest` a line (spans only).
    Otlp,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "native" => Ok(ExportFormat::Native),
            "otlp" => Ok(ExportFormat::Otlp),
            _ => Err(format!("unknown export format {s:?}: native or otlp")),
        }
    }
}

/// Session `id` in `format`, as lines ending in newlines; `None` when there is no such
/// session.
pub async fn render(store: &dyn Store, id: &str, format: ExportFormat) -> Result<Option<String>> {
    match format {
        ExportFormat::Native => Ok(session_messages(store, id).await?.map(|m| to_jsonl(&m))),
        ExportFormat::Otlp => {
            let Some(session) = store.session(id).await? else {
                return Ok(None);
            };
            let request = super::otlp_out::session_request(&session, details(store, id).await?);
            Ok(Some(super::otlp_out::to_json_line(&request) + "\n"))
        }
    }
}
