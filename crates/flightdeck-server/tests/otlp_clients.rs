//! OTLP ingest with the ecosystem's real clients (tests/python/otlp_*.py, run with the test
//! virtualenv): the OpenAI client instrumented by OpenInference (over OTLP/HTTP, then gRPC),
//! a LangGraph multi-agent graph and a langgraph-supervisor crew instrumented by OpenInference,
//! an OpenAI Agents SDK app with a handoff traced by OpenInference's bridge, and the OpenAI
//! client instrumented by the OTel GenAI instrumentation (messages on the span, then as log
//! records; a session named on each turn's root alone).
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
        assert_eq!(llm["model"], "gpt-4o-mini", "the model asked for");
        assert_eq!(
            llm["attributes"]["gen_ai.response.model"], "gpt-4o-mini-2024-07-18",
            "the model that answered"
        );
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
    assert!(
        roots[0]["agent"].is_null(),
        "a workflow root, not the service's agent, where the graph's nodes are agents: {}",
        roots[0]
    );

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
        assert_eq!(llm["model"], "gpt-4o-mini", "the model asked for");
        assert_eq!(
            llm["attributes"]["gen_ai.response.model"], "gpt-4o-mini-2024-07-18",
            "the model that answered"
        );
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

/// The agents of a session by name, and its delegation edges counted by (from, to).
async fn network(s: &TestServer, session: &str) -> (Vec<String>, Vec<(String, String, usize)>) {
    let (status, agents) = s.get(&format!("/api/v1/sessions/{session}/agents")).await;
    assert_eq!(status, 200, "{agents}");
    let mut names: Vec<String> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agent"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    let (_, edges) = s.get(&format!("/api/v1/sessions/{session}/edges")).await;
    let mut counts: Vec<(String, String, usize)> = Vec::new();
    for e in edges.as_array().unwrap() {
        assert_eq!(e["kind"], "delegation", "{e}");
        let key = (
            e["from_agent"].as_str().unwrap().to_owned(),
            e["to_agent"].as_str().unwrap().to_owned(),
        );
        match counts
            .iter_mut()
            .find(|(f, t, _)| (f, t) == (&key.0, &key.1))
        {
            Some(c) => c.2 += 1,
            None => counts.push((key.0, key.1, 1)),
        }
    }
    counts.sort();
    (names, counts)
}

fn owned(items: &[(&str, &str, usize)]) -> Vec<(String, String, usize)> {
    items
        .iter()
        .map(|(f, t, n)| ((*f).to_owned(), (*t).to_owned(), *n))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_langgraph_supervisor_crew_shows_its_agents_and_handoffs() {
    let s = TestServer::start().await;
    let Some(out) = run_python(
        "otlp_langgraph_supervisor.py",
        &["--endpoint", &s.base, "--service", "crew-service"],
        &[],
    )
    .await
    else {
        return;
    };
    let session = out["session"].as_str().unwrap();
    assert_eq!(out["handoffs"], 3, "the crew ran as scripted: {out}");
    let (agents, edges) = network(&s, session).await;
    assert_eq!(
        agents,
        ["coder", "researcher", "supervisor"],
        "the crew's members, not `agent`, `call_agent` or the service"
    );
    assert_eq!(
        edges,
        owned(&[("supervisor", "coder", 1), ("supervisor", "researcher", 2)])
    );

    let all = spans(&s, session).await;
    let llm_agents: Vec<&str> = only(&all, "llm")
        .iter()
        .map(|l| l["agent"].as_str().unwrap())
        .collect();
    let count = |a: &str| llm_agents.iter().filter(|x| **x == a).count();
    assert_eq!(
        (count("supervisor"), count("researcher"), count("coder")),
        (4, 3, 1),
        "{llm_agents:?}"
    );
    let search = only(&all, "tool")
        .into_iter()
        .find(|t| t["name"] == "search_docs")
        .expect("the researcher's tool");
    assert_eq!(search["agent"], "researcher");

    // The handoffs' ParentCommand exceptions are kept, but they are not errors.
    let (_, summary) = s.get(&format!("/api/v1/sessions/{session}")).await;
    assert_eq!(summary["totals"]["errors"], 0, "{summary}");
    assert_eq!(summary["name"], "LangGraph", "the root's name");
    let (_, events) = s.get(&format!("/api/v1/sessions/{session}/events")).await;
    let events = events["items"].as_array().unwrap();
    let exceptions: Vec<&Value> = events.iter().filter(|e| e["name"] == "exception").collect();
    assert!(!exceptions.is_empty(), "{events:?}");
    for e in &exceptions {
        assert!(
            e["message"].as_str().unwrap().contains("ParentCommand"),
            "{e}"
        );
        assert_eq!(e["level"], "info", "{e}");
    }
    assert!(events.iter().all(|e| e["level"] != "error"), "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openai_agents_handoff_shows_agents_an_edge_and_the_workflow() {
    let s = TestServer::start().await;
    let Some(out) = run_python(
        "otlp_openai_agents.py",
        &["--endpoint", &s.base, "--service", "agents-service"],
        &[],
    )
    .await
    else {
        return;
    };
    assert_eq!(out["last_agent"], "coder", "the handoff happened: {out}");
    // No session attribute: the session is the trace, named after the workflow.
    let (status, list) = s.get("/api/v1/sessions?q=heist%20planning").await;
    assert_eq!(status, 200);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["name"], "heist planning");
    let session = items[0]["session_id"].as_str().unwrap();

    let (agents, edges) = network(&s, session).await;
    assert_eq!(
        agents,
        ["coder", "triage"],
        "not the workflow, not the service"
    );
    assert_eq!(edges, owned(&[("triage", "coder", 1)]));
    let all = spans(&s, session).await;
    let mut llm_agents: Vec<&str> = only(&all, "llm")
        .iter()
        .map(|l| l["agent"].as_str().unwrap())
        .collect();
    llm_agents.sort();
    assert_eq!(llm_agents, ["coder", "triage"]);
    let root = all.iter().find(|s| s["parent_id"].is_null()).unwrap();
    assert_eq!(
        (root["kind"].as_str(), root["agent"].as_str()),
        (Some("chain"), None)
    );
}

async fn points(s: &TestServer, name: &str) -> Vec<Value> {
    let (_, p) = s.get(&format!("/api/v1/metrics?name={name}")).await;
    p.as_array().unwrap().clone()
}

/// The official OTLP metric exporters, over HTTP and gRPC: counters, an up-down counter, a
/// histogram and an observable gauge become points of the same series as native metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otel_metrics_over_http_and_grpc() {
    let s = TestServer::start_with_grpc(ServerConfig::default()).await;
    let grpc = s.grpc.clone().unwrap();
    for (protocol, endpoint) in [("http", s.base.as_str()), ("grpc", grpc.as_str())] {
        let Some(out) = run_python(
            "otlp_metrics.py",
            &["--endpoint", endpoint, "--protocol", protocol],
            &[],
        )
        .await
        else {
            return;
        };
        assert_eq!(out["flushed"], true, "{protocol}");
        let session = out["session"].as_str().unwrap();
        let completed = points(&s, "queue.jobs.completed").await;
        let last = completed.last().unwrap();
        assert_eq!(last["value"], 5.0, "{protocol}: {completed:?}");
        assert_eq!(
            last["session_id"], session,
            "filed by its session.id attribute"
        );
        assert_eq!(last["unit"], "{job}");
        assert_eq!(last["labels"]["queue"], "jobs");
        assert_eq!(last["labels"]["temporality"], "cumulative");
        assert_eq!(last["labels"]["service.name"], "metrics-test");
        assert!(last["labels"].get("session.id").is_none());
        assert_eq!(
            points(&s, "queue.jobs.queued").await.last().unwrap()["value"],
            5.0
        );
        assert_eq!(
            points(&s, "queue.wait.count").await.last().unwrap()["value"],
            3.0
        );
        assert_eq!(
            points(&s, "queue.wait.sum").await.last().unwrap()["value"],
            6.0
        );
        assert_eq!(
            points(&s, "queue.wait.max").await.last().unwrap()["value"],
            4.0
        );
        let gauge = points(&s, "agent.memory.usage").await;
        assert_eq!(gauge.last().unwrap()["value"], 123_456_789.0);
        assert_eq!(gauge.last().unwrap()["labels"]["agent"], "coder");
        let (_, in_session) = s
            .get(&format!("/api/v1/metrics?session_id={session}"))
            .await;
        // The flush exports, and the shutdown exports the cumulative values once more.
        let names: std::collections::BTreeSet<&str> = in_session
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["agent.memory.usage", "queue.jobs.completed"].into(),
            "{in_session}"
        );
    }
}
