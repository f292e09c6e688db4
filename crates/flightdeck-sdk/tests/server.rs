//! The SDK against the real Flightdeck server: what is recorded while the server is down is
//! delivered once it is up, and batches resent after a lost acknowledgement are not doubled.

use flightdeck_sdk::{
    AgentState, Client, EdgeKind, Flightdeck, HttpTransport, Level, Message, SendError, SendFuture,
    Session, Span, SpanKind, Transport,
};
use flightdeck_server::{App, ServerConfig};
use flightdeck_store::{SqliteOptions, SqliteStore, Store};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A server on `addr` over a fresh database, as the server's own tests start one.
struct TestServer {
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl TestServer {
    async fn start(addr: SocketAddr) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(SqliteOptions::new(dir.path().join("fd.db"))).unwrap();
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
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

/// A local address with nothing listening on it (yet).
async fn free_addr() -> SocketAddr {
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    probe.local_addr().unwrap()
}

const CHUNKS: usize = 40;
const LOGS: usize = 12;

/// Records a small session of every kind of message; returns the session and its LLM
/// span, both left running (the span's chunks are its output so far).
fn record(client: &Client) -> (Session, Span) {
    let session = client.session("resilience").tag("test").start();
    let planner = session
        .agent("planner")
        .role("planner")
        .status(AgentState::Active)
        .send();
    let plan = planner.span(SpanKind::Agent, "plan").start();
    let llm = plan
        .child(SpanKind::Llm, "decompose")
        .model("gpt-4o")
        .start();
    for i in 0..CHUNKS {
        llm.chunk(format!("t{i} "));
    }
    llm.usage(100, 40);
    let tool = plan.child(SpanKind::Tool, "scan_cameras").start();
    let _ = tool.record(Err::<(), _>("camera subnet unreachable"));
    for i in 0..LOGS {
        plan.log(Level::Info, format!("step {i}"));
    }
    planner
        .message_to("hacker")
        .from_span(plan.id())
        .label("go")
        .send();
    session
        .edge(EdgeKind::Delegation)
        .from_agent("planner")
        .to_agent("hacker")
        .send();
    session.decision(
        "plan_revision",
        "exit by the dock",
        &json!({"exit": "dock"}),
    );
    session
        .metric("queue.depth", 3.0)
        .label("queue", "jobs")
        .send();
    drop(plan);
    (session, llm)
}

/// Checks that the server holds exactly what [`record`] sent, once.
async fn assert_recorded_once(server: &TestServer, session: &str, streaming: &str) {
    let summary = server.get(&format!("/api/v1/sessions/{session}")).await;
    assert_eq!(summary["totals"]["spans"], 3, "{summary}");
    assert_eq!(summary["totals"]["llm_calls"], 1);
    assert_eq!(summary["totals"]["tool_calls"], 1);
    assert_eq!(summary["totals"]["errors"], 1);
    let llm = server
        .get(&format!("/api/v1/sessions/{session}/spans/{streaming}"))
        .await;
    let expected: String = (0..CHUNKS).map(|i| format!("t{i} ")).collect();
    assert_eq!(
        llm["output"],
        expected.as_str(),
        "chunks in order, none doubled"
    );
    let logs = server
        .get(&format!("/api/v1/sessions/{session}/events?category=log"))
        .await;
    assert_eq!(logs["items"].as_array().unwrap().len(), LOGS);
    let decisions = server
        .get(&format!(
            "/api/v1/sessions/{session}/events?category=decision"
        ))
        .await;
    assert_eq!(decisions["items"].as_array().unwrap().len(), 1);
    let edges = server
        .get(&format!("/api/v1/sessions/{session}/edges"))
        .await;
    assert_eq!(edges.as_array().unwrap().len(), 2);
    let agents = server
        .get(&format!("/api/v1/sessions/{session}/agents"))
        .await;
    let planner = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "planner")
        .unwrap();
    assert_eq!(planner["messages_sent"], 2, "{planner}");
    let metrics = server
        .get(&format!(
            "/api/v1/metrics?name=queue.depth&session_id={session}"
        ))
        .await;
    assert_eq!(metrics.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn what_is_recorded_while_the_server_is_down_arrives_once_it_is_up() {
    let addr = free_addr().await;
    let client = Flightdeck::builder(format!("http://{addr}"))
        .retry_backoff(Duration::from_millis(20), Duration::from_millis(100))
        .flush_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let (session, streaming) = record(&client);
    let enqueued = client.stats().enqueued;
    tokio::time::timeout(Duration::from_secs(10), async {
        while client.stats().retries < 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the client keeps retrying");
    let waiting = client.stats();
    assert_eq!(
        (waiting.sent, waiting.pending, waiting.dropped),
        (0, enqueued, 0)
    );

    let server = TestServer::start(addr).await;
    client.flush().await.unwrap();
    let stats = client.stats();
    assert_eq!(
        (stats.sent, stats.rejected, stats.dropped, stats.pending),
        (enqueued, 0, 0, 0)
    );
    assert_recorded_once(&server, session.id(), streaming.id()).await;
}

/// Delivers every batch to the server but, for the first `lose` of them, reports a failure
/// as if the acknowledgement had been lost on the way back.
struct LosesAcks {
    inner: HttpTransport,
    lose: AtomicUsize,
}

impl Transport for LosesAcks {
    fn send<'a>(&'a self, batch: &'a [Message]) -> SendFuture<'a> {
        Box::pin(async move {
            self.inner.send(batch).await?;
            let lost = self
                .lose
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok();
            if lost {
                return Err(SendError::Transient(
                    "connection reset before the response".into(),
                ));
            }
            Ok(())
        })
    }
}

#[tokio::test]
async fn batches_resent_after_a_lost_acknowledgement_are_not_doubled() {
    let server = TestServer::start(free_addr().await).await;
    let transport = LosesAcks {
        inner: HttpTransport::new(&server.base, None, Duration::from_secs(5)).unwrap(),
        lose: AtomicUsize::new(6),
    };
    let client = Flightdeck::with_transport(transport)
        .max_batch(10)
        .retry_backoff(Duration::from_millis(5), Duration::from_millis(20))
        .build()
        .unwrap();
    let (session, streaming) = record(&client);
    client.flush().await.unwrap();
    let stats = client.stats();
    assert_eq!(stats.retries, 6);
    assert_eq!((stats.sent, stats.pending), (stats.enqueued, 0));
    assert_recorded_once(&server, session.id(), streaming.id()).await;
}

#[tokio::test]
async fn a_panicking_agent_leaves_a_failed_session_and_span() {
    let server = TestServer::start(free_addr().await).await;
    let client = Flightdeck::builder(&server.base).build().unwrap();
    let recorder = client.clone();
    let crashed = tokio::spawn(async move {
        let session = recorder.session("doomed").start();
        let _turn = session.span(SpanKind::Agent, "mole").agent("mole").start();
        panic!("the mole lied");
    })
    .await;
    assert!(crashed.is_err());
    client.flush().await.unwrap();
    let sessions = server.get("/api/v1/sessions?q=doomed").await;
    let session = &sessions["items"][0];
    assert_eq!(
        (&session["status"], &session["error"]),
        (&json!("failed"), &json!("panicked"))
    );
    let id = session["session_id"].as_str().unwrap();
    let spans = server.get(&format!("/api/v1/sessions/{id}/spans")).await;
    assert_eq!(
        (&spans[0]["status"], &spans[0]["error"]),
        (&json!("error"), &json!("panicked"))
    );
}
