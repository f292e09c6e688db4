//! The OpenAI Agents SDK, as its OpenTelemetry bridges trace it: its workflow root, and its
//! handoffs.
//!
//! - OpenInference (`openinference-instrumentation-openai-agents`, scope
//!   `openinference.instrumentation.openai_agents`) opens a root span named after the
//!   workflow (`trace(workflow_name=...)`, "Agent workflow" by default) with span kind AGENT
//!   but no `agent.name`: that root is a workflow (kind `chain`, no agent; its name names the
//!   session), while every agent span carries `agent.name` and `graph.node.id`. A handoff is a
//!   TOOL span named `handoff to <agent>` whose `input.value` is the agent handing off and
//!   `output.value` the agent taking over.
//! - OpenLLMetry, the OTel contrib instrumentation and others put the two agents in
//!   `gen_ai.handoff.from_agent` / `gen_ai.handoff.to_agent` (kept as attributes).

use crate::otlp::facts::{Facts, Handoff, Payload, text};
use flightdeck_model::{Attributes, SpanKind};
use serde_json::Value;

/// The instrumentation scope of OpenInference's OpenAI Agents bridge.
pub const OPENINFERENCE_SCOPE: &str = "openinference.instrumentation.openai_agents";

pub fn apply(attrs: &Attributes, name: &str, scope: Option<&str>, facts: &mut Facts) {
    if let Some(to) = text(attrs, "gen_ai.handoff.to_agent").filter(|t| !t.is_empty()) {
        facts.handoffs.push(Handoff {
            from: text(attrs, "gen_ai.handoff.from_agent")
                .filter(|f| !f.is_empty())
                .map(str::to_owned),
            to: to.to_owned(),
        });
        return;
    }
    if scope != Some(OPENINFERENCE_SCOPE) {
        return;
    }
    match facts.kind {
        Some(SpanKind::Agent) if facts.agent.is_none() && !attrs.contains_key("graph.node.id") => {
            facts.kind = Some(SpanKind::Chain);
            facts.workflow = true;
        }
        Some(SpanKind::Tool) if name == "handoff" || name.starts_with("handoff to ") => {
            let to = payload_text(&facts.output)
                .or_else(|| name.strip_prefix("handoff to "))
                .filter(|t| !t.is_empty());
            if let Some(to) = to {
                facts.handoffs.push(Handoff {
                    from: payload_text(&facts.input).map(str::to_owned),
                    to: to.to_owned(),
                });
            }
        }
        _ => {}
    }
}

/// A payload that is one piece of text (OpenInference's `input.value` of a handoff).
fn payload_text(p: &Option<Payload>) -> Option<&str> {
    match p {
        Some(Payload::Tree(Value::String(s))) if !s.is_empty() => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(v: Value) -> Attributes {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_openinference_root_is_a_workflow_and_agents_stay_agents() {
        // As sent by openinference-instrumentation-openai-agents 2.6.0.
        let mut root = Facts {
            kind: Some(SpanKind::Agent),
            ..Default::default()
        };
        apply(
            &attrs(json!({})),
            "Heist workflow",
            Some(OPENINFERENCE_SCOPE),
            &mut root,
        );
        assert_eq!((root.kind, root.workflow), (Some(SpanKind::Chain), true));

        let mut agent = Facts {
            kind: Some(SpanKind::Agent),
            agent: Some("triage".into()),
            ..Default::default()
        };
        apply(
            &attrs(json!({"graph.node.id": "triage"})),
            "triage",
            Some(OPENINFERENCE_SCOPE),
            &mut agent,
        );
        assert_eq!((agent.kind, agent.workflow), (Some(SpanKind::Agent), false));

        // Another instrumentation's agent span without a name is left alone.
        let mut other = Facts {
            kind: Some(SpanKind::Agent),
            ..Default::default()
        };
        apply(&attrs(json!({})), "planner", Some("crew"), &mut other);
        assert_eq!((other.kind, other.workflow), (Some(SpanKind::Agent), false));
    }

    #[test]
    fn handoffs_name_both_agents() {
        let mut f = Facts {
            kind: Some(SpanKind::Tool),
            input: Some(Payload::Tree(json!("triage"))),
            output: Some(Payload::Tree(json!("coder"))),
            ..Default::default()
        };
        apply(
            &attrs(json!({})),
            "handoff to coder",
            Some(OPENINFERENCE_SCOPE),
            &mut f,
        );
        assert_eq!(
            f.handoffs,
            [Handoff {
                from: Some("triage".into()),
                to: "coder".into()
            }]
        );

        let mut f = Facts::default();
        apply(
            &attrs(json!({"gen_ai.handoff.from_agent": "a", "gen_ai.handoff.to_agent": "b"})),
            "a -> b",
            None,
            &mut f,
        );
        assert_eq!(
            f.handoffs,
            [Handoff {
                from: Some("a".into()),
                to: "b".into()
            }]
        );

        // A function tool of OpenInference's bridge is not a handoff.
        let mut f = Facts {
            kind: Some(SpanKind::Tool),
            output: Some(Payload::Tree(json!("4 cameras"))),
            ..Default::default()
        };
        apply(
            &attrs(json!({})),
            "scan_cameras",
            Some(OPENINFERENCE_SCOPE),
            &mut f,
        );
        assert!(f.handoffs.is_empty());
    }
}
