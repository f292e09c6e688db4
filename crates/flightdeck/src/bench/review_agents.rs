//! The waiting agents of `bench reviews`: each opens one review and waits for its decision,
//! either long-polling `GET /api/v1/reviews/{id}?wait=` (as the SDKs do) or listening on its
//! own `/ws` socket for the `review.decided` frame; when the decision arrives it reports the
//! instant it saw it.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;
use tokio_tungstenite::tungstenite::Message;

/// How an agent waits for its decision.
#[derive(Clone, Copy, Debug)]
pub enum Wait {
    LongPoll,
    Socket,
}

impl Wait {
    pub fn describe(self) -> &'static str {
        match self {
            Wait::LongPoll => "long-poll (GET /api/v1/reviews/{id}?wait=30)",
            Wait::Socket => "socket (review.decided on /ws)",
        }
    }
}

/// Seen: which review's decision arrived, and when.
pub type Seen = (String, Instant);

/// The id of the benchmark's `n`th review; it belongs to one of eight sessions and has an
/// hour to be decided, so only the benchmark settles it.
pub fn review_id(n: usize) -> String {
    format!("bench-{n}")
}

/// Opens the `n`th review (see [`open_review`]) and leaves an agent waiting for it that reports to `seen`.
pub async fn open_waiting(
    http: &reqwest::Client,
    addr: SocketAddr,
    wait: Wait,
    n: usize,
    seen: UnboundedSender<Seen>,
) -> anyhow::Result<()> {
    let review_id = review_id(n);
    // A socket agent listens before it asks, so no frame can pass it by.
    let socket = match wait {
        Wait::Socket => Some(listen(addr, &session(n)).await?),
        Wait::LongPoll => None,
    };
    open_review(http, addr, n).await?;
    match socket {
        Some(ws) => {
            tokio::spawn(on_socket(ws, review_id, seen));
        }
        None => {
            tokio::spawn(long_poll(http.clone(), addr, review_id, seen));
        }
    }
    Ok(())
}

fn session(n: usize) -> String {
    format!("bench-review-{}", n % 8)
}

/// Opens the `n`th review, with nobody waiting for it.
pub async fn open_review(http: &reqwest::Client, addr: SocketAddr, n: usize) -> anyhow::Result<()> {
    let open = json!({
        "session_id": session(n), "review_id": review_id(n), "agent": "bench",
        "title": "bench", "task": "wait for a decision",
        "output": {"tool_calls": [{"name": "delete_file", "arguments": {"path": "/tmp/x"}}]},
        "timing": "before", "timeout_ms": 3_600_000, "on_timeout": "continue",
    });
    let r = http
        .post(format!("http://{addr}/api/v1/reviews"))
        .json(&open)
        .send()
        .await?;
    anyhow::ensure!(
        r.status().is_success(),
        "opening a review: HTTP {}",
        r.status()
    );
    Ok(())
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A socket watching `session`, past its `hello`.
async fn listen(addr: SocketAddr, session: &str) -> anyhow::Result<Socket> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await?;
    let subscribe = json!({"v": 1, "type": "subscribe", "scope": "session", "session_id": session});
    ws.send(Message::text(subscribe.to_string())).await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                let frame: Value = serde_json::from_str(&t)?;
                if frame["type"] == "hello" {
                    return Ok(ws);
                }
            }
            Some(Ok(_)) => {}
            other => anyhow::bail!("expected a hello, got {other:?}"),
        }
    }
}

async fn on_socket(mut ws: Socket, review_id: String, seen: UnboundedSender<Seen>) {
    // Every agent's socket hears about every review; only frames that name this one are
    // parsed, so a hundred agents in one process cost the server they share little.
    let mine = format!("\"review_id\":\"{review_id}\"");
    while let Some(Ok(message)) = ws.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let at = Instant::now();
        if !text.contains(&mine) {
            continue;
        }
        let Ok(frame) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if frame["type"] == "review.decided" && frame["review"]["review_id"] == review_id.as_str() {
            let _ = seen.send((review_id, at));
            let _ = ws.close(None).await;
            return;
        }
    }
}

async fn long_poll(
    http: reqwest::Client,
    addr: SocketAddr,
    review_id: String,
    seen: UnboundedSender<Seen>,
) {
    let url = format!("http://{addr}/api/v1/reviews/{review_id}?wait=30");
    loop {
        let Ok(response) = http.get(&url).send().await else {
            return;
        };
        let Ok(review) = response.json::<Value>().await else {
            return;
        };
        if review["state"] != "pending" {
            let _ = seen.send((review_id, Instant::now()));
            return;
        }
    }
}
