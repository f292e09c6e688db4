//! The demo against the real Flightdeck server: a short seeded run at high speed, checked
//! through the query API.

use flightdeck_demo::{DemoOptions, Scenario};
use flightdeck_sdk::Flightdeck;
use flightdeck_server::{App, ServerConfig};
use flightdeck_store::{SqliteOptions, SqliteStore, Store};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// A server on a free port over a fresh database, as the server's own tests start one.
struct TestServer {
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl TestServer {
    async fn start() -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(SqliteOptions::new(dir.path().join("fd.db"))).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = App::new(Arc::new(store) as Arc<dyn Store>, ServerConfig::default());
        tokio::spawn(flightdeck_server::serve(
            listener,
            app,
            std::future::pending(),
        ));
        TestServer {
            base,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_run_shows_its_sessions_agents_and_span_kinds_through_the_api() {
    let server = TestServer::start().await;
    let client = Flightdeck::builder(&server.base).build().unwrap();
    let options = DemoOptions {
        sessions: Some(6),
        speed: 1000.0,
        seed: 42,
        concurrency: 3,
        heartbeat: Duration::from_secs(5),
    };
    let report = flightdeck_demo::run(client.clone(), options).await.unwrap();
    let stats = client.stats();
    assert_eq!(
        (stats.rejected, stats.dropped, stats.pending),
        (0, 0, 0),
        "{stats:?}"
    );

    let listed = server.get("/api/v1/sessions?limit=50").await;
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
            .get(&format!("/api/v1/sessions/{}/spans", expected.id))
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
    let all_kinds = ["agent", "chain", "llm", "retriever", "tool"];
    assert_eq!(kinds, all_kinds.iter().map(|k| k.to_string()).collect());

    let heist = report
        .sessions
        .iter()
        .find(|s| s.scenario == Scenario::Heist)
        .unwrap();
    let agents = server
        .get(&format!("/api/v1/sessions/{}/agents", heist.id))
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
        .get(&format!("/api/v1/sessions/{}/edges", heist.id))
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
        .get(&format!(
            "/api/v1/metrics?name=queue.depth&session_id={}",
            coding.id
        ))
        .await;
    assert!(!depth.as_array().unwrap().is_empty());

    let research = report
        .sessions
        .iter()
        .find(|s| s.scenario == Scenario::Orchestrator)
        .unwrap();
    let decisions = server
        .get(&format!(
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
        .get(&format!("/api/v1/sessions/{}/edges", research.id))
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
