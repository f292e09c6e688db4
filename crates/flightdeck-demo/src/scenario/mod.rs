//! The scenarios, and playing one as a session from start to end.

mod coding;
mod heist;
mod orchestrator;

use crate::ctx::Ctx;
use crate::dice::Dice;
use crate::gate::Gates;
use crate::pace::Pace;
use crate::report::{SessionReport, Tally};
use flightdeck_sdk::{Client, Session};
use std::time::Duration;

/// A kind of simulated multi-agent run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// A heist crew (planner, hacker, safecracker, mole) taking turns; the mole may lie.
    Heist,
    /// Jobs through a queue: request planner, code planner with RAG, coding agent with git.
    Coding,
    /// An orchestrator decomposing a task, fanning out to parallel sub-agents, merging.
    Orchestrator,
}

impl Scenario {
    pub const ALL: [Scenario; 3] = [Scenario::Heist, Scenario::Coding, Scenario::Orchestrator];

    /// The scenario's name, also its session tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Heist => "heist",
            Scenario::Coding => "coding",
            Scenario::Orchestrator => "orchestrator",
        }
    }

    fn subjects(self) -> &'static [&'static str] {
        match self {
            Scenario::Heist => heist::TARGETS,
            Scenario::Coding => coding::REPOS,
            Scenario::Orchestrator => orchestrator::TOPICS,
        }
    }

    fn title(self, number: usize, subject: &str) -> String {
        match self {
            Scenario::Heist => format!("heist #{number}: {subject}"),
            Scenario::Coding => format!("pipeline #{number}: {subject}"),
            Scenario::Orchestrator => format!("research #{number}: {subject}"),
        }
    }

    fn budget_usd(self) -> f64 {
        match self {
            Scenario::Heist => 0.25,
            Scenario::Coding => 1.50,
            Scenario::Orchestrator => 0.60,
        }
    }
}

/// What a session needs to be played.
pub(crate) struct Stage {
    pub(crate) client: Client,
    pub(crate) dice: Dice,
    pub(crate) pace: Pace,
    pub(crate) tally: Tally,
    pub(crate) index: usize,
    pub(crate) heartbeat: Duration,
    pub(crate) gates: Option<Gates>,
}

/// Plays `scenario` as one session, start to end.
pub(crate) async fn play(scenario: Scenario, stage: Stage) {
    let Stage {
        client,
        mut dice,
        pace,
        tally,
        index,
        heartbeat,
        gates,
    } = stage;
    let subject = *dice.pick(scenario.subjects());
    let name = scenario.title(index + 1, subject);
    let session = client
        .session(&name)
        .id(dice.id())
        .tags(["demo", scenario.as_str()])
        .metadata("scenario", scenario.as_str())
        .metadata("subject", subject)
        .metadata("seed_index", &index)
        .budget_usd(scenario.budget_usd())
        .start();
    tally.session_started(
        index,
        SessionReport {
            id: session.id().to_owned(),
            name,
            scenario,
            agents: Vec::new(),
            failed: None,
        },
    );
    let guard = EndsIfAbandoned(Some(session));
    let handle = guard.0.as_ref().expect("the session is open").handle();
    let mut ctx = Ctx::new(handle, dice, pace, tally.clone(), index, heartbeat, gates);
    let result = match scenario {
        Scenario::Heist => heist::run(&mut ctx, subject).await,
        Scenario::Coding => coding::run(&mut ctx, subject).await,
        Scenario::Orchestrator => orchestrator::run(&mut ctx, subject).await,
    };
    drop(ctx); // stops the heartbeats
    let session = guard.take();
    tally.session_ended(index, result.is_err());
    match result {
        Ok(()) => session.end(),
        Err(why) => session.end_failed(why),
    }
}

/// Ends the session as failed ("demo stopped") when the demo is stopped before the session
/// finished, rather than letting the session guard record it as completed.
struct EndsIfAbandoned(Option<Session>);

impl EndsIfAbandoned {
    fn take(mut self) -> Session {
        self.0.take().expect("the session is open")
    }
}

impl Drop for EndsIfAbandoned {
    fn drop(&mut self) {
        if let Some(session) = self.0.take() {
            session.end_failed("demo stopped");
        }
    }
}
