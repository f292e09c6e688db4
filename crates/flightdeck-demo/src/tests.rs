//! Tests of whole demo runs against an in-memory sink: reproducibility by seed, and the
//! shape of what the scenarios record.

use crate::{DemoOptions, DemoReport, Scenario, run};
use flightdeck_sdk::model::{SessionOutcome, SpanKind};
use flightdeck_sdk::{Flightdeck, MemorySink, Message};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Runs `sessions` sessions at speed 1000; returns what was sent and the report.
async fn record(seed: u64, sessions: usize) -> (Vec<Message>, DemoReport) {
    let sink = MemorySink::new();
    let client = Flightdeck::with_transport(sink.clone()).build().unwrap();
    let options = DemoOptions {
        sessions: Some(sessions),
        speed: 1000.0,
        seed,
        concurrency: 3,
        heartbeat: Duration::from_secs(5),
        gates: None,
    };
    let report = run(client, options).await.unwrap();
    (sink.messages(), report)
}

/// The messages as sorted JSON lines, without timestamps or heartbeats (which depend on
/// the clock) so that two runs can be compared.
fn canonical(messages: &[Message]) -> Vec<String> {
    let mut lines: Vec<String> = messages
        .iter()
        .filter(|m| !matches!(m, Message::AgentStatus(s) if s.status.is_none()))
        .map(|m| {
            let mut v = serde_json::to_value(m).unwrap();
            let fields = v.as_object_mut().unwrap();
            for time in ["at", "started_at", "ended_at"] {
                fields.remove(time);
            }
            v.to_string()
        })
        .collect();
    lines.sort();
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_sessions_and_another_seed_does_not() {
    let (first, first_report) = record(7, 6).await;
    let (second, second_report) = record(7, 6).await;
    let (other, other_report) = record(8, 6).await;
    assert_eq!(canonical(&first), canonical(&second));
    assert_eq!(first_report, second_report);
    assert_ne!(canonical(&first), canonical(&other));
    let ids = |r: &DemoReport| r.sessions.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    assert_ne!(ids(&first_report), ids(&other_report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_run_plays_every_scenario_as_complete_sessions() {
    let (messages, report) = record(42, 6).await;

    let scenarios: BTreeMap<&str, usize> =
        report.sessions.iter().fold(BTreeMap::new(), |mut m, s| {
            *m.entry(s.scenario.as_str()).or_default() += 1;
            m
        });
    assert_eq!(
        scenarios,
        BTreeMap::from([("coding", 2), ("heist", 2), ("orchestrator", 2)])
    );
    assert!(
        report
            .sessions
            .iter()
            .all(|s| s.failed.is_some() && !s.agents.is_empty())
    );
    let heist = report
        .sessions
        .iter()
        .find(|s| s.scenario == Scenario::Heist)
        .unwrap();
    assert_eq!(heist.agents, ["planner", "hacker", "safecracker", "mole"]);

    let mut starts = BTreeMap::new();
    let mut ends = BTreeSet::new();
    let mut chunks: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut kinds = BTreeSet::new();
    let mut session_ends = BTreeMap::new();
    let mut decisions = BTreeSet::new();
    let mut metrics = BTreeSet::new();
    let mut agent_processes = BTreeSet::new();
    for m in &messages {
        match m {
            Message::SpanStart(s) => {
                kinds.insert(s.kind.as_str());
                if s.kind == SpanKind::Llm {
                    let input: Value =
                        serde_json::from_str(s.input.as_ref().unwrap().get()).unwrap();
                    assert_eq!(input[0]["role"], "system", "{input}");
                    assert!(s.model.is_some() && s.provider.is_some());
                }
                assert!(
                    starts.insert(s.span_id.as_str(), s).is_none(),
                    "span ids are unique"
                );
            }
            Message::SpanEnd(e) => assert!(ends.insert(e.span_id.as_str())),
            Message::SpanUpdate(u) if u.output_delta.is_some() => {
                chunks
                    .entry(u.span_id.as_str())
                    .or_default()
                    .push(u.seq.unwrap());
            }
            Message::SessionEnd(e) => {
                session_ends.insert(e.session_id.as_str(), e.status);
            }
            Message::Event(e) if e.category == "decision" => {
                decisions.insert(e.name.clone().unwrap());
            }
            Message::Metric(m) if m.session_id.is_none() => {
                assert!(m.labels.contains_key("agent"), "an agent's process: {m:?}");
                agent_processes.insert(m.labels["agent"].as_str());
            }
            Message::Metric(m) => {
                metrics.insert(m.name.as_str());
            }
            _ => {}
        }
    }
    assert_eq!(starts.len(), report.spans as usize);
    assert_eq!(ends, starts.keys().copied().collect(), "every span ended");
    for s in starts.values() {
        if let Some(parent) = &s.parent_id {
            assert_eq!(
                starts[parent.as_str()].session_id,
                s.session_id,
                "parents exist"
            );
        }
    }
    for (span, seqs) in &chunks {
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "chunks of {span} in order"
        );
        assert_eq!(starts[span].kind, SpanKind::Llm);
    }
    assert_eq!(
        kinds,
        BTreeSet::from(["agent", "chain", "llm", "retriever", "tool"])
    );
    assert_eq!(session_ends.len(), 6);
    for s in &report.sessions {
        let failed = session_ends[s.id.as_str()] == SessionOutcome::Failed;
        assert_eq!(Some(failed), s.failed);
    }
    assert!(decisions.contains("decomposition"), "{decisions:?}");
    assert_eq!(
        agent_processes,
        BTreeSet::from(crate::hosts::AGENTS),
        "every agent's process reports"
    );
    assert!(metrics.is_superset(&BTreeSet::from([
        "queue.depth",
        "queue.wait_ms",
        "workers.active"
    ])));
    for m in &messages {
        if let Message::Edge(e) = m {
            for span in [&e.from_span, &e.to_span].into_iter().flatten() {
                assert!(starts.contains_key(span.as_str()), "edge to a known span");
            }
        }
    }
}

#[tokio::test]
async fn invalid_options_are_refused() {
    let client = Flightdeck::with_transport(MemorySink::new())
        .build()
        .unwrap();
    let bad_speed = DemoOptions {
        speed: 0.0,
        ..DemoOptions::default()
    };
    assert!(run(client.clone(), bad_speed).await.is_err());
    let no_concurrency = DemoOptions {
        concurrency: 0,
        ..DemoOptions::default()
    };
    assert!(run(client, no_concurrency).await.is_err());
}
