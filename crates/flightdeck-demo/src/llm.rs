//! A mock LLM: waits for the first token, streams the reply word by word at the model's
//! speed, reports token usage, and sometimes answers with a tool call or fails upstream.

use crate::ctx::{Ctx, round3};
use flightdeck_sdk::{Level, Span, SpanKind};
use serde_json::{Value, json};

/// A model the demo calls; the names are in the server's pricing table.
pub(crate) struct Model {
    pub(crate) name: &'static str,
    pub(crate) provider: &'static str,
    /// Output speed range, tokens per simulated second.
    tokens_per_s: (f64, f64),
    /// Time to first token range, simulated milliseconds.
    first_token_ms: (f64, f64),
}

pub(crate) const GPT_4O: Model = Model {
    name: "gpt-4o",
    provider: "openai",
    tokens_per_s: (45.0, 80.0),
    first_token_ms: (350.0, 900.0),
};

pub(crate) const GPT_4O_MINI: Model = Model {
    name: "gpt-4o-mini",
    provider: "openai",
    tokens_per_s: (70.0, 120.0),
    first_token_ms: (250.0, 600.0),
};

pub(crate) const CLAUDE_SONNET_4: Model = Model {
    name: "claude-sonnet-4",
    provider: "anthropic",
    tokens_per_s: (40.0, 70.0),
    first_token_ms: (500.0, 1400.0),
};

/// The chance that one attempt fails upstream (rate limit, overload).
const UPSTREAM_FAILURE: f64 = 0.04;
/// Attempts per call before giving up.
const ATTEMPTS: u32 = 2;

/// A chat prompt: the messages sent to the model.
pub(crate) fn prompt(system: &str, user: &str) -> Vec<Value> {
    vec![
        json!({"role": "system", "content": system}),
        json!({"role": "user", "content": user}),
    ]
}

/// What the model answers.
pub(crate) struct Reply {
    pub(crate) text: String,
    /// A function the model asks to call, with its arguments.
    pub(crate) tool_call: Option<(&'static str, Value)>,
}

impl Reply {
    pub(crate) fn text(text: impl Into<String>) -> Self {
        Reply {
            text: text.into(),
            tool_call: None,
        }
    }

    pub(crate) fn with_tool(text: impl Into<String>, tool: &'static str, arguments: Value) -> Self {
        Reply {
            text: text.into(),
            tool_call: Some((tool, arguments)),
        }
    }
}

/// A rough token count, four characters a token as for English text.
pub(crate) fn tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4).max(1)
}

/// One LLM call under `parent`, retried once after an upstream failure. Each attempt is its
/// own span; the error is the last attempt's.
pub(crate) async fn call(
    ctx: &mut Ctx,
    parent: &Span,
    name: &str,
    model: &Model,
    messages: Vec<Value>,
    reply: &Reply,
) -> Result<(), String> {
    let mut last_error = String::new();
    for attempt in 1..=ATTEMPTS {
        match attempt_once(ctx, parent, name, model, &messages, reply, attempt).await {
            Ok(()) => return Ok(()),
            Err(e) => last_error = e,
        }
        if attempt < ATTEMPTS {
            ctx.log(
                parent,
                Level::Warn,
                &format!("{name}: {last_error}; retrying"),
            );
            ctx.wait(1000.0, 2500.0).await;
        }
    }
    Err(last_error)
}

async fn attempt_once(
    ctx: &mut Ctx,
    parent: &Span,
    name: &str,
    model: &Model,
    messages: &[Value],
    reply: &Reply,
    attempt: u32,
) -> Result<(), String> {
    let max_tokens = 1024;
    let temperature = round3(ctx.dice.between(0.0, 0.9));
    let mut builder = ctx
        .child(parent, SpanKind::Llm, name)
        .model(model.name)
        .provider(model.provider)
        .input(messages)
        .params(&json!({"temperature": temperature, "max_tokens": max_tokens, "stream": true}));
    if attempt > 1 {
        builder = builder.attribute("attempt", &attempt);
    }
    if let Some((tool, _)) = &reply.tool_call {
        builder = builder.attribute("tools", &[tool]);
    }
    let span = builder.start();
    let first_token = ctx
        .dice
        .between(model.first_token_ms.0, model.first_token_ms.1);
    ctx.pace.wait(first_token).await;
    if ctx.dice.chance(UPSTREAM_FAILURE) {
        let error = if ctx.dice.chance(0.7) {
            format!(
                "HTTP 429 from {}: rate limit exceeded, retry after 2s",
                model.provider
            )
        } else {
            format!("HTTP 529 from {}: upstream overloaded", model.provider)
        };
        ctx.fail(span, &error);
        return Err(error);
    }
    let speed = ctx.dice.between(model.tokens_per_s.0, model.tokens_per_s.1);
    for word in reply.text.split_inclusive(' ') {
        span.chunk(word);
        ctx.pace.wait(tokens(word) as f64 / speed * 1000.0).await;
    }
    let input_tokens: u64 = messages.iter().map(|m| tokens(&m.to_string()) + 4).sum();
    let mut output_tokens = tokens(&reply.text);
    let mut output = json!({"role": "assistant", "content": reply.text});
    if let Some((tool, arguments)) = &reply.tool_call {
        let call = json!([{
            "id": format!("call_{}", ctx.dice.hex(12)),
            "type": "function",
            "function": {"name": tool, "arguments": arguments.to_string()},
        }]);
        output_tokens += tokens(&call.to_string());
        output["tool_calls"] = call;
    }
    span.usage(input_tokens, output_tokens);
    span.attribute(
        "finish_reason",
        if reply.tool_call.is_some() {
            "tool_calls"
        } else {
            "stop"
        },
    );
    span.score("relevance", round3(ctx.dice.between(0.55, 0.98)));
    span.set_output(&output);
    span.end();
    Ok(())
}
