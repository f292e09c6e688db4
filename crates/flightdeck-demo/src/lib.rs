//! Flightdeck's demo: simulated multi-agent sessions, recorded only through the SDK.
//!
//! [`run`] keeps a few sessions going at once, each a [`Scenario`] (a heist crew, a coding
//! pipeline fed by a queue, a research orchestrator fanning out to sub-agents) played with
//! a mock LLM that streams tokens at a realistic pace, tools that take time and sometimes
//! fail, agent statuses and heartbeats, scores, decisions and metrics; and the agents'
//! processes report their CPU and memory (`hosts`).
//!
//! Everything is drawn from one seed: the same [`DemoOptions::seed`] gives the same
//! sessions with the same ids and contents (only timestamps and heartbeats differ).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let client = flightdeck_sdk::Flightdeck::builder("http://127.0.0.1:7329").build()?;
//! let options = flightdeck_demo::DemoOptions { sessions: Some(6), ..Default::default() };
//! let report = flightdeck_demo::run(client, options).await?;
//! println!("{} sessions, {} spans", report.sessions.len(), report.spans);
//! # Ok(())
//! # }
//! ```

mod ctx;
mod dice;
mod gate;
mod hosts;
mod llm;
mod pace;
mod report;
mod scenario;
mod tools;

pub use gate::Gates;
pub use report::{DemoReport, SessionReport};
pub use scenario::Scenario;

use dice::Dice;
use flightdeck_sdk::Client;
use pace::Pace;
use report::Tally;
use scenario::Stage;
use std::time::Duration;
use tokio::task::JoinSet;

/// How the demo runs.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// How many sessions to play; `None` keeps starting new ones until the future is dropped.
    pub sessions: Option<usize>,
    /// Simulated time per real time: 1.0 is real time, 10.0 ten times faster.
    pub speed: f64,
    /// The seed of every random choice and id.
    pub seed: u64,
    /// The most sessions running at once.
    pub concurrency: usize,
    /// The agents' heartbeat period, in real time (the server's offline detection is).
    pub heartbeat: Duration,
    /// Where the heist (before the vault) and the coding pipeline (before `git push`) ask a
    /// person; `None` lets every gate through at once.
    pub gates: Option<Gates>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            sessions: None,
            speed: 1.0,
            seed: 42,
            concurrency: 3,
            heartbeat: Duration::from_secs(5),
            gates: None,
        }
    }
}

/// The simulated time between two session starts, in milliseconds.
const STAGGER_MS: (f64, f64) = (1_500.0, 6_000.0);

/// Plays sessions as `options` say, then flushes `client`, so that everything is
/// acknowledged when this returns. Fails on invalid options, on a flush that times out,
/// or if a session's task panics.
pub async fn run(client: Client, options: DemoOptions) -> anyhow::Result<DemoReport> {
    run_until(client, options, std::future::pending()).await
}

/// As [`run`], but when `stop` resolves first, the sessions still playing are cancelled
/// (they end as failed, "demo stopped"), and what they sent is flushed before returning.
pub async fn run_until(
    client: Client,
    options: DemoOptions,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<DemoReport> {
    anyhow::ensure!(
        options.speed.is_finite() && options.speed > 0.0,
        "speed must be a positive number, not {}",
        options.speed
    );
    anyhow::ensure!(options.concurrency > 0, "concurrency must be at least 1");
    let tally = Tally::default();
    let mut running = JoinSet::new();
    let hosts = tokio::spawn(hosts::report(
        client.clone(),
        Dice::new(options.seed ^ 0x686f_7374),
        options.heartbeat,
    ));
    let played = tokio::select! {
        played = play(&client, &options, &tally, &mut running) => played,
        () = stop => {
            running.abort_all();
            Ok(())
        }
    };
    // Cancelled sessions end themselves as they are dropped; wait for every one of them.
    while let Some(done) = running.join_next().await {
        if !matches!(&done, Err(e) if e.is_cancelled()) {
            finished(Some(done))?;
        }
    }
    hosts.abort();
    played?;
    client.flush().await?;
    Ok(tally.report())
}

async fn play(
    client: &Client,
    options: &DemoOptions,
    tally: &Tally,
    running: &mut JoinSet<()>,
) -> anyhow::Result<()> {
    let mut dice = Dice::new(options.seed);
    let mut pace = Pace::new(options.speed);
    let mut order = Vec::new();
    let mut index = 0;
    while options.sessions.is_none_or(|n| index < n) {
        if index > 0 {
            let gap = dice.between(STAGGER_MS.0, STAGGER_MS.1);
            pace.wait(gap).await;
        }
        while running.len() >= options.concurrency {
            finished(running.join_next().await)?;
        }
        // Every three sessions play each scenario once, in a random order.
        if order.is_empty() {
            order = dice.sample(&Scenario::ALL, Scenario::ALL.len());
        }
        let scenario = order.pop().expect("refilled above");
        let stage = Stage {
            client: client.clone(),
            dice: dice.fork(),
            pace: Pace::new(options.speed),
            tally: tally.clone(),
            index,
            heartbeat: options.heartbeat,
            gates: options.gates.clone(),
        };
        running.spawn(scenario::play(scenario, stage));
        index += 1;
    }
    Ok(())
}

fn finished(joined: Option<Result<(), tokio::task::JoinError>>) -> anyhow::Result<()> {
    match joined {
        Some(Err(e)) => Err(anyhow::anyhow!("a simulated session crashed: {e}")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
