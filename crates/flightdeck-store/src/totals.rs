//! How the totals of sessions, agents and models change when spans change: a span's old
//! contribution comes off, its new one goes on, under the session, the agent and (for LLM
//! calls) the model it names. Stores gather these in memory and write each changed total once.

use crate::merge::SpanState;
use flightdeck_model::SpanKind;
use flightdeck_model::record::Totals;
use std::collections::HashMap;
use std::hash::Hash;

/// Changes to totals, by session, by (session, agent) and by (session, model).
#[derive(Debug, Default)]
pub struct TotalsDelta {
    pub sessions: HashMap<String, Totals>,
    pub agents: HashMap<(String, String), Totals>,
    pub models: HashMap<(String, String), Totals>,
}

impl TotalsDelta {
    /// Adds (`sign` 1) or takes off (`sign` -1) what span `s` of `session` contributes.
    pub fn add(&mut self, session: &str, s: &SpanState, sign: i64) {
        let c = s.contribution();
        if c.is_zero() {
            return;
        }
        self.sessions
            .entry(session.into())
            .or_default()
            .add(&c, sign);
        if let Some(a) = &s.agent {
            self.agents
                .entry((session.into(), a.clone()))
                .or_default()
                .add(&c, sign);
        }
        if let Some(model) = llm_model(s) {
            self.models
                .entry((session.into(), model))
                .or_default()
                .add(&c, sign);
        }
    }

    /// A span changed from `old` (if it was stored) to `new`.
    pub fn changed(&mut self, session: &str, old: Option<&SpanState>, new: &SpanState) {
        if let Some(old) = old {
            self.add(session, old, -1);
        }
        self.add(session, new, 1);
    }

    /// Files the changes of session `from` under `into` (it moved there).
    pub fn rename(&mut self, from: &str, into: &str) {
        if let Some(delta) = self.sessions.remove(from) {
            self.sessions.entry(into.into()).or_default().add(&delta, 1);
        }
        renamed(&mut self.agents, from, into);
        renamed(&mut self.models, from, into);
    }
}

fn renamed<K: Clone + Eq + Hash>(map: &mut HashMap<(String, K), Totals>, from: &str, into: &str) {
    let keys: Vec<(String, K)> = map.keys().filter(|(s, _)| s == from).cloned().collect();
    for key in keys {
        let delta = map.remove(&key).expect("listed above");
        map.entry((into.to_owned(), key.1))
            .or_default()
            .add(&delta, 1);
    }
}

/// The model an LLM span's cost is filed under; `None` for other kinds.
pub fn llm_model(s: &SpanState) -> Option<String> {
    (s.kind == Some(SpanKind::Llm)).then(|| s.model.clone().unwrap_or_else(|| "unknown".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn llm(agent: &str, tokens: u64) -> SpanState {
        SpanState {
            kind: Some(SpanKind::Llm),
            agent: Some(agent.into()),
            started_at: Some(flightdeck_model::Timestamp(1)),
            usage: Some(flightdeck_model::Usage {
                input_tokens: tokens,
                output_tokens: 0,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_change_moves_totals_between_agents_and_renames_follow_sessions() {
        let mut d = TotalsDelta::default();
        d.changed("s", None, &llm("a", 5));
        d.changed("s", Some(&llm("a", 5)), &llm("b", 7));
        assert_eq!(d.sessions["s"].input_tokens, 7);
        assert!(d.agents[&("s".into(), "a".into())].is_zero());
        assert_eq!(d.agents[&("s".into(), "b".into())].spans, 1);
        assert_eq!(d.models[&("s".into(), "unknown".into())].llm_calls, 1);
        d.rename("s", "t");
        assert!(!d.sessions.contains_key("s"));
        assert_eq!(d.agents[&("t".into(), "b".into())].input_tokens, 7);
    }
}
