//! `Reviewer::review` against the real server: a decision releases it, it waits across a
//! server restart, and it applies the timeout action itself when the server stays away past
//! the deadline.

use flightdeck_sdk::{Decision, OnTimeout, ReviewOpen, ReviewState, Reviewer};
use flightdeck_server::testing::TestServer;
use serde_json::json;
use std::time::Duration;

fn open(id: &str, timeout_ms: u64, on_timeout: OnTimeout) -> ReviewOpen {
    serde_json::from_value(
        json!({"session_id": "sdk", "review_id": id, "output": "plan",
        "timeout_ms": timeout_ms, "on_timeout": on_timeout}),
    )
    .unwrap()
}

async fn decide_when_pending(s: &TestServer, id: &str, body: serde_json::Value) {
    for _ in 0..200 {
        let r = s
            .client
            .post(s.url(&format!("/api/v1/reviews/{id}/decision")))
            .json(&body)
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("review {id} never became decidable");
}

#[tokio::test]
async fn a_decision_releases_the_agent_and_an_edit_carries_the_output() {
    let s = TestServer::start().await;
    let reviewer = Reviewer::new(&s.base, None).unwrap();
    let waiting = tokio::spawn({
        let r = reviewer.clone();
        async move { r.review(open("e1", 60_000, OnTimeout::Continue)).await }
    });
    decide_when_pending(
        &s,
        "e1",
        json!({"decision": "edit", "output": "better plan"}),
    )
    .await;
    let r = waiting.await.unwrap().unwrap();
    assert_eq!(r.decision, Some(Decision::Edit));
    assert_eq!(r.final_output().get(), r#""better plan""#);
}

#[tokio::test]
async fn the_wait_rides_out_a_restart() {
    let s = TestServer::start().await;
    let reviewer = Reviewer::new(&s.base, None).unwrap();
    let waiting = tokio::spawn({
        let r = reviewer.clone();
        async move { r.review(open("r1", 60_000, OnTimeout::Continue)).await }
    });
    while s.get("/api/v1/reviews/r1").await.0 != 200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let s = s.restart_after(Duration::from_millis(500)).await;
    decide_when_pending(&s, "r1", json!({"decision": "exit_early"})).await;
    let r = waiting.await.unwrap().unwrap();
    assert_eq!(r.decision, Some(Decision::ExitEarly));
    assert_eq!(r.state, ReviewState::Decided);
}

#[tokio::test]
async fn past_the_deadline_without_a_server_the_timeout_action_applies() {
    let mut s = TestServer::start().await;
    let base = s.base.clone();
    s.stop().await.unwrap();
    let reviewer = Reviewer::new(&base, None).unwrap();
    let r = reviewer
        .review(open("x1", 300, OnTimeout::ExitEarly))
        .await
        .unwrap();
    assert_eq!(r.state, ReviewState::TimedOut);
    assert_eq!(r.decision, Some(Decision::ExitEarly));
    assert_eq!(r.decided_by.as_deref(), Some("client"));
}
