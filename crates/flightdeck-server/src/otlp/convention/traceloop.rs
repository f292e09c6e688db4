//! OpenLLMetry (Traceloop): `traceloop.span.kind` (workflow, task, agent, tool),
//! `traceloop.entity.name` / `.input` / `.output`, `llm.request.type`, and the legacy
//! flattened messages `gen_ai.prompt.N.*` / `gen_ai.completion.N.*` (model, provider and
//! usage come through the GenAI convention's `gen_ai.system`, `gen_ai.usage.*`).
//! `llm.usage.total_tokens` stays an attribute.

use crate::otlp::facts::{Facts, Payload, fill, fill_json, fill_str, text};
use crate::otlp::flat::take_tree;
use crate::otlp::messages::{from_traceloop, output};
use flightdeck_model::{Attributes, SpanKind};
use serde_json::Value;

/// The kind a `traceloop.span.kind` stands for.
pub fn kind(span_kind: &str) -> Option<SpanKind> {
    Some(match span_kind {
        "workflow" | "task" => SpanKind::Chain,
        "agent" => SpanKind::Agent,
        "tool" => SpanKind::Tool,
        "unknown" => SpanKind::Custom,
        _ => return None,
    })
}

pub fn apply(attrs: &mut Attributes, facts: &mut Facts) {
    let kind = text(attrs, "traceloop.span.kind")
        .and_then(kind)
        .or_else(|| {
            attrs
                .contains_key("llm.request.type")
                .then_some(SpanKind::Llm)
        });
    fill(&mut facts.kind, kind);
    match facts.kind {
        Some(SpanKind::Agent) => fill_str(&mut facts.agent, attrs, "traceloop.entity.name"),
        Some(SpanKind::Tool) => fill_str(&mut facts.name, attrs, "traceloop.entity.name"),
        _ => {}
    }
    fill_json(&mut facts.input, attrs, "traceloop.entity.input");
    fill_json(&mut facts.output, attrs, "traceloop.entity.output");
    if facts.input.is_none() {
        facts.input =
            take_tree(attrs, "gen_ai.prompt").map(|t| Value::Array(from_traceloop(&t)).into());
    }
    if facts.output.is_none() {
        facts.output = take_tree(attrs, "gen_ai.completion")
            .and_then(|t| output(from_traceloop(&t)))
            .map(Payload::from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::convention::genai;
    use serde_json::json;

    #[test]
    fn an_openllmetry_llm_span() {
        let mut a = json!({
            "llm.request.type": "chat",
            "gen_ai.system": "OpenAI",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.prompt_tokens": 9,
            "gen_ai.usage.completion_tokens": 3,
            "llm.usage.total_tokens": 12,
            "gen_ai.prompt.0.role": "user",
            "gen_ai.prompt.0.content": "hi",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": "hello",
            "gen_ai.completion.0.finish_reason": "stop"
        })
        .as_object()
        .unwrap()
        .clone();
        let mut f = Facts::default();
        genai::apply(&mut a, &mut f);
        apply(&mut a, &mut f);
        assert_eq!(f.kind, Some(SpanKind::Llm));
        assert_eq!(f.provider.as_deref(), Some("OpenAI"));
        assert_eq!(f.usage().unwrap().output_tokens, 3);
        assert_eq!(
            f.input.map(Payload::into_value),
            Some(json!([{"role": "user", "content": "hi"}]))
        );
        assert_eq!(
            f.output.map(Payload::into_value),
            Some(json!({"role": "assistant", "content": "hello", "finish_reason": "stop"}))
        );
        let left: Vec<&String> = a.keys().collect();
        assert_eq!(left, ["llm.request.type", "llm.usage.total_tokens"]);
    }

    #[test]
    fn workflows_agents_and_tools() {
        for (span_kind, want, name_slot) in [
            ("workflow", SpanKind::Chain, None),
            ("agent", SpanKind::Agent, Some("agent")),
            ("tool", SpanKind::Tool, Some("name")),
        ] {
            let mut a = json!({
                "traceloop.span.kind": span_kind,
                "traceloop.entity.name": "planner",
                "traceloop.entity.input": "{\"args\": [1]}",
                "traceloop.entity.output": "\"done\""
            })
            .as_object()
            .unwrap()
            .clone();
            let mut f = Facts::default();
            apply(&mut a, &mut f);
            assert_eq!(f.kind, Some(want));
            assert_eq!(f.input.map(Payload::into_value), Some(json!({"args": [1]})));
            let named = match name_slot {
                Some("agent") => f.agent.as_deref(),
                Some(_) => f.name.as_deref(),
                None => text(&a, "traceloop.entity.name"),
            };
            assert_eq!(named, Some("planner"), "{span_kind}");
        }
    }
}
