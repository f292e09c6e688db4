//! Zero-code review gates: the official `openai` and `anthropic` Python clients, which know
//! nothing of reviews, call a fake upstream through the proxy; a gate (a config rule, or the
//! `x-flightdeck-review` header) holds every answer that calls `delete_*`, and this test is
//! the person who decides. The client gets the answer unchanged, with the edited arguments
//! (streamed and not, in each API's own format), or an error its library raises.

mod support;

use flightdeck_fake_llm::{FakeLlm, Options, PREAMBLE};
use flightdeck_server::ServerConfig;
use flightdeck_server::proxy::config::{ApiKind, ProxyConfig, Upstream};
use flightdeck_server::proxy::gate::Rule;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use support::TestServer;
use tokio::io::{AsyncBufReadExt, BufReader};

async fn start() -> (FakeLlm, TestServer) {
    let fake = FakeLlm::start(Options::default()).await.unwrap();
    let upstream = |kind| Upstream::new(fake.url(), kind);
    let rule = "upstream = \"openai\"\ntools = [\"delete_*\", \"git_push\"]\ntimeout_secs = 60";
    let proxy = ProxyConfig {
        upstreams: BTreeMap::from([
            ("openai".to_owned(), upstream(ApiKind::Openai)),
            ("anthropic".to_owned(), upstream(ApiKind::Anthropic)),
        ]),
        review_rules: vec![Rule::new(1, toml::from_str(rule).unwrap()).unwrap()],
        ..ProxyConfig::default()
    };
    let server = TestServer::start_with(ServerConfig {
        proxy,
        ..ServerConfig::default()
    })
    .await;
    (fake, server)
}

/// The pending review of `session`, once the proxy opened it.
async fn pending(s: &TestServer, session: &str) -> Value {
    for _ in 0..400 {
        let (_, list) = s
            .get(&format!(
                "/api/v1/reviews?state=pending&session_id={session}"
            ))
            .await;
        if let Some(r) = list["reviews"].as_array().and_then(|l| l.first()) {
            return r.clone();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no review opened in {session}");
}

async fn decide(s: &TestServer, session: &str, decision: Value) -> Value {
    let review = pending(s, session).await;
    let id = review["review_id"].as_str().unwrap();
    let r = reqwest::Client::new()
        .post(s.url(&format!("/api/v1/reviews/{id}/decision")))
        .json(&decision)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    review
}

fn edit(path: &str) -> Value {
    json!({"decision": "edit", "comment": "not there",
           "output": {"tool_calls": [{"name": "delete_file", "arguments": {"path": path}}]}})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_approves_edits_or_stops_tool_calls_the_client_never_asked_about() {
    let Some(python) = support::python() else {
        return;
    };
    let (_fake, s) = start().await;
    let mut child = tokio::process::Command::new(python)
        .arg(support::python_script("proxy_gates.py"))
        .arg(format!("{}/proxy", s.base))
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut results = BTreeMap::new();
    let mut reviews = BTreeMap::new();
    let exit = json!({"decision": "exit_early", "comment": "not the vault"});
    let step = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let v: Value = serde_json::from_str(&line).unwrap();
            let case = v["case"].as_str().unwrap().to_owned();
            if let Some(r) = v.get("result") {
                results.insert(case, r.clone());
                continue;
            }
            // Chat streams are decided only once their text arrived: text is never held.
            let decision = match (case.as_str(), v["event"].as_str().unwrap()) {
                ("chat-approve", "call") => json!({"decision": "continue"}),
                ("chat-edit", "call") | ("chat-stream-edit", "text") => edit("/tmp/scratch"),
                ("chat-exit", "call") | ("chat-stream-exit", "text") => exit.clone(),
                ("anthropic-stream-edit", "call") => edit("/tmp/a"),
                ("responses-stream-edit", "call") => edit("/tmp/r"),
                _ => continue,
            };
            reviews.insert(case.clone(), decide(&s, &case, decision).await);
        }
    });
    step.await.expect("the agent script finished");
    assert!(child.wait().await.unwrap().success());

    // The fake calls the first tool offered with the last user message as its query.
    let fixed = json!({"query": "Clean up the vault directory."});
    let args = |case: &str| results[case]["calls"][0]["arguments"].clone();
    assert_eq!(args("chat-approve"), fixed, "{results:#?}");
    assert_eq!(args("chat-edit"), json!({"path": "/tmp/scratch"}));
    assert_eq!(args("chat-stream-edit"), json!({"path": "/tmp/scratch"}));
    assert_eq!(results["chat-stream-edit"]["text"], PREAMBLE);
    assert_eq!(args("anthropic-stream-edit"), json!({"path": "/tmp/a"}));
    assert_eq!(args("responses-stream-edit"), json!({"path": "/tmp/r"}));
    assert_eq!(
        results["responses-stream-edit"]["streamed_arguments"],
        json!({"path": "/tmp/r"})
    );
    assert_eq!(results["chat-not-gated"]["calls"][0]["name"], "read_file");
    assert_eq!(args("chat-not-gated"), fixed);
    for case in ["chat-exit", "chat-stream-exit"] {
        let r = &results[case];
        assert!(
            r["message"].as_str().unwrap().contains("not the vault"),
            "{case}: {r}"
        );
    }
    assert_eq!(results["chat-exit"]["error"], "PermissionDeniedError");
    assert_eq!(results["chat-stream-exit"]["error"], "APIError");
    let timeout = &results["anthropic-timeout"];
    assert_eq!(timeout["error"], "PermissionDeniedError", "{timeout}");
    assert!(timeout["message"].as_str().unwrap().contains("deadline"));

    // What the person saw: the proposed calls with their arguments, under the LLM span.
    let shown = &reviews["chat-edit"];
    assert_eq!(shown["title"], "Tool call: delete_file");
    assert_eq!(shown["agent"], "janitor");
    assert_eq!(shown["timing"], "before");
    assert_eq!(shown["timeout_ms"], 60_000);
    assert_eq!(shown["output"]["tool_calls"][0]["arguments"], fixed);
    assert_eq!(shown["prompt"], "Clean up the vault directory.");
    let (_, none) = s
        .get("/api/v1/reviews?session_id=chat-not-gated&state=pending")
        .await;
    assert_eq!(none["reviews"], json!([]));

    // Recorded: the LLM span keeps what the model proposed; the review, what was decided.
    let spans = s.json("/api/v1/sessions/chat-edit/spans").await;
    let spans = spans.as_array().unwrap();
    let llm = spans.iter().find(|s| s["kind"] == "llm").unwrap();
    let review = spans.iter().find(|s| s["kind"] == "review").unwrap();
    assert_eq!(review["parent_id"], llm["span_id"]);
    assert_eq!(shown["span_id"], llm["span_id"]);
    let decided = s
        .json(&format!(
            "/api/v1/reviews/{}",
            shown["review_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(decided["decision"], "edit");
    assert!(decided["diff"].as_str().unwrap().contains("/tmp/scratch"));
}

#[tokio::test]
async fn bad_gate_headers_are_refused_naming_the_header() {
    let (_fake, s) = start().await;
    let r = reqwest::Client::new()
        .post(s.url("/proxy/openai/v1/chat/completions"))
        .header("x-flightdeck-review", "delete_*")
        .header("x-flightdeck-review-on-timeout", "later")
        .json(&json!({"model": "gpt-4o", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("x-flightdeck-review-on-timeout"),
        "{body}"
    );
}
