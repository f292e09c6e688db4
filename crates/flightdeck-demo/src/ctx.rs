//! The context of one simulated task: its session, dice, pace and report, with shorthands
//! that give every span, edge and event an id drawn from the dice.

use crate::dice::Dice;
use crate::gate::Gates;
use crate::pace::Pace;
use crate::report::Tally;
use flightdeck_sdk::{
    Agent, AgentState, EdgeBuilder, EdgeKind, Heartbeat, Level, SessionHandle, Span, SpanBuilder,
    SpanKind,
};
use serde_json::Value;
use std::fmt::Display;
use std::time::Duration;

pub(crate) struct Ctx {
    pub(crate) session: SessionHandle,
    pub(crate) dice: Dice,
    pub(crate) pace: Pace,
    tally: Tally,
    /// The session's position in the run, for the report.
    index: usize,
    /// The real-time heartbeat period of the agents that join.
    heartbeat: Duration,
    /// Kept for the session's life; dropping them stops the heartbeats.
    heartbeats: Vec<Heartbeat>,
    /// Where gates ask a person; `None` lets every gate through.
    pub(crate) gates: Option<Gates>,
    /// Why a person stopped the session at a gate, once one did.
    pub(crate) stopped: Option<String>,
}

impl Ctx {
    pub(crate) fn new(
        session: SessionHandle,
        dice: Dice,
        pace: Pace,
        tally: Tally,
        index: usize,
        heartbeat: Duration,
        gates: Option<Gates>,
    ) -> Self {
        Ctx {
            session,
            dice,
            pace,
            tally,
            index,
            heartbeat,
            heartbeats: Vec::new(),
            gates,
            stopped: None,
        }
    }

    /// A context for a concurrent task of the same session, with its own dice and pace.
    pub(crate) fn fork(&mut self) -> Ctx {
        Ctx {
            session: self.session.clone(),
            dice: self.dice.fork(),
            pace: self.pace.fork(),
            tally: self.tally.clone(),
            index: self.index,
            heartbeat: self.heartbeat,
            heartbeats: Vec::new(),
            gates: self.gates.clone(),
            stopped: None,
        }
    }

    pub(crate) fn id(&mut self) -> String {
        self.dice.id()
    }

    /// Lets a random simulated time between `lo_ms` and `hi_ms` pass.
    pub(crate) async fn wait(&mut self, lo_ms: f64, hi_ms: f64) {
        let ms = self.dice.between(lo_ms, hi_ms);
        self.pace.wait(ms).await;
    }

    /// Brings an agent into the session: it reports itself initializing and keeps a
    /// heartbeat for as long as this context lives.
    pub(crate) fn join(&mut self, name: &str, role: &str, model: &str) -> Agent {
        let agent = self
            .session
            .agent(name)
            .role(role)
            .model(model)
            .status(AgentState::Initializing)
            .send();
        self.heartbeats.push(agent.heartbeat(self.heartbeat));
        self.tally.agent_joined(self.index, name);
        agent
    }

    /// A top-level span.
    pub(crate) fn root(&mut self, kind: SpanKind, name: impl Into<String>) -> SpanBuilder {
        self.tally.span_started(kind);
        self.session.span(kind, name).id(self.dice.id())
    }

    /// A child of `parent`, of the same agent.
    pub(crate) fn child(
        &mut self,
        parent: &Span,
        kind: SpanKind,
        name: impl Into<String>,
    ) -> SpanBuilder {
        self.tally.span_started(kind);
        parent.child(kind, name).id(self.dice.id())
    }

    /// A child of the span with id `parent_id` (from another task), of no agent yet.
    pub(crate) fn under(
        &mut self,
        parent_id: &str,
        kind: SpanKind,
        name: impl Into<String>,
    ) -> SpanBuilder {
        self.tally.span_started(kind);
        self.session
            .span(kind, name)
            .parent(parent_id)
            .id(self.dice.id())
    }

    /// An agent takes its turn: it reports itself active on `task` and opens its span.
    pub(crate) fn turn(&mut self, parent_id: &str, agent: &Agent, task: &str) -> Span {
        agent.active(task);
        self.under(parent_id, SpanKind::Agent, task)
            .agent(agent.name())
            .input(&serde_json::json!({ "task": task }))
            .start()
    }

    /// Closes a turn: energy scores, then the agent goes idle.
    pub(crate) fn end_turn(&mut self, turn: Span, agent: &Agent) {
        self.energy(&turn);
        turn.end();
        agent.status(AgentState::Idle);
    }

    /// Closes a turn by the outcome of its work: ended, and its span id returned; or failed,
    /// with `who` named in the error.
    pub(crate) fn close_turn(
        &mut self,
        turn: Span,
        agent: &Agent,
        outcome: Result<(), String>,
        who: &str,
    ) -> Result<String, String> {
        match outcome {
            Ok(()) => {
                let id = turn.id().to_owned();
                self.end_turn(turn, agent);
                Ok(id)
            }
            Err(e) => {
                self.fail_turn(turn, agent, &e);
                Err(format!("{who} failed: {e}"))
            }
        }
    }

    /// Closes a turn that went wrong: the agent reports an error.
    pub(crate) fn fail_turn(&mut self, turn: Span, agent: &Agent, error: impl Display) {
        self.fail(turn, error);
        agent.status(AgentState::Error);
    }

    /// Ends `span` as failed.
    pub(crate) fn fail(&self, span: Span, error: impl Display) {
        self.tally.span_failed();
        span.fail(error);
    }

    /// The components of the agent's energy function for this step (lower is better).
    pub(crate) fn energy(&mut self, span: &Span) {
        let coherence = self.dice.between(0.05, 0.6);
        let risk = self.dice.between(0.05, 0.8);
        let cost = self.dice.between(0.05, 0.5);
        let total = 0.5 * coherence + 0.3 * risk + 0.2 * cost;
        span.scores([
            ("energy.coherence", round3(coherence)),
            ("energy.risk", round3(risk)),
            ("energy.cost", round3(cost)),
            ("energy.total", round3(total)),
        ]);
    }

    pub(crate) fn edge(&mut self, kind: EdgeKind) -> EdgeBuilder {
        self.session.edge(kind).id(self.dice.id())
    }

    /// A message from one agent to another, sent from the span where it was written.
    pub(crate) fn message(&mut self, from: &Agent, to: &Agent, span: &Span, label: &str) {
        self.edge(EdgeKind::Message)
            .from_agent(from.name())
            .to_agent(to.name())
            .from_span(span.id())
            .label(label)
            .send();
    }

    /// A decision (`plan_revision`, `escalation`, ...) taken inside `span`.
    pub(crate) fn decision(
        &mut self,
        span: &Span,
        level: Level,
        name: &str,
        message: &str,
        data: &Value,
    ) {
        span.event("decision")
            .id(self.dice.id())
            .level(level)
            .name(name)
            .message(message)
            .data(data)
            .send();
    }

    /// A log line inside `span`.
    pub(crate) fn log(&mut self, span: &Span, level: Level, message: &str) {
        span.event("log")
            .id(self.dice.id())
            .level(level)
            .message(message)
            .send();
    }
}

/// Rounds to three decimals, as a score would be shown.
pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
