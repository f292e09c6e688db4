//! The one export path of every OTLP transport: map each span or record alone, settle
//! sessions and agents under the memory's lock, join LLM calls the proxy recorded too
//! (`crate::calls`), store the messages in one batch, and count what was refused (OTLP
//! partial success).

use super::facts::Handoff;
use super::recent::Arrival;
use super::value::{SpanId, TraceId, attributes, hex};
use super::{ExportError, Otlp, Outcome, Rejected, logs, span};
use crate::App;
use crate::calls::{Calls, Filed, Source};
use flightdeck_model::message as m;
use flightdeck_model::{Attributes, Message, validate};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde_json::Value;
use std::sync::Arc;

/// Reasons for rejected items: a count, the first few texts, and the count per rule.
#[derive(Default)]
pub(super) struct Rejections {
    count: i64,
    reasons: Vec<String>,
    by_rule: Vec<Rejected>,
}

impl Rejections {
    const SHOWN: usize = 3;

    /// `n` items broke `rule`; `text` says which, for the answer.
    pub(super) fn add(&mut self, n: usize, rule: String, text: String) {
        self.count += n as i64;
        match self.by_rule.iter_mut().find(|r| r.rule == rule) {
            Some(r) => r.count += n as u64,
            None => self.by_rule.push(Rejected {
                rule,
                count: n as u64,
                example: text.clone(),
            }),
        }
        if self.reasons.len() < Self::SHOWN {
            self.reasons.push(text);
        }
    }

    fn refused(&mut self, r: span::Refused) {
        let text = r.to_string();
        self.add(1, r.why, text);
    }

    fn message(&self, what: &str) -> String {
        if self.count == 0 {
            return String::new();
        }
        let more = if self.count as usize > self.reasons.len() {
            "; ..."
        } else {
            ""
        };
        format!(
            "{} {what} rejected: {}{more}",
            self.count,
            self.reasons.join("; ")
        )
    }

    /// The outcome when some items were stored, the error when none were.
    pub(super) fn finish(self, stored: usize, what: &str) -> Result<Outcome, ExportError> {
        let outcome = Outcome {
            message: self.message(what),
            rejected: self.count,
            by_rule: self.by_rule,
        };
        if stored == 0 && outcome.rejected > 0 {
            return Err(ExportError::Rejected(outcome));
        }
        Ok(outcome)
    }
}

/// The attributes a resource and scope lend their spans and records, and the resource's
/// `service.name` (the agent of last resort; the SDKs' `unknown_service` default is not one).
fn context(
    resource: Option<&Resource>,
    scope: Option<&InstrumentationScope>,
) -> (Attributes, Attributes, Option<Arc<str>>) {
    let resource =
        resource.map_or_else(Attributes::new, |r| attributes(&r.attributes, "resource."));
    let mut scoped = Attributes::new();
    if let Some(s) = scope {
        for (k, v) in [
            ("otel.scope.name", &s.name),
            ("otel.scope.version", &s.version),
        ] {
            if !v.is_empty() {
                scoped.insert(k.into(), Value::String(v.clone()));
            }
        }
    }
    let service = match resource.get("resource.service.name") {
        Some(Value::String(s)) if !s.is_empty() && !s.starts_with("unknown_service") => {
            Some(Arc::from(s.as_str()))
        }
        _ => None,
    };
    (resource, scoped, service)
}

/// Maps, settles and stores an OTLP trace export.
pub async fn export_traces(
    app: &App,
    request: ExportTraceServiceRequest,
) -> Result<Outcome, ExportError> {
    let mut mapped = Vec::new();
    let mut rejections = Rejections::default();
    for rs in request.resource_spans {
        for ss in rs.scope_spans {
            let (resource, scope, service) = context(rs.resource.as_ref(), ss.scope.as_ref());
            let cx = span::Context {
                resource: &resource,
                scope: &scope,
                limits: &app.config.limits,
            };
            for s in ss.spans {
                match span::map(s, &cx) {
                    Ok(m) => mapped.push((m, service.clone())),
                    Err(e) => rejections.refused(e),
                }
            }
        }
    }
    let stored = mapped.len();
    if stored > 0 {
        let messages = settle(&app.otlp, &app.calls, mapped);
        app.store.append(messages).await?;
    }
    rejections.finish(stored, "spans")
}

/// Settles sessions and agents (under the memory's lock) and gives the messages to store.
fn settle(
    otlp: &Otlp,
    calls: &Calls,
    mapped: Vec<(span::Mapped, Option<Arc<str>>)>,
) -> Vec<Message> {
    let settled = {
        let arrivals: Vec<Arrival<'_>> = mapped
            .iter()
            .map(|(m, service)| Arrival {
                trace: m.trace,
                span: m.span,
                parent: m.parent,
                root: m.root,
                session: m.session.as_deref(),
                agent: m.agent.as_deref(),
                fallback: service.as_ref(),
                restate: m.restate.as_ref(),
                invocation: m.invocation,
            })
            .collect();
        otlp.recent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .settle(&arrivals)
    };
    let mut out = Vec::with_capacity(settled.moves.len() + mapped.len() + settled.restated.len());
    for (trace, session) in settled.moves {
        out.push(Message::SessionMove(m::SessionMove {
            session_id: trace,
            into: session.to_string(),
        }));
    }
    for (((m, _), session), agent) in mapped
        .into_iter()
        .zip(&settled.sessions)
        .zip(&settled.agents)
    {
        let joined = join_proxy_record(calls, &m, session);
        if let Some(mv) = &joined {
            out.push(Message::SpanMove(mv.clone()));
        }
        for mut msg in m.messages {
            settle_message(&mut msg, session, agent.as_deref());
            if joined.is_some()
                && let Message::Span(s) = &mut msg
            {
                // The proxy's record has the exact request and response.
                s.input = None;
                s.output = None;
            }
            if let Message::Span(span) = &msg {
                if m.parent.is_none() {
                    out.push(session_name(span));
                }
                let from = agent.as_deref();
                out.extend(
                    m.handoffs
                        .iter()
                        .enumerate()
                        .filter_map(|(i, h)| handoff(span, i, h, from).map(Message::Edge)),
                );
            }
            out.push(msg);
        }
    }
    for d in settled.delegations {
        out.push(Message::Edge(m::Edge {
            session_id: d.session.to_string(),
            edge_id: Some(format!("{}.invoked", hex(&d.span))),
            kind: flightdeck_model::EdgeKind::Delegation,
            from_span: None,
            to_span: Some(hex(&d.span)),
            from_agent: Some(d.from.to_string()),
            to_agent: Some(d.to.to_string()),
            label: None,
            at: Some(d.at),
        }));
    }
    for (session, r, agent) in settled.restated {
        out.push(Message::SpanStart(m::SpanStart {
            session_id: session.to_string(),
            span_id: hex(&r.span),
            trace_id: Some(hex(&r.trace)),
            parent_id: r.parent.map(|p| hex(&p)),
            kind: r.kind,
            name: r.name,
            agent: Some(agent.to_string()),
            model: None,
            provider: None,
            started_at: Some(r.started_at),
            input: None,
            params: None,
            attributes: None,
            scores: None,
        }));
    }
    out
}

/// A trace's root names its session (the root of an OpenAI Agents run is its workflow):
/// a `session.start` with the root's name and start.
fn session_name(root: &m::Span) -> Message {
    Message::SessionStart(m::SessionStart {
        session_id: root.session_id.clone(),
        name: Some(root.name.clone()),
        started_at: Some(root.started_at),
        tags: Vec::new(),
        metadata: None,
        budget: None,
    })
}

/// The delegation edge of the `i`th handoff of `span`, from the agent it names, else the
/// span's own settled agent `agent`; none when neither is known, or it hands to itself.
fn handoff(span: &m::Span, i: usize, h: &Handoff, agent: Option<&str>) -> Option<m::Edge> {
    let from = h.from.as_deref().or(agent)?;
    (from != h.to).then(|| m::Edge {
        session_id: span.session_id.clone(),
        edge_id: Some(format!("{}.handoff.{i}", span.span_id)),
        kind: flightdeck_model::EdgeKind::Delegation,
        from_span: Some(span.span_id.clone()),
        to_span: None,
        from_agent: Some(from.to_owned()),
        to_agent: Some(h.to.clone()),
        label: Some(span.name.clone()),
        at: Some(span.started_at),
    })
}

/// When the proxy recorded this LLM call first (the same `gen_ai.response.id`), the move of
/// its record into this span; else this span waits for the proxy's record to join it.
fn join_proxy_record(calls: &Calls, m: &span::Mapped, session: &str) -> Option<m::SpanMove> {
    let Some(Message::Span(s)) = m.messages.first() else {
        return None;
    };
    if s.kind != flightdeck_model::SpanKind::Llm {
        return None;
    }
    let id = s.attributes.as_ref()?.get("gen_ai.response.id")?.as_str()?;
    let mine = Filed {
        source: Source::Otlp,
        session: session.to_owned(),
        span: s.span_id.clone(),
    };
    let proxy = calls.join(id, mine)?;
    Some(m::SpanMove {
        session_id: proxy.session,
        span_id: proxy.span,
        into: session.to_owned(),
        into_span: s.span_id.clone(),
    })
}

fn settle_message(msg: &mut Message, session: &Arc<str>, agent: Option<&str>) {
    let (slot, agent_slot) = match msg {
        Message::Span(s) => (&mut s.session_id, Some(&mut s.agent)),
        Message::SpanStart(s) => (&mut s.session_id, Some(&mut s.agent)),
        Message::Event(e) => (&mut e.session_id, Some(&mut e.agent)),
        Message::SpanUpdate(u) => (&mut u.session_id, None),
        _ => return,
    };
    if **slot != **session {
        *slot = session.to_string();
    }
    if let (Some(slot), Some(a)) = (agent_slot, agent) {
        slot.get_or_insert_with(|| a.to_owned());
    }
}

/// The span a group of message records joins: (session, trace, span).
type JoinKey = (Arc<str>, TraceId, SpanId);

/// Maps and stores an OTLP log export.
pub async fn export_logs(
    app: &App,
    request: ExportLogsServiceRequest,
) -> Result<Outcome, ExportError> {
    let mut records = Vec::new();
    let mut rejections = Rejections::default();
    for rl in request.resource_logs {
        for sl in rl.scope_logs {
            let (mut context, scope, _) = context(rl.resource.as_ref(), sl.scope.as_ref());
            context.extend(scope);
            for r in &sl.log_records {
                match logs::map(r, &context) {
                    Ok(rec) => records.push(rec),
                    Err(e) => rejections.add(1, e.clone(), e),
                }
            }
        }
    }
    let mut messages = Vec::new();
    // Joins keyed by (session, trace, span), in the order their first record came.
    let mut joins: Vec<(JoinKey, Vec<logs::Record>)> = Vec::new();
    {
        let recent = app.otlp.recent.lock().unwrap_or_else(|e| e.into_inner());
        for rec in records {
            match rec {
                logs::Record::Join {
                    trace,
                    span,
                    ref session,
                    ..
                } => {
                    let session: Arc<str> = match session {
                        Some(s) => s.as_str().into(),
                        None => recent
                            .session_of(&trace, Some(&span))
                            .unwrap_or_else(|| hex(&trace).into()),
                    };
                    let key = (session, trace, span);
                    match joins.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, group)) => group.push(rec),
                        None => joins.push((key, vec![rec])),
                    }
                }
                logs::Record::Line {
                    trace,
                    session,
                    mut event,
                } => {
                    if session.is_none()
                        && let Some(s) = trace.and_then(|t| recent.session_of(&t, None))
                    {
                        event.session_id = s.to_string();
                    }
                    match validate(&Message::Event(event.clone()), &app.config.limits) {
                        Ok(()) => messages.push(Message::Event(event)),
                        Err((field, e)) => {
                            let why = reason("log record", field, e);
                            rejections.add(1, why.clone(), why);
                        }
                    }
                }
            }
        }
    }
    for ((session, _, span), group) in joins {
        let n = group.len();
        let update = logs::joined(&session, &span, group).map(Message::SpanUpdate);
        match update.and_then(|u| {
            validate(&u, &app.config.limits)
                .map(|()| u)
                .map_err(|(field, e)| reason("messages of a span", field, e))
        }) {
            Ok(u) => messages.push(u),
            Err(why) => {
                let text = format!("span {}: {why}", hex(&span));
                rejections.add(n, why, text);
            }
        }
    }
    let stored = messages.len();
    if stored > 0 {
        app.store.append(messages).await?;
    }
    rejections.finish(stored, "log records")
}

fn reason(what: &str, field: Option<String>, e: String) -> String {
    match field {
        Some(f) => format!("{what}: {f}: {e}"),
        None => format!("{what}: {e}"),
    }
}
