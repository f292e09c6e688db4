//! The conventions that instrumentations use for LLM work, each in its own module, and the
//! order they are consulted in. The tables are in docs/otel.md; change both together.
//!
//! `logfire` comes first and apart (`span` asks it what shape of record a span is: a pending
//! span, a log, or an ordinary span); then [`apply`] reads, in this order:
//!
//! 1. `openinference`: `openinference.span.kind`, `llm.*`, `input.value`/`output.value`;
//! 2. `genai`: the OTel GenAI semantic conventions, older (<= 1.36) and newer;
//! 3. `traceloop`: OpenLLMetry's `traceloop.*` and flattened `gen_ai.prompt.N.*`;
//! 4. the frameworks, which say who the agent is and who hands work to whom where the
//!    conventions above do not: `langgraph` (its run metadata), `openai_agents` (its workflow
//!    root and handoffs).
//!
//! The first convention that knows a fact wins; then every span gets a kind (`custom` when
//! none says), and an agent span without an agent is named after itself.

pub mod genai;
pub mod langgraph;
pub mod logfire;
pub mod openai_agents;
pub mod openinference;
pub mod traceloop;

use super::facts::Facts;
use flightdeck_model::{Attributes, SpanKind};

/// Reads the LLM conventions of a span from its attributes (taking what it maps); `scope` is
/// the instrumentation scope's name.
pub fn apply(attrs: &mut Attributes, name: &str, scope: Option<&str>) -> Facts {
    let mut facts = Facts::default();
    openinference::apply(attrs, &mut facts);
    genai::apply(attrs, &mut facts);
    traceloop::apply(attrs, &mut facts);
    langgraph::apply(attrs, name, &mut facts);
    openai_agents::apply(attrs, name, scope, &mut facts);
    let kind = *facts.kind.get_or_insert(SpanKind::Custom);
    if kind == SpanKind::Agent && facts.agent.is_none() {
        let own = name.strip_prefix("invoke_agent ").unwrap_or(name).trim();
        if !own.is_empty() && own != "invoke_agent" {
            facts.agent = Some(own.to_owned());
        }
    }
    facts
}
