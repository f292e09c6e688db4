//! The HTTP surface end to end on a real port: every message type in and out through the
//! query API, and every kind of bad input answered with a clear JSON error while the server
//! keeps serving and keeps nothing of a rejected batch.

mod support;

use flightdeck_model::Limits;
use flightdeck_server::ServerConfig;
use serde_json::{Value, json};
use std::sync::Arc;
use support::TestServer;

fn every_message_type() -> Value {
    json!([
        {"type":"session.start","session_id":"s1","name":"heist #4","started_at":"2026-11-20T10:00:00Z","tags":["demo"]},
        {"type":"span.start","session_id":"s1","span_id":"a1","parent_id":"root","kind":"llm","name":"decompose","agent":"planner","model":"gpt-4o","started_at":"2026-11-20T10:00:01Z","input":[{"role":"user","content":"plan the job"}],"params":{"temperature":0.2}},
        {"type":"span.update","session_id":"s1","span_id":"a1","seq":0,"output_delta":"step 1","usage":{"input_tokens":12,"output_tokens":1}},
        {"type":"span.end","session_id":"s1","span_id":"a1","ended_at":"2026-11-20T10:00:03Z","status":"ok","output":"step 1 ...","usage":{"input_tokens":12,"output_tokens":34}},
        {"type":"span","session_id":"s1","span_id":"t1","parent_id":"a1","kind":"tool","name":"scan_cameras","agent":"hacker","started_at":1795168804000000000u64,"ended_at":1795168805000000000u64,"status":"error","error":"timeout","scores":{"risk":0.5}},
        {"type":"edge","session_id":"s1","edge_id":"e1","kind":"delegation","from_agent":"planner","to_agent":"hacker"},
        {"type":"event","session_id":"s1","event_id":"ev1","category":"decision","name":"escalation","message":"the mole lied","at":"2026-11-20T10:00:06Z"},
        {"type":"agent.status","session_id":"s1","agent":"hacker","status":"active","task":"scan cameras"},
        {"type":"metric","session_id":"s1","name":"queue.depth","value":4,"labels":{"queue":"jobs"}},
        {"type":"session.end","session_id":"s1","ended_at":"2026-11-20T10:00:09Z","status":"failed","error":"alarm"}
    ])
}

#[tokio::test]
async fn every_message_type_round_trips_through_http() {
    let s = TestServer::start().await;
    let (status, body) = s
        .post("application/json", every_message_type().to_string())
        .await;
    assert_eq!((status, &body), (200, &json!({"accepted": 10})));

    let (_, list) = s.get("/api/v1/sessions").await;
    assert_eq!(list["items"][0]["session_id"], "s1");
    assert_eq!(list["items"][0]["status"], "failed");
    assert_eq!(list["items"][0]["totals"]["llm_calls"], 1);
    assert_eq!(list["items"][0]["agents"], json!(["hacker", "planner"]));

    let (_, session) = s.get("/api/v1/sessions/s1").await;
    assert_eq!(session["name"], "heist #4");
    assert_eq!(session["error"], "alarm");
    assert_eq!(session["duration_ms"], 9000.0);

    let (_, spans) = s.get("/api/v1/sessions/s1/spans").await;
    assert_eq!(spans.as_array().unwrap().len(), 2);
    assert!(
        spans[0].get("input").is_none(),
        "the list carries no payloads"
    );

    for path in ["/api/v1/sessions/s1/spans/a1", "/api/v1/spans/s1/a1"] {
        let (status, span) = s.get(path).await;
        assert_eq!(status, 200);
        assert_eq!(span["input"][0]["content"], "plan the job");
        assert_eq!(span["output"], "step 1 ...");
        assert_eq!(span["params"]["temperature"], 0.2);
        assert_eq!(span["usage"]["output_tokens"], 34);
        assert_eq!(span["started_at"], "2026-11-20T10:00:01Z");
        assert!(
            span["cost_usd"].as_f64().unwrap() > 0.0,
            "priced from the table"
        );
    }
    let (_, edges) = s.get("/api/v1/sessions/s1/edges").await;
    assert_eq!(edges[0]["kind"], "delegation");
    let (_, events) = s.get("/api/v1/sessions/s1/events?category=decision").await;
    assert_eq!(events["items"][0]["message"], "the mole lied");
    let (_, agents) = s.get("/api/v1/sessions/s1/agents").await;
    assert_eq!(agents[0]["agent"], "hacker");
    assert_eq!(agents[0]["status"], "active");
    assert_eq!(agents[1]["messages_sent"], 1);
    let (_, llm) = s.get("/api/v1/sessions/s1/llm").await;
    assert_eq!(llm[0]["model"], "gpt-4o");
    assert_eq!(llm[0]["latency_p95_ms"], 2000.0);
    let (_, tools) = s.get("/api/v1/sessions/s1/tools").await;
    assert_eq!(tools[0]["tool"], "scan_cameras");
    assert_eq!(tools[0]["success_rate"], 0.0);
    let (_, overview) = s.get("/api/v1/stats/overview").await;
    assert_eq!(overview["sessions"], 1);
    assert_eq!(overview["failed"], 1);
    let (_, global) = s.get("/api/v1/stats/llm?from=2026-11-20T00:00:00Z").await;
    assert_eq!(global[0]["requests"], 1);
    let (_, metrics) = s.get("/api/v1/metrics?name=queue.depth").await;
    assert_eq!(metrics[0]["value"], 4.0);
}

#[tokio::test]
async fn ndjson_gzip_and_retries_are_accepted_without_doubling() {
    use std::io::Write;
    let s = TestServer::start().await;
    let ndjson: String = every_message_type()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{m}\n"))
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(ndjson.as_bytes()).unwrap();
    let body = gz.finish().unwrap();
    for _ in 0..2 {
        let r = s
            .client
            .post(format!("{}/api/v1/events", s.base))
            .header("content-type", "application/x-ndjson")
            .header("content-encoding", "gzip")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
    }
    let (_, session) = s.get("/api/v1/sessions/s1").await;
    assert_eq!(session["totals"]["spans"], 2);
    assert_eq!(session["totals"]["input_tokens"], 12);
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_nothing_of_the_batch_is_kept() {
    let s = TestServer::start_with(ServerConfig {
        max_body_bytes: 64 * 1024,
        limits: Limits {
            max_field_bytes: 1024,
            ..Limits::default()
        },
        ..Default::default()
    })
    .await;
    let good = r#"{"type":"session.start","session_id":"kept"}"#;
    /// What is sent, the status and code expected, and where the error must point.
    type Case = (
        &'static str,
        String,
        u16,
        &'static str,
        Option<(u64, &'static str)>,
    );
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            "[{\"type\":".into(),
            400,
            "malformed_json",
            None,
        ),
        ("empty", "".into(), 400, "empty_batch", None),
        (
            "wrong type",
            format!(
                r#"[{good},{{"type":"span.end","session_id":"x","span_id":"y","usage":{{"input_tokens":"lots"}}}}]"#
            ),
            422,
            "invalid_message",
            Some((1, "usage.input_tokens")),
        ),
        (
            "missing id",
            format!(r#"[{good},{{"type":"span.start","session_id":"x","kind":"llm","name":"n"}}]"#),
            422,
            "invalid_message",
            Some((1, "span_id")),
        ),
        (
            "unknown type",
            format!(r#"[{good},{{"type":"span.explode","session_id":"x"}}]"#),
            422,
            "invalid_message",
            Some((1, "type")),
        ),
        (
            "oversize field",
            format!(
                r#"[{good},{{"type":"span.end","session_id":"x","span_id":"y","output":"{}"}}]"#,
                "z".repeat(2000)
            ),
            422,
            "invalid_message",
            Some((1, "output")),
        ),
        (
            "oversize id",
            format!(
                r#"[{{"type":"session.start","session_id":"{}"}}]"#,
                "i".repeat(129)
            ),
            422,
            "invalid_message",
            Some((0, "session_id")),
        ),
        (
            "oversize body",
            format!("[{}]", vec![good; 2000].join(",")),
            413,
            "body_too_large",
            None,
        ),
    ];
    for (what, body, status, code, at) in cases {
        let (got, err) = s.post("application/json", body).await;
        assert_eq!(got, status, "{what}: {err}");
        assert_eq!(err["error"]["code"], code, "{what}: {err}");
        assert!(
            !err["error"]["message"].as_str().unwrap().is_empty(),
            "{what}"
        );
        if let Some((index, field)) = at {
            assert_eq!(err["error"]["errors"][0]["index"], index, "{what}: {err}");
            assert_eq!(err["error"]["errors"][0]["field"], field, "{what}: {err}");
        }
    }
    let (got, err) = s
        .post("application/json", vec![b'[', 0xff, 0xfe, b']'])
        .await;
    assert_eq!(
        (got, err["error"]["code"].as_str()),
        (400, Some("malformed_json")),
        "not UTF-8"
    );
    for ct in ["application/xml", "text/plain"] {
        let (got, err) = s.post(ct, good.to_string()).await;
        assert_eq!(
            (got, err["error"]["code"].as_str()),
            (415, Some("unsupported_media_type")),
            "{ct}"
        );
    }
    // Control characters in ids, times out of range and JSON nested without end.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for (body, field) in [
        (
            r#"{"type":"session.start","session_id":"a\u0000b"}"#.to_owned(),
            "session_id",
        ),
        (
            r#"{"type":"session.start","session_id":"s","started_at":-1}"#.to_owned(),
            "started_at",
        ),
        (
            format!(
                r#"{{"type":"span.start","session_id":"s","span_id":"d","kind":"llm","name":"n","input":{deep}}}"#
            ),
            "input",
        ),
    ] {
        let s = TestServer::start().await;
        let (got, err) = s.post("application/x-ndjson", body).await;
        assert_eq!(got, 422, "{field}: {err}");
        assert_eq!(err["error"]["errors"][0]["field"], field, "{err}");
    }

    // Every refusal was counted, by reason, for the page.
    let (status, refusals) = s.get("/api/v1/refusals").await;
    assert_eq!(status, 200);
    let count = |reason: &str| {
        refusals
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["reason"] == reason)
            .map(|r| {
                (
                    r["source"].clone(),
                    r["unit"].clone(),
                    r["last_hour"].clone(),
                )
            })
    };
    assert_eq!(
        count("invalid_message (span_id)"),
        Some((json!("native"), json!("batches"), json!(1))),
        "{refusals:#}"
    );
    assert_eq!(
        count("unsupported_media_type").unwrap().2,
        2,
        "{refusals:#}"
    );
    assert_eq!(count("malformed_json").unwrap().2, 2, "{refusals:#}");
    assert!(
        refusals[0]["example"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{refusals:#}"
    );

    // The server still serves, and no rejected batch left anything behind.
    assert_eq!(s.get("/healthz").await.0, 200);
    let (_, list) = s.get("/api/v1/sessions").await;
    assert_eq!(list["items"], json!([]));
    assert_eq!(s.post("application/json", format!("[{good}]")).await.0, 200);
    let (_, list) = s.get("/api/v1/sessions").await;
    assert_eq!(list["items"][0]["session_id"], "kept");
}

#[tokio::test]
async fn a_session_is_searched_in_its_inputs_and_outputs() {
    let s = TestServer::start().await;
    let (status, _) = s
        .post("application/json", every_message_type().to_string())
        .await;
    assert_eq!(status, 200);
    // In a1's input (a message list) and its output, ignoring case; nothing in t1's.
    for (q, ids) in [
        ("PLAN THE", json!(["a1"])),
        ("step 1", json!(["a1"])),
        ("content", json!(["a1"])),
        ("vault", json!([])),
    ] {
        let (status, body) = s
            .get(&format!(
                "/api/v1/sessions/s1/search?q={}",
                q.replace(' ', "%20")
            ))
            .await;
        assert_eq!((status, &body["span_ids"]), (200, &ids), "{q}");
    }
    let (status, err) = s.get("/api/v1/sessions/s1/search?q=").await;
    assert_eq!(status, 400);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 to 200"),
        "{err}"
    );
    let (status, _) = s.get("/api/v1/sessions/s1/search").await;
    assert_eq!(status, 400, "q is required");
    let (status, _) = s.get("/api/v1/sessions/nope/search?q=x").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn now_names_the_innermost_running_work_of_each_session() {
    let s = TestServer::start().await;
    let at = |sec: u32| format!("2026-12-02T10:00:{sec:02}Z");
    let batch = json!([
        {"type": "session.start", "session_id": "busy", "started_at": at(0)},
        {"type": "span.start", "session_id": "busy", "span_id": "root", "kind": "agent",
         "name": "crew", "agent": "boss", "started_at": at(1)},
        {"type": "span.start", "session_id": "busy", "span_id": "plan", "parent_id": "root",
         "kind": "llm", "name": "chat", "agent": "planner", "model": "gpt-4o", "started_at": at(2)},
        {"type": "span.start", "session_id": "busy", "span_id": "gate", "parent_id": "root",
         "kind": "review", "name": "approve the vault", "agent": "hacker", "started_at": at(3)},
        {"type": "span", "session_id": "busy", "span_id": "done", "parent_id": "root",
         "kind": "tool", "name": "search", "started_at": at(1), "ended_at": at(2)},
        {"type": "session.start", "session_id": "quiet", "started_at": at(0)},
        {"type": "span", "session_id": "quiet", "span_id": "x", "kind": "tool", "name": "t",
         "started_at": at(1), "ended_at": at(2)},
    ]);
    let (status, _) = s.post("application/json", batch.to_string()).await;
    assert_eq!(status, 200);
    let (status, now) = s.get("/api/v1/now?sessions=busy,%20quiet,nope").await;
    assert_eq!(status, 200, "{now}");
    let busy = &now["sessions"]["busy"];
    let names: Vec<&str> = busy["running"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["span_id"].as_str().unwrap())
        .collect();
    // The agent waits on its children, so only they are named, newest first.
    assert_eq!(names, ["gate", "plan"], "{busy}");
    assert_eq!(busy["running"][1]["model"], "gpt-4o");
    assert_eq!(busy["running"][0]["kind"], "review");
    assert_eq!(busy["more"], 0);
    assert_eq!(now["sessions"]["quiet"]["running"], json!([]));
    assert_eq!(now["sessions"]["nope"]["running"], json!([]));

    // The end of a span takes it out; its parent, now idle, is what runs.
    let end = json!([
        {"type": "span.end", "session_id": "busy", "span_id": "plan", "ended_at": at(4)},
        {"type": "span.end", "session_id": "busy", "span_id": "gate", "ended_at": at(5)},
    ]);
    assert_eq!(s.post("application/json", end.to_string()).await.0, 200);
    let (_, now) = s.get("/api/v1/now?sessions=busy").await;
    assert_eq!(now["sessions"]["busy"]["running"][0]["span_id"], "root");

    for bad in [
        "/api/v1/now",
        "/api/v1/now?sessions=",
        "/api/v1/now?sessions=,",
    ] {
        let (status, err) = s.get(bad).await;
        assert!(status == 400 || status == 422, "{bad}: {status}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("sessions"),
            "{bad}: {err}"
        );
    }
}

#[tokio::test]
async fn the_headline_figures_follow_the_session_filters_exactly() {
    let s = TestServer::start().await;
    let mut batch = Vec::new();
    // 600 sessions, more than any page: every third one has a planner, every fifth failed.
    for n in 0..600 {
        let id = format!("s{n}");
        let agent = if n % 3 == 0 { "planner" } else { "coder" };
        batch.push(
            json!({"type": "span", "session_id": id, "span_id": "a", "kind": "llm",
            "name": "chat", "agent": agent, "model": "gpt-4o",
            "started_at": "2026-12-02T10:00:00Z", "ended_at": "2026-12-02T10:00:01Z",
            "usage": {"input_tokens": 10, "output_tokens": 5}}),
        );
        let status = if n % 5 == 0 { "failed" } else { "completed" };
        batch.push(json!({"type": "session.end", "session_id": id, "status": status}));
    }
    let (status, _) = s
        .post(
            "application/json",
            serde_json::Value::from(batch).to_string(),
        )
        .await;
    assert_eq!(status, 200);
    let (status, all) = s.get("/api/v1/stats/sessions").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["sessions"], 600);
    let (_, planners) = s.get("/api/v1/stats/sessions?agent=PLAN&limit=1").await;
    assert_eq!(planners["sessions"], 200, "{planners}");
    // n % 15 == 0 of the planners (n % 3 == 0) failed: 40 of 200.
    assert_eq!(planners["failed"], 40);
    assert_eq!(planners["completion_rate"], 0.8);
    assert_eq!(planners["totals"]["input_tokens"], 2000);
    assert_eq!(planners["avg_spans_per_session"], 1.0);
    let (_, failed) = s
        .get("/api/v1/stats/sessions?status=failed&agent=coder")
        .await;
    assert_eq!(failed["sessions"], 80);
    let (status, err) = s.get("/api/v1/stats/sessions?status=bogus").await;
    assert_eq!(status, 400, "{err}");
}

#[tokio::test]
async fn query_errors_are_json_too() {
    let s = TestServer::start().await;
    let (status, err) = s.get("/api/v1/sessions/nope").await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _) = s.get("/api/v1/sessions/nope/spans").await;
    assert_eq!(status, 404);
    let (status, err) = s.get("/api/v1/sessions?status=sleeping").await;
    assert_eq!(status, 400);
    assert!(
        err["error"]["message"].as_str().unwrap().contains("status"),
        "{err}"
    );
    let (status, _) = s.get("/api/v1/sessions?limit=ten").await;
    assert_eq!(status, 400);
    let (status, _) = s.get("/api/v1/sessions?cursor=garbage").await;
    assert_eq!(status, 400);
    let (status, err) = s.get("/api/v1/sessions?text=heist").await;
    assert_eq!(status, 400, "the search parameter is `q`");
    assert!(
        err["error"]["message"].as_str().unwrap().contains("text"),
        "{err}"
    );
    let (status, _) = s.get("/api/v1/metrics?nmae=queue.depth").await;
    assert_eq!(status, 400);
    let (status, err) = s.get("/api/v2/everything").await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test]
async fn several_concurrent_http_writers() {
    let s = Arc::new(TestServer::start().await);
    let mut tasks = Vec::new();
    for w in 0..6 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            for b in 0..10 {
                let body: String = (0..50)
                    .map(|i| {
                        format!(
                            "{}\n",
                            json!({"type":"span","session_id":format!("s{}", w % 2),"span_id":format!("{w}-{b}-{i}"),
                                   "kind":"tool","name":"grep","started_at":1,"ended_at":2})
                        )
                    })
                    .collect();
                assert_eq!(s.post("application/x-ndjson", body).await.0, 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for sid in ["s0", "s1"] {
        let (_, session) = s.get(&format!("/api/v1/sessions/{sid}")).await;
        assert_eq!(session["totals"]["spans"], 3 * 10 * 50);
        assert_eq!(session["totals"]["tool_calls"], 3 * 10 * 50);
    }
}

#[tokio::test]
async fn the_web_ui_is_served_beside_the_api() {
    let s = TestServer::start().await;
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/assets/app.js", "text/javascript; charset=utf-8"),
    ] {
        let res = reqwest::get(format!("{}{path}", s.base)).await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], content_type, "{path}");
    }
    let res = reqwest::get(format!("{}/assets/nope.js", s.base))
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

mod access {
    //! With credentials configured: who passes, who is told how to get in.

    use super::*;
    use flightdeck_server::auth::AuthConfig;
    use reqwest::header::{ACCEPT, AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE, WWW_AUTHENTICATE};
    use reqwest::redirect::Policy;

    async fn guarded() -> TestServer {
        TestServer::start_with(ServerConfig {
            auth: AuthConfig {
                token: Some("t0ken".into()),
                password: Some("hunter2".into()),
            },
            ..ServerConfig::default()
        })
        .await
    }

    fn http() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    /// The status of `GET path` with one header.
    async fn status_of(s: &TestServer, path: &str, header: (&str, &str)) -> u16 {
        http()
            .get(s.url(path))
            .header(header.0, header.1)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Posts the login form as a browser does.
    async fn login(c: &reqwest::Client, s: &TestServer, password: &str) -> reqwest::Response {
        c.post(s.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("password={password}"))
            .send()
            .await
            .unwrap()
    }

    const BATCH: &str =
        r#"{"type":"session.start","session_id":"guarded-1","name":"behind the door"}"#;

    #[tokio::test]
    async fn without_credentials_nothing_passes_but_the_health_check() {
        let s = guarded().await;
        let c = http();
        let r = c
            .post(s.url("/api/v1/events"))
            .header("content-type", "application/x-ndjson")
            .body(BATCH)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()[WWW_AUTHENTICATE], "Bearer");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Bearer"),
            "{body}"
        );
        for path in [
            "/api/v1/sessions",
            "/api/v1/stream",
            "/ws",
            "/proxy/openai/v1/models",
        ] {
            let r = c.get(s.url(path)).send().await.unwrap();
            assert_eq!(r.status(), 401, "{path}");
        }
        let r = c
            .post(s.url("/v1/traces"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(c.get(s.url("/healthz")).send().await.unwrap().status(), 200);
        // A browser asking for the page is sent to the login.
        let r = c
            .get(s.url("/"))
            .header(ACCEPT, "text/html,application/xhtml+xml")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()[LOCATION], "/login");
        // The refused batch was not stored.
        let r = c
            .get(s.url("/api/v1/sessions"))
            .header(AUTHORIZATION, "Bearer t0ken")
            .send()
            .await
            .unwrap();
        let list: Value = r.json().await.unwrap();
        assert_eq!(list["items"], json!([]));
    }

    #[tokio::test]
    async fn the_token_passes_as_bearer_or_as_its_own_header() {
        let s = guarded().await;
        let c = http();
        let r = c
            .post(s.url("/api/v1/events"))
            .header("content-type", "application/x-ndjson")
            .header(AUTHORIZATION, "Bearer t0ken")
            .body(BATCH)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            status_of(
                &s,
                "/api/v1/sessions/guarded-1",
                ("x-flightdeck-token", "t0ken")
            )
            .await,
            200
        );
        assert_eq!(
            status_of(&s, "/api/v1/sessions", ("authorization", "Bearer hunter2")).await,
            401,
            "the password is not a bearer token"
        );
    }

    #[tokio::test]
    async fn the_live_socket_is_refused_without_credentials() {
        let s = guarded().await;
        let url = s.url("/ws").replace("http://", "ws://");
        match tokio_tungstenite::connect_async(url.as_str()).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
            other => panic!("expected a 401, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_login_gives_a_cookie_that_passes_until_logout() {
        let s = guarded().await;
        let c = http();
        let page = c.get(s.url("/login")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains(r#"name="password""#));

        let wrong = login(&c, &s, "hunter3").await;
        assert_eq!(wrong.status(), 401);
        assert!(wrong.headers().get(SET_COOKIE).is_none());
        assert!(wrong.text().await.unwrap().contains("not the password"));

        let ok = login(&c, &s, "hunter2").await;
        assert_eq!(ok.status(), 303);
        assert_eq!(ok.headers()[LOCATION], "/");
        let set = ok.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(set.contains(attribute), "{set}");
        }
        assert!(
            !set.contains("Secure"),
            "plain HTTP is fine on loopback: {set}"
        );
        let cookie = set.split(';').next().unwrap().to_owned();

        assert_eq!(
            status_of(&s, "/api/v1/sessions", ("cookie", &cookie)).await,
            200
        );
        let r = c
            .get(s.url("/"))
            .header(COOKIE, &cookie)
            .header(ACCEPT, "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "the page itself");

        let out = c
            .post(s.url("/logout"))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert!(
            out.headers()[SET_COOKIE]
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
        assert_eq!(
            status_of(&s, "/api/v1/sessions", ("cookie", &cookie)).await,
            401,
            "the session is gone"
        );
    }

    #[tokio::test]
    async fn an_open_server_answers_only_to_loopback_host_names() {
        let s = TestServer::start().await;
        for host in ["localhost:1", "127.0.0.1", "[::1]:7329"] {
            assert_eq!(
                status_of(&s, "/api/v1/sessions", ("host", host)).await,
                200,
                "{host}"
            );
        }
        // A page on a DNS name rebound to 127.0.0.1 must not read traces.
        let r = http()
            .get(s.url("/api/v1/sessions"))
            .header("host", "rebound.attacker.example:7329")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "forbidden_host");
        // With credentials, any name will do (they are what protects the server then).
        let g = guarded().await;
        let r = http()
            .get(g.url("/api/v1/sessions"))
            .header("host", "flightdeck.example.com")
            .header(AUTHORIZATION, "Bearer t0ken")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    #[tokio::test]
    async fn pages_of_other_sites_cannot_write_and_a_login_only_reads() {
        let open = TestServer::start().await;
        let post = |s: &TestServer, origin: Option<&str>, cookie: Option<&str>| {
            let mut r = http()
                .post(s.url("/api/v1/events"))
                .header("content-type", "text/plain")
                .body(BATCH);
            if let Some(o) = origin {
                r = r.header("origin", o);
            }
            if let Some(c) = cookie {
                r = r.header(COOKIE, c);
            }
            async move { r.send().await.unwrap() }
        };
        // A page elsewhere posting to the open server on loopback (a "simple" request).
        let r = post(&open, Some("https://evil.example"), None).await;
        assert_eq!(r.status(), 403);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "forbidden_origin");
        let (_, list) = open.get("/api/v1/sessions").await;
        assert_eq!(list["items"], json!([]), "nothing was stored");
        // The served origin itself, and clients that send no Origin, may.
        let own = open.url("");
        let own = own.trim_end_matches('/');
        assert_ne!(post(&open, Some(own), None).await.status(), 403);
        assert_ne!(post(&open, None, None).await.status(), 403);

        // A login's cookie reads but does not write: writes need the token.
        let s = guarded().await;
        let set = login(&http(), &s, "hunter2").await.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .to_owned();
        let cookie = set.split(';').next().unwrap().to_owned();
        assert_eq!(
            status_of(&s, "/api/v1/sessions", ("cookie", &cookie)).await,
            200
        );
        let own = s.url("");
        let r = post(&s, Some(own.trim_end_matches('/')), Some(&cookie)).await;
        assert_eq!(r.status(), 401);
        // Logging out from another site is refused too.
        let r = http()
            .post(s.url("/logout"))
            .header("origin", "https://evil.example")
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }

    #[tokio::test]
    async fn the_token_also_logs_a_person_in() {
        let s = TestServer::start_with(ServerConfig {
            auth: AuthConfig {
                token: Some("t0ken".into()),
                password: None,
            },
            ..ServerConfig::default()
        })
        .await;
        let r = login(&http(), &s, "t0ken").await;
        assert_eq!(r.status(), 303);
        assert!(r.headers().contains_key(SET_COOKIE));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_samples_its_host_and_process_into_metrics() {
    let s = TestServer::start_with(ServerConfig {
        system_metrics: Some(std::time::Duration::from_secs(1)),
        ..ServerConfig::default()
    })
    .await;
    let mut points = Vec::new();
    for _ in 0..100 {
        let (_, p) = s.get("/api/v1/metrics?name=process.cpu.utilization").await;
        points = p.as_array().unwrap().clone();
        if !points.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        !points.is_empty(),
        "two samples a second apart give CPU use"
    );
    assert_eq!(points[0]["unit"], "1");
    assert!(points[0].get("session_id").is_none_or(Value::is_null));
    let (_, rss) = s.get("/api/v1/metrics?name=process.memory.usage").await;
    assert!(rss[0]["value"].as_f64().unwrap() > 1e6, "{rss}");
    let (_, cores) = s.get("/api/v1/metrics?name=system.cpu.utilization").await;
    assert!(
        cores
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["labels"]["cpu"] == "0")
    );

    let (status, system) = s.get("/api/v1/system").await;
    assert_eq!(status, 200);
    assert_eq!(system["sampling"], true);
    assert_eq!(system["interval_secs"], 1.0);
    assert!(system["host"]["cpus"].as_u64().unwrap() >= 1);
    let gpu = &system["gpu"];
    assert!(
        gpu["available"] == true
            || gpu["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("no GPU found")),
        "{gpu}"
    );

    let off = TestServer::start().await;
    let (_, system) = off.get("/api/v1/system").await;
    assert_eq!(system["sampling"], false);
    assert!(system["interval_secs"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_checks_the_store_and_metrics_parse_as_prometheus_text() {
    let s = TestServer::start().await;
    let (status, ready) = s.get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["failing"], json!([]));
    assert!(ready["checks"]["free_disk"]["bytes"].as_u64().unwrap() > 0);
    let (status, _) = s
        .post("application/json", every_message_type().to_string())
        .await;
    assert_eq!(status, 200);
    let (status, _) = s.post("application/json", "{\"type\":\"nope\"}").await;
    assert_eq!(status, 422);
    let Some(out) = support::run_python("prometheus_scrape.py", &[s.base.as_str()], &[]).await
    else {
        return;
    };
    assert!(
        out["content_type"]
            .as_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let f = &out["families"];
    let value = |family: &str| f[family]["samples"][0][2].as_f64().unwrap();
    assert_eq!(f["flightdeck_store_committed_messages"]["type"], "counter");
    assert_eq!(value("flightdeck_store_committed_messages"), 10.0, "{f}");
    assert!(value("flightdeck_store_commits") >= 1.0);
    assert_eq!(f["flightdeck_store_writer_queue"]["type"], "gauge");
    assert_eq!(value("flightdeck_proxy_calls"), 0.0);
    assert_eq!(
        f["flightdeck_build_info"]["samples"][0][1]["version"],
        env!("CARGO_PKG_VERSION")
    );
    let refused = &f["flightdeck_refused"]["samples"][0];
    assert_eq!(refused[1]["source"], "native", "{refused}");
    assert_eq!(refused[2], 1.0);
}
