//! The OTel GenAI semantic conventions, both generations in use:
//!
//! - semconv <= 1.36: `gen_ai.system`, `gen_ai.usage.prompt_tokens` / `completion_tokens`,
//!   messages as events (see `messages::from_event`);
//! - semconv >= 1.37: `gen_ai.provider.name`, `gen_ai.usage.input_tokens` / `output_tokens`,
//!   messages as JSON "parts" in `gen_ai.input.messages` / `gen_ai.output.messages` (on the
//!   span, or structured in a `gen_ai.client.inference.operation.details` log record).
//!
//! `gen_ai.operation.name` stays an attribute: it says more than the kind it maps to.

use crate::otlp::facts::{
    Facts, Payload, RESPONSE_MODEL, fill, fill_json, fill_str, fill_u64, response_model, text,
};
use crate::otlp::parts;
use flightdeck_model::{Attributes, SpanKind};
use serde_json::Value;

/// The kind an operation name stands for.
pub fn kind(operation: &str) -> Option<SpanKind> {
    Some(match operation {
        "chat" | "text_completion" | "generate_content" | "embeddings" => SpanKind::Llm,
        "execute_tool" => SpanKind::Tool,
        "create_agent" | "invoke_agent" => SpanKind::Agent,
        "invoke_workflow" => SpanKind::Chain,
        "retrieval" => SpanKind::Retriever,
        _ => return None,
    })
}

pub fn apply(attrs: &mut Attributes, facts: &mut Facts) {
    let kind = text(attrs, "gen_ai.operation.name")
        .and_then(kind)
        .or_else(|| {
            [
                "gen_ai.request.model",
                "gen_ai.system",
                "gen_ai.provider.name",
            ]
            .iter()
            .any(|k| attrs.contains_key(*k))
            .then_some(SpanKind::Llm)
        });
    fill(&mut facts.kind, kind);
    fill_str(&mut facts.provider, attrs, "gen_ai.provider.name");
    fill_str(&mut facts.provider, attrs, "gen_ai.system");
    fill_str(&mut facts.model, attrs, "gen_ai.request.model");
    response_model(facts, attrs, RESPONSE_MODEL);
    fill_u64(&mut facts.input_tokens, attrs, "gen_ai.usage.input_tokens");
    fill_u64(&mut facts.input_tokens, attrs, "gen_ai.usage.prompt_tokens");
    fill_u64(
        &mut facts.output_tokens,
        attrs,
        "gen_ai.usage.output_tokens",
    );
    fill_u64(
        &mut facts.output_tokens,
        attrs,
        "gen_ai.usage.completion_tokens",
    );
    fill_str(&mut facts.agent, attrs, "gen_ai.agent.name");
    fill_str(&mut facts.session, attrs, "gen_ai.conversation.id");
    if facts.kind == Some(SpanKind::Tool) {
        fill_str(&mut facts.name, attrs, "gen_ai.tool.name");
        fill_json(&mut facts.input, attrs, "gen_ai.tool.call.arguments");
        fill_json(&mut facts.output, attrs, "gen_ai.tool.call.result");
    }
    messages(attrs, facts);
    params(attrs, facts);
}

/// `gen_ai.system_instructions` + `gen_ai.input.messages` as the input, and
/// `gen_ai.output.messages` as the output (left as attributes when they are not lists).
fn messages(attrs: &mut Attributes, facts: &mut Facts) {
    if facts.input.is_none()
        && let Some(m) = attrs.get("gen_ai.input.messages")
        && let Some(input) = parts::input(attrs.get("gen_ai.system_instructions"), m)
    {
        attrs.remove("gen_ai.input.messages");
        attrs.remove("gen_ai.system_instructions");
        facts.input = Some(Payload::Text(input));
    }
    if facts.output.is_none()
        && let Some(m) = attrs.get("gen_ai.output.messages")
        && let Some(output) = parts::output(m)
    {
        attrs.remove("gen_ai.output.messages");
        facts.output = Some(Payload::Text(output));
    }
}

/// The request parameters (`gen_ai.request.temperature` ...) as one object, by short name.
fn params(attrs: &mut Attributes, facts: &mut Facts) {
    const PREFIX: &str = "gen_ai.request.";
    if facts.params.is_some() {
        return;
    }
    let keys: Vec<String> = attrs
        .keys()
        .filter(|k| k.starts_with(PREFIX) && *k != "gen_ai.request.model")
        .cloned()
        .collect();
    if keys.is_empty() {
        return;
    }
    let mut params = serde_json::Map::new();
    for k in keys {
        if let Some(v) = attrs.remove(&k) {
            params.insert(k[PREFIX.len()..].to_owned(), v);
        }
    }
    facts.params = Some(Payload::Tree(Value::Object(params)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::facts::models_after;
    use flightdeck_model::Usage;
    use serde_json::json;

    fn attrs(v: Value) -> Attributes {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn newer_conventions_with_messages_on_the_span() {
        // As sent by opentelemetry-instrumentation-openai-v2 2.4b0 (SPAN_ONLY).
        let mut a = attrs(json!({
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.provider.name": "openai",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.usage.input_tokens": 21,
            "gen_ai.usage.output_tokens": 7,
            "gen_ai.request.temperature": 0.2,
            "gen_ai.system_instructions": "[{\"type\":\"text\",\"content\":\"You plan heists.\"}]",
            "gen_ai.input.messages": "[{\"role\":\"user\",\"parts\":[{\"content\":\"When?\",\"type\":\"text\"}]}]",
            "gen_ai.output.messages": "[{\"role\":\"assistant\",\"parts\":[{\"content\":\"Midnight.\",\"type\":\"text\"}],\"finish_reason\":\"stop\"}]"
        }));
        let mut f = Facts::default();
        apply(&mut a, &mut f);
        assert_eq!(f.kind, Some(SpanKind::Llm));
        assert_eq!(f.provider.as_deref(), Some("openai"));
        assert_eq!(
            f.model.as_deref(),
            Some("gpt-4o-mini"),
            "the model asked for"
        );
        assert_eq!(
            f.usage(),
            Some(Usage {
                input_tokens: 21,
                output_tokens: 7
            })
        );
        assert_eq!(
            f.input.unwrap().into_value(),
            json!([{"role": "system", "content": "You plan heists."}, {"role": "user", "content": "When?"}])
        );
        assert_eq!(
            f.output.unwrap().into_value(),
            json!({"role": "assistant", "content": "Midnight.", "finish_reason": "stop"})
        );
        assert_eq!(f.params.unwrap().into_value(), json!({"temperature": 0.2}));
        // What no field holds stays: the operation, the model that answered, the finish
        // reasons.
        let mut left: Vec<&String> = a.keys().collect();
        left.sort();
        assert_eq!(
            left,
            [
                "gen_ai.operation.name",
                "gen_ai.response.finish_reasons",
                "gen_ai.response.model"
            ]
        );
        assert_eq!(a["gen_ai.response.model"], "gpt-4o-mini-2024-07-18");
    }

    #[test]
    fn older_conventions_and_other_operations() {
        let mut a = attrs(json!({
            "gen_ai.system": "anthropic",
            "gen_ai.request.model": "claude-sonnet-4",
            "gen_ai.usage.prompt_tokens": "12",
            "gen_ai.usage.completion_tokens": 30
        }));
        let mut f = Facts::default();
        apply(&mut a, &mut f);
        assert_eq!(f.kind, Some(SpanKind::Llm), "inferred from the model");
        assert_eq!(f.provider.as_deref(), Some("anthropic"));
        assert_eq!(f.model.as_deref(), Some("claude-sonnet-4"));
        assert_eq!(f.usage().unwrap().input_tokens, 12);
        assert!(a.is_empty(), "{a:?}");

        let mut a = attrs(json!({
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "scan_cameras",
            "gen_ai.tool.call.arguments": "{\"floor\":2}",
            "gen_ai.agent.name": "hacker",
            "gen_ai.conversation.id": "conv-7"
        }));
        let mut f = Facts::default();
        apply(&mut a, &mut f);
        assert_eq!(f.kind, Some(SpanKind::Tool));
        assert_eq!(f.name.as_deref(), Some("scan_cameras"));
        assert_eq!(f.input.map(Payload::into_value), Some(json!({"floor": 2})));
        assert_eq!(f.agent.as_deref(), Some("hacker"));
        assert_eq!(f.session.as_deref(), Some("conv-7"));

        for (op, kind) in [
            ("invoke_agent", SpanKind::Agent),
            ("create_agent", SpanKind::Agent),
            ("embeddings", SpanKind::Llm),
            ("text_completion", SpanKind::Llm),
            ("generate_content", SpanKind::Llm),
            ("invoke_workflow", SpanKind::Chain),
            ("retrieval", SpanKind::Retriever),
        ] {
            assert_eq!(super::kind(op), Some(kind), "{op}");
        }
        assert_eq!(super::kind("dance"), None);
    }

    #[test]
    fn a_call_is_filed_under_the_model_asked_for_answered_or_not() {
        let model = |v: Value| models_after(apply, v);
        // Answered by a dated version, failed before any answer: both under gpt-4o.
        assert_eq!(
            model(
                json!({"gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06"})
            ),
            (Some("gpt-4o".into()), Some(json!("gpt-4o-2024-08-06")))
        );
        assert_eq!(
            model(json!({"gen_ai.request.model": "gpt-4o"})),
            (Some("gpt-4o".into()), None)
        );
        // The same model twice is said once; an answer alone names the model.
        assert_eq!(
            model(json!({"gen_ai.request.model": "o3", "gen_ai.response.model": "o3"})),
            (Some("o3".into()), None)
        );
        assert_eq!(
            model(
                json!({"gen_ai.operation.name": "chat", "gen_ai.response.model": "gpt-4o-2024-08-06"})
            ),
            (Some("gpt-4o-2024-08-06".into()), None)
        );
    }

    #[test]
    fn a_fact_already_known_leaves_the_attribute_alone() {
        let mut a = attrs(json!({"gen_ai.request.model": "gpt-4o"}));
        let mut f = Facts {
            model: Some("from-openinference".into()),
            ..Default::default()
        };
        apply(&mut a, &mut f);
        assert_eq!(f.model.as_deref(), Some("from-openinference"));
        assert_eq!(a["gen_ai.request.model"], "gpt-4o");
    }
}
