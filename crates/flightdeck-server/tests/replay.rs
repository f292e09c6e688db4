//! Replay from here and compare, end to end: scripted agents on the official `openai` Python
//! client run through the proxy against a fake upstream that counts what it gets, then again
//! against a replay's base URL (or with the replay header) with no other change.

mod support;

use flightdeck_fake_llm::{FakeLlm, Options};
use flightdeck_server::ServerConfig;
use flightdeck_server::proxy::config::{ApiKind, ProxyConfig, Upstream};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use support::TestServer;

async fn start() -> (FakeLlm, TestServer) {
    let fake = FakeLlm::start(Options {
        keep_requests: true,
        ..Options::default()
    })
    .await
    .unwrap();
    let server = TestServer::start_with(ServerConfig {
        proxy: ProxyConfig {
            upstreams: BTreeMap::from([(
                "openai".to_owned(),
                Upstream::new(fake.url(), ApiKind::Openai),
            )]),
            ..ProxyConfig::default()
        },
        ..ServerConfig::default()
    })
    .await;
    (fake, server)
}

/// Runs `replay_agent.py` against `base` (an `OPENAI_BASE_URL`); `None` without Python.
async fn agent(base: &str, session: &str, plan: &str, flags: &[&str]) -> Option<Vec<Value>> {
    let mut args = vec![base, session, plan];
    args.extend_from_slice(flags);
    let out = support::run_python("replay_agent.py", &args, &[]).await?;
    Some(out.as_array().unwrap().clone())
}

fn proxy(s: &TestServer) -> String {
    format!("{}/proxy/openai/v1", s.base)
}

async fn post(s: &TestServer, path: &str, body: Value) -> (u16, Value) {
    let r = s.client.post(s.url(path)).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Starts a replay of `session` from the `n`-th (from 1) span, with `request` as the edit.
async fn replay(s: &TestServer, session: &str, span: &str, extra: Value) -> Value {
    let mut body = json!({"session_id": session, "span_id": span});
    if let Value::Object(m) = extra {
        body.as_object_mut().unwrap().extend(m);
    }
    let (status, r) = post(s, "/api/v1/replays", body).await;
    assert_eq!(status, 201, "{r}");
    r
}

fn answers(calls: &[Value]) -> Vec<&str> {
    calls
        .iter()
        .map(|c| c["answer"].as_str().unwrap())
        .collect()
}

fn last_user(request: &Value) -> &str {
    let messages = request["messages"].as_array().unwrap();
    messages.iter().rev().find(|m| m["role"] == "user").unwrap()["content"]
        .as_str()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_four_call_agent_replayed_from_its_third_call_with_an_edit() {
    let (fake, s) = start().await;
    let Some(original) = agent(&proxy(&s), "orig", "solo,solo,solo,solo", &[]).await else {
        return;
    };
    assert_eq!(fake.requests(), 4);
    let spans = support::recorded(&s, "orig", 4).await;
    let third = spans[2]["span_id"].as_str().unwrap();

    // The edit starts from the request exactly as recorded.
    let exchange = s.json(&format!("/api/v1/exchanges/orig/{third}")).await;
    let mut edited = exchange["request"].clone();
    assert_eq!(last_user(&edited), "solo step 3");
    let n = edited["messages"].as_array().unwrap().len();
    edited["messages"][n - 1]["content"] = json!("solo step 3, but in the bank");

    let r = replay(&s, "orig", third, json!({"request": edited})).await;
    let id = r["replay_id"].as_str().unwrap();
    let fork = r["fork_session_id"].as_str().unwrap();
    assert_eq!(r["fork"], json!({"agent": "solo", "call": 3}));
    assert_eq!(r["recorded_calls"], 2);
    let base = r["base_urls"]["openai"].as_str().unwrap();
    assert_eq!(base, format!("{}/replay/{id}/openai/v1", s.base));
    assert_eq!(r["env"], format!("OPENAI_BASE_URL={base}"));

    let again = agent(base, "ignored", "solo,solo,solo,solo", &[])
        .await
        .unwrap();
    // The upstream saw only the fork call (with the edit) and the one after it.
    assert_eq!(
        fake.requests(),
        6,
        "calls 1 and 2 were answered from the recording"
    );
    let seen = fake.received();
    assert_eq!(last_user(&seen[4]), "solo step 3, but in the bank");
    assert_eq!(last_user(&seen[5]), "solo step 4");
    assert_eq!(answers(&again)[..2], answers(&original)[..2]);
    assert_eq!(answers(&again)[2], "You said: solo step 3, but in the bank");

    // The fork is linked to the original, holds all four calls, the first two served.
    let session = s.json(&format!("/api/v1/sessions/{fork}")).await;
    assert_eq!(session["metadata"]["replay"]["session_id"], "orig");
    assert_eq!(session["metadata"]["replay"]["span_id"], third);
    assert_eq!(session["tags"], json!(["replay"]));
    let forked = support::recorded(&s, fork, 4).await;
    assert_eq!(forked.len(), 4);
    for (i, span) in forked.iter().enumerate() {
        let full = s
            .json(&format!(
                "/api/v1/spans/{fork}/{}",
                span["span_id"].as_str().unwrap()
            ))
            .await;
        let served = full["attributes"]["replay.served"] == true;
        assert_eq!(served, i < 2, "call {}: {full}", i + 1);
        assert_eq!(
            full["usage"].is_null(),
            i < 2,
            "served calls spent no tokens"
        );
    }

    // What the replay saved.
    let record = s.json(&format!("/api/v1/replays/{id}")).await;
    assert_eq!(record["saved"]["calls"], 2);
    assert_eq!(record["saved"]["input_tokens"], 24);
    assert!(record["saved"]["time_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(record["upstream_calls"], 2);
    assert!(record["mismatch"].is_null(), "{record}");

    // Compare: the runs diverge at call three.
    let c = s.json(&format!("/api/v1/compare?a=orig&b={fork}")).await;
    assert_eq!(
        c["divergence"],
        json!({"step": 2, "agent": "solo", "call": 3})
    );
    let steps = c["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4);
    assert!(steps[0]["same"] == true && steps[1]["same"] == true);
    assert_eq!(steps[2]["same_input"], false);
    let inserted: String = steps[2]["answer_diff"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["op"] == "insert")
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert!(inserted.contains("bank"), "{}", steps[2]);
    // The echo upstream answers call 4 from its own prompt alone: the final answers agree.
    assert_eq!(c["final"]["a"], "You said: solo step 4");
    assert_eq!(c["final"]["same"], true, "{}", c["final"]);
    assert_eq!(c["b"]["replay"]["replay_id"], id);
    assert_eq!(
        c["deltas"]["input_tokens"]["delta"], -24.0,
        "{}",
        c["deltas"]
    );
    assert_eq!(c["deltas"]["llm_calls"]["delta"], 0.0);

    // The record is durable, with the progress.
    let mut stored = None;
    for _ in 0..100 {
        stored = s
            .store
            .replay(id)
            .await
            .unwrap()
            .filter(|r| r.upstream_calls == 2);
        if stored.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(stored.expect("stored").saved.calls, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_streamed_replay_gives_the_recorded_bytes() {
    let (fake, s) = start().await;
    let Some(original) = agent(&proxy(&s), "st", "solo,solo,solo", &["--stream"]).await else {
        return;
    };
    let spans = support::recorded(&s, "st", 3).await;
    let r = replay(&s, "st", spans[2]["span_id"].as_str().unwrap(), json!({})).await;
    let base = r["base_urls"]["openai"].as_str().unwrap();
    let again = agent(base, "st", "solo,solo,solo", &["--stream"])
        .await
        .unwrap();
    assert_eq!(fake.requests(), 4, "only the fork call went upstream");
    for i in 0..2 {
        assert_eq!(again[i]["raw"], original[i]["raw"], "call {}", i + 1);
        let x = s
            .json(&format!(
                "/api/v1/exchanges/st/{}",
                spans[i]["span_id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(again[i]["raw"], x["response"]);
        assert!(x["chunks"].as_array().unwrap().len() > 1);
    }
    assert_eq!(
        again[2]["answer"], original[2]["answer"],
        "no edit: the same request"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_whose_calls_interleave_in_another_order_still_match() {
    let (fake, s) = start().await;
    let plan = "alpha,beta,alpha,beta";
    if agent(&proxy(&s), "duo", plan, &[]).await.is_none() {
        return;
    }
    let spans = support::recorded(&s, "duo", 4).await;
    let last = spans
        .iter()
        .max_by_key(|s| s["started_at"].as_i64())
        .unwrap();
    assert_eq!(last["agent"], "beta");
    let r = replay(&s, "duo", last["span_id"].as_str().unwrap(), json!({})).await;
    assert_eq!(r["fork"], json!({"agent": "beta", "call": 2}));
    assert_eq!(r["recorded_calls"], 3);
    // Beta first, and its fork call before alpha's second: on the normal proxy route, with
    // the replay header.
    let id = r["replay_id"].as_str().unwrap();
    agent(
        &proxy(&s),
        "duo-again",
        "beta,alpha,beta,alpha",
        &["--replay", id],
    )
    .await
    .unwrap();
    assert_eq!(fake.requests(), 5, "only beta's second call went upstream");
    let record = s.json(&format!("/api/v1/replays/{id}")).await;
    assert_eq!(record["saved"]["calls"], 3);
    assert!(record["mismatch"].is_null(), "{record}");
    let forked = support::recorded(&s, r["fork_session_id"].as_str().unwrap(), 4).await;
    assert_eq!(forked.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mismatching_call_is_reported_with_its_diff() {
    let (fake, s) = start().await;
    if agent(&proxy(&s), "mm", "alpha,alpha,alpha", &[])
        .await
        .is_none()
    {
        return;
    }
    let spans = support::recorded(&s, "mm", 3).await;
    let third = spans[2]["span_id"].as_str().unwrap();
    let r = replay(&s, "mm", third, json!({})).await;
    let base = r["base_urls"]["openai"].as_str().unwrap();
    agent(base, "mm", "alpha,alpha,alpha", &["--variant"])
        .await
        .unwrap();
    assert_eq!(
        fake.requests(),
        5,
        "call 1 served; the changed call 2 and call 3 went upstream"
    );
    let record = s
        .json(&format!(
            "/api/v1/replays/{}",
            r["replay_id"].as_str().unwrap()
        ))
        .await;
    let m = &record["mismatch"];
    assert_eq!(
        (&m["agent"], &m["call"]),
        (&json!("alpha"), &json!(2)),
        "{record}"
    );
    assert_eq!(m["recorded_span_id"], spans[1]["span_id"]);
    assert_eq!(m["outcome"], "upstream");
    let diff = m["diff"].as_str().unwrap();
    assert!(
        diff.contains("- ") && diff.contains("\"alpha step 2\""),
        "{diff}"
    );
    assert!(
        diff.contains("+ ") && diff.contains("\"alpha step 2 (changed)\""),
        "{diff}"
    );

    // With on_mismatch "fail", the call is refused with the diff, and nothing goes upstream.
    let r = replay(&s, "mm", third, json!({"on_mismatch": "fail"})).await;
    let url = format!(
        "{}/chat/completions",
        r["base_urls"]["openai"].as_str().unwrap()
    );
    let body =
        json!({"model": "echo", "messages": [{"role": "user", "content": "something else"}]});
    let resp = s
        .client
        .post(&url)
        .header("x-flightdeck-agent", "alpha")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["code"], "replay_mismatch");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("something else"),
        "{err}"
    );
    assert_eq!(fake.requests(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_a_clear_error_naming_it() {
    let (_fake, s) = start().await;
    let (status, _) = s
        .post(
            "application/x-ndjson",
            concat!(
                r#"{"type":"span.start","session_id":"native","span_id":"n1","kind":"llm","name":"chat","model":"gpt-4o"}"#,
                "\n",
                r#"{"type":"span.start","session_id":"native","span_id":"t1","kind":"tool","name":"search"}"#
            ),
        )
        .await;
    assert_eq!(status, 200);
    let cases = [
        (
            json!({"session_id": "nope", "span_id": "x"}),
            404,
            "not_found",
            "\"nope\"",
        ),
        (
            json!({"session_id": "native", "span_id": "x"}),
            404,
            "not_found",
            "\"x\"",
        ),
        (
            json!({"session_id": "native", "span_id": "n1"}),
            422,
            "not_replayable",
            "not recorded through the proxy",
        ),
        (
            json!({"session_id": "native", "span_id": "t1"}),
            422,
            "not_replayable",
            "tool span",
        ),
        (
            json!({"session_id": "native", "span_id": "n1", "request": [1]}),
            422,
            "invalid_field",
            "request",
        ),
        (
            json!({"session_id": "native", "span_id": "n1", "on_mismatch": "shrug"}),
            422,
            "invalid_field",
            "on_mismatch",
        ),
        (
            json!({"session": "native"}),
            422,
            "invalid_field",
            "session",
        ),
    ];
    for (body, status, code, says) in cases {
        let (got, err) = post(&s, "/api/v1/replays", body.clone()).await;
        assert_eq!(got, status, "{body}: {err}");
        assert_eq!(err["error"]["code"], code, "{body}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    let r = s
        .client
        .post(s.url("/replay/nope/openai/v1/chat/completions"))
        .json(&json!({"model": "echo", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let err: Value = r.json().await.unwrap();
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no replay \"nope\""),
        "{err}"
    );
    let (status, err) = s.get("/replay/nope/openai/v1/models").await;
    assert_eq!(status, 404, "any path under an unknown replay: {err}");
    let (status, err) = s.get("/api/v1/replays/nope").await;
    assert_eq!(status, 404, "{err}");
    let (status, err) = s.get("/api/v1/exchanges/native/n1").await;
    assert_eq!(status, 404, "{err}");
    let (status, err) = s.get("/api/v1/compare?a=native&b=gone").await;
    assert_eq!(status, 404);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("b: no session \"gone\""),
        "{err}"
    );
    let (status, _) = s.get("/api/v1/compare?a=native").await;
    assert_eq!(status, 400);
}

/// One chat call of agent `solo` through `base` (the proxy or a replay), its answer's text.
async fn call(s: &TestServer, base: &str, step: usize) -> String {
    let r = s
        .client
        .post(format!("{base}/chat/completions"))
        .header("x-flightdeck-session", "kept")
        .header("x-flightdeck-agent", "solo")
        .json(&json!({"model": "gpt-4o-mini",
                      "messages": [{"role": "user", "content": format!("step {step}")}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The replay's record as the store holds it, once its progress has `calls` calls of `solo`.
async fn stored_at(
    s: &TestServer,
    id: &str,
    calls: usize,
) -> flightdeck_model::replay::ReplayRecord {
    for _ in 0..200 {
        if let Some(r) = s.store.replay(id).await.unwrap()
            && r.progress.iter().any(|p| p.calls == calls)
        {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the progress of replay {id} was not stored at {calls} calls");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_goes_on_where_it_was_after_a_restart_and_names_its_served_spans() {
    let (fake, mut s) = start().await;
    for step in 1..=3 {
        call(&s, &proxy(&s), step).await;
    }
    let spans = support::recorded(&s, "kept", 3).await;
    let third = spans[2]["span_id"].as_str().unwrap();
    let r = replay(&s, "kept", third, json!({})).await;
    let id = r["replay_id"].as_str().unwrap().to_owned();
    let fork = r["fork_session_id"].as_str().unwrap().to_owned();
    assert_eq!(r["progress"], json!([]));

    // The original names its fork, and nothing else of it changed.
    let original = s.json("/api/v1/sessions/kept").await;
    assert_eq!(
        original["metadata"][format!("fork.{id}")],
        json!({"fork_session_id": fork, "span_id": third})
    );
    assert_eq!(original["started_at"], spans[0]["started_at"]);

    let replay_url = format!("{}/replay/{id}/openai/v1", s.base);
    call(&s, &replay_url, 1).await;
    assert_eq!(fake.requests(), 3, "call 1 was served");
    stored_at(&s, &id, 1).await;

    s.restart().await;
    call(&s, &replay_url, 2).await;
    assert_eq!(
        fake.requests(),
        3,
        "after the restart call 2 is served, not call 1 again"
    );
    call(&s, &replay_url, 3).await;
    assert_eq!(fake.requests(), 4, "the fork call went upstream");

    let record = stored_at(&s, &id, 3).await;
    assert_eq!(record.saved.calls, 2);
    assert_eq!(record.upstream_calls, 1);
    let forked = support::recorded(&s, &fork, 3).await;
    let served: Vec<&str> = forked
        .iter()
        .map(|s| s["span_id"].as_str().unwrap())
        .filter(|id| record.served_spans.iter().any(|x| x == id))
        .collect();
    assert_eq!(
        served.len(),
        2,
        "{forked:?} against {:?}",
        record.served_spans
    );
    let api = s.json(&format!("/api/v1/replays/{id}")).await;
    assert_eq!(api["served_spans"].as_array().unwrap().len(), 2);
    assert_eq!(
        api["progress"],
        json!([{"agent": "solo", "calls": 3, "diverged": false}])
    );
}
