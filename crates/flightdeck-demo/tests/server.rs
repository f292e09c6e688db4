//! The demo against the real Flightdeck server: a short seeded run at high speed, checked
//! through the query API.

use flightdeck_demo::{DemoOptions, Gates, Scenario};
use flightdeck_sdk::{Flightdeck, Reviewer};
use flightdeck_server::testing::TestServer;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// `sessions` sessions of seed 42 at speed 1000, whose gates ask `server` and wait `timeout`.
fn seeded(sessions: usize, server: &TestServer, timeout: Duration) -> DemoOptions {
    DemoOptions {
        sessions: Some(sessions),
        speed: 1000.0,
        seed: 42,
        concurrency: 3,
        heartbeat: Duration::from_secs(5),
        gates: Some(Gates {
            reviewer: Reviewer::new(&server.base, None).unwrap(),
            timeout,
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_run_shows_its_sessions_agents_and_span_kinds_through_the_api() {
    let server = TestServer::start().await;
    let client = Flightdeck::builder(&server.base).build().unwrap();
    let options = seeded(6, &server, Duration::from_millis(200));
    let report = flightdeck_demo::run(client.clone(), options).await.unwrap();
    let stats = client.stats();
    assert_eq!(
        (stats.rejected, stats.dropped, stats.pending),
        (0, 0, 0),
        "{stats:?}"
    );

    let listed = server.json("/api/v1/sessions?limit=50").await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), report.sessions.len());
    let (mut llm_calls, mut tool_calls, mut kinds) = (0, 0, BTreeSet::new());
    for expected in &report.sessions {
        let session = items
            .iter()
            .find(|s| s["session_id"] == expected.id.as_str())
            .unwrap();
        assert_eq!(session["name"], expected.name.as_str());
        let status = if expected.failed == Some(true) {
            "failed"
        } else {
            "completed"
        };
        assert_eq!(session["status"], status, "{session}");
        assert_eq!(
            strings(&session["agents"]),
            expected.agents.iter().cloned().collect(),
            "{session}"
        );
        assert!(strings(&session["tags"]).contains(expected.scenario.as_str()));
        assert!(
            session["totals"]["cost_usd"].as_f64().unwrap() > 0.0,
            "priced: {session}"
        );
        llm_calls += session["totals"]["llm_calls"].as_u64().unwrap();
        tool_calls += session["totals"]["tool_calls"].as_u64().unwrap();
        let spans = server
            .json(&format!("/api/v1/sessions/{}/spans", expected.id))
            .await;
        for span in spans.as_array().unwrap() {
            assert_ne!(span["status"], "running", "{span}");
            kinds.insert(span["kind"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        (llm_calls, tool_calls),
        (report.llm_calls, report.tool_calls)
    );
    let all_kinds = ["agent", "chain", "llm", "retriever", "review", "tool"];
    assert_eq!(kinds, all_kinds.iter().map(|k| k.to_string()).collect());

    let heist = report
        .sessions
        .iter()
        .find(|s| s.scenario == Scenario::Heist)
        .unwrap();
    let agents = server
        .json(&format!("/api/v1/sessions/{}/agents", heist.id))
        .await;
    let roles: BTreeSet<String> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["role"].as_str().unwrap().to_owned())
        .collect();
    let crew = ["hacker", "inside man", "mastermind", "safecracker"];
    assert_eq!(roles, crew.iter().map(|r| r.to_string()).collect());
    let messages = server
        .json(&format!("/api/v1/sessions/{}/edges", heist.id))
        .await;
    assert!(
        messages
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "message")
    );

    let coding = report
        .sessions
        .iter()
        .find(|s| s.scenario == Scenario::Coding)
        .unwrap();
    let depth = server
        .json(&format!(
            "/api/v1/metrics?name=queue.depth&session_id={}",
            coding.id
        ))
        .await;
    assert!(!depth.as_array().unwrap().is_empty());

    // Nobody decides: every gate timed out and let its step go on.
    for session in [heist, coding] {
        let reviews = server
            .json(&format!("/api/v1/reviews?session_id={}", session.id))
            .await;
        let reviews = reviews["reviews"].as_array().unwrap();
        assert!(!reviews.is_empty(), "{} asked at its gates", session.name);
        for r in reviews {
            assert_eq!(
                (&r["state"], &r["decision"], &r["timing"]),
                (&json!("timed_out"), &json!("continue"), &json!("before")),
                "{r}"
            );
            let tool = r["output"][0]["name"].as_str();
            assert!(matches!(tool, Some("crack_safe" | "git_push")), "{r}");
        }
    }

    let research = report
        .sessions
        .iter()
        .find(|s| s.scenario == Scenario::Orchestrator)
        .unwrap();
    let decisions = server
        .json(&format!(
            "/api/v1/sessions/{}/events?category=decision",
            research.id
        ))
        .await;
    let names = decisions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].clone());
    assert!(names.into_iter().any(|n| n == "decomposition"));
    let edges = server
        .json(&format!("/api/v1/sessions/{}/edges", research.id))
        .await;
    let edge_kinds: BTreeSet<&str> = edges
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        edge_kinds.contains("delegation") && edge_kinds.contains("depends_on"),
        "{edge_kinds:?}"
    );
}

/// Plays one session of each scenario with gates a person answers: the heist is stopped at
/// the vault, the pipeline's pushes are edited to another branch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_follows_the_decisions_taken_at_its_gates() {
    let server = TestServer::start().await;
    let client = Flightdeck::builder(&server.base).build().unwrap();
    let options = seeded(3, &server, Duration::from_secs(60));
    let demo = tokio::spawn(flightdeck_demo::run(client.clone(), options));
    let http = reqwest::Client::new();
    let mut decided = 0;
    while !demo.is_finished() {
        let pending = server.json("/api/v1/reviews?state=pending").await;
        for r in pending["reviews"].as_array().unwrap() {
            let decision = match r["output"][0]["name"].as_str().unwrap() {
                "crack_safe" => json!({"decision": "exit_early", "comment": "too hot tonight"}),
                "git_push" => {
                    let mut call = r["output"].clone();
                    call[0]["arguments"]["branch"] = json!("reviewed/by-a-person");
                    json!({"decision": "edit", "output": call})
                }
                other => panic!("a gate nobody expected: {other}"),
            };
            let id = r["review_id"].as_str().unwrap();
            let answer = http
                .post(server.url(&format!("/api/v1/reviews/{id}/decision")))
                .json(&decision)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
            decided += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let report = demo.await.unwrap().unwrap();
    assert!(decided >= 2, "{decided} decisions");

    let heist = report
        .sessions
        .iter()
        .find(|s| s.scenario == Scenario::Heist)
        .unwrap();
    let session = server.json(&format!("/api/v1/sessions/{}", heist.id)).await;
    assert_eq!(session["status"], "failed", "{session}");
    assert_eq!(heist.failed, Some(true));
    let spans = server
        .json(&format!("/api/v1/sessions/{}/spans", heist.id))
        .await;
    let names: Vec<&str> = spans
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.contains(&"crack_safe") && !names.contains(&"debrief"),
        "stopped before the vault: {names:?}"
    );

    let coding = report
        .sessions
        .iter()
        .find(|s| s.scenario == Scenario::Coding)
        .unwrap();
    let spans = server
        .json(&format!("/api/v1/sessions/{}/spans", coding.id))
        .await;
    let pushes: Vec<&Value> = spans
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == "git_push")
        .collect();
    assert!(!pushes.is_empty());
    for push in pushes {
        let span = server
            .json(&format!(
                "/api/v1/sessions/{}/spans/{}",
                coding.id,
                push["span_id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(span["input"]["branch"], "reviewed/by-a-person", "{span}");
    }
}
