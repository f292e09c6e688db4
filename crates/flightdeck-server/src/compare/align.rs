//! Aligning two runs' steps (LLM and tool calls), with no I/O: per agent, by order within the
//! agent, so two runs whose agents interleave differently still line up. Steps are listed in
//! the order the first run took them (the second run's extra steps after, in its order).

use flightdeck_model::{SpanKind, SpanSummary};
use std::collections::HashMap;

/// One aligned pair; either side may be missing (one run took more steps).
#[derive(Debug)]
pub struct Pair<'a> {
    pub agent: Option<String>,
    /// The step's place among its agent's steps, from 1.
    pub call: usize,
    pub a: Option<&'a SpanSummary>,
    pub b: Option<&'a SpanSummary>,
}

/// The steps of a run: its LLM and tool spans, in start order (as the store lists them).
fn steps(spans: &[SpanSummary]) -> impl Iterator<Item = &SpanSummary> {
    spans
        .iter()
        .filter(|s| matches!(s.kind, SpanKind::Llm | SpanKind::Tool))
}

/// Aligns the steps of `a` and `b`.
pub fn align<'a>(a: &'a [SpanSummary], b: &'a [SpanSummary]) -> Vec<Pair<'a>> {
    let mut b_by_agent: HashMap<&Option<String>, Vec<&SpanSummary>> = HashMap::new();
    for s in steps(b) {
        b_by_agent.entry(&s.agent).or_default().push(s);
    }
    let mut taken: HashMap<&Option<String>, usize> = HashMap::new();
    let mut out = Vec::new();
    for s in steps(a) {
        let i = taken.entry(&s.agent).or_default();
        out.push(Pair {
            agent: s.agent.clone(),
            call: *i + 1,
            a: Some(s),
            b: b_by_agent.get(&s.agent).and_then(|v| v.get(*i)).copied(),
        });
        *i += 1;
    }
    let mut seen: HashMap<&Option<String>, usize> = HashMap::new();
    for s in steps(b) {
        let j = seen.entry(&s.agent).or_default();
        *j += 1;
        if *j > taken.get(&s.agent).copied().unwrap_or(0) {
            out.push(Pair {
                agent: s.agent.clone(),
                call: *j,
                a: None,
                b: Some(s),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightdeck_model::SpanStatus;

    fn span(id: &str, agent: &str) -> SpanSummary {
        SpanSummary {
            session_id: "s".into(),
            span_id: id.into(),
            trace_id: None,
            parent_id: None,
            kind: SpanKind::Llm,
            name: "chat".into(),
            agent: Some(agent.into()),
            status: SpanStatus::Ok,
            started_at: None,
            ended_at: None,
            duration_ms: None,
            model: None,
            usage: None,
            cost_usd: None,
            error: None,
            scores: Default::default(),
        }
    }

    #[test]
    fn agents_pair_up_in_their_own_order_and_extras_come_last() {
        let a = [span("a1", "x"), span("b1", "y"), span("a2", "x")];
        let b = [
            span("B1", "y"),
            span("A1", "x"),
            span("A2", "x"),
            span("A3", "x"),
        ];
        let pairs = align(&a, &b);
        let ids: Vec<(Option<&str>, Option<&str>, usize)> = pairs
            .iter()
            .map(|p| {
                (
                    p.a.map(|s| s.span_id.as_str()),
                    p.b.map(|s| s.span_id.as_str()),
                    p.call,
                )
            })
            .collect();
        assert_eq!(
            ids,
            [
                (Some("a1"), Some("A1"), 1),
                (Some("b1"), Some("B1"), 1),
                (Some("a2"), Some("A2"), 2),
                (None, Some("A3"), 3)
            ]
        );
    }
}
