//! What a demo run did: its sessions and totals, gathered while the sessions run.

use crate::scenario::Scenario;
use flightdeck_sdk::SpanKind;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One simulated session.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionReport {
    pub id: String,
    pub name: String,
    pub scenario: Scenario,
    /// The agents that took part, in the order they joined.
    pub agents: Vec<String>,
    /// `None` while running; `Some(true)` if it ended as failed.
    pub failed: Option<bool>,
}

/// The outcome of [`run`](crate::run).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DemoReport {
    /// Every session started, in start order.
    pub sessions: Vec<SessionReport>,
    /// Spans started, of every kind.
    pub spans: u64,
    pub llm_calls: u64,
    pub tool_calls: u64,
    /// Spans that ended as errors.
    pub failed_spans: u64,
}

impl DemoReport {
    /// Sessions that ended as failed.
    pub fn failed_sessions(&self) -> usize {
        self.sessions
            .iter()
            .filter(|s| s.failed == Some(true))
            .count()
    }
}

/// The shared, growing report; cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Tally(Arc<Mutex<Counts>>);

#[derive(Default)]
struct Counts {
    sessions: BTreeMap<usize, SessionReport>,
    spans: u64,
    llm_calls: u64,
    tool_calls: u64,
    failed_spans: u64,
}

impl Tally {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn session_started(&self, index: usize, report: SessionReport) {
        self.counts().sessions.insert(index, report);
    }

    pub(crate) fn agent_joined(&self, index: usize, agent: &str) {
        if let Some(s) = self.counts().sessions.get_mut(&index) {
            s.agents.push(agent.to_owned());
        }
    }

    pub(crate) fn session_ended(&self, index: usize, failed: bool) {
        if let Some(s) = self.counts().sessions.get_mut(&index) {
            s.failed = Some(failed);
        }
    }

    pub(crate) fn span_started(&self, kind: SpanKind) {
        let mut c = self.counts();
        c.spans += 1;
        match kind {
            SpanKind::Llm => c.llm_calls += 1,
            SpanKind::Tool => c.tool_calls += 1,
            _ => {}
        }
    }

    pub(crate) fn span_failed(&self) {
        self.counts().failed_spans += 1;
    }

    pub(crate) fn report(&self) -> DemoReport {
        let c = self.counts();
        DemoReport {
            sessions: c.sessions.values().cloned().collect(),
            spans: c.spans,
            llm_calls: c.llm_calls,
            tool_calls: c.tool_calls,
            failed_spans: c.failed_spans,
        }
    }
}
