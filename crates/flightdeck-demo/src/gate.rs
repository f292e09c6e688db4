//! Review gates in the demo: before a risky step (the vault, a `git push`) the agent asks a
//! person through [`Reviewer::review`] and follows the decision: go on, go on with the edited
//! output, or stop the session early. The timeouts are short and their action is
//! `continue`, so a demo nobody watches runs on by itself.
//!
//! Without [`Gates`] (an in-memory sink, where no server can be asked) every gate lets the
//! step through at once, and the dice are never touched here, so a seed replays the same
//! sessions with gates or without.

use crate::ctx::Ctx;
use flightdeck_sdk::{
    Agent, AgentState, Decision, Level, OnTimeout, ReviewOpen, Reviewer, Span, Timing,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Where the demo's agents ask for reviews, and how long they wait for a person.
#[derive(Clone, Debug)]
pub struct Gates {
    pub reviewer: Reviewer,
    /// Real time a gate waits before its `continue` action applies.
    pub timeout: Duration,
}

/// What a gate asks about: a tool call the agent is about to make.
pub(crate) struct Ask<'a> {
    pub(crate) title: &'a str,
    pub(crate) task: String,
    pub(crate) tool: &'a str,
    pub(crate) arguments: Value,
}

impl Ctx {
    /// Asks a person before `agent` makes the tool call under `span`; the arguments to call
    /// it with (edited, perhaps), or why the session stops (a person chose "Exit early"). A
    /// refused or failed request is logged and the call goes ahead: the demo never stalls
    /// on its gates.
    pub(crate) async fn ask(
        &mut self,
        span: &Span,
        agent: &Agent,
        ask: Ask<'_>,
    ) -> Result<Value, String> {
        let Some(gates) = self.gates.clone() else {
            return Ok(ask.arguments);
        };
        // The panel shows a list of calls as name + argument table.
        let output = json!([{"name": ask.tool, "arguments": ask.arguments}]);
        agent
            .update()
            .status(AgentState::Idle)
            .task(format!("waiting for a person: {}", ask.title))
            .send();
        let open = ReviewOpen {
            session_id: self.session.id().to_owned(),
            review_id: None,
            span_id: Some(span.id().to_owned()),
            agent: Some(agent.name().to_owned()),
            title: Some(ask.title.to_owned()),
            task: Some(ask.task),
            output: serde_json::value::to_raw_value(&output).expect("JSON values always serialise"),
            prompt: None,
            timing: Timing::Before,
            timeout_ms: gates.timeout.as_millis() as u64,
            on_timeout: OnTimeout::Continue,
            choices: Vec::new(),
        };
        let started = Instant::now();
        let settled = gates.reviewer.review(open).await;
        self.pace.passed(started.elapsed());
        agent.active(ask.title);
        let review = match settled {
            Ok(review) => review,
            Err(e) => {
                self.log(span, Level::Warn, &format!("no review ({e}); going on"));
                return Ok(ask.arguments);
            }
        };
        match review.decision {
            Some(Decision::ExitEarly) | Some(Decision::Fail) => {
                let by = review.decided_by.as_deref().unwrap_or("server");
                let why = format!("stopped at review: {} (by {by})", ask.title);
                self.stopped = Some(why.clone());
                Err(why)
            }
            _ => {
                let reviewed: Value = serde_json::from_str(review.final_output().get())
                    .map_err(|e| format!("the reviewed call is not JSON: {e}"))?;
                match &reviewed[0]["arguments"] {
                    Value::Object(_) => Ok(reviewed[0]["arguments"].clone()),
                    _ => {
                        let note = "the edit has no [{name, arguments}]; calling as proposed";
                        self.log(span, Level::Warn, note);
                        Ok(ask.arguments)
                    }
                }
            }
        }
    }
}
