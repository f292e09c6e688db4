//! The playground against the scripted fake LLM behind the proxy's upstreams: a call
//! recorded through the proxy is prefilled exactly as sent and runs again on each API,
//! streamed and not; tools reach the upstream and the diff shows an edit; variants run side
//! by side; bad input is refused by field; a pasted key goes upstream and nowhere else.

mod support;

use flightdeck_fake_llm::FakeLlm;
use serde_json::{Value, json};
use support::TestServer;
use support::llm::start;
use support::sse::EventStream;

const ANSWER: &str = "Case the vault at midnight.";

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": "search", "description": "Find a place",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}])
}

/// The three APIs: upstream, path, and a request with a system prompt and a parameter.
fn apis() -> [(&'static str, &'static str, Value); 3] {
    [
        (
            "openai",
            "/v1/chat/completions",
            // `user` is a key the proxy's reading leaves out: only the exact bytes keep it.
            json!({"model": "gpt-4o", "temperature": 0.2, "user": "agent-7", "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Plan the job."}]}),
        ),
        (
            "openai",
            "/v1/responses",
            // A plain-text input, which a rebuild would turn into a list of one message.
            json!({"model": "gpt-4o", "instructions": "Be brief.", "max_output_tokens": 50,
                "input": "Plan the job."}),
        ),
        (
            "anthropic",
            "/v1/messages",
            json!({"model": "claude-sonnet-4", "system": "Be brief.", "max_tokens": 50,
                "messages": [{"role": "user", "content": "Plan the job."}]}),
        ),
    ]
}

/// Sends `body` through the proxy as session `session`; returns the recorded span's id.
async fn record(s: &TestServer, session: &str, upstream: &str, path: &str, body: &Value) -> String {
    let r = s
        .client
        .post(s.url(&format!("/proxy/{upstream}{path}")))
        .header("x-flightdeck-session", session)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.bytes().await.unwrap();
    let spans = support::recorded(s, session, 1).await;
    spans[0]["span_id"].as_str().unwrap().to_owned()
}

async fn post_runs(s: &TestServer, body: &Value) -> reqwest::Response {
    s.client
        .post(s.url("/api/v1/playground/runs"))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Runs `request`, streamed or not; returns the runs and, when streamed, the text each
/// variant's deltas added up to.
async fn run(s: &TestServer, request: &Value) -> (Vec<Value>, Vec<String>) {
    let r = post_runs(s, request).await;
    assert_eq!(r.status(), 200);
    if request["stream"] != true {
        let body: Value = r.json().await.unwrap();
        return (body["runs"].as_array().unwrap().clone(), Vec::new());
    }
    let mut events = EventStream::of(r);
    let (name, start) = events.next().await.unwrap();
    assert_eq!(name, "start");
    let n = start["runs"].as_array().unwrap().len();
    let (mut runs, mut texts) = (vec![Value::Null; n], vec![String::new(); n]);
    while let Some((name, data)) = events.next().await {
        let i = data["variant"].as_u64().map(|v| v as usize);
        match name.as_str() {
            "delta" => texts[i.unwrap()].push_str(data["text"].as_str().unwrap()),
            "run" => {
                assert_eq!(
                    data["span_id"],
                    start["runs"][i.unwrap()]["span_id"],
                    "the run is the span announced at the start"
                );
                runs[i.unwrap()] = data;
            }
            "end" => break,
            other => panic!("unexpected event {other}: {data}"),
        }
    }
    (runs, texts)
}

/// The request the upstream got, less what the playground sets for the way it calls.
fn as_sent(fake: &FakeLlm) -> Value {
    let mut body = fake.last_body();
    let o = body.as_object_mut().unwrap();
    o.remove("stream");
    o.remove("stream_options");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_call_runs_again_on_each_api_streamed_and_not() {
    let (fake, s) = start().await;
    let mut playground_sessions = Vec::new();
    for (n, (upstream, path, sent)) in apis().into_iter().enumerate() {
        let session = format!("orig-{n}");
        let span = record(&s, &session, upstream, path, &sent).await;
        let prefill = s
            .json(&format!(
                "/api/v1/playground/request?session_id={session}&span_id={span}"
            ))
            .await;
        assert_eq!(prefill["body"], sent, "{path}: prefilled exactly as sent");
        assert_eq!(prefill["upstream"], upstream);
        assert_eq!(prefill["original"]["answer"]["text"], ANSWER);
        for stream in [false, true] {
            let (runs, texts) = run(
                &s,
                &json!({"session_id": session, "span_id": span, "stream": stream}),
            )
            .await;
            assert_eq!(
                as_sent(&fake),
                sent,
                "{path}: the upstream got the recorded request"
            );
            assert_eq!(fake.last_body()["stream"], stream);
            let r = &runs[0];
            assert_eq!(r["status"], "ok", "{path} stream={stream}: {r}");
            assert_eq!(r["answer"]["text"], ANSWER);
            if stream {
                assert_eq!(texts[0], ANSWER, "{path}: the answer streamed in");
            }
            assert!(r["usage"]["input_tokens"].as_u64().unwrap() > 0, "{r}");
            assert!(r["cost_usd"].as_f64().unwrap() > 0.0, "priced: {r}");
            assert!(r["first_token_ms"].as_f64().is_some());
            assert_eq!(r["diff"]["same"], true, "the same answer: {}", r["diff"]);
            // A request's runs are a session of their own, ended when they are done.
            let own = r["session_id"].as_str().unwrap();
            assert!(own.starts_with("playground-"), "{own}");
            let playground = s.json(&format!("/api/v1/sessions/{own}")).await;
            assert_eq!(playground["status"], "completed", "{playground}");
            assert_eq!(playground["metadata"]["playground.of_session"], session);
            playground_sessions.push(own.to_owned());
        }
        let listed = s
            .json(&format!(
                "/api/v1/playground/runs?session_id={session}&span_id={span}"
            ))
            .await;
        let runs = listed["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2, "{path}: both runs listed on the span");
        assert!(runs.iter().all(|r| r["first_token_ms"].is_number()));
    }
    let (_, playground) = s
        .get(&format!("/api/v1/sessions/{}", playground_sessions[0]))
        .await;
    assert_eq!(playground["tags"], json!(["playground"]));
    // The original names its playground sessions, each with the span it ran.
    let original = s.json("/api/v1/sessions/orig-0").await;
    let key = format!("playground.run.{}", playground_sessions[0]);
    assert!(
        original["metadata"][&key]["span_id"].is_string(),
        "{original}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tools_are_kept_and_the_diff_shows_the_edit() {
    let (fake, s) = start().await;
    let sent = json!({"model": "gpt-4o", "tools": tools(), "tool_choice": "auto",
        "parallel_tool_calls": false, "stream": true,
        "messages": [{"role": "user", "content": "rob the bank"}]});
    let span = record(&s, "tools", "openai", "/v1/chat/completions", &sent).await;
    let prefill = s
        .json(&format!(
            "/api/v1/playground/request?session_id=tools&span_id={span}"
        ))
        .await;
    assert_eq!(prefill["body"]["tools"], tools());
    assert_eq!(prefill["body"]["tool_choice"], "auto");
    assert_eq!(
        prefill["original"]["answer"]["tool_calls"][0],
        json!({"name": "search", "arguments": {"query": "rob the bank"}}),
        "the recorded call, read from the stream"
    );
    let mut edited = prefill["body"].clone();
    edited["messages"][0]["content"] = "rob the vault".into();
    for stream in [false, true] {
        let request = json!({"session_id": "tools", "span_id": span, "body": edited,
            "stream": stream, "variants": [{"label": "as is"},
            {"model": "gpt-4o-mini", "temperature": 0.9, "label": "mini, hot"}]});
        let (runs, _) = run(&s, &request).await;
        let got = fake.last_body();
        assert_eq!(got["tools"], tools(), "the tools reached the upstream");
        assert_eq!(
            (&got["tool_choice"], &got["parallel_tool_calls"]),
            (&json!("auto"), &json!(false))
        );
        assert_eq!(runs.len(), 2);
        for r in &runs {
            let d = &r["diff"]["tool_calls"][0];
            assert_eq!(d["status"], "changed", "{r}");
            assert_eq!(
                d["arguments"],
                json!([{"key": "query", "old": "rob the bank", "new": "rob the vault"}])
            );
        }
        assert_eq!(runs[1]["model"], "gpt-4o-mini");
        assert_eq!(runs[1]["label"], "mini, hot");
    }

    // Anthropic's streamed tool use: the call's input, not text.
    let sent = json!({"model": "claude-sonnet-4", "max_tokens": 64, "stream": true,
        "tools": [{"name": "search", "input_schema": {"type": "object"}}],
        "messages": [{"role": "user", "content": "rob the bank"}]});
    let span = record(&s, "tools-a", "anthropic", "/v1/messages", &sent).await;
    let (runs, _) = run(
        &s,
        &json!({"session_id": "tools-a", "span_id": span, "stream": true}),
    )
    .await;
    assert_eq!(fake.last_body()["tools"], sent["tools"]);
    assert_eq!(
        runs[0]["answer"]["tool_calls"][0]["arguments"]["query"],
        "rob the bank"
    );
    assert_eq!(runs[0]["answer"]["text"], "");
    assert_eq!(runs[0]["diff"]["same"], true, "{}", runs[0]["diff"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_sdk_span_prefills_and_its_answer_is_diffed_word_by_word() {
    let (_fake, s) = start().await;
    let (status, _) = s
        .post(
            "application/json",
            json!([{"type": "span", "session_id": "sdk", "span_id": "l1", "kind": "llm",
            "name": "plan", "model": "gpt-4o", "input": [{"role": "user", "content": "Plan."}],
            "params": {"temperature": 0.5}, "output": "Case the bank at dawn.",
            "started_at": "2026-12-01T10:00:00Z", "ended_at": "2026-12-01T10:00:01Z",
            "status": "ok"},
            ])
            .to_string(),
        )
        .await;
    assert_eq!(status, 200);
    let prefill = s
        .json("/api/v1/playground/request?session_id=sdk&span_id=l1")
        .await;
    assert_eq!(
        prefill["body"],
        json!({"model": "gpt-4o", "temperature": 0.5, "messages": [{"role": "user", "content": "Plan."}]})
    );
    assert_eq!(prefill["api"], "chat_completions");
    let (runs, _) = run(&s, &json!({"session_id": "sdk", "span_id": "l1"})).await;
    let pieces: Vec<(String, String)> = runs[0]["diff"]["text"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["op"].as_str().unwrap().into(),
                p["text"].as_str().unwrap().into(),
            )
        })
        .collect();
    let changed: Vec<(&str, &str)> = pieces
        .iter()
        .filter(|(op, _)| op != "equal")
        .map(|(o, t)| (o.as_str(), t.as_str()))
        .collect();
    assert_eq!(
        changed,
        [
            ("delete", "bank"),
            ("insert", "vault"),
            ("delete", "dawn."),
            ("insert", "midnight.")
        ],
        "{pieces:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_by_field_and_upstream_errors_are_shown() {
    let (_fake, s) = start().await;
    let (upstream, path, sent) = apis().into_iter().next().unwrap();
    let span = record(&s, "bad", upstream, path, &sent).await;
    let tool = json!([{"type": "span", "session_id": "bad", "span_id": "tool", "kind": "tool",
        "name": "grep", "started_at": "2026-12-01T10:00:00Z", "ended_at": "2026-12-01T10:00:01Z",
        "status": "ok"}]);
    assert_eq!(s.post("application/json", tool.to_string()).await.0, 200);
    let raw = s
        .client
        .post(s.url("/api/v1/playground/runs"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let e: Value = raw.json().await.unwrap();
    assert_eq!(e["error"]["code"], "malformed_json");
    let cases = [
        (
            json!({"session_id": "bad", "span_id": span, "upstream": "nope"}),
            422,
            "upstream",
        ),
        (
            json!({"session_id": "bad", "span_id": span, "upstream": "anthropic"}),
            422,
            "upstream",
        ),
        (
            json!({"session_id": "bad", "span_id": "missing"}),
            404,
            "span_id",
        ),
        (
            json!({"session_id": "bad", "span_id": "tool"}),
            422,
            "span_id",
        ),
        (json!({"session_id": "bad"}), 422, "span_id"),
        (json!({"body": "text", "upstream": "openai"}), 422, "body"),
        (json!({"upstream": "openai"}), 422, "body"),
        (
            json!({"body": {}, "upstream": "openai", "temprature": 1}),
            422,
            "temprature",
        ),
        (
            json!({"body": {}, "upstream": "openai", "variants": [{"temperature": "hot"}]}),
            422,
            "variants[0].temperature",
        ),
    ];
    for (request, status, field) in cases {
        let r = post_runs(&s, &request).await;
        assert_eq!(r.status().as_u16(), status, "{request}");
        let e: Value = r.json().await.unwrap();
        let message = e["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{request}: {message}");
    }
    let (runs, _) = run(
        &s,
        &json!({"session_id": "bad", "span_id": span, "variants": [{"model": "fail-429"}]}),
    )
    .await;
    assert_eq!(runs[0]["status"], "error");
    assert!(
        runs[0]["error"].as_str().unwrap().contains("429"),
        "{}",
        runs[0]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_upstream_is_a_failed_run_not_a_failed_server() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut proxy = flightdeck_server::proxy::config::ProxyConfig::default();
    proxy
        .set_upstream(
            "down",
            toml::from_str(&format!("kind = \"openai\"\nbase_url = {url:?}")).unwrap(),
        )
        .unwrap();
    let s = TestServer::start_with(flightdeck_server::ServerConfig {
        proxy,
        ..Default::default()
    })
    .await;
    let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
    for stream in [false, true] {
        let (runs, _) = run(
            &s,
            &json!({"upstream": "down", "body": body, "stream": stream}),
        )
        .await;
        assert_eq!(runs[0]["status"], "error");
        assert!(
            runs[0]["error"]
                .as_str()
                .unwrap()
                .contains("could not be reached"),
            "{}",
            runs[0]
        );
        assert!(runs[0].get("diff").is_none(), "no original, no diff");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pasted_key_goes_upstream_and_nowhere_else() {
    let (fake, s) = start().await;
    const KEY: &str = "sk-pasted-for-one-run";
    for (upstream, path, sent) in apis() {
        let r = post_runs(&s, &json!({"upstream": upstream, "body": sent, "key": KEY,
            "api": if path == "/v1/responses" { "responses" } else if upstream == "anthropic" { "messages" } else { "chat_completions" }}))
        .await;
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        assert!(!text.contains(KEY), "the key is not echoed");
        let h = fake.last_headers();
        let got = match upstream {
            "anthropic" => h["x-api-key"].to_str().unwrap().to_owned(),
            _ => h["authorization"].to_str().unwrap().to_owned(),
        };
        assert!(got.ends_with(KEY), "{path}: {got}");
        if upstream == "anthropic" {
            assert!(h.contains_key("anthropic-version"));
        }
    }
    s.assert_not_stored(KEY.as_bytes());
}
