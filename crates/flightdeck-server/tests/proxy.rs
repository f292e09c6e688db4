//! The recording proxy with the official `openai` and `anthropic` Python clients against a
//! fake upstream on loopback: what the client sees is byte-identical to a direct call, and
//! the calls are recorded (session, agent, messages, output, usage, cost; failures as failed
//! spans) without any key reaching the store.

mod support;

use flightdeck_fake_llm::{FakeLlm, Options, Style};
use flightdeck_server::ServerConfig;
use flightdeck_server::proxy::config::{ApiKind, ProxyConfig, Upstream};
use serde_json::Value;
use std::collections::BTreeMap;
use support::TestServer;
use support::llm::{proxy_to, start};

#[tokio::test(flavor = "multi_thread")]
async fn official_clients_see_no_difference_and_every_call_is_recorded() {
    let Some(python) = support::python() else {
        return;
    };
    let (fake, s) = start().await;
    let out = tokio::process::Command::new(python)
        .arg(support::python_script("proxy_clients.py"))
        .args([fake.url(), format!("{}/proxy", s.base), "py-1".to_owned()])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    for (case, r) in results.as_object().unwrap() {
        assert_eq!(
            r["direct"], r["proxied"],
            "{case}: the proxied call differs from the direct one"
        );
    }
    assert_eq!(results["chat"]["direct"]["status"], 200);
    assert!(
        results["chat_stream"]["direct"]["body"]
            .as_str()
            .unwrap()
            .contains("midnight")
    );
    assert_eq!(results["chat_429"]["direct"]["error"], "RateLimitError");
    assert!(
        results["chat_cut_stream"]["direct"]["error"].is_string(),
        "a cut stream fails the client"
    );

    // The upstream got the client's key but none of Flightdeck's headers.
    let h = fake.last_headers();
    assert!(h.get("x-api-key").is_some() || h.get("authorization").is_some());
    assert!(
        h.keys().all(|k| !k.as_str().starts_with("x-flightdeck")),
        "{h:?}"
    );
    // The client accepts compressed answers; the proxy reads them, so it asks for none.
    assert_eq!(h["accept-encoding"], "identity");

    // Recorded: 9 LLM calls (models is passed through, not recorded).
    let spans = support::recorded(&s, "py-1", 9).await;
    assert_eq!(spans.len(), 9, "{spans:#?}");
    assert!(
        spans
            .iter()
            .all(|s| s["kind"] == "llm" && s["agent"] == "planner")
    );
    let by_status = |st: &str| spans.iter().filter(|s| s["status"] == st).count();
    let errors: Vec<(&Value, &Value)> = spans
        .iter()
        .filter(|s| s["status"] == "error")
        .map(|s| (&s["name"], &s["error"]))
        .collect();
    assert_eq!(
        by_status("error"),
        3,
        "429, 500 and the cut stream failed: {errors:?}"
    );
    let (_, session) = s.get("/api/v1/sessions/py-1").await;
    assert_eq!(session["tags"], serde_json::json!(["py", "proxy-test"]));
    assert!(session["totals"]["cost_usd"].as_f64().unwrap() > 0.0);

    let mut names = std::collections::BTreeMap::<String, Vec<Value>>::new();
    for span in &spans {
        let (_, full) = s
            .get(&format!(
                "/api/v1/spans/py-1/{}",
                span["span_id"].as_str().unwrap()
            ))
            .await;
        names
            .entry(full["name"].as_str().unwrap().to_owned())
            .or_default()
            .push(full);
    }
    let chats = &names["chat.completions"];
    let ok_chats: Vec<&Value> = chats.iter().filter(|c| c["status"] == "ok").collect();
    assert_eq!(ok_chats.len(), 3);
    for c in &ok_chats {
        assert_eq!(c["input"][1]["content"], "Plan the job.");
        assert_eq!(c["output"]["content"], "Case the vault at midnight.");
        assert_eq!(
            c["usage"]["input_tokens"], 12,
            "usage recorded, streamed or not: {c}"
        );
        assert_eq!(c["model"], "gpt-4o");
        assert_eq!(
            c["attributes"]["gen_ai.response.model"], "gpt-4o",
            "the model that answered, as OTLP names it"
        );
        assert_eq!(c["provider"], "openai");
    }
    assert!(ok_chats.iter().any(|c| c["params"]["temperature"] == 0.2));
    let failed: Vec<&Value> = chats.iter().filter(|c| c["status"] == "error").collect();
    assert!(
        failed
            .iter()
            .any(|c| c["error"].as_str().unwrap().contains("429"))
    );
    assert!(
        failed
            .iter()
            .any(|c| c["error"].as_str().unwrap().contains("cut"))
    );
    for m in &names["messages"] {
        assert_eq!(m["status"], "ok");
        assert_eq!(m["input"][0]["role"], "system");
        assert_eq!(m["usage"]["output_tokens"], 6);
        assert!(m["output"].to_string().contains("midnight"));
    }
    assert_eq!(names["embeddings"][0]["output"]["dimensions"], 3);

    // No key anywhere in the store's files.
    s.assert_not_stored(b"sk-test-secret-never-stored");
}

/// Streams from upstreams that write differently reach the official client exactly as a
/// direct call would see them, though the proxy asked each for usage the client did not.
#[tokio::test(flavor = "multi_thread")]
async fn streams_of_any_formatting_reach_the_client_as_sent() {
    let styles = [
        ("compact", Style::default()),
        (
            "spaced",
            Style {
                spaced: true,
                ..Style::default()
            },
        ),
        (
            "crlf",
            Style {
                spaced: true,
                crlf: true,
                ..Style::default()
            },
        ),
        (
            "bytewise",
            Style {
                byte_per_write: true,
                ..Style::default()
            },
        ),
        (
            "ignores",
            Style {
                ignores_stream_options: true,
                ..Style::default()
            },
        ),
    ];
    let mut fakes = Vec::new();
    let mut upstreams = BTreeMap::new();
    for (name, style) in styles {
        let fake = FakeLlm::start(Options {
            style,
            ..Options::default()
        })
        .await
        .unwrap();
        upstreams.insert(name.to_owned(), Upstream::new(fake.url(), ApiKind::Openai));
        fakes.push((name, fake));
    }
    let s = TestServer::start_with(ServerConfig {
        proxy: ProxyConfig {
            upstreams,
            ..ProxyConfig::default()
        },
        ..ServerConfig::default()
    })
    .await;
    let proxy = format!("{}/proxy", s.base);
    let mut args = vec![proxy.as_str(), "styles"];
    let specs: Vec<String> = fakes
        .iter()
        .map(|(name, fake)| format!("{name}={}", fake.url()))
        .collect();
    args.extend(specs.iter().map(String::as_str));
    let Some(results) = support::run_python("proxy_stream_styles.py", &args, &[]).await else {
        return;
    };
    for (name, _) in &fakes {
        let r = &results[name];
        assert_eq!(
            r["direct"]["idiom"]["ok"], "Case the vault at midnight.",
            "{name}: {r}"
        );
        assert_eq!(r["direct"], r["proxied"], "{name}: proxied differs");
    }
    assert!(
        results["crlf"]["direct"]["raw"]["ok"]
            .as_str()
            .unwrap()
            .contains("\r\n\r\n"),
        "the CRLF upstream writes CRLF"
    );
    assert!(
        results["spaced"]["direct"]["raw"]["ok"]
            .as_str()
            .unwrap()
            .contains("\"choices\": [{"),
        "the spaced upstream writes spaced JSON"
    );

    // Recorded with usage where the upstream gave it, without where it ignored the option.
    let spans = support::recorded(&s, "styles", 2 * fakes.len()).await;
    for span in &spans {
        let (_, full) = s
            .get(&format!(
                "/api/v1/spans/styles/{}",
                span["span_id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(
            full["output"]["content"], "Case the vault at midnight.",
            "{full}"
        );
    }
    let with_usage = spans
        .iter()
        .filter(|s| s["usage"]["input_tokens"] == 12)
        .count();
    assert_eq!(with_usage, 2 * (fakes.len() - 1), "{spans:#?}");
}

#[tokio::test]
async fn calls_without_session_headers_are_grouped_per_client() {
    let (_fake, s) = start().await;
    for _ in 0..3 {
        let r = s
            .client
            .post(format!("{}/proxy/openai/v1/chat/completions", s.base))
            .header("user-agent", "my-agent/1.0")
            .json(&serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let mut sessions = Value::Null;
    for _ in 0..200 {
        let (_, list) = s.get("/api/v1/sessions?q=my-agent").await;
        if list["items"][0]["totals"]["llm_calls"] == 3 {
            sessions = list;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let items = sessions["items"]
        .as_array()
        .expect("grouped session recorded");
    assert_eq!(items.len(), 1, "one session for one client");
    assert!(items[0]["name"].as_str().unwrap().contains("my-agent/1.0"));
    assert_eq!(items[0]["tags"][0], "proxy");
}

#[tokio::test]
async fn unknown_upstreams_and_unreachable_ones_are_clear_errors() {
    let (_fake, s) = start().await;
    let (status, err) = s.get("/proxy/nowhere/v1/models").await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nowhere")
    );

    let dead = TestServer::start_with(ServerConfig {
        proxy: ProxyConfig {
            upstreams: BTreeMap::from([(
                "openai".to_owned(),
                Upstream::new("http://127.0.0.1:9", ApiKind::Openai),
            )]),
            ..ProxyConfig::default()
        },
        ..ServerConfig::default()
    })
    .await;
    let r = dead
        .client
        .post(format!("{}/proxy/openai/v1/chat/completions", dead.base))
        .header("x-flightdeck-session", "down")
        .json(&serde_json::json!({"model": "gpt-4o", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "upstream_unreachable");
    let spans = support::recorded(&dead, "down", 1).await;
    assert_eq!(spans[0]["status"], "error");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_otel_traced_app_through_the_proxy_gets_one_span_per_call() {
    let fake = FakeLlm::start(Options {
        unique_ids: true,
        ..Options::default()
    })
    .await
    .unwrap();
    let s = TestServer::start_with(ServerConfig {
        proxy: proxy_to(&fake),
        ..ServerConfig::default()
    })
    .await;
    let proxy_url = format!("{}/proxy/openai/v1", s.base);
    let Some(out) = support::run_python(
        "otlp_through_proxy.py",
        &["--endpoint", &s.base, "--service", "crew-svc"],
        &[("PROXY_URL", &proxy_url)],
    )
    .await
    else {
        return;
    };
    let trace = out["traceparent"]
        .as_str()
        .unwrap()
        .split('-')
        .nth(1)
        .unwrap()
        .to_owned();
    // The proxy records off the request path: wait until every call is one joined span.
    let mut calls = Vec::new();
    for _ in 0..200 {
        let (_, spans) = s.get("/api/v1/sessions/proxied-1/spans").await;
        calls.clear();
        for span in spans
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["kind"] == "llm")
        {
            let id = span["span_id"].as_str().unwrap();
            calls.push(
                s.json(&format!("/api/v1/sessions/proxied-1/spans/{id}"))
                    .await,
            );
        }
        let joined =
            |c: &Value| c["attributes"]["proxy.upstream"] == "openai" && c["status"] == "ok";
        if calls.len() >= 3 && calls.iter().all(joined) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(calls.len(), 3, "one span per call: {calls:?}");
    for c in &calls {
        assert_eq!(
            c["attributes"]["proxy.upstream"], "openai",
            "the proxy's record: {c}"
        );
        assert!(
            c["attributes"]["gen_ai.response.id"]
                .as_str()
                .is_some_and(|id| id.starts_with("chatcmpl-fake-")),
            "the OTel span: {c}"
        );
        assert_eq!(c["parent_id"], out["root"], "OTel's parent");
        assert_eq!(c["agent"], "crew-svc", "OTel's agent");
        assert_eq!(c["trace_id"], trace);
        assert_eq!(
            c["output"]["content"], "Case the vault at midnight.",
            "the proxy's exact answer: {c}"
        );
        assert_eq!(c["usage"]["input_tokens"], 12);
    }
    let (_, session) = s.get("/api/v1/sessions/proxied-1").await;
    assert_eq!(
        session["totals"]["llm_calls"], 3,
        "no call counted twice: {session}"
    );
    assert_eq!(session["totals"]["input_tokens"], 36);
    assert_eq!(
        session["totals"]["spans"], 4,
        "the root and the three calls"
    );
    // The proxy's own session for the call without trace context keeps no span of it.
    let (_, list) = s.get("/api/v1/sessions").await;
    for other in list["items"].as_array().unwrap() {
        if other["session_id"] != "proxied-1" {
            assert_eq!(other["totals"]["spans"], 0, "{other}");
        }
    }
}

/// Each call's exact exchange is stored: the request as the client sent it, and the response
/// bytes as the client got them, cut where they arrived (the proxy's usage request taken back
/// out), plain and streamed.
#[tokio::test(flavor = "multi_thread")]
async fn the_exact_exchange_of_each_call_is_kept() {
    let (_fake, s) = start().await;
    let mut got = Vec::new();
    for stream in [false, true] {
        let sent = serde_json::json!({"model": "gpt-4o", "stream": stream,
            "messages": [{"role": "user", "content": "Plan the job."}]})
        .to_string();
        let r = s
            .client
            .post(s.url("/proxy/openai/v1/chat/completions"))
            .header("x-flightdeck-session", "ex")
            .header("content-type", "application/json")
            .body(sent.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        got.push((sent, r.bytes().await.unwrap()));
    }
    let spans = support::recorded(&s, "ex", 2).await;
    for (span, (sent, body)) in spans.iter().zip(&got) {
        let id = span["span_id"].as_str().unwrap();
        let mut x = None;
        for _ in 0..200 {
            x = s.store.exchange("ex", id).await.unwrap();
            if x.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let x = x.expect("the exchange was stored");
        assert_eq!(x.request, sent.as_bytes());
        assert_eq!(x.response, body.as_ref(), "the bytes the client got");
        assert_eq!((x.status, x.upstream.as_str()), (200, "openai"));
        assert_eq!(x.path, "/v1/chat/completions");
        assert!(!x.truncated);
        let total: u32 = x.chunks.iter().map(|c| c.len).sum();
        assert_eq!(total as usize, x.response.len());
        assert!(x.chunks.windows(2).all(|w| w[0].after_us <= w[1].after_us));
    }
    let streamed = s
        .store
        .exchange("ex", spans[1]["span_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(streamed.content_type.as_deref(), Some("text/event-stream"));
    assert!(
        streamed.chunks.len() > 1,
        "a stream keeps its chunk boundaries"
    );
    let text = String::from_utf8(streamed.response).unwrap();
    assert!(
        text.contains("midnight") && !text.contains("\"usage\""),
        "{text}"
    );
}
