//! The WebSocket clients of `bench live`: each watches the benchmark session and records, for
//! every event it receives, the time since the event's HTTP request was sent.
//!
//! Each event carries its send time in `attributes.bench_sent_ns` (nanoseconds since the
//! benchmark's clock started). A client finds these in the frame's text without parsing the
//! JSON, so twenty clients in the same process cost little next to the server they measure.

use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// The attribute that carries an event's send time.
pub const SENT_NS: &str = "bench_sent_ns";

/// What one client has seen.
#[derive(Default)]
pub struct Record {
    /// Latencies in microseconds, since the last `take`.
    latencies_us: Mutex<Vec<u32>>,
    /// Events received since start.
    pub events: AtomicU64,
    /// Resyncs received since start.
    pub resyncs: AtomicU64,
}

impl Record {
    /// The latencies recorded since the last call.
    pub fn take(&self) -> Vec<u32> {
        std::mem::take(&mut *self.latencies_us.lock().expect("latency lock"))
    }
}

/// Connects a client to `/ws`, subscribes it to `session`, waits for its `hello`, and leaves
/// a task recording what it receives.
pub async fn watch(addr: SocketAddr, session: &str, clock: Instant) -> anyhow::Result<Arc<Record>> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await?;
    let subscribe =
        serde_json::json!({"v": 1, "type": "subscribe", "scope": "session", "session_id": session});
    ws.send(Message::text(subscribe.to_string())).await?;
    match ws.next().await {
        Some(Ok(Message::Text(t))) if t.contains(r#""type":"hello""#) => {}
        other => anyhow::bail!("expected a hello, got {other:?}"),
    }
    let record = Arc::new(Record::default());
    let rec = Arc::clone(&record);
    tokio::spawn(async move {
        let marker = format!("\"{SENT_NS}\":");
        while let Some(Ok(message)) = ws.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let now = clock.elapsed().as_nanos() as u64;
            if text.contains(r#""type":"resync""#) {
                rec.resyncs.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let latencies: Vec<u32> = text
                .match_indices(&marker)
                .filter_map(|(at, m)| {
                    let digits = &text[at + m.len()..];
                    let end = digits
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(digits.len());
                    digits[..end].parse::<u64>().ok()
                })
                .map(|sent| (now.saturating_sub(sent) / 1000).min(u64::from(u32::MAX)) as u32)
                .collect();
            rec.events
                .fetch_add(latencies.len() as u64, Ordering::Relaxed);
            rec.latencies_us
                .lock()
                .expect("latency lock")
                .extend(latencies);
        }
    });
    Ok(record)
}
