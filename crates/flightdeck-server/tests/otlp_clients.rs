//! OTLP ingest with the ecosystem's real clients (tests/python/otlp_*.py, run with the test
//! virtualenv): the OpenAI client instrumented by OpenInference (over OTLP/HTTP, then gRPC),
//! a LangGraph multi-agent graph instrumented by OpenInference, and the OpenAI client
//! instrumented by the OTel GenAI instrumentation (messages on the span, then as log records;
//! a session named on each turn's root alone).
//! Each script exports one span per request and flushes before it exits.

mod support;

use flightdeck_server::ServerConfig;
use serde_json::{Value, json};
use support::{TestServer, run_python};

async fn spans(s: &TestServer, session: &str) -> Vec<Value> {
    let (status, v) = s.get(&format!("/api/v1/sessions/{session}/spans")).await;
    assert_eq!(status, 200, "{session}: {v}");
    let mut full = Vec::new();
    for span in v.as_array().unwrap() {
        let id = span["span_id"].as_str().unwrap();
        full.push(
            s.get(&format!("/api/v1/sessions/{session}/spans/{id}"))
                .await
                .1,
        );
    }
    full
}

fn only<'a>(spans: &'a [Value], kind: &str) -> Vec<&'a Value> {
    spans.iter().filter(|s| s["kind"] == kind).collect()
}

const QUESTION: [(&str, &str); 2] = [
    ("system", "You plan heists."),
    ("user", "When does the vault open?"),
];

fn asked() -> Value {
    Value::Array(
        QUESTION
            .iter()
            .map(|(role, content)| json!({"role": role, "content": content}))
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openinference_openai_over_http_and_grpc() {
    let s = TestServer::start_with_grpc(ServerConfig::default()).await;
    let grpc = s.grpc.clone().unwrap();
    for (protocol, endpoint) in [("http", s.base.as_str()), ("grpc", grpc.as_str())] {
        let Some(out) = run_python(
            "otlp_openinference_openai.py",
            &["--endpoint", endpoint, "--protocol", protocol],
            &[],
        )
        .await
        else {
            return;
        };
        let session = out["session"].as_str().unwrap();
        let (status, summary) = s.get(&format!("/api/v1/sessions/{session}")).await;
        assert_eq!(status, 200, "{protocol}: the session from session.id");
        assert_eq!(summary["totals"]["llm_calls"], 1, "{summary}");
        let all = spans(&s, session).await;
        let llm = only(&all, "llm");
        assert_eq!(llm.len(), 1, "{protocol}: {all:?}");
        let llm = llm[0];
        assert_eq!(llm["model"], "gpt-4o-mini-2024-07-18");
        assert_eq!(llm["provider"], "openai");
        assert_eq!(llm["input"], asked());
        assert_eq!(
            llm["output"],
            json!({"role": "assistant", "content": "The vault opens at midnight."})
        );
        assert_eq!(
            llm["usage"],
            json!({"input_tokens": 21, "output_tokens": 7})
        );
        assert_eq!(llm["params"]["temperature"], 0.2);
        assert_eq!(llm["agent"], "otlp-test", "the service, for a root span");
        assert!(llm["cost_usd"].as_f64().unwrap() > 0.0, "priced: {llm}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn langgraph_agents_come_out_as_a_tree() {
    let s = TestServer::start().await;
    let Some(out) = run_python(
        "otlp_langgraph.py",
        &["--endpoint", &s.base, "--service", "heist-graph"],
        &[],
    )
    .await
    else {
        return;
    };
    assert_eq!(out["answer"], "Plan: loop the camera feed.");
    let all = spans(&s, "langgraph-heist").await;
    let by_id = |id: &Value| all.iter().find(|s| s["span_id"] == *id);
    let ancestors = |span: &Value| {
        let mut chain = Vec::new();
        let mut cur = span;
        while let Some(p) = by_id(&cur["parent_id"]) {
            chain.push(p["name"].as_str().unwrap().to_owned());
            cur = p;
        }
        chain
    };

    let roots: Vec<&Value> = all.iter().filter(|s| s["parent_id"].is_null()).collect();
    assert_eq!(roots.len(), 1, "one tree: {all:?}");
    assert_eq!(
        (roots[0]["name"].as_str(), roots[0]["kind"].as_str()),
        (Some("LangGraph"), Some("chain"))
    );
    assert_eq!(roots[0]["agent"], "heist-graph");

    let agents: Vec<&str> = only(&all, "agent")
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(agents.len(), 2, "{agents:?}");
    assert!(agents.contains(&"research_agent") && agents.contains(&"writer_agent"));

    let tools = only(&all, "tool");
    assert_eq!(tools.len(), 1);
    let tool = tools[0];
    assert_eq!(tool["name"], "scan_cameras");
    assert_eq!(tool["input"], json!({"floor": 2}));
    // OpenInference sends LangChain's ToolMessage as the output, as JSON.
    assert_eq!(
        tool["output"]["data"]["content"], "4 cameras on floor 2",
        "{tool}"
    );
    assert_eq!(
        tool["agent"], "research_agent",
        "its nearest agent ancestor"
    );
    assert!(
        ancestors(tool).contains(&"research_agent".to_owned()),
        "{:?}",
        ancestors(tool)
    );

    let llms = only(&all, "llm");
    assert_eq!(llms.len(), 3, "two research calls and one writer call");
    for llm in &llms {
        let owner = llm["agent"].as_str().unwrap();
        assert!(
            ancestors(llm).contains(&owner.to_owned()),
            "{owner} above {llm}"
        );
        assert_eq!(
            llm["usage"],
            json!({"input_tokens": 30, "output_tokens": 12})
        );
        assert!(
            llm["input"].as_array().is_some_and(|m| !m.is_empty()),
            "{llm}"
        );
    }
    assert!(
        llms.iter().any(|l| l["agent"] == "writer_agent"
            && l["output"]["content"] == "Plan: loop the camera feed."),
        "{llms:?}"
    );
    let called = llms
        .iter()
        .find(|l| l["output"]["tool_calls"].is_array())
        .expect("the research call that asked for the tool");
    assert_eq!(
        called["output"]["tool_calls"][0]["function"]["name"],
        "scan_cameras"
    );
    let chains = only(&all, "chain");
    assert!(
        chains.iter().any(|c| c["name"] == "supervisor"),
        "{chains:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otel_genai_openai_messages_on_the_span_and_as_logs() {
    let s = TestServer::start_with(ServerConfig {
        otlp_session_idle: std::time::Duration::from_millis(300),
        ..ServerConfig::default()
    })
    .await;
    for mode in ["SPAN_ONLY", "EVENT_ONLY"] {
        let Some(out) = run_python(
            "otlp_openai_v2.py",
            &["--endpoint", &s.base, "--service", "heist-v2"],
            &[
                ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", mode),
                (
                    "OTEL_SEMCONV_STABILITY_OPT_IN",
                    "gen_ai_latest_experimental",
                ),
            ],
        )
        .await
        else {
            return;
        };
        let session = out["session"].as_str().unwrap();
        let all = spans(&s, session).await;
        assert_eq!(
            all.len(),
            2,
            "{mode}: the root and the call, nothing made up: {all:?}"
        );
        let llm = only(&all, "llm");
        assert_eq!(llm.len(), 1, "{mode}: {all:?}");
        let llm = llm[0];
        assert_eq!(llm["name"], "chat gpt-4o-mini");
        assert_eq!(llm["trace_id"], session, "the trace id is kept");
        assert_eq!(llm["model"], "gpt-4o-mini-2024-07-18");
        assert_eq!(llm["provider"], "openai");
        assert_eq!(
            llm["usage"],
            json!({"input_tokens": 21, "output_tokens": 7})
        );
        assert_eq!(llm["input"], asked(), "{mode}");
        assert_eq!(
            llm["output"],
            json!({"role": "assistant", "content": "The vault opens at midnight.", "finish_reason": "stop"}),
            "{mode}"
        );
        assert_eq!(llm["agent"], "heist-v2", "inherited from the root");
        let summary = support::ended(&s, session).await;
        assert_eq!(
            summary["status"], "completed",
            "{mode}: its spans ended and it went quiet"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_named_on_the_roots_alone_holds_every_call() {
    let s = TestServer::start().await;
    for attribute in ["session.id", "gen_ai.conversation.id"] {
        let Some(out) = run_python(
            "otlp_session_on_root.py",
            &["--endpoint", &s.base, "--service", "chat-app"],
            &[("SESSION_ATTRIBUTE", attribute)],
        )
        .await
        else {
            return;
        };
        let session = out["session"].as_str().unwrap();
        let (_, summary) = s.get(&format!("/api/v1/sessions/{session}")).await;
        let totals = &summary["totals"];
        assert_eq!(totals["llm_calls"], 4, "{attribute}: {summary}");
        assert_eq!(totals["spans"], 6, "two roots and four calls");
        assert_eq!(totals["input_tokens"], 4 * 21);
        assert!(totals["cost_usd"].as_f64().unwrap() > 0.0, "{summary}");
        let all = spans(&s, session).await;
        let mut traces: Vec<&str> = all
            .iter()
            .map(|s| s["trace_id"].as_str().unwrap())
            .collect();
        traces.sort();
        traces.dedup();
        assert_eq!(traces.len(), 2, "one trace per turn");
        for llm in only(&all, "llm") {
            assert_eq!(
                llm["agent"], "chat-app",
                "restated once the root arrived: {llm}"
            );
        }
    }
    // Nothing is left under a trace id: the named sessions are all there is.
    let (_, list) = s.get("/api/v1/sessions").await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
}
