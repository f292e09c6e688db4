//! OTLP log records: LLM messages joined to their span, everything else a log event.
//!
//! - `gen_ai.client.inference.operation.details` (GenAI semconv >= 1.37, content capture
//!   `EVENT_ONLY`) carries a call's messages and usage as structured attributes;
//! - `gen_ai.{system,user,assistant,tool}.message` and `gen_ai.choice` (semconv <= 1.36) carry
//!   one message each.
//!
//! Both become a `span.update` of the span named by the record's trace and span id, setting its
//! input and output (the messages of one request are joined in order); the store merges it with
//! the span whatever arrives first. Any other record (or one without a span) becomes an `event`
//! of its session, with the level from its severity. The event name is the record's
//! `event_name`, or its older `event.name` attribute.

use super::convention::genai;
use super::facts::{Facts, Payload};
use super::messages::{Side, from_event, output};
use super::value::{SpanId, TraceId, attributes, hex, json, parent_id, time, trace_id};
use flightdeck_model::message as m;
use flightdeck_model::{Attributes, Level};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use serde_json::Value;
use serde_json::value::to_raw_value;

/// The event that carries a whole LLM call's messages (GenAI semconv >= 1.37).
pub const OPERATION_DETAILS: &str = "gen_ai.client.inference.operation.details";

/// One log record, mapped.
#[derive(Debug)]
pub enum Record {
    /// Messages (and usage) of an LLM span, to be joined to it.
    Join {
        trace: TraceId,
        span: SpanId,
        session: Option<String>,
        input: Vec<Value>,
        output: Vec<Value>,
        facts: Facts,
        attributes: Attributes,
    },
    /// A log event of a session. `event.session_id` is provisional until settled.
    Line {
        trace: Option<TraceId>,
        session: Option<String>,
        event: m::Event,
    },
}

/// Maps one record, or says why it cannot be stored.
pub fn map(r: &LogRecord, context: &Attributes) -> Result<Record, String> {
    let trace = if r.trace_id.is_empty() {
        None
    } else {
        Some(trace_id(&r.trace_id, "trace_id")?)
    };
    let span = parent_id(&r.span_id, "span_id")?;
    let mut attrs = attributes(&r.attributes, "");
    let name = match (r.event_name.as_str(), attrs.remove("event.name")) {
        ("", Some(Value::String(n))) => n,
        (n, _) => n.to_owned(),
    };
    let body = r.body.as_ref().and_then(json);
    let mut facts = Facts::default();
    let session = explicit_session(&mut attrs);
    if let (Some(trace), Some(span)) = (trace, span) {
        let message = body.as_ref().and_then(|b| from_event(&name, b));
        if name == OPERATION_DETAILS || message.is_some() {
            genai::apply(&mut attrs, &mut facts);
            let (mut input, mut output) = (Vec::new(), Vec::new());
            match message {
                Some((Side::Input, m)) => input.push(m),
                Some((Side::Output, m)) => output.push(m),
                None => {
                    input.extend(take_list(facts.input.take().map(Payload::into_value)));
                    output.extend(take_list(facts.output.take().map(Payload::into_value)));
                }
            }
            return Ok(Record::Join {
                trace,
                span,
                session: session.or(facts.session.take()),
                input,
                output,
                facts,
                attributes: attrs,
            });
        }
    }
    if trace.is_none() && session.is_none() {
        return Err(
            "a log record needs a trace id or a session.id attribute: Flightdeck files logs under a session"
                .into(),
        );
    }
    let message = match &body {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    if let Some(b) = body.filter(|b| !b.is_string()) {
        attrs.insert("body".into(), b);
    }
    for (k, v) in context {
        attrs.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let event = m::Event {
        session_id: session
            .clone()
            .or_else(|| trace.map(|t| hex(&t)))
            .unwrap_or_default(),
        span_id: span.map(|s| hex(&s)),
        event_id: None,
        at: time(r.time_unix_nano).or_else(|| time(r.observed_time_unix_nano)),
        category: "log".into(),
        level: level(r.severity_number),
        agent: None,
        name: (!name.is_empty()).then_some(name),
        message,
        data: (!attrs.is_empty())
            .then(|| to_raw_value(&attrs))
            .transpose()
            .map_err(|e| e.to_string())?,
    };
    Ok(Record::Line {
        trace,
        session,
        event,
    })
}

fn explicit_session(attrs: &mut Attributes) -> Option<String> {
    for key in ["session.id", "gen_ai.conversation.id"] {
        if let Some(Value::String(s)) = attrs.get(key)
            && !s.is_empty()
        {
            let s = s.clone();
            attrs.remove(key);
            return Some(s);
        }
    }
    None
}

fn take_list(v: Option<Value>) -> Vec<Value> {
    match v {
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
        None => Vec::new(),
    }
}

/// OTLP severity numbers: 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-24 error and fatal.
fn level(severity: i32) -> Option<Level> {
    Some(match severity {
        1..=8 => Level::Debug,
        9..=12 => Level::Info,
        13..=16 => Level::Warn,
        17..=24 => Level::Error,
        _ => return None,
    })
}

/// The `span.update` that joins one span's message records, in the order they came.
pub fn joined(session: &str, span: &SpanId, records: Vec<Record>) -> Result<m::SpanUpdate, String> {
    let (mut input, mut out, mut attributes) = (Vec::new(), Vec::new(), Attributes::new());
    let (mut input_tokens, mut output_tokens) = (None, None);
    for r in records {
        if let Record::Join {
            input: i,
            output: o,
            facts,
            attributes: a,
            ..
        } = r
        {
            input.extend(i);
            out.extend(o);
            input_tokens = input_tokens.or(facts.input_tokens);
            output_tokens = output_tokens.or(facts.output_tokens);
            attributes.extend(a);
        }
    }
    let usage = Facts {
        input_tokens,
        output_tokens,
        ..Default::default()
    }
    .usage();
    let raw = |v: Option<Value>| {
        v.map(|v| to_raw_value(&v))
            .transpose()
            .map_err(|e| e.to_string())
    };
    Ok(m::SpanUpdate {
        session_id: session.to_owned(),
        span_id: hex(span),
        seq: None,
        at: None,
        output_delta: None,
        input: raw((!input.is_empty()).then_some(Value::Array(input)))?,
        output: raw(output(out))?,
        usage,
        attributes: (!attributes.is_empty()).then_some(attributes),
        scores: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value as V};
    use serde_json::json;

    fn kv(key: &str, v: V) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        }
    }

    fn record(event: &str, attrs: Vec<KeyValue>, body: Option<V>) -> LogRecord {
        LogRecord {
            trace_id: vec![9; 16],
            span_id: vec![3; 8],
            event_name: event.into(),
            attributes: attrs,
            body: body.map(|v| AnyValue { value: Some(v) }),
            observed_time_unix_nano: 1_795_168_800_000_000_000,
            ..Default::default()
        }
    }

    #[test]
    fn operation_details_join_their_span() {
        let messages = |role: &str, text: &str| {
            V::StringValue(
                json!([{"role": role, "parts": [{"type": "text", "content": text}]}]).to_string(),
            )
        };
        let r = record(
            OPERATION_DETAILS,
            vec![
                kv("gen_ai.operation.name", V::StringValue("chat".into())),
                kv("gen_ai.usage.input_tokens", V::IntValue(21)),
                kv("gen_ai.input.messages", messages("user", "When?")),
                kv("gen_ai.output.messages", messages("assistant", "Midnight.")),
            ],
            None,
        );
        let mapped = map(&r, &Attributes::new()).unwrap();
        let Record::Join { trace, span, .. } = &mapped else {
            panic!("{mapped:?}")
        };
        assert_eq!((*trace, *span), ([9; 16], [3; 8]));
        let u = joined("s", &[3; 8], vec![mapped]).unwrap();
        let parse = |raw: Option<Box<serde_json::value::RawValue>>| -> Value {
            serde_json::from_str(raw.unwrap().get()).unwrap()
        };
        assert_eq!(
            parse(u.input),
            json!([{"role": "user", "content": "When?"}])
        );
        assert_eq!(
            parse(u.output),
            json!({"role": "assistant", "content": "Midnight."})
        );
        assert_eq!(u.usage.unwrap().input_tokens, 21);
        assert_eq!(u.attributes.unwrap()["gen_ai.operation.name"], "chat");
    }

    #[test]
    fn older_message_events_are_joined_in_order() {
        let content = |t: &str| {
            V::KvlistValue(opentelemetry_proto::tonic::common::v1::KeyValueList {
                values: vec![kv("content", V::StringValue(t.into()))],
            })
        };
        let records = [
            record("gen_ai.system.message", vec![], Some(content("Be brief."))),
            record(
                "",
                vec![kv(
                    "event.name",
                    V::StringValue("gen_ai.user.message".into()),
                )],
                Some(content("When?")),
            ),
            record(
                "gen_ai.choice",
                vec![kv("gen_ai.system", V::StringValue("openai".into()))],
                Some(V::KvlistValue(
                    opentelemetry_proto::tonic::common::v1::KeyValueList {
                        values: vec![
                            kv("index", V::IntValue(0)),
                            kv("finish_reason", V::StringValue("stop".into())),
                            kv("message", content("Midnight.")),
                        ],
                    },
                )),
            ),
        ];
        let mapped: Vec<Record> = records
            .iter()
            .map(|r| map(r, &Attributes::new()).unwrap())
            .collect();
        let u = joined("s", &[3; 8], mapped).unwrap();
        let input: Value = serde_json::from_str(u.input.unwrap().get()).unwrap();
        assert_eq!(
            input,
            json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "When?"}])
        );
        let out: Value = serde_json::from_str(u.output.unwrap().get()).unwrap();
        assert_eq!(
            out,
            json!({"role": "assistant", "content": "Midnight.", "finish_reason": "stop"})
        );
    }

    #[test]
    fn other_records_are_log_events_and_need_a_session() {
        let mut r = record(
            "",
            vec![kv("http.route", V::StringValue("/x".into()))],
            Some(V::StringValue("vault opened".into())),
        );
        r.severity_number = 13;
        let context = json!({"resource.service.name": "crew"})
            .as_object()
            .unwrap()
            .clone();
        let Record::Line { event, trace, .. } = map(&r, &context).unwrap() else {
            panic!()
        };
        assert_eq!(trace, Some([9; 16]));
        assert_eq!(event.session_id, "09".repeat(16));
        assert_eq!(event.span_id.as_deref(), Some(&*"03".repeat(8)));
        assert_eq!(event.level, Some(Level::Warn));
        assert_eq!(event.message.as_deref(), Some("vault opened"));
        let data: Value = serde_json::from_str(event.data.unwrap().get()).unwrap();
        assert_eq!(
            data,
            json!({"http.route": "/x", "resource.service.name": "crew"})
        );

        r.trace_id.clear();
        r.span_id.clear();
        assert!(map(&r, &context).unwrap_err().contains("session.id"));
        r.attributes
            .push(kv("session.id", V::StringValue("chat-1".into())));
        let Record::Line { event, .. } = map(&r, &context).unwrap() else {
            panic!()
        };
        assert_eq!(event.session_id, "chat-1");

        r.trace_id = vec![1; 3];
        assert!(map(&r, &context).unwrap_err().contains("16 bytes"));
    }
}
