//! OpenInference (Arize): `openinference.span.kind`, flattened `llm.input_messages.N.message.*`
//! / `llm.output_messages.N.message.*`, `llm.token_count.*`, `llm.model_name`,
//! `llm.invocation_parameters`, `input.value` / `output.value` (with `*.mime_type`),
//! `tool.name`, `agent.name`, `session.id`, `retrieval.documents.N.document.*`.
//!
//! `openinference.span.kind` stays an attribute (it names kinds Flightdeck folds together,
//! such as EMBEDDING and LLM); `user.id` and `metadata` stay as they are.

use crate::otlp::facts::{
    Facts, Payload, fill, fill_json, fill_str, fill_u64, response_model, text,
};
use crate::otlp::flat::take_tree;
use crate::otlp::messages::{from_openinference, output};
use flightdeck_model::{Attributes, SpanKind};
use serde_json::Value;

/// The model named in the invocation parameters (`model`, or LangChain's `model_name`).
fn requested_model(params: Option<&Payload>) -> Option<String> {
    let Some(Payload::Tree(p)) = params else {
        return None;
    };
    ["model", "model_name"]
        .iter()
        .find_map(|k| p.get(*k)?.as_str().filter(|m| !m.is_empty()))
        .map(str::to_owned)
}

/// The kind an `openinference.span.kind` stands for.
pub fn kind(span_kind: &str) -> Option<SpanKind> {
    Some(match span_kind.to_ascii_uppercase().as_str() {
        "LLM" | "EMBEDDING" => SpanKind::Llm,
        "TOOL" => SpanKind::Tool,
        "AGENT" => SpanKind::Agent,
        "CHAIN" | "PROMPT" => SpanKind::Chain,
        "RETRIEVER" | "RERANKER" => SpanKind::Retriever,
        "GUARDRAIL" | "EVALUATOR" | "UNKNOWN" => SpanKind::Custom,
        _ => return None,
    })
}

pub fn apply(attrs: &mut Attributes, facts: &mut Facts) {
    fill(
        &mut facts.kind,
        text(attrs, "openinference.span.kind").and_then(kind),
    );
    fill_str(&mut facts.session, attrs, "session.id");
    fill_str(&mut facts.agent, attrs, "agent.name");
    // The request's own parameters name the model asked for; `llm.model_name` is the one
    // that answered (the openai instrumentation takes it from the response).
    fill_json(&mut facts.params, attrs, "llm.invocation_parameters");
    fill(&mut facts.model, requested_model(facts.params.as_ref()));
    response_model(facts, attrs, "llm.model_name");
    fill_str(&mut facts.model, attrs, "embedding.model_name");
    fill_str(&mut facts.provider, attrs, "llm.provider");
    fill_str(&mut facts.provider, attrs, "llm.system");
    fill_u64(&mut facts.input_tokens, attrs, "llm.token_count.prompt");
    fill_u64(
        &mut facts.output_tokens,
        attrs,
        "llm.token_count.completion",
    );
    if facts.kind == Some(SpanKind::Tool) {
        fill_str(&mut facts.name, attrs, "tool.name");
    }
    if facts.input.is_none() {
        facts.input = take_tree(attrs, "llm.input_messages")
            .map(|t| Value::Array(from_openinference(&t)).into());
    }
    if facts.output.is_none() {
        facts.output = take_tree(attrs, "llm.output_messages")
            .and_then(|t| output(from_openinference(&t)))
            .map(Payload::from);
    }
    if facts.output.is_none() && facts.kind == Some(SpanKind::Retriever) {
        facts.output = take_tree(attrs, "retrieval.documents").map(|t| {
            Payload::Tree(match t {
                Value::Array(docs) => docs
                    .into_iter()
                    .filter_map(|d| d.get("document").cloned())
                    .collect(),
                other => other,
            })
        });
    }
    value(attrs, ("input.value", "input.mime_type"), &mut facts.input);
    value(
        attrs,
        ("output.value", "output.mime_type"),
        &mut facts.output,
    );
}

/// `input.value` / `output.value`: JSON when its mime type says so, else text.
fn value(attrs: &mut Attributes, (key, mime): (&str, &str), slot: &mut Option<Payload>) {
    if slot.is_some() || !attrs.contains_key(key) {
        return;
    }
    let is_json = text(attrs, mime) == Some("application/json");
    let Some(v) = attrs.remove(key) else { return };
    attrs.remove(mime);
    *slot = Some(Payload::Tree(match v {
        Value::String(s) if is_json => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        other => other,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::facts::models_after;
    use serde_json::json;

    fn attrs(v: Value) -> Attributes {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn an_llm_span_from_openinference_openai() {
        // As sent by openinference-instrumentation-openai 0.1.66 (abridged).
        let mut a = attrs(json!({
            "openinference.span.kind": "LLM",
            "llm.system": "openai",
            "input.value": "{\"model\": \"gpt-4o-mini\", \"messages\": []}",
            "input.mime_type": "application/json",
            "output.value": "{\"id\":\"chatcmpl-1\"}",
            "output.mime_type": "application/json",
            "llm.invocation_parameters": "{\"model\": \"gpt-4o-mini\"}",
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": "You plan heists.",
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.content": "When does the vault open?",
            "llm.model_name": "gpt-4o-mini-2024-07-18",
            "llm.token_count.total": 28,
            "llm.token_count.prompt": 21,
            "llm.token_count.completion": 7,
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.tool_calls.0.tool_call.id": "call_1",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "scan",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": "{\"floor\": 2}",
            "session.id": "heist-4",
            "user.id": "u1"
        }));
        let mut f = Facts::default();
        apply(&mut a, &mut f);
        assert_eq!(f.kind, Some(SpanKind::Llm));
        assert_eq!(f.session.as_deref(), Some("heist-4"));
        assert_eq!(
            f.model.as_deref(),
            Some("gpt-4o-mini"),
            "the model asked for"
        );
        assert_eq!(a["gen_ai.response.model"], "gpt-4o-mini-2024-07-18");
        assert!(!a.contains_key("llm.model_name"));
        assert_eq!(f.provider.as_deref(), Some("openai"));
        assert_eq!((f.input_tokens, f.output_tokens), (Some(21), Some(7)));
        assert_eq!(
            f.params.map(Payload::into_value),
            Some(json!({"model": "gpt-4o-mini"}))
        );
        assert_eq!(
            f.input.unwrap().into_value(),
            json!([{"role": "system", "content": "You plan heists."},
                   {"role": "user", "content": "When does the vault open?"}])
        );
        let out = f.output.unwrap().into_value();
        assert_eq!(out["role"], "assistant");
        assert_eq!(
            out["tool_calls"][0]["function"]["arguments"],
            "{\"floor\": 2}"
        );
        // The raw request and response stay, as does everything else no field took.
        for k in [
            "openinference.span.kind",
            "input.value",
            "output.value",
            "llm.token_count.total",
            "user.id",
        ] {
            assert!(a.contains_key(k), "{k} kept: {a:?}");
        }
        assert!(!a.keys().any(|k| k.starts_with("llm.input_messages")));
    }

    #[test]
    fn chain_tool_and_retriever_spans_take_their_values() {
        let mut a = attrs(json!({
            "openinference.span.kind": "TOOL",
            "tool.name": "scan_cameras",
            "input.value": "{\"floor\": 2}",
            "input.mime_type": "application/json",
            "output.value": "4 cameras"
        }));
        let mut f = Facts::default();
        apply(&mut a, &mut f);
        assert_eq!(f.kind, Some(SpanKind::Tool));
        assert_eq!(f.name.as_deref(), Some("scan_cameras"));
        assert_eq!(f.input.map(Payload::into_value), Some(json!({"floor": 2})));
        assert_eq!(f.output.map(Payload::into_value), Some(json!("4 cameras")));
        assert_eq!(a.len(), 1);

        let mut a = attrs(json!({
            "openinference.span.kind": "RETRIEVER",
            "retrieval.documents.0.document.content": "vault manual",
            "retrieval.documents.0.document.score": 0.9
        }));
        let mut f = Facts::default();
        apply(&mut a, &mut f);
        assert_eq!(f.kind, Some(SpanKind::Retriever));
        assert_eq!(
            f.output.map(Payload::into_value),
            Some(json!([{"content": "vault manual", "score": 0.9}]))
        );

        for (k, kind) in [
            ("AGENT", SpanKind::Agent),
            ("CHAIN", SpanKind::Chain),
            ("EMBEDDING", SpanKind::Llm),
            ("RERANKER", SpanKind::Retriever),
            ("GUARDRAIL", SpanKind::Custom),
            ("EVALUATOR", SpanKind::Custom),
        ] {
            assert_eq!(super::kind(k), Some(kind), "{k}");
        }
    }

    #[test]
    fn the_model_asked_for_wins_over_the_one_that_answered() {
        let model = |v: Value| models_after(apply, v);
        // A failed call has no llm.model_name (it comes from the response): same row.
        assert_eq!(
            model(
                json!({"openinference.span.kind": "LLM", "llm.invocation_parameters": "{\"model\": \"gpt-4o\"}"})
            ),
            (Some("gpt-4o".into()), None)
        );
        // LangChain names it model_name, and llm.model_name says the same.
        assert_eq!(
            model(
                json!({"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
                         "llm.invocation_parameters": "{\"model_name\": \"gpt-4o\", \"temperature\": 0}"})
            ),
            (Some("gpt-4o".into()), None)
        );
        // Without parameters, llm.model_name is the model.
        assert_eq!(
            model(json!({"openinference.span.kind": "LLM", "llm.model_name": "claude-sonnet-4"})),
            (Some("claude-sonnet-4".into()), None)
        );
    }
}
