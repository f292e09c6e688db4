//! Server-sent events of a response (`event:` name, `data:` JSON), read as they arrive.

use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;

/// How long the next event may take.
const PATIENCE: Duration = Duration::from_secs(10);

/// The events of one response body.
pub struct EventStream {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl EventStream {
    /// Reads the events of `r`, which must be an event stream.
    pub fn of(r: reqwest::Response) -> EventStream {
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        EventStream {
            body: Box::pin(r.bytes_stream()),
            buf: String::new(),
        }
    }

    /// The next event, or `None` at the end of the stream.
    pub async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim_start().to_owned())
                };
                let data = serde_json::from_str(&field("data:").unwrap()).unwrap();
                return Some((field("event:").unwrap(), data));
            }
            let chunk = tokio::time::timeout(PATIENCE, self.body.next())
                .await
                .expect("an event in time")?
                .unwrap();
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}
