//! Seed 002's trace event stream: one JSON object a line with `event_type` (`llm_call`,
//! `tool_call`, `agent_start`, `agent_end`), `trace_id`, `span_id`, `parent_id`, `timestamp`
//! (ISO 8601; without an offset it is read as UTC), `agent_name` and `data`.
//!
//! Each line maps alone (the store merges the rest, whatever order lines arrive in):
//!
//! | event | native |
//! |---|---|
//! | `llm_call` | a finished `span` of kind `llm`: `data.messages` input, `data.response` output, `data.model`, `data.tokens` usage (`input_tokens`/`prompt_tokens`, `output_tokens`/`completion_tokens`), `data.cost_usd` |
//! | `tool_call` | a finished `span` of kind `tool` named `data.tool_name`: `data.parameters` input, `data.result` output |
//! | `agent_start` | `span.start` of kind `agent` named after the agent, `data` as input |
//! | `agent_end` | `span.end`, `data` as output |
//!
//! The session is the trace id. A call starts at `timestamp` and lasts `data.duration_ms`
//! (0 when not given); `data.error` (a string) fails it with that error. Whatever else `data`
//! holds stays as the span's attributes under `data.`.

use flightdeck_model::message as m;
use flightdeck_model::{Attributes, Limits, Message, SpanKind, SpanOutcome, Timestamp, validate};
use serde::Deserialize;
use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Map, Value};

#[derive(Deserialize)]
struct Line {
    event_type: String,
    trace_id: String,
    span_id: String,
    #[serde(default)]
    parent_id: Option<String>,
    timestamp: String,
    #[serde(default)]
    agent_name: Option<String>,
    #[serde(default)]
    data: Map<String, Value>,
}

/// The native messages of one line.
pub fn map(line: &str, limits: &Limits) -> Result<Vec<Message>, String> {
    let mut l: Line = serde_json::from_str(line).map_err(|e| format!("not a trace event: {e}"))?;
    let at = time(&l.timestamp)?;
    let raw = |v: Option<Value>| v.and_then(|v| to_raw_value(&v).ok());
    let error = l
        .data
        .get("error")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let status = if error.is_some() {
        SpanOutcome::Error
    } else {
        SpanOutcome::Ok
    };
    let duration = l
        .data
        .get("duration_ms")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let ended_at = Timestamp(at.0 + (duration * 1e6) as i64);
    let parent_id = l.parent_id.take().filter(|p| !p.is_empty());
    let message = match l.event_type.as_str() {
        "llm_call" | "tool_call" => {
            let llm = l.event_type == "llm_call";
            let (input, output) = if llm {
                (l.data.remove("messages"), l.data.remove("response"))
            } else {
                (l.data.remove("parameters"), l.data.remove("result"))
            };
            let name = if llm {
                l.data
                    .get("model")
                    .and_then(Value::as_str)
                    .unwrap_or("llm_call")
                    .to_owned()
            } else {
                match l.data.remove("tool_name") {
                    Some(Value::String(s)) => s,
                    _ => return Err("data.tool_name: a tool call needs its tool's name".into()),
                }
            };
            let model = llm
                .then(|| l.data.remove("model"))
                .flatten()
                .and_then(|v| v.as_str().map(str::to_owned));
            let usage = l.data.remove("tokens").map(|t| usage(&t));
            let cost_usd = l.data.remove("cost_usd").and_then(|v| v.as_f64());
            l.data.remove("duration_ms");
            l.data.remove("error");
            Message::Span(m::Span {
                session_id: l.trace_id,
                span_id: l.span_id,
                trace_id: None,
                parent_id,
                kind: if llm { SpanKind::Llm } else { SpanKind::Tool },
                name,
                agent: l.agent_name,
                model,
                provider: None,
                started_at: at,
                ended_at,
                status,
                input: raw(input),
                output: raw(output),
                params: None,
                usage,
                cost_usd,
                error,
                attributes: rest(l.data),
                scores: None,
            })
        }
        "agent_start" => Message::SpanStart(m::SpanStart {
            session_id: l.trace_id,
            span_id: l.span_id,
            trace_id: None,
            parent_id,
            kind: SpanKind::Agent,
            name: l.agent_name.clone().unwrap_or_else(|| "agent".into()),
            agent: l.agent_name,
            model: None,
            provider: None,
            started_at: Some(at),
            input: payload(l.data),
            params: None,
            attributes: None,
            scores: None,
        }),
        "agent_end" => Message::SpanEnd(m::SpanEnd {
            session_id: l.trace_id,
            span_id: l.span_id,
            ended_at: Some(at),
            status,
            output: payload(l.data),
            usage: None,
            cost_usd: None,
            error,
            attributes: None,
            scores: None,
        }),
        other => {
            return Err(format!(
                "event_type: unknown event {other:?}; one of llm_call, tool_call, agent_start, agent_end"
            ));
        }
    };
    validate(&message, limits).map_err(|(field, e)| match field {
        Some(f) => format!("{f}: {e}"),
        None => e,
    })?;
    Ok(vec![message])
}

/// An ISO 8601 time; one without an offset (Python's `isoformat()` of a naive time) is UTC.
pub fn time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(s).or_else(|e| {
        let has_offset = s.ends_with('Z') || s[s.len().saturating_sub(6)..].contains(['+', '-']);
        if has_offset {
            Err(format!("timestamp: {e}"))
        } else {
            Timestamp::parse_rfc3339(&format!("{s}Z")).map_err(|e| format!("timestamp: {e}"))
        }
    })
}

fn usage(t: &Value) -> m::Usage {
    let n = |keys: [&str; 2]| {
        keys.iter()
            .find_map(|k| t.get(k).and_then(Value::as_u64))
            .unwrap_or(0)
    };
    m::Usage {
        input_tokens: n(["input_tokens", "prompt_tokens"]),
        output_tokens: n(["output_tokens", "completion_tokens"]),
    }
}

fn payload(data: Map<String, Value>) -> Option<Box<RawValue>> {
    (!data.is_empty())
        .then(|| to_raw_value(&Value::Object(data)).ok())
        .flatten()
}

fn rest(data: Map<String, Value>) -> Option<Attributes> {
    (!data.is_empty()).then(|| {
        data.into_iter()
            .map(|(k, v)| (format!("data.{k}"), v))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Message {
        map(line, &Limits::default()).unwrap().remove(0)
    }

    #[test]
    fn an_llm_call_is_a_finished_llm_span_of_the_trace() {
        let Message::Span(s) = one(
            r#"{"event_type":"llm_call","trace_id":"t1","span_id":"s2","parent_id":"s1",
            "timestamp":"2026-12-01T10:00:00.5","agent_name":"orchestrator","data":{"messages":
            [{"role":"user","content":"plan"}],"response":"ok","model":"gpt-4o","tokens":
            {"prompt_tokens":12,"completion_tokens":3},"cost_usd":0.01,"duration_ms":250,"seed":7}}"#,
        ) else {
            panic!("not a span")
        };
        assert_eq!(
            (s.session_id.as_str(), s.kind, s.name.as_str()),
            ("t1", SpanKind::Llm, "gpt-4o")
        );
        assert_eq!(s.ended_at.0 - s.started_at.0, 250_000_000);
        assert_eq!(
            s.started_at,
            Timestamp::parse_rfc3339("2026-12-01T10:00:00.5Z").unwrap()
        );
        assert_eq!(
            s.usage.map(|u| (u.input_tokens, u.output_tokens)),
            Some((12, 3))
        );
        assert_eq!(s.output.unwrap().get(), r#""ok""#);
        assert_eq!(s.attributes.unwrap()["data.seed"], 7);
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        let l = Limits::default();
        let err = map(
            r#"{"event_type":"nap","trace_id":"t","span_id":"s","timestamp":"2026-12-01T10:00:00Z"}"#,
            &l,
        );
        assert!(err.unwrap_err().contains("unknown event \"nap\""));
        let err = map(
            r#"{"event_type":"tool_call","trace_id":"t","span_id":"s","timestamp":"2026-12-01T10:00:00Z"}"#,
            &l,
        );
        assert!(err.unwrap_err().contains("data.tool_name"));
        assert!(
            map(r#"{"event_type":"llm_call"}"#, &l)
                .unwrap_err()
                .contains("trace_id")
        );
        let err = map(
            r#"{"event_type":"agent_end","trace_id":"t","span_id":"s","timestamp":"noon"}"#,
            &l,
        );
        assert!(err.unwrap_err().starts_with("timestamp"));
    }
}
