//! The response body on its way back to the client: every chunk is passed on as it arrives
//! (and a copy, refcounted, handed to the recorder). When the proxy asked upstream for
//! stream usage on the client's behalf, what that made the upstream add is taken back out
//! event by event (`stream_usage.rs`), so the client receives what it asked for.

use super::recorder::{Record, Recorder};
use super::sse::EventSplitter;
use super::stream_usage::event_without_usage;
use bytes::{Bytes, BytesMut};
use std::time::Instant;

/// Follows one response body; tells the recorder how it ended, also when it is dropped
/// early (the client went away).
pub struct Tap {
    recorder: Recorder,
    call: Option<u64>,
    strip: Option<EventSplitter>,
    /// Bytes still to come when the upstream declared a length: the server stops reading
    /// a body once that many bytes are out, so the end is seen here, not at the stream's end.
    remaining: Option<u64>,
    ended: bool,
}

impl Tap {
    pub fn new(
        recorder: Recorder,
        call: Option<u64>,
        strip_usage: bool,
        length: Option<u64>,
    ) -> Self {
        Tap {
            recorder,
            call,
            strip: strip_usage.then(EventSplitter::default),
            remaining: length,
            ended: false,
        }
    }

    /// A chunk from upstream; returns what the client gets.
    pub fn chunk(&mut self, bytes: Bytes) -> Bytes {
        let out = match &mut self.strip {
            None => bytes.clone(),
            Some(splitter) => {
                let mut out = BytesMut::new();
                for event in splitter.push(&bytes) {
                    out.extend_from_slice(&event_without_usage(event));
                }
                out.freeze()
            }
        };
        if let Some(call) = self.call {
            self.recorder.send(Record::Chunk {
                call,
                bytes: bytes.clone(),
                sent: self.strip.is_some().then(|| out.clone()),
                at: Instant::now(),
            });
        }
        if let Some(left) = &mut self.remaining {
            *left = left.saturating_sub(bytes.len() as u64);
            if *left == 0 {
                self.end(None);
            }
        }
        out
    }

    /// The upstream body ended; returns what is left for the client.
    pub fn finish(&mut self, failure: Option<String>) -> Bytes {
        let rest = self
            .strip
            .as_mut()
            .and_then(EventSplitter::rest)
            .map(event_without_usage)
            .unwrap_or_default();
        if let Some(call) = self.call.filter(|_| !rest.is_empty()) {
            self.recorder.send(Record::Chunk {
                call,
                bytes: Bytes::new(),
                sent: Some(rest.clone()),
                at: Instant::now(),
            });
        }
        self.end(failure);
        rest
    }

    fn end(&mut self, failure: Option<String>) {
        if !self.ended {
            self.ended = true;
            if let Some(call) = self.call {
                self.recorder.send(Record::End { call, failure });
            }
        }
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.end(Some(
            "the client closed the connection before the response ended".into(),
        ));
    }
}
