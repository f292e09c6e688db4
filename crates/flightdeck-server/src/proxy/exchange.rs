//! One call's exact exchange, gathered by the recorder as the call goes: the request as the
//! client sent it, and each response chunk as the client got it with its arrival time, both
//! cut at the recorder's bound (then marked truncated, since a cut exchange cannot be
//! replayed). Stored through `Store::write_exchanges` when the call ends.

use bytes::Bytes;
use flightdeck_model::Timestamp;
use flightdeck_model::replay::{Exchange, ExchangeChunk};
use std::time::Instant;

/// An exchange on its way.
pub struct Recording {
    upstream: String,
    path: String,
    at: Timestamp,
    started: Instant,
    request: Bytes,
    content_type: Option<String>,
    response: Vec<u8>,
    chunks: Vec<ExchangeChunk>,
    truncated: bool,
    limit: usize,
}

impl Recording {
    /// Starts with the request; bodies past `limit` bytes are cut.
    pub fn new(
        upstream: String,
        path: String,
        at: Timestamp,
        started: Instant,
        request: Bytes,
        limit: usize,
    ) -> Self {
        let truncated = request.len() > limit;
        Recording {
            upstream,
            path,
            at,
            started,
            request: request.slice(..request.len().min(limit)),
            content_type: None,
            response: Vec::new(),
            chunks: Vec::new(),
            truncated,
            limit,
        }
    }

    pub fn content_type(&mut self, value: Option<String>) {
        self.content_type = value;
    }

    /// A chunk the client got, at `at`.
    pub fn chunk(&mut self, bytes: &[u8], at: Instant) {
        if bytes.is_empty() {
            return;
        }
        let room = self.limit.saturating_sub(self.response.len());
        if bytes.len() > room {
            self.truncated = true;
        }
        let kept = &bytes[..bytes.len().min(room)];
        if kept.is_empty() {
            return;
        }
        self.response.extend_from_slice(kept);
        self.chunks.push(ExchangeChunk {
            len: kept.len() as u32,
            after_us: at.saturating_duration_since(self.started).as_micros() as u64,
        });
    }

    /// The exchange, filed under the call's span.
    pub fn finish(self, session_id: String, span_id: String, status: u16) -> Exchange {
        Exchange {
            session_id,
            span_id,
            upstream: self.upstream,
            path: self.path,
            started_at: self.at,
            status,
            content_type: self.content_type,
            request: self.request.to_vec(),
            response: self.response,
            chunks: self.chunks,
            truncated: self.truncated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_past_the_bound_are_cut_and_marked() {
        let t0 = Instant::now();
        let mut r = Recording::new(
            "openai".into(),
            "/v1/chat/completions".into(),
            Timestamp(1),
            t0,
            Bytes::from_static(b"{}"),
            8,
        );
        r.chunk(b"data", t0);
        r.chunk(b"", t0);
        let x = r.finish("s".into(), "a".into(), 200);
        assert!(!x.truncated);
        assert_eq!(x.chunks.len(), 1, "an empty chunk is no boundary");

        let mut r = Recording::new("o".into(), "/".into(), Timestamp(1), t0, Bytes::new(), 8);
        r.chunk(b"data: 1\n", t0);
        r.chunk(b"more", t0);
        let x = r.finish("s".into(), "a".into(), 200);
        assert!(x.truncated);
        assert_eq!(x.response, b"data: 1\n");
    }
}
