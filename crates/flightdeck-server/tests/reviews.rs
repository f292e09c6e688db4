//! Review gates end to end on a real port: approve, edit and exit early; the timeout with
//! each action; a restart while an agent waits; a deadline that passes while the server is
//! down; concurrent reviews decided out of order; late decisions; an agent that went away;
//! bad input; decisions over the live socket, and every subscriber hearing of reviews.

use flightdeck_server::ServerConfig;
use flightdeck_server::auth::AuthConfig;
use flightdeck_server::reviews::ReviewConfig;
use flightdeck_server::testing::TestServer;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Longest wait for anything that should come; tests never sleep for time to pass.
const PATIENCE: Duration = Duration::from_secs(15);

async fn post(s: &TestServer, path: &str, body: &Value) -> (u16, Value) {
    let r = s
        .client
        .post(s.url(path))
        .json(body)
        .send()
        .await
        .expect("POST");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn open(s: &TestServer, body: Value) -> Value {
    let (status, review) = post(s, "/api/v1/reviews", &body).await;
    assert_eq!(status, 200, "{review}");
    review
}

async fn decide(s: &TestServer, id: &str, body: Value) -> (u16, Value) {
    post(s, &format!("/api/v1/reviews/{id}/decision"), &body).await
}

/// Waits as an agent does: long-polls until the review is settled, riding out a server that
/// is away (connection refused) as the SDKs do.
async fn wait_settled(client: reqwest::Client, url: String) -> Value {
    let waiting = async {
        loop {
            match client.get(format!("{url}?wait=5")).send().await {
                Ok(r) if r.status().is_success() => {
                    let v: Value = r.json().await.unwrap();
                    if v["state"] != "pending" {
                        return v;
                    }
                }
                Ok(r) => panic!("waiting answered {}", r.status()),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    };
    tokio::time::timeout(PATIENCE, waiting)
        .await
        .expect("the review is settled in time")
}

fn waiter(s: &TestServer, id: &str) -> tokio::task::JoinHandle<Value> {
    tokio::spawn(wait_settled(
        s.client.clone(),
        s.url(&format!("/api/v1/reviews/{id}")),
    ))
}

fn request(session: &str, id: &str, output: Value) -> Value {
    json!({"session_id": session, "review_id": id, "title": "check", "task": "write the plan",
           "output": output, "timeout_ms": 60_000})
}

#[tokio::test]
async fn approve_edit_and_exit_early_reach_the_waiting_agent_and_the_session() {
    let s = TestServer::start().await;
    let a = open(&s, request("s1", "r-approve", json!("plan A"))).await;
    assert_eq!(a["state"], "pending");
    assert!(
        a["deadline"].is_string() || a["deadline"].is_number(),
        "{a}"
    );
    open(&s, request("s1", "r-edit", json!({"steps": ["a", "b"]}))).await;
    open(&s, request("s1", "r-exit", json!("rm -rf /"))).await;
    let (wa, we, wx) = (
        waiter(&s, "r-approve"),
        waiter(&s, "r-edit"),
        waiter(&s, "r-exit"),
    );
    let (st, _) = decide(&s, "r-approve", json!({"decision": "continue"})).await;
    assert_eq!(st, 200);
    let (st, edited) = decide(
        &s,
        "r-edit",
        json!({"decision": "edit", "output": {"steps": ["a", "c"]}, "comment": "not b"}),
    )
    .await;
    assert_eq!(st, 200, "{edited}");
    let (st, _) = decide(&s, "r-exit", json!({"decision": "exit_early"})).await;
    assert_eq!(st, 200);

    let a = wa.await.unwrap();
    assert_eq!(
        (a["state"].as_str(), a["decision"].as_str()),
        (Some("decided"), Some("continue"))
    );
    assert_eq!(a["decided_by"], "loopback");
    let e = we.await.unwrap();
    assert_eq!(e["decision"], "edit");
    assert_eq!(e["revised_output"], json!({"steps": ["a", "c"]}));
    assert_eq!(e["comment"], "not b");
    let diff = e["diff"].as_str().unwrap();
    assert!(
        diff.contains("-     \"b\"") && diff.contains("+     \"c\""),
        "{diff}"
    );
    let x = wx.await.unwrap();
    assert_eq!(x["decision"], "exit_early");

    // The session holds each review as a span of kind review, ended with the output the
    // agent goes on with, and the decision as an event.
    let spans = s.json("/api/v1/sessions/s1/spans").await;
    let spans = spans.as_array().unwrap();
    let review_spans: Vec<&Value> = spans.iter().filter(|s| s["kind"] == "review").collect();
    assert_eq!(review_spans.len(), 3, "{spans:?}");
    assert!(
        review_spans
            .iter()
            .all(|s| s["status"] == "ok" && s["ended_at"].is_string() || s["ended_at"].is_number())
    );
    let span = s.json("/api/v1/sessions/s1/spans/review-r-edit").await;
    assert_eq!(span["output"], json!({"steps": ["a", "c"]}), "{span}");
    assert_eq!(span["attributes"]["review.decision"], "edit");
    let events = s.json("/api/v1/sessions/s1/events?category=review").await;
    let names: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names, ["review.decided"; 3], "{events}");

    // The history lists them, the queue is empty.
    let history = s.json("/api/v1/reviews").await;
    assert_eq!(history["reviews"].as_array().unwrap().len(), 3);
    let queue = s.json("/api/v1/reviews?state=pending").await;
    assert_eq!(queue["reviews"], json!([]));
}

#[tokio::test]
async fn the_deadline_applies_each_action_and_a_later_decision_is_refused() {
    let s = TestServer::start().await;
    for action in ["continue", "exit_early", "fail"] {
        open(
            &s,
            json!({"session_id": "s-timeout", "review_id": format!("t-{action}"),
                   "output": "x", "timeout_ms": 300, "on_timeout": action}),
        )
        .await;
    }
    let waiters: Vec<_> = ["continue", "exit_early", "fail"]
        .iter()
        .map(|a| (*a, waiter(&s, &format!("t-{a}"))))
        .collect();
    for (action, w) in waiters {
        let r = w.await.unwrap();
        assert_eq!(r["state"], "timed_out", "{r}");
        assert_eq!(r["decision"], action, "{r}");
        assert_eq!(r["decided_by"], "server");
        assert_eq!(r["decided_at"], r["deadline"]);
    }
    let (status, e) = decide(&s, "t-continue", json!({"decision": "exit_early"})).await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(e["error"]["code"], "review_settled");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("timed_out"),
        "{e}"
    );
    let failed = s
        .json("/api/v1/sessions/s-timeout/spans/review-t-fail")
        .await;
    assert_eq!(failed["status"], "error", "{failed}");
}

#[tokio::test]
async fn the_first_decision_wins_and_the_second_is_told_what_stands() {
    let s = TestServer::start().await;
    open(&s, request("s2", "r1", json!("x"))).await;
    let (st, _) = decide(&s, "r1", json!({"decision": "exit_early"})).await;
    assert_eq!(st, 200);
    let (st, e) = decide(&s, "r1", json!({"decision": "continue"})).await;
    assert_eq!(st, 409);
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("exit_early") && message.contains("loopback"),
        "{message}"
    );
    // Opening again with the same id opens nothing twice: the settled review is answered.
    let again = open(&s, request("s2", "r1", json!("x"))).await;
    assert_eq!(again["state"], "decided");
    assert_eq!(
        s.json("/api/v1/reviews").await["reviews"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn three_concurrent_reviews_decided_out_of_order_each_release_their_own_agent() {
    let s = TestServer::start().await;
    for id in ["c1", "c2", "c3"] {
        open(&s, request("s3", id, json!(id))).await;
    }
    let queue = s.json("/api/v1/reviews?state=pending").await;
    assert_eq!(queue["reviews"].as_array().unwrap().len(), 3);
    let w: Vec<_> = ["c1", "c2", "c3"].iter().map(|id| waiter(&s, id)).collect();
    decide(&s, "c3", json!({"decision": "edit", "output": "three"})).await;
    decide(&s, "c1", json!({"decision": "continue"})).await;
    decide(&s, "c2", json!({"decision": "exit_early"})).await;
    let got: Vec<Value> = futures_util::future::join_all(w)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got[0]["decision"], "continue");
    assert_eq!(got[1]["decision"], "exit_early");
    assert_eq!(got[2]["revised_output"], "three");
    assert_eq!(
        got.iter()
            .map(|r| r["review_id"].clone())
            .collect::<Vec<_>>(),
        ["c1", "c2", "c3"]
    );
}

#[tokio::test]
async fn an_agent_waiting_across_a_restart_is_released_by_the_decision_after_it() {
    let s = TestServer::start().await;
    open(&s, request("s4", "across", json!("plan"))).await;
    let w = waiter(&s, "across");
    let s = s.restart_after(Duration::from_millis(300)).await;
    let pending = s.json("/api/v1/reviews?state=pending").await;
    assert_eq!(pending["reviews"][0]["review_id"], "across", "{pending}");
    let (st, body) = decide(&s, "across", json!({"decision": "continue"})).await;
    assert_eq!(st, 200, "{body}");
    let got = w.await.unwrap();
    assert_eq!(got["decision"], "continue");
}

#[tokio::test]
async fn a_deadline_that_passed_while_the_server_was_down_gets_its_action_on_start() {
    let s = TestServer::start().await;
    open(
        &s,
        json!({"session_id": "s5", "review_id": "down", "output": "x", "timeout_ms": 400,
               "on_timeout": "exit_early"}),
    )
    .await;
    let s = s.restart_after(Duration::from_millis(800)).await;
    let got = wait_settled(s.client.clone(), s.url("/api/v1/reviews/down")).await;
    assert_eq!(got["state"], "timed_out");
    assert_eq!(got["decision"], "exit_early");
    assert_eq!(got["decided_at"], got["deadline"]);
}

#[tokio::test]
async fn a_review_nobody_waits_for_is_abandoned_and_leaves_the_queue() {
    let config = ServerConfig {
        reviews: ReviewConfig {
            abandon_after: Duration::from_millis(300),
            ..ReviewConfig::default()
        },
        ..ServerConfig::default()
    };
    let s = TestServer::start_with(config).await;
    open(&s, request("s6", "gone", json!("x"))).await;
    // A waiting agent keeps its review alive past `abandon_after`.
    open(&s, request("s6", "kept", json!("y"))).await;
    let kept = waiter(&s, "kept");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let r = s.json("/api/v1/reviews/gone").await;
        if r["state"] == "abandoned" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never abandoned: {r}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let queue = s.json("/api/v1/reviews?state=pending").await;
    let ids: Vec<&str> = queue["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["review_id"].as_str())
        .collect();
    assert_eq!(ids, ["kept"]);
    let (st, e) = decide(&s, "gone", json!({"decision": "continue"})).await;
    assert_eq!(st, 409, "{e}");
    decide(&s, "kept", json!({"decision": "continue"})).await;
    assert_eq!(kept.await.unwrap()["state"], "decided");
}

#[tokio::test]
async fn bad_input_is_refused_naming_what_is_wrong() {
    let config = ServerConfig {
        max_body_bytes: 4096,
        ..ServerConfig::default()
    };
    let s = TestServer::start_with(config).await;
    let (st, e) = s.get("/api/v1/reviews/nope").await;
    assert_eq!((st, e["error"]["code"].as_str()), (404, Some("not_found")));
    let (st, _) = decide(&s, "nope", json!({"decision": "continue"})).await;
    assert_eq!(st, 404);
    open(&s, request("s7", "b1", json!("x"))).await;
    let field = |e: &Value| e["error"]["errors"][0]["field"].as_str().map(str::to_owned);
    let (st, e) = decide(&s, "b1", json!({"decision": "edit"})).await;
    assert_eq!((st, field(&e).as_deref()), (422, Some("output")), "{e}");
    let (st, e) = decide(&s, "b1", json!({"decision": "approve"})).await;
    assert_eq!((st, field(&e).as_deref()), (422, Some("decision")), "{e}");
    let (st, e) = post(
        &s,
        "/api/v1/reviews",
        &json!({"session_id": "s7", "output": 1, "timeout_ms": 1}),
    )
    .await;
    assert_eq!((st, field(&e).as_deref()), (422, Some("timeout_ms")), "{e}");
    let (st, e) = post(
        &s,
        "/api/v1/reviews",
        &json!({"session_id": "s7", "output": 1, "on_timeout": "retry"}),
    )
    .await;
    assert_eq!((st, field(&e).as_deref()), (422, Some("on_timeout")), "{e}");
    let (st, e) = post(&s, "/api/v1/reviews", &json!({"output": 1})).await;
    assert_eq!((st, field(&e).as_deref()), (422, Some("session_id")), "{e}");
    let big = "x".repeat(8000);
    let (st, e) = post(
        &s,
        "/api/v1/reviews",
        &json!({"session_id": "s7", "output": big}),
    )
    .await;
    assert_eq!(
        (st, e["error"]["code"].as_str()),
        (413, Some("body_too_large"))
    );
    let (st, _) = s.get("/api/v1/reviews/b1?wait=-1").await;
    assert_eq!(st, 400);
    // A page of another site may not decide.
    let r = s
        .client
        .post(s.url("/api/v1/reviews/b1/decision"))
        .header("origin", "http://evil.example")
        .json(&json!({"decision": "continue"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(s.json("/api/v1/reviews/b1").await["state"], "pending");
}

#[tokio::test]
async fn with_credentials_deciding_takes_the_token_and_records_it() {
    let config = ServerConfig {
        auth: AuthConfig {
            token: Some("s3cret".into()),
            password: None,
        },
        ..ServerConfig::default()
    };
    let s = TestServer::start_with(config).await;
    let authed = |r: reqwest::RequestBuilder| r.bearer_auth("s3cret");
    let r = authed(s.client.post(s.url("/api/v1/reviews")))
        .json(&request("s8", "k1", json!("x")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (st, _) = decide(&s, "k1", json!({"decision": "continue"})).await;
    assert_eq!(st, 401);
    let r = authed(s.client.post(s.url("/api/v1/reviews/k1/decision")))
        .json(&json!({"decision": "continue"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["decided_by"], "token");
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    let until = async {
        let mut skipped = Vec::new();
        while let Some(m) = ws.next().await {
            if let Message::Text(t) = m.unwrap() {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == kind {
                    return v;
                }
                assert_ne!(v["type"], "error", "waiting for {kind}: {v}");
                skipped.push(v["type"].clone());
            }
        }
        panic!("the socket closed before {kind}; came: {skipped:?}");
    };
    tokio::time::timeout(PATIENCE, until).await.expect(kind)
}

#[tokio::test]
async fn every_subscriber_hears_of_reviews_and_the_socket_decides() {
    let s = TestServer::start().await;
    open(&s, request("s9", "early", json!("x"))).await;
    let url = format!("ws://{}/ws", s.addr);
    let (mut overview, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    let (mut other, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    overview
        .send(Message::text(
            r#"{"v":1,"type":"subscribe","scope":"overview"}"#,
        ))
        .await
        .unwrap();
    other
        .send(Message::text(
            r#"{"v":1,"type":"subscribe","scope":"session","session_id":"elsewhere"}"#,
        ))
        .await
        .unwrap();
    let hello = next_of(&mut overview, "hello").await;
    assert_eq!(
        hello["snapshot"]["reviews"][0]["review_id"], "early",
        "{hello}"
    );
    let hello = next_of(&mut other, "hello").await;
    assert_eq!(
        hello["snapshot"]["reviews"][0]["review_id"], "early",
        "{hello}"
    );

    open(&s, request("s9", "live", json!("y"))).await;
    let requested = next_of(&mut overview, "review.requested").await;
    assert_eq!(requested["review"]["review_id"], "live");
    next_of(&mut other, "review.requested").await;

    let w = waiter(&s, "live");
    other
        .send(Message::text(
            r#"{"v":1,"type":"review.decide","id":7,"review_id":"live","decision":"edit","output":"z"}"#,
        ))
        .await
        .unwrap();
    let ack = next_of(&mut other, "ack").await;
    assert_eq!(
        (ack["id"].as_i64(), ack["review"]["decision"].as_str()),
        (Some(7), Some("edit"))
    );
    let decided = next_of(&mut overview, "review.decided").await;
    assert_eq!(decided["review"]["revised_output"], "z");
    assert_eq!(w.await.unwrap()["revised_output"], "z");
    other
        .send(Message::text(
            r#"{"v":1,"type":"review.decide","review_id":"live","decision":"continue"}"#,
        ))
        .await
        .unwrap();
    let e = next_of(&mut other, "error").await;
    assert_eq!(e["code"], "review_settled", "{e}");
}
