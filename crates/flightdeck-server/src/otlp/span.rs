//! One OTLP span into native messages: its ids and times checked, its conventions read
//! (`convention`), its events turned into messages or folded into its input and output, and
//! everything else kept as attributes. The result is validated by the same rules as a native
//! message, so a bad span is rejected alone (OTLP partial success).
//!
//! The session and agent set here are provisional (the span's own, or the trace id): `recent`
//! settles them against the rest of the trace before the messages are stored.

use super::convention::{self, logfire::Shape};
use super::facts::{Facts, Handoff, Payload};
use super::messages::{Side, from_event, output, parse_if_text};
use super::recent::Restate;
use super::value::{
    SpanId, TraceId, attributes, hex, into_attributes, parent_id, span_id, time, trace_id,
};
use flightdeck_model::message as m;
use flightdeck_model::{Attributes, Level, Limits, Message, SpanOutcome, validate};
use opentelemetry_proto::tonic::trace::v1::span::{Event, SpanKind as OtelKind};
use opentelemetry_proto::tonic::trace::v1::{Span, status::StatusCode};
use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Value, json};

/// `flags` bits that say the parent span context came from another process.
const PARENT_IS_REMOTE: u32 = 0x300;

/// What a span shares with the others of its resource and scope.
pub struct Context<'a> {
    /// The resource's attributes, each key behind `resource.`.
    pub resource: &'a Attributes,
    /// `otel.scope.name` and `otel.scope.version`.
    pub scope: &'a Attributes,
    pub limits: &'a Limits,
}

/// A span mapped to native messages, with what `recent` needs to settle session and agent.
#[derive(Debug)]
pub struct Mapped {
    pub trace: TraceId,
    /// The native span id (for a pending span, the real span's).
    pub span: SpanId,
    pub parent: Option<SpanId>,
    /// No parent in this process: the agent falls back to `service.name` here.
    pub root: bool,
    /// The session the span names itself.
    pub session: Option<String>,
    /// The agent the span names itself (an agent span names its own agent).
    pub agent: Option<String>,
    /// How to restate the span with a settled agent; `None` for a log that is not a span.
    pub restate: Option<Restate>,
    /// Work the span hands to other agents (delegation edges once its agent is settled).
    pub handoffs: Vec<Handoff>,
    /// An agent span with an agent of its own: the nearest agent above it delegated to it.
    pub invocation: bool,
    /// The span's message first, then its events.
    pub messages: Vec<Message>,
}

/// Why a span was not stored: the rule it broke (`why`, the same for every span that broke
/// it) and which span, when its id could be read.
#[derive(Debug)]
pub struct Refused {
    pub span: Option<String>,
    pub why: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.span {
            Some(id) => write!(f, "span {id}: {}", self.why),
            None => f.write_str(&self.why),
        }
    }
}

/// Maps one span, or says why it cannot be stored.
pub fn map(span: Span, cx: &Context<'_>) -> Result<Mapped, Refused> {
    let unnamed = |why| Refused { span: None, why };
    let trace = trace_id(&span.trace_id, "trace_id").map_err(unnamed)?;
    let id = span_id(&span.span_id, "span_id").map_err(unnamed)?;
    let fail = |why: String| Refused {
        span: Some(hex(&id)),
        why,
    };
    let mapped = map_checked(span, trace, id, cx).map_err(fail)?;
    for msg in &mapped.messages {
        validate(msg, cx.limits).map_err(|(field, e)| match field {
            Some(f) => fail(format!("{f}: {e}")),
            None => fail(e),
        })?;
    }
    Ok(mapped)
}

fn map_checked(span: Span, trace: TraceId, id: SpanId, cx: &Context<'_>) -> Result<Mapped, String> {
    let parent = parent_id(&span.parent_span_id, "parent_span_id")?;
    let started_at = time(span.start_time_unix_nano).ok_or("start_time_unix_nano is not set")?;
    let ended_at = time(span.end_time_unix_nano).ok_or("end_time_unix_nano is not set")?;
    if ended_at < started_at {
        return Err("end_time_unix_nano is before start_time_unix_nano".into());
    }
    let mut attrs = into_attributes(span.attributes);
    let mut name = span.name;
    let shape = convention::logfire::shape(&mut attrs, &mut name);
    let scope = cx.scope.get("otel.scope.name").and_then(Value::as_str);
    let mut facts = convention::apply(&mut attrs, &name, scope);
    let session = facts.session.take();
    let agent = facts.agent.take();
    let provisional = session.clone().unwrap_or_else(|| hex(&trace));
    // A pending span's events are its real span's (so far); a log's belong to its parent.
    let events_of = match shape {
        Shape::Span => id,
        Shape::Pending { .. } | Shape::Log { .. } => parent.unwrap_or(id),
    };
    let status = span.status.unwrap_or_default();
    let failed = status.code == StatusCode::Error as i32;
    let (events, exception) = events(&span.events, &mut facts, (&events_of, &provisional), failed)?;
    let error = failed.then(|| {
        Some(status.message)
            .filter(|m| !m.is_empty())
            .or(exception)
            .unwrap_or_else(|| "error".into())
    });
    let kind = facts.kind.unwrap_or(flightdeck_model::SpanKind::Custom);
    let invocation = kind == flightdeck_model::SpanKind::Agent && agent.is_some();
    let handoffs = std::mem::take(&mut facts.handoffs);
    let usage = facts.usage();
    let native_name = facts.name.take().unwrap_or_else(|| name.clone());
    if native_name != name {
        attrs.insert("otel.span_name".into(), Value::String(name.clone()));
    }
    if let Ok(k) = OtelKind::try_from(span.kind)
        && !matches!(k, OtelKind::Unspecified | OtelKind::Internal)
    {
        let k = k
            .as_str_name()
            .trim_start_matches("SPAN_KIND_")
            .to_ascii_lowercase();
        attrs.insert("otel.span_kind".into(), Value::String(k));
    }
    if !span.links.is_empty() {
        let links = span
            .links
            .iter()
            .map(|l| {
                json!({"trace_id": hex(&l.trace_id), "span_id": hex(&l.span_id),
                       "attributes": attributes(&l.attributes, "")})
            })
            .collect();
        attrs.insert("otel.links".into(), Value::Array(links));
    }
    for (key, n) in [
        (
            "otel.dropped_attributes_count",
            span.dropped_attributes_count,
        ),
        ("otel.dropped_events_count", span.dropped_events_count),
        ("otel.dropped_links_count", span.dropped_links_count),
    ] {
        if n > 0 {
            attrs.insert(key.into(), n.into());
        }
    }
    for (k, v) in cx.scope.iter().chain(cx.resource) {
        attrs.entry(k.clone()).or_insert_with(|| v.clone());
    }

    let root = parent.is_none() || span.flags & PARENT_IS_REMOTE == PARENT_IS_REMOTE;
    let restate = |span: SpanId, parent: Option<SpanId>| Restate {
        trace,
        kind,
        name: native_name.clone(),
        started_at,
        parent,
        span,
    };
    let attributes = (!attrs.is_empty()).then_some(attrs);
    let (native_id, native_parent, first, restate) = match shape {
        Shape::Span => {
            let msg = Message::Span(m::Span {
                session_id: provisional.clone(),
                span_id: hex(&id),
                trace_id: Some(hex(&trace)),
                parent_id: parent.map(|p| hex(&p)),
                kind,
                name: native_name.clone(),
                agent: agent.clone(),
                model: facts.model,
                provider: facts.provider,
                started_at,
                ended_at,
                status: if failed {
                    SpanOutcome::Error
                } else {
                    SpanOutcome::Ok
                },
                input: raw(facts.input)?,
                output: raw(facts.output)?,
                params: raw(facts.params)?,
                usage,
                cost_usd: None,
                error,
                attributes,
                scores: None,
            });
            (id, parent, msg, Some(restate(id, parent)))
        }
        Shape::Pending {
            parent: real_parent,
        } => {
            let real = parent.ok_or("a Logfire pending span must have its real span as parent")?;
            let msg = Message::SpanStart(m::SpanStart {
                session_id: provisional.clone(),
                span_id: hex(&real),
                trace_id: Some(hex(&trace)),
                parent_id: real_parent.map(|p| hex(&p)),
                kind,
                name: native_name.clone(),
                agent: agent.clone(),
                model: facts.model,
                provider: facts.provider,
                started_at: Some(started_at),
                input: raw(facts.input)?,
                params: raw(facts.params)?,
                attributes,
                scores: None,
            });
            (real, real_parent, msg, Some(restate(real, real_parent)))
        }
        Shape::Log { level, message } => {
            let data = attributes.map(|a| to_raw_value(&a)).transpose();
            let msg = Message::Event(m::Event {
                session_id: provisional.clone(),
                span_id: parent.map(|p| hex(&p)),
                event_id: Some(hex(&id)),
                at: Some(started_at),
                category: "log".into(),
                level,
                agent: agent.clone(),
                name: Some(name),
                message,
                data: data.map_err(|e| e.to_string())?,
            });
            (id, parent, msg, None)
        }
    };
    let mut messages = Vec::with_capacity(1 + events.len());
    messages.push(first);
    messages.extend(events);
    Ok(Mapped {
        trace,
        span: native_id,
        parent: native_parent,
        root,
        session,
        agent,
        restate,
        handoffs,
        invocation,
        messages,
    })
}

/// Span events: GenAI message events fill the input and output when the attributes did not;
/// every other event (exceptions included) becomes a native event of `span` in `session`.
/// An exception is an error only on a span that `failed`: on one that succeeded it was
/// handled, or it was control flow (LangGraph raises `ParentCommand` to hand off), so it is
/// kept at level `info`. Also returns the first exception as text, for a failed span without
/// a status message.
fn events(
    list: &[Event],
    facts: &mut Facts,
    (span, session): (&SpanId, &str),
    failed: bool,
) -> Result<(Vec<Message>, Option<String>), String> {
    let mut input = Vec::new();
    let mut output_messages = Vec::new();
    let mut out = Vec::new();
    let mut exception = None;
    for (i, e) in list.iter().enumerate() {
        let mut attrs = attributes(&e.attributes, "");
        match e.name.as_str() {
            "gen_ai.content.prompt" if facts.input.is_none() => {
                facts.input = attrs
                    .remove("gen_ai.prompt")
                    .map(|v| parse_if_text(v).into());
                continue;
            }
            "gen_ai.content.completion" if facts.output.is_none() => {
                facts.output = attrs
                    .remove("gen_ai.completion")
                    .map(|v| parse_if_text(v).into());
                continue;
            }
            name => {
                let body = Value::Object(
                    attrs
                        .iter()
                        .map(|(k, v)| (k.clone(), parse_if_text(v.clone())))
                        .collect(),
                );
                if let Some((side, message)) = from_event(name, &body) {
                    match side {
                        Side::Input => input.push(message),
                        Side::Output => output_messages.push(message),
                    }
                    continue;
                }
            }
        }
        let is_exception = e.name == "exception";
        let text = is_exception.then(|| {
            let t = attrs
                .get("exception.type")
                .and_then(Value::as_str)
                .unwrap_or("exception");
            match attrs.get("exception.message").and_then(Value::as_str) {
                Some(m) => format!("{t}: {m}"),
                None => t.to_owned(),
            }
        });
        if exception.is_none() {
            exception.clone_from(&text);
        }
        out.push(Message::Event(m::Event {
            session_id: session.to_owned(),
            span_id: Some(hex(span)),
            event_id: Some(format!("{}.{i}", hex(span))),
            at: time(e.time_unix_nano),
            category: "log".into(),
            level: Some(if is_exception && failed {
                Level::Error
            } else {
                Level::Info
            }),
            agent: None,
            name: Some(e.name.clone()),
            message: text,
            data: (!attrs.is_empty())
                .then(|| to_raw_value(&attrs))
                .transpose()
                .map_err(|e| e.to_string())?,
        }));
    }
    if facts.input.is_none() && !input.is_empty() {
        facts.input = Some(Value::Array(input).into());
    }
    if facts.output.is_none() {
        facts.output = output(output_messages).map(Payload::from);
    }
    Ok((out, exception))
}

fn raw(v: Option<Payload>) -> Result<Option<Box<RawValue>>, String> {
    v.map(Payload::into_raw)
        .transpose()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightdeck_model::SpanKind;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value as V};
    use opentelemetry_proto::tonic::trace::v1::Status;

    const START: u64 = 1_795_168_800_000_000_000;

    fn kv(key: &str, v: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(V::StringValue(v.into())),
            }),
            ..Default::default()
        }
    }

    fn int(key: &str, v: i64) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(V::IntValue(v)),
            }),
            ..Default::default()
        }
    }

    fn span(name: &str, attributes: Vec<KeyValue>) -> Span {
        Span {
            trace_id: vec![0xab; 16],
            span_id: vec![1; 8],
            parent_span_id: vec![2; 8],
            name: name.into(),
            kind: OtelKind::Client as i32,
            start_time_unix_nano: START,
            end_time_unix_nano: START + 1_500_000_000,
            attributes,
            ..Default::default()
        }
    }

    fn map_with(s: Span, limits: &Limits) -> Result<Mapped, String> {
        map_refused(s, limits).map_err(|e| e.to_string())
    }

    fn map_refused(s: Span, limits: &Limits) -> Result<Mapped, Refused> {
        let resource = serde_json::json!({"resource.service.name": "crew"})
            .as_object()
            .unwrap()
            .clone();
        let scope = serde_json::json!({"otel.scope.name": "openinference.instrumentation.openai"})
            .as_object()
            .unwrap()
            .clone();
        map(
            s,
            &Context {
                resource: &resource,
                scope: &scope,
                limits,
            },
        )
    }

    fn map_one(s: Span) -> Mapped {
        map_with(s, &Limits::default()).unwrap()
    }

    #[test]
    fn a_genai_chat_span_becomes_an_llm_span() {
        let m = map_one(span(
            "chat gpt-4o",
            vec![
                kv("gen_ai.operation.name", "chat"),
                kv("gen_ai.request.model", "gpt-4o"),
                kv("gen_ai.provider.name", "openai"),
                int("gen_ai.usage.input_tokens", 12),
                int("gen_ai.usage.output_tokens", 34),
                kv("gen_ai.agent.name", "planner"),
            ],
        ));
        assert_eq!((m.root, m.agent.as_deref()), (false, Some("planner")));
        assert_eq!(m.session, None);
        let Message::Span(s) = &m.messages[0] else {
            panic!("{:?}", m.messages)
        };
        assert_eq!(s.session_id, "ab".repeat(16), "the trace id until settled");
        assert_eq!(s.span_id, "0101010101010101");
        assert_eq!(s.parent_id.as_deref(), Some("0202020202020202"));
        assert_eq!(s.kind, SpanKind::Llm);
        assert_eq!(s.model.as_deref(), Some("gpt-4o"));
        assert_eq!(s.provider.as_deref(), Some("openai"));
        assert_eq!(s.usage.unwrap().output_tokens, 34);
        assert_eq!(s.status, SpanOutcome::Ok);
        assert_eq!((s.ended_at.0 - s.started_at.0), 1_500_000_000);
        let a = s.attributes.as_ref().unwrap();
        assert_eq!(a["gen_ai.operation.name"], "chat");
        assert_eq!(a["resource.service.name"], "crew");
        assert_eq!(a["otel.scope.name"], "openinference.instrumentation.openai");
        assert_eq!(a["otel.span_kind"], "client");
        assert_eq!(
            m.restate.unwrap(),
            Restate {
                trace: [0xab; 16],
                span: [1; 8],
                parent: Some([2; 8]),
                kind: SpanKind::Llm,
                name: "chat gpt-4o".into(),
                started_at: flightdeck_model::Timestamp(START as i64),
            }
        );
    }

    /// Ends `s` with status `code` and an `exception` event of `(type, message)`.
    fn raised(s: &mut Span, code: StatusCode, (kind, message): (&str, &str)) {
        s.status = Some(Status {
            code: code as i32,
            message: String::new(),
        });
        s.events.push(Event {
            time_unix_nano: START + 1000,
            name: "exception".into(),
            attributes: vec![kv("exception.type", kind), kv("exception.message", message)],
            ..Default::default()
        });
    }

    #[test]
    fn a_failed_span_keeps_its_exception_as_error_and_event() {
        let mut s = span(
            "execute_tool scan",
            vec![
                kv("gen_ai.operation.name", "execute_tool"),
                kv("gen_ai.tool.name", "scan"),
            ],
        );
        raised(
            &mut s,
            StatusCode::Error,
            ("TimeoutError", "camera offline"),
        );
        s.events.push(Event {
            time_unix_nano: START + 2000,
            name: "retrying".into(),
            ..Default::default()
        });
        let m = map_one(s);
        let Message::Span(sp) = &m.messages[0] else {
            panic!()
        };
        assert_eq!(sp.kind, SpanKind::Tool);
        assert_eq!(sp.name, "scan", "named after the tool");
        assert_eq!(
            sp.attributes.as_ref().unwrap()["otel.span_name"],
            "execute_tool scan"
        );
        assert_eq!(sp.status, SpanOutcome::Error);
        assert_eq!(sp.error.as_deref(), Some("TimeoutError: camera offline"));
        let Message::Event(e) = &m.messages[1] else {
            panic!()
        };
        assert_eq!(e.level, Some(Level::Error));
        assert_eq!(e.event_id.as_deref(), Some("0101010101010101.0"));
        assert_eq!(e.span_id.as_deref(), Some("0101010101010101"));
        let Message::Event(e) = &m.messages[2] else {
            panic!()
        };
        assert_eq!(e.name.as_deref(), Some("retrying"));
        assert_eq!(e.level, Some(Level::Info));
    }

    #[test]
    fn an_exception_on_a_span_that_succeeded_is_not_an_error() {
        // LangGraph's handoffs, as openinference-instrumentation-langchain sends them: the
        // span is OK, the exception is the ParentCommand that carried the handoff.
        let mut s = span("tools", vec![kv("openinference.span.kind", "CHAIN")]);
        raised(
            &mut s,
            StatusCode::Ok,
            (
                "langgraph.errors.ParentCommand",
                "Command(goto='researcher')",
            ),
        );
        let m = map_one(s);
        let Message::Span(sp) = &m.messages[0] else {
            panic!()
        };
        assert_eq!((sp.status, sp.error.as_deref()), (SpanOutcome::Ok, None));
        let Message::Event(e) = &m.messages[1] else {
            panic!()
        };
        assert_eq!(e.level, Some(Level::Info), "kept, but not as an error");
        assert_eq!(
            e.message.as_deref(),
            Some("langgraph.errors.ParentCommand: Command(goto='researcher')")
        );
    }

    #[test]
    fn older_genai_message_events_fill_input_and_output() {
        let mut s = span("chat", vec![kv("gen_ai.system", "openai")]);
        for (name, attrs) in [
            ("gen_ai.user.message", vec![kv("content", "When?")]),
            (
                "gen_ai.choice",
                vec![
                    kv("message", "{\"content\":\"Midnight.\"}"),
                    kv("finish_reason", "stop"),
                ],
            ),
        ] {
            s.events.push(Event {
                time_unix_nano: START,
                name: name.into(),
                attributes: attrs,
                ..Default::default()
            });
        }
        let m = map_one(s);
        assert_eq!(m.messages.len(), 1, "message events are folded in");
        let Message::Span(sp) = &m.messages[0] else {
            panic!()
        };
        let input: Value = serde_json::from_str(sp.input.as_ref().unwrap().get()).unwrap();
        assert_eq!(input, json!([{"role": "user", "content": "When?"}]));
        let out: Value = serde_json::from_str(sp.output.as_ref().unwrap().get()).unwrap();
        assert_eq!(
            out,
            json!({"role": "assistant", "content": "Midnight.", "finish_reason": "stop"})
        );
    }

    #[test]
    fn a_logfire_pending_span_starts_the_real_span() {
        let mut s = span(
            "crack the safe (pending)",
            vec![
                kv("logfire.span_type", "pending_span"),
                kv("logfire.pending_parent_id", "0303030303030303"),
                kv("logfire.msg", "crack the safe"),
            ],
        );
        s.events.push(Event {
            time_unix_nano: START,
            name: "dial turned".into(),
            ..Default::default()
        });
        let m = map_one(s);
        let Message::Event(e) = &m.messages[1] else {
            panic!("{:?}", m.messages)
        };
        assert_eq!(
            e.span_id.as_deref(),
            Some("0202020202020202"),
            "the real span's"
        );
        assert_eq!(e.event_id.as_deref(), Some("0202020202020202.0"));
        assert_eq!((m.span, m.parent), ([2; 8], Some([3; 8])));
        let Message::SpanStart(st) = &m.messages[0] else {
            panic!("{:?}", m.messages)
        };
        assert_eq!(st.span_id, "0202020202020202", "the real span's id");
        assert_eq!(st.parent_id.as_deref(), Some("0303030303030303"));
        assert_eq!(st.name, "crack the safe");
        assert_eq!(st.kind, SpanKind::Custom);

        let mut root = span(
            "plan (pending)",
            vec![
                kv("logfire.span_type", "pending_span"),
                kv("logfire.pending_parent_id", "0000000000000000"),
            ],
        );
        root.kind = OtelKind::Internal as i32;
        let Message::SpanStart(st) = &map_one(root).messages[0] else {
            panic!()
        };
        assert_eq!(st.parent_id, None);
    }

    #[test]
    fn a_logfire_log_is_an_event_of_its_parent() {
        let m = map_one(span(
            "alarm {state}",
            vec![
                kv("logfire.span_type", "log"),
                int("logfire.level_num", 17),
                kv("logfire.msg", "alarm tripped"),
            ],
        ));
        assert!(m.restate.is_none());
        let Message::Event(e) = &m.messages[0] else {
            panic!()
        };
        assert_eq!(e.span_id.as_deref(), Some("0202020202020202"));
        assert_eq!(e.level, Some(Level::Error));
        assert_eq!(e.message.as_deref(), Some("alarm tripped"));
        assert_eq!(e.name.as_deref(), Some("alarm {state}"));
    }

    #[test]
    fn bad_spans_are_refused_with_a_reason() {
        type Break = Box<dyn Fn(&mut Span)>;
        let cases: Vec<(Break, &str)> = vec![
            (
                Box::new(|s| s.trace_id = vec![1; 15]),
                "trace_id must be 16 bytes",
            ),
            (
                Box::new(|s| s.span_id = vec![1; 9]),
                "span_id must be 8 bytes",
            ),
            (
                Box::new(|s| s.parent_span_id = vec![1; 4]),
                "parent_span_id must be 8 bytes",
            ),
            (
                Box::new(|s| s.start_time_unix_nano = 0),
                "start_time_unix_nano is not set",
            ),
            (
                Box::new(|s| s.end_time_unix_nano = START - 1),
                "before start_time",
            ),
            (
                Box::new(|s| s.attributes.push(kv("big", &"x".repeat(300)))),
                "attributes.big",
            ),
            (
                Box::new(|s| s.attributes.push(kv("session.id", &"s".repeat(200)))),
                "session_id",
            ),
            (
                Box::new(|s| {
                    s.parent_span_id.clear();
                    s.attributes.push(kv("logfire.span_type", "pending_span"));
                }),
                "pending span must have its real span as parent",
            ),
        ];
        let limits = Limits {
            max_field_bytes: 256,
            ..Limits::default()
        };
        for (break_it, want) in cases {
            let mut s = span("chat", vec![]);
            break_it(&mut s);
            let e = map_with(s, &limits).unwrap_err();
            assert!(e.contains(want), "{e:?} should contain {want:?}");
        }
    }
}
