//! Claude Code's session transcripts (`~/.claude/projects/<project>/<session>.jsonl`), mapped
//! line by line to sessions, agents, LLM and tool spans. The shape followed is the documented
//! one (each line a JSON object with `type`, `uuid`, `parentUuid`, `sessionId`, `timestamp`,
//! `isSidechain` and, for `user` and `assistant`, the Messages API `message`); the sample in
//! the tests is written from it, not captured from a real run.
//!
//! | line | native |
//! |---|---|
//! | `assistant` | a finished `span` of kind `llm`, id `message.id` (a reply written over several lines, one content block each, is one span), model, usage (cache tokens as attributes), the content as output |
//! | its `tool_use` blocks | `span.start` of kind `tool` (id the block's id, under the LLM span), input the block's input; the `Task` tool (a sub-agent) is of kind `agent` |
//! | `user` with `tool_result` blocks | `span.end` of those tools: the result as output, `is_error` fails it |
//! | `user` with a prompt | an `event` (`message`, name `prompt`); the first line of a session (no `parentUuid`) also starts it, named after the prompt |
//! | `summary`, `system` and other lines | nothing (skipped, not refused) |
//!
//! The agent is `claude` for the main thread and `sub-agent` (or `sub-agent <agentId>`) for
//! sidechain lines (`isSidechain`), which are a sub-agent's own conversation. Claude Code
//! writes a line when a message is complete, so an LLM span has no duration.

use super::trace_events::time;
use flightdeck_model::message as m;
use flightdeck_model::{Attributes, Level, Limits, Message, SpanKind, SpanOutcome, validate};
use serde_json::Value;
use serde_json::value::to_raw_value;

/// The longest session name taken from a first prompt, in characters.
const NAME_CHARS: usize = 80;

/// The native messages of one transcript line.
pub fn map(line: &str, limits: &Limits) -> Result<Vec<Message>, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let Some(kind) = v.get("type").and_then(Value::as_str) else {
        return Err("type: a transcript line needs a type".into());
    };
    if !matches!(kind, "user" | "assistant") {
        return Ok(Vec::new());
    }
    let str_of = |k: &str| v.get(k).and_then(Value::as_str);
    let session = str_of("sessionId").ok_or("sessionId: missing")?.to_owned();
    let at = time(str_of("timestamp").ok_or("timestamp: missing")?)?;
    let agent = match (v["isSidechain"].as_bool(), str_of("agentId")) {
        (Some(true), Some(id)) => format!("sub-agent {id}"),
        (Some(true), None) => "sub-agent".to_owned(),
        _ => "claude".to_owned(),
    };
    let message = v.get("message").ok_or("message: missing")?;
    let mut out = Vec::new();
    if kind == "assistant" {
        assistant(&session, &agent, at, message, str_of("uuid"), &mut out)?;
    } else {
        user(
            &session,
            &agent,
            at,
            message,
            str_of("parentUuid"),
            &mut out,
        );
    }
    for msg in &out {
        validate(msg, limits).map_err(|(field, e)| match field {
            Some(f) => format!("{f}: {e}"),
            None => e,
        })?;
    }
    Ok(out)
}

fn assistant(
    session: &str,
    agent: &str,
    at: flightdeck_model::Timestamp,
    message: &Value,
    uuid: Option<&str>,
    out: &mut Vec<Message>,
) -> Result<(), String> {
    let id = message["id"]
        .as_str()
        .or(uuid)
        .ok_or("message.id: an assistant line needs its message's id or a uuid")?;
    let model = message["model"].as_str().map(str::to_owned);
    let usage = &message["usage"];
    let mut attributes = Attributes::new();
    for key in ["cache_creation_input_tokens", "cache_read_input_tokens"] {
        if let Some(n) = usage.get(key).filter(|n| n.as_u64().is_some_and(|n| n > 0)) {
            attributes.insert(format!("usage.{key}"), n.clone());
        }
    }
    if let Some(reason) = message.get("stop_reason").filter(|r| !r.is_null()) {
        attributes.insert("stop_reason".into(), reason.clone());
    }
    let content = &message["content"];
    out.push(Message::Span(m::Span {
        session_id: session.to_owned(),
        span_id: id.to_owned(),
        trace_id: None,
        parent_id: None,
        kind: SpanKind::Llm,
        name: model.clone().unwrap_or_else(|| "claude".into()),
        agent: Some(agent.to_owned()),
        model,
        provider: Some("anthropic".into()),
        started_at: at,
        ended_at: at,
        status: SpanOutcome::Ok,
        input: None,
        output: to_raw_value(&serde_json::json!({"role": "assistant", "content": content})).ok(),
        params: None,
        usage: usage.is_object().then(|| m::Usage {
            input_tokens: usage["input_tokens"].as_u64().unwrap_or(0),
            output_tokens: usage["output_tokens"].as_u64().unwrap_or(0),
        }),
        cost_usd: None,
        error: None,
        attributes: (!attributes.is_empty()).then_some(attributes),
        scores: None,
    }));
    for block in blocks(content).filter(|b| b["type"] == "tool_use") {
        let Some(tool_id) = block["id"].as_str() else {
            continue;
        };
        let name = block["name"].as_str().unwrap_or("tool");
        let task = name == "Task";
        let label = task
            .then(|| {
                block["input"]["subagent_type"]
                    .as_str()
                    .or(block["input"]["description"].as_str())
            })
            .flatten();
        out.push(Message::SpanStart(m::SpanStart {
            session_id: session.to_owned(),
            span_id: tool_id.to_owned(),
            trace_id: None,
            parent_id: Some(id.to_owned()),
            kind: if task {
                SpanKind::Agent
            } else {
                SpanKind::Tool
            },
            name: label.map_or_else(|| name.to_owned(), |l| format!("Task: {l}")),
            agent: Some(agent.to_owned()),
            model: None,
            provider: None,
            started_at: Some(at),
            input: to_raw_value(&block["input"]).ok(),
            params: None,
            attributes: None,
            scores: None,
        }));
    }
    Ok(())
}

fn user(
    session: &str,
    agent: &str,
    at: flightdeck_model::Timestamp,
    message: &Value,
    parent: Option<&str>,
    out: &mut Vec<Message>,
) {
    let content = &message["content"];
    for block in blocks(content).filter(|b| b["type"] == "tool_result") {
        let Some(tool_id) = block["tool_use_id"].as_str() else {
            continue;
        };
        let failed = block["is_error"].as_bool() == Some(true);
        out.push(Message::SpanEnd(m::SpanEnd {
            session_id: session.to_owned(),
            span_id: tool_id.to_owned(),
            ended_at: Some(at),
            status: if failed {
                SpanOutcome::Error
            } else {
                SpanOutcome::Ok
            },
            output: to_raw_value(&block["content"]).ok(),
            usage: None,
            cost_usd: None,
            error: failed.then(|| text_of(&block["content"]).chars().take(500).collect()),
            attributes: None,
            scores: None,
        }));
    }
    let prompt = text_of(content);
    if prompt.is_empty() {
        return;
    }
    if parent.is_none() && agent == "claude" {
        out.push(Message::SessionStart(m::SessionStart {
            session_id: session.to_owned(),
            name: Some(prompt.chars().take(NAME_CHARS).collect()),
            started_at: Some(at),
            tags: vec!["claude-code".into()],
            metadata: None,
            budget: None,
        }));
    }
    out.push(Message::Event(m::Event {
        session_id: session.to_owned(),
        span_id: None,
        event_id: None,
        at: Some(at),
        category: "message".into(),
        level: Some(Level::Info),
        agent: Some(agent.to_owned()),
        name: Some("prompt".into()),
        message: Some(prompt),
        data: None,
    }));
}

/// The content blocks of a message (a plain string content has none).
fn blocks(content: &Value) -> impl Iterator<Item = &Value> {
    content.as_array().into_iter().flatten()
}

/// The text of a content: the string itself, or its text blocks joined.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|p| p["type"] == "text")
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}
