//! LangGraph, as its LangChain instrumentations trace it (OpenInference puts LangGraph's run
//! metadata in the `metadata` attribute, as JSON text): who the agent is, and who hands work
//! to whom.
//!
//! - **Agent**: `langgraph_checkpoint_ns` names the graph nodes a run sits in, outermost
//!   first (`researcher:<task>|agent:<task>`). A node that holds a subgraph is an agent (a
//!   `create_react_agent(name=...)`, a crew member), and so is every node of the top-level
//!   graph: the agent is the segment above the innermost one, or the one segment of a
//!   top-level node's run. The inner `agent` / `tools` / `call_agent` nodes of prebuilt agents
//!   are never agents themselves.
//! - **Handoffs**: a tool named `transfer_to_<agent>` or `transfer_back_to_<agent>`
//!   (langgraph-supervisor, langgraph-swarm, hand-written handoff tools), and a node that
//!   returns `Command(goto=...)` to another agent (to a sibling at the top level, or with
//!   `graph=Command.PARENT` from inside an agent). The `ParentCommand` exceptions LangGraph
//!   raises to carry them are control flow, not errors (see `span::events`).

use crate::otlp::facts::{Facts, Handoff, Payload};
use flightdeck_model::{Attributes, SpanKind};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

/// What the agent-finding needs of LangGraph's run metadata (other keys are ignored).
#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(borrow, default)]
    langgraph_checkpoint_ns: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    langgraph_node: Option<Cow<'a, str>>,
}

/// Tool-name prefixes of handoff tools, before the target agent's name.
const TRANSFER: [&str; 2] = ["transfer_back_to_", "transfer_to_"];
/// The graph a `Command(graph=Command.PARENT)` goes to.
const PARENT: &str = "__parent__";
/// LangGraph's end node: a goto there hands nothing to anyone.
const END: &str = "__end__";

pub fn apply(attrs: &Attributes, name: &str, facts: &mut Facts) {
    let Some(Value::String(text)) = attrs.get("metadata") else {
        return;
    };
    if !text.contains("langgraph_") {
        return;
    }
    let Ok(meta) = serde_json::from_str::<Meta<'_>>(text) else {
        return;
    };
    let nodes: Vec<&str> = meta
        .langgraph_checkpoint_ns
        .as_deref()
        .map(|ns| {
            ns.split('|')
                .map(|seg| seg.split(':').next().unwrap_or(seg))
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if facts.agent.is_none() {
        facts.agent = agent(&nodes, meta.langgraph_node.as_deref()).map(str::to_owned);
    }
    if facts.kind == Some(SpanKind::Tool) {
        let tool = facts.name.as_deref().unwrap_or(name);
        if let Some(to) = TRANSFER.iter().find_map(|p| tool.strip_prefix(p))
            && !to.is_empty()
        {
            facts.handoffs.push(Handoff {
                from: None,
                to: to.to_owned(),
            });
        }
    }
    // A handoff tool returns the Command that carries it: one handoff, not two.
    if facts.handoffs.is_empty()
        && let Some(Payload::Tree(out)) = &facts.output
    {
        facts
            .handoffs
            .extend(gotos(out, nodes.len()).map(|to| Handoff {
                from: None,
                to: to.to_owned(),
            }));
    }
}

/// The agent of a run inside the nodes `nodes` (outermost first), or of the top-level node
/// `node` when the namespace is missing.
fn agent<'a>(nodes: &[&'a str], node: Option<&'a str>) -> Option<&'a str> {
    match nodes.len() {
        0 => node,
        1 => Some(nodes[0]),
        n => Some(nodes[n - 2]),
    }
}

/// The agents a node's `Command` output sends the run to, when they are agents: siblings of
/// a top-level node (depth 1), or nodes of the parent graph of a node inside an agent.
fn gotos(out: &Value, depth: usize) -> impl Iterator<Item = &str> {
    let command = out
        .as_object()
        .filter(|o| o.contains_key("goto") && o.contains_key("update"));
    let to_parent = command.and_then(|c| c.get("graph")).and_then(Value::as_str) == Some(PARENT);
    let agents_level = (depth == 1 && !to_parent) || (depth >= 2 && to_parent);
    let targets: Vec<&str> = match command.and_then(|c| c.get("goto")) {
        Some(g) if agents_level => match g {
            Value::Array(list) => list.iter().filter_map(target).collect(),
            one => target(one).into_iter().collect(),
        },
        _ => Vec::new(),
    };
    targets.into_iter().filter(|t| *t != END && !t.is_empty())
}

/// A goto target: a node name, or a `Send` (`{"node": ..., "arg": ...}`).
fn target(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v.get("node").and_then(Value::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts_of(kind: SpanKind, name: &str, ns: &str, output: Option<Value>) -> Facts {
        let meta = json!({"langgraph_node": ns.rsplit('|').next().unwrap().split(':').next(),
                          "langgraph_checkpoint_ns": ns, "langgraph_step": 3});
        let attrs = json!({"metadata": meta.to_string()})
            .as_object()
            .unwrap()
            .clone();
        let mut f = Facts {
            kind: Some(kind),
            output: output.map(Payload::Tree),
            ..Default::default()
        };
        apply(&attrs, name, &mut f);
        f
    }

    fn to(f: &Facts) -> Vec<&str> {
        f.handoffs.iter().map(|h| h.to.as_str()).collect()
    }

    #[test]
    fn the_agent_is_the_node_that_holds_the_run() {
        // As sent by openinference-instrumentation-langchain 0.1.80 for langgraph-supervisor.
        for (ns, want) in [
            ("supervisor:1a", "supervisor"),
            ("supervisor:1a|agent:2b", "supervisor"),
            ("researcher:3c|tools:4d", "researcher"),
            ("team:5e|coder:6f|agent:7a", "coder"),
        ] {
            let f = facts_of(SpanKind::Agent, "agent", ns, None);
            assert_eq!(f.agent.as_deref(), Some(want), "{ns}");
        }
        // An agent named by the span itself wins.
        let mut f = Facts {
            agent: Some("explicit".into()),
            ..Default::default()
        };
        let attrs = json!({"metadata": "{\"langgraph_checkpoint_ns\": \"researcher:1\"}"})
            .as_object()
            .unwrap()
            .clone();
        apply(&attrs, "x", &mut f);
        assert_eq!(f.agent.as_deref(), Some("explicit"));
        // Metadata of something else, or not JSON: nothing.
        for m in ["{\"user\": 1}", "langgraph_ not json"] {
            let attrs = json!({"metadata": m}).as_object().unwrap().clone();
            let mut f = Facts::default();
            apply(&attrs, "x", &mut f);
            assert_eq!(f.agent, None, "{m}");
        }
    }

    #[test]
    fn transfer_tools_hand_off() {
        let f = facts_of(
            SpanKind::Tool,
            "transfer_to_researcher",
            "supervisor:1|tools:2",
            None,
        );
        assert_eq!(f.agent.as_deref(), Some("supervisor"));
        assert_eq!(to(&f), ["researcher"]);
        // The tool's output is the Command that carries the handoff: still one.
        let f = facts_of(
            SpanKind::Tool,
            "transfer_to_researcher",
            "supervisor:1|tools:2",
            Some(json!({"graph": "__parent__", "update": {}, "goto": [{"node": "researcher"}]})),
        );
        assert_eq!(to(&f), ["researcher"]);
        let f = facts_of(
            SpanKind::Tool,
            "transfer_back_to_supervisor",
            "coder:1|tools:2",
            None,
        );
        assert_eq!(to(&f), ["supervisor"]);
        // Only tools: a chain of that name is not a handoff.
        let f = facts_of(SpanKind::Chain, "transfer_to_x", "a:1", None);
        assert!(f.handoffs.is_empty());
        let f = facts_of(SpanKind::Tool, "search_docs", "a:1|tools:2", None);
        assert!(f.handoffs.is_empty());
    }

    #[test]
    fn commands_that_go_to_another_agent_hand_off() {
        let command = |goto: Value, graph: Value| {
            Some(json!({"graph": graph, "update": {"messages": []}, "resume": null, "goto": goto}))
        };
        let f = facts_of(
            SpanKind::Chain,
            "supervisor",
            "supervisor:1",
            command(json!("researcher"), Value::Null),
        );
        assert_eq!(to(&f), ["researcher"]);
        let f = facts_of(
            SpanKind::Chain,
            "supervisor",
            "supervisor:1",
            command(
                json!(["a", {"node": "b", "arg": {}}, "__end__"]),
                Value::Null,
            ),
        );
        assert_eq!(to(&f), ["a", "b"]);
        // Inside an agent, only a goto to the parent graph reaches another agent.
        let f = facts_of(
            SpanKind::Chain,
            "call_model",
            "researcher:1|call_model:2",
            command(json!("tools"), Value::Null),
        );
        assert!(f.handoffs.is_empty());
        let f = facts_of(
            SpanKind::Chain,
            "call_model",
            "researcher:1|call_model:2",
            command(json!("coder"), json!("__parent__")),
        );
        assert_eq!(to(&f), ["coder"]);
        // An output that is not a Command.
        let f = facts_of(
            SpanKind::Chain,
            "n",
            "n:1",
            Some(json!({"goto": "somewhere"})),
        );
        assert!(f.handoffs.is_empty());
    }
}
