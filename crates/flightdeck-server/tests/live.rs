//! The live hub end to end on a real port, with real WebSocket and SSE clients: a late
//! joiner ends with what an early joiner built, order within a session, heartbeat and ping,
//! bad client input, a client that never reads, the Origin check, and SSE carrying the same
//! messages as the socket.

mod support;

use flightdeck_server::ServerConfig;
use flightdeck_server::testing::TestServer;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use support::sse::EventStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{WebSocketStream, client_async};

/// Longest wait for anything that should come; tests never sleep for time to pass.
const PATIENCE: Duration = Duration::from_secs(10);

/// The shared test server, with the WebSocket side these tests need.
struct Server(TestServer);

impl std::ops::Deref for Server {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.0
    }
}

impl Server {
    async fn start(config: ServerConfig) -> Server {
        Server(TestServer::start_with(config).await)
    }

    /// Posts one batch and waits for its acknowledgement.
    async fn post(&self, batch: &Value) {
        let (status, body) = self.0.post("application/json", batch.to_string()).await;
        assert_eq!(status, 200, "{body}");
    }

    async fn connect(&self, origin: Option<&str>) -> Result<Client, tungstenite::Error> {
        let stream = TcpStream::connect(self.addr).await.unwrap();
        self.connect_over(stream, origin).await
    }

    async fn connect_over(
        &self,
        stream: TcpStream,
        origin: Option<&str>,
    ) -> Result<Client, tungstenite::Error> {
        let mut request = format!("ws://{}/ws", self.addr)
            .into_client_request()
            .unwrap();
        if let Some(o) = origin {
            request.headers_mut().insert("origin", o.parse().unwrap());
        }
        let (ws, _) = client_async(request, stream).await?;
        Ok(Client { ws })
    }

    /// A client subscribed to session `id`, and its hello.
    async fn watcher(&self, id: &str) -> (Client, Value) {
        let mut c = self.connect(None).await.unwrap();
        let hello = c
            .subscribe(json!({"scope": "session", "session_id": id}))
            .await;
        (c, hello)
    }
}

struct Client {
    ws: WebSocketStream<TcpStream>,
}

impl Client {
    async fn send(&mut self, v: Value) {
        self.ws.send(Message::text(v.to_string())).await.unwrap();
    }

    async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// The next server message, heartbeats included.
    async fn recv_any(&mut self) -> Value {
        loop {
            let m = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("a message in time")
                .expect("the socket is open")
                .unwrap();
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(&t).unwrap();
                assert_eq!(v["v"], 1, "every message carries the version");
                return v;
            }
        }
    }

    /// The next server message that is not a heartbeat.
    async fn recv(&mut self) -> Value {
        loop {
            let v = self.recv_any().await;
            if v["type"] != "heartbeat" {
                return v;
            }
        }
    }

    async fn subscribe(&mut self, scope: Value) -> Value {
        let mut m = json!({"v": 1, "type": "subscribe"});
        m.as_object_mut()
            .unwrap()
            .extend(scope.as_object().unwrap().clone());
        self.send(m).await;
        let hello = self.recv().await;
        assert_eq!(hello["type"], "hello", "{hello}");
        hello
    }

    /// Commit frames until the one of commit `seq`.
    async fn commits_through(&mut self, seq: u64) -> Vec<Value> {
        let mut frames = Vec::new();
        loop {
            let f = self.recv().await;
            assert_eq!(f["type"], "commit", "{f}");
            let at = f["seq"].as_u64().unwrap();
            frames.push(f);
            if at >= seq {
                return frames;
            }
        }
    }
}

/// What a client shows of a session, rebuilt from a hello and the commits after it.
#[derive(Debug, Default, PartialEq)]
struct View {
    /// span id -> (status, parent, name, agent)
    spans: BTreeMap<String, (String, Value, String, Value)>,
    edges: BTreeSet<String>,
    /// agent -> last reported status
    agents: BTreeMap<String, Value>,
    session: Value,
    seq: u64,
}

impl View {
    fn from_hello(hello: &Value) -> View {
        let snap = &hello["snapshot"];
        let mut v = View {
            seq: hello["seq"].as_u64().unwrap(),
            session: snap["session"].clone(),
            ..View::default()
        };
        for s in snap["spans"].as_array().unwrap() {
            let span = (
                s["status"].as_str().unwrap().to_owned(),
                s["parent_id"].clone(),
                s["name"].as_str().unwrap().to_owned(),
                s["agent"].clone(),
            );
            v.spans
                .insert(s["span_id"].as_str().unwrap().to_owned(), span);
        }
        for e in snap["edges"].as_array().unwrap() {
            v.edges.insert(e["edge_id"].as_str().unwrap().to_owned());
        }
        for a in snap["agents"].as_array().unwrap() {
            v.agents
                .insert(a["agent"].as_str().unwrap().to_owned(), a["status"].clone());
        }
        v
    }

    /// Applies a commit frame; fails on anything the view already holds, which a late
    /// joiner would only see if increments overlapped its snapshot.
    fn apply(&mut self, commit: &Value) {
        let seq = commit["seq"].as_u64().unwrap();
        assert!(
            seq > self.seq,
            "commit {seq} after {}: no repeats",
            self.seq
        );
        self.seq = seq;
        for m in commit["messages"].as_array().unwrap() {
            let id = |k: &str| m[k].as_str().unwrap().to_owned();
            match m["type"].as_str().unwrap() {
                "span.start" => {
                    let span = (
                        "running".into(),
                        m["parent_id"].clone(),
                        id("name"),
                        m["agent"].clone(),
                    );
                    let old = self.spans.insert(id("span_id"), span);
                    assert!(old.is_none(), "span {} started twice", id("span_id"));
                    if let Some(agent) = m["agent"].as_str() {
                        self.agents.entry(agent.into()).or_insert(Value::Null);
                    }
                }
                "span.end" => {
                    let span = self.spans.get_mut(&id("span_id")).expect("started before");
                    span.0 = m["status"].as_str().unwrap_or("ok").to_owned();
                }
                "edge" => assert!(self.edges.insert(id("edge_id")), "edge seen twice"),
                "agent.status" => {
                    self.agents.insert(id("agent"), m["status"].clone());
                }
                "span.update" | "event" => {}
                other => panic!("unexpected message type {other}"),
            }
        }
        if let Some(s) = commit["sessions"].as_array().unwrap().first() {
            self.session = s.clone();
        }
    }

    /// The view without what depends on the time it was read.
    fn timeless(mut self) -> View {
        if let Some(s) = self.session.as_object_mut() {
            s.remove("duration_ms");
        }
        self.seq = 0;
        self
    }
}

/// Batch `i` of a session: two spans (one ended), a streamed chunk, an edge and an event
/// without ids, and an agent report.
fn batch(session: &str, i: usize) -> Value {
    let agent = ["planner", "hacker", "mole"][i % 3];
    json!([
        {"type":"span.start","session_id":session,"span_id":format!("a{i}"),"kind":"agent","name":"step","agent":agent,
         "parent_id": if i > 0 { json!(format!("a{}", i - 1)) } else { Value::Null }},
        {"type":"span.start","session_id":session,"span_id":format!("l{i}"),"parent_id":format!("a{i}"),"kind":"llm","name":"chat","model":"gpt-4o"},
        {"type":"span.update","session_id":session,"span_id":format!("l{i}"),"seq":0,"output_delta":"tok"},
        {"type":"span.end","session_id":session,"span_id":format!("l{i}"),"status": if i.is_multiple_of(4) { "error" } else { "ok" },
         "usage":{"input_tokens":10,"output_tokens":i}},
        {"type":"edge","session_id":session,"kind":"message","from_agent":agent,"to_agent":"planner","label":format!("m{i}")},
        {"type":"event","session_id":session,"message":format!("step {i}")},
        {"type":"agent.status","session_id":session,"agent":agent,"status": if i.is_multiple_of(2) { "active" } else { "idle" }},
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_joiner_ends_with_what_an_early_joiner_built() {
    let s = Arc::new(Server::start(ServerConfig::default()).await);
    let (mut early, hello) = s.watcher("s1").await;
    assert_eq!(hello["seq"], 0);
    assert_eq!(hello["snapshot"]["session"], Value::Null);
    assert_eq!(hello["snapshot"]["reviews"], json!([]));
    let mut early_view = View::from_hello(&hello);

    for i in 0..20 {
        s.post(&batch("s1", i)).await;
    }
    // The rest is ingested while the late joiner subscribes and reads its snapshot.
    let ingest = {
        let s = Arc::clone(&s);
        tokio::spawn(async move {
            for i in 20..60 {
                s.post(&batch("s1", i)).await;
            }
            for i in 0..60 {
                let end = json!([{"type":"span.end","session_id":"s1","span_id":format!("a{i}")}]);
                s.post(&end).await;
            }
        })
    };
    let (mut late, hello) = s.watcher("s1").await;
    assert!(
        hello["seq"].as_u64().unwrap() >= 20,
        "joined after 20 commits"
    );
    let mut late_view = View::from_hello(&hello);
    assert!(
        late_view.spans.len() >= 40,
        "the snapshot holds what came before"
    );
    ingest.await.unwrap();
    let last = s.store.last_seq();

    for f in early.commits_through(last).await {
        early_view.apply(&f);
    }
    if late_view.seq < last {
        for f in late.commits_through(last).await {
            late_view.apply(&f);
        }
    }
    let (_, fresh) = s.watcher("s1").await;
    let fresh_view = View::from_hello(&fresh);
    assert_eq!(fresh_view.seq, last);
    assert_eq!(fresh_view.spans.len(), 120);
    assert_eq!(fresh_view.edges.len(), 60);
    assert!(fresh_view.spans.values().all(|s| s.0 != "running"));
    assert_eq!(fresh_view.session["totals"]["errors"], 15);

    let (early_view, late_view) = (early_view.timeless(), late_view.timeless());
    assert_eq!(early_view, late_view);
    assert_eq!(early_view, fresh_view.timeless());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_gets_its_own_messages_in_ingest_order_and_the_overview_summaries() {
    let s = Arc::new(Server::start(ServerConfig::default()).await);
    let (mut watcher, _) = s.watcher("s1").await;
    let mut overview = s.connect(None).await.unwrap();
    let hello = overview.subscribe(json!({"scope": "overview"})).await;
    assert_eq!(hello["snapshot"]["sessions"]["items"], json!([]));
    assert_eq!(hello["snapshot"]["stats"]["sessions"], 0);

    let noise = {
        let s = Arc::clone(&s);
        tokio::spawn(async move {
            for i in 0..30 {
                s.post(&json!([{"type":"event","session_id":"s2","message":format!("noise {i}")}]))
                    .await;
            }
        })
    };
    let mut sent = Vec::new();
    for i in 0..30 {
        let events: Vec<Value> = (0..3)
            .map(|j| {
                sent.push(format!("e{i}-{j}"));
                json!({"type":"event","session_id":"s1","event_id":format!("e{i}-{j}"),"message":"x"})
            })
            .collect();
        s.post(&Value::Array(events)).await;
    }
    noise.await.unwrap();
    let last = s.store.last_seq();
    s.post(&json!([{"type":"session.end","session_id":"s1"}]))
        .await;

    let mut received = Vec::new();
    let mut seq = 0;
    for f in watcher.commits_through(last + 1).await {
        assert!(f["seq"].as_u64().unwrap() > seq, "commits in order");
        seq = f["seq"].as_u64().unwrap();
        assert_eq!(f["sessions"][0]["session_id"], "s1");
        for m in f["messages"].as_array().unwrap() {
            assert_eq!(m["session_id"], "s1", "only the watched session");
            if m["type"] == "event" {
                received.push(m["event_id"].as_str().unwrap().to_owned());
            }
        }
    }
    assert_eq!(received, sent);

    let mut seen = BTreeMap::new();
    for f in overview.commits_through(last + 1).await {
        assert!(
            f.get("messages").is_none(),
            "the overview gets summaries only"
        );
        for summary in f["sessions"].as_array().unwrap() {
            let id = summary["session_id"].as_str().unwrap().to_owned();
            seen.insert(id, summary["status"].clone());
        }
    }
    assert_eq!(seen["s1"], "completed");
    assert_eq!(seen["s2"], "running");
}

#[tokio::test]
async fn heartbeats_come_pings_are_answered_and_bad_input_is_answered_not_fatal() {
    let s = Server::start(ServerConfig {
        heartbeat: Duration::from_millis(50),
        ..ServerConfig::default()
    })
    .await;
    let mut c = s.connect(None).await.unwrap();
    let beat = c.recv_any().await;
    assert_eq!(beat["type"], "heartbeat");
    assert!(beat["at"].as_str().unwrap().ends_with('Z'));

    c.send(json!({"v": 1, "type": "ping", "id": "p1"})).await;
    assert_eq!(c.recv().await, json!({"v": 1, "type": "pong", "id": "p1"}));

    for (text, code) in [
        ("not json", "bad_message"),
        (r#"{"v":2,"type":"ping"}"#, "unsupported_version"),
        (
            r#"{"v":1,"type":"replay.start","review_id":"r1"}"#,
            "unknown_type",
        ),
        (
            r#"{"v":1,"type":"review.decide","review_id":"r1"}"#,
            "bad_message",
        ),
        (
            r#"{"v":1,"type":"review.decide","review_id":"r1","decision":"continue"}"#,
            "not_found",
        ),
        (
            r#"{"v":1,"type":"subscribe","scope":"session"}"#,
            "bad_message",
        ),
    ] {
        c.send_text(text).await;
        let e = c.recv().await;
        assert_eq!(
            (e["type"].as_str(), e["code"].as_str()),
            (Some("error"), Some(code)),
            "{text}"
        );
        assert!(!e["message"].as_str().unwrap().is_empty());
    }
    let hello = c.subscribe(json!({"scope": "overview"})).await;
    assert_eq!(hello["heartbeat_ms"], 50);
}

/// A client socket that takes in little at a time, so a client that does not read fills
/// the server's buffers quickly.
async fn narrow_socket(addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(addr).await.unwrap()
}

/// The SSE stream of `GET /api/v1/stream?{query}`.
async fn open_stream(s: &Server, query: &str) -> EventStream {
    let r = s
        .client
        .get(s.url(&format!("/api/v1/stream?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    EventStream::of(r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_gets_resync_and_stalls_no_one() {
    let s = Server::start(ServerConfig {
        live_queue: 32,
        ..ServerConfig::default()
    })
    .await;
    let mut stuck = s
        .connect_over(narrow_socket(s.addr).await, None)
        .await
        .unwrap();
    stuck
        .subscribe(json!({"scope": "session", "session_id": "s1"}))
        .await;
    let mut stuck_sse = narrow_socket(s.addr).await;
    let get = format!(
        "GET /api/v1/stream?scope=session&session_id=s1 HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        s.addr
    );
    stuck_sse.write_all(get.as_bytes()).await.unwrap();
    let (mut reader, _) = s.watcher("s1").await;

    const BATCHES: u64 = 300;
    let input = "x".repeat(64 * 1024);
    let reading = tokio::spawn(async move {
        let frames = reader.commits_through(BATCHES).await;
        frames.len()
    });
    let ingest = async {
        for i in 0..BATCHES {
            s.post(
                &json!([{"type":"span.start","session_id":"s1","span_id":format!("b{i}"),
                "kind":"tool","name":"big","input":input}]),
            )
            .await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), ingest)
        .await
        .expect("ingest never waits for live clients");
    assert_eq!(
        reading.await.unwrap(),
        BATCHES as usize,
        "the reading client got every commit, without a resync"
    );
    let (_, stats) = s.get("/api/v1/hub").await;
    assert_eq!(stats["resyncs"]["queue_full"], 2, "{stats}");
    assert_eq!(stats["queue_capacity"], 32);
    assert_eq!(stats["seq"], BATCHES);

    // The stuck socket, read at last: what fitted in its buffers, then resync, then hello.
    let mut seq = 0;
    let hello = loop {
        let m = stuck.recv().await;
        match m["type"].as_str().unwrap() {
            "commit" => seq = m["seq"].as_u64().unwrap(),
            "resync" => {
                assert_eq!(m["reason"], "queue_full");
                break stuck.recv().await;
            }
            other => panic!("unexpected {other}"),
        }
    };
    assert!(seq < BATCHES);
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["seq"], BATCHES);
    assert_eq!(
        hello["snapshot"]["spans"].as_array().unwrap().len(),
        BATCHES as usize
    );

    // The stuck event stream ends with resync; its EventSource would reconnect.
    let mut response = Vec::new();
    tokio::time::timeout(PATIENCE, stuck_sse.read_to_end(&mut response))
        .await
        .expect("the stream ends")
        .unwrap();
    let response = String::from_utf8_lossy(&response);
    let resync = "event: resync\ndata: {\"v\":1,\"type\":\"resync\",\"reason\":\"queue_full\"}\n\n";
    let at = response.find(resync).expect("a resync event");
    assert!(response.contains("event: hello\n"));
    assert!(
        !response[at + resync.len()..].contains("event:"),
        "nothing after resync"
    );
}

#[tokio::test]
async fn only_the_served_origin_and_configured_origins_may_open_the_socket() {
    let s = Server::start(ServerConfig {
        allowed_origins: vec!["http://ui.example:5173".into()],
        ..ServerConfig::default()
    })
    .await;
    match s.connect(Some("http://evil.example")).await {
        Err(tungstenite::Error::Http(r)) => {
            assert_eq!(r.status(), 403);
            let body: Value = serde_json::from_slice(r.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["error"]["code"], "forbidden_origin");
        }
        Err(e) => panic!("expected a 403, got {e}"),
        Ok(_) => panic!("a forbidden origin connected"),
    }
    let served = format!("http://{}", s.addr);
    for origin in [None, Some("http://ui.example:5173"), Some(served.as_str())] {
        let mut c = s.connect(origin).await.expect("allowed");
        c.subscribe(json!({"scope": "overview"})).await;
    }
    let (status, body) = s.get("/ws").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (426, &json!("upgrade_required"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_carries_the_same_messages_as_the_socket() {
    let s = Server::start(ServerConfig::default()).await;
    s.post(&batch("s1", 0)).await;
    let (mut ws, ws_hello) = s.watcher("s1").await;
    let mut sse = open_stream(&s, "scope=session&session_id=s1").await;
    let (name, sse_hello) = sse.next().await.unwrap();
    assert_eq!(name, "hello");
    assert_eq!(
        View::from_hello(&sse_hello).timeless(),
        View::from_hello(&ws_hello).timeless()
    );

    for i in 1..10 {
        s.post(&batch("s1", i)).await;
    }
    let last = s.store.last_seq();
    let from_ws = ws.commits_through(last).await;
    let mut from_sse = Vec::new();
    while from_sse.len() < from_ws.len() {
        let (name, data) = sse.next().await.unwrap();
        if name != "heartbeat" {
            assert_eq!(name, data["type"].as_str().unwrap());
            from_sse.push(data);
        }
    }
    assert_eq!(from_sse, from_ws);

    let mut overview = open_stream(&s, "scope=overview").await;
    let (_, hello) = overview.next().await.unwrap();
    assert_eq!(
        hello["snapshot"]["sessions"]["items"][0]["session_id"],
        "s1"
    );
    s.post(&json!([{"type":"session.end","session_id":"s1"}]))
        .await;
    let (name, commit) = overview.next().await.unwrap();
    assert_eq!(
        (name.as_str(), &commit["sessions"][0]["status"]),
        ("commit", &json!("completed"))
    );

    let (status, body) = s.get("/api/v1/stream?scope=session").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("bad_request"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_live_connections_instead_of_waiting_for_them() {
    let mut s = Server::start(ServerConfig::default()).await;
    let (mut ws, _) = s.watcher("s1").await;
    let mut sse = open_stream(&s, "scope=overview").await;
    assert_eq!(sse.next().await.unwrap().0, "hello");

    tokio::time::timeout(PATIENCE, s.0.stop())
        .await
        .expect("the server stops although live clients are connected")
        .unwrap();
    assert!(sse.next().await.is_none(), "the event stream ended");
    match ws.ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected a close frame, got {other:?}"),
    }
}
