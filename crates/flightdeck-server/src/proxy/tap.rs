//! The response body on its way back to the client: every chunk is passed on as it arrives
//! (and a copy, refcounted, handed to the recorder). When the proxy asked upstream for
//! stream usage on the client's behalf, the extra usage chunk and the `"usage":null` members
//! it causes are taken back out, so the client receives what it asked for.

use super::recorder::{Record, Recorder};
use super::sse::EventSplitter;
use bytes::{Bytes, BytesMut};

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
        if let Some(call) = self.call {
            self.recorder.send(Record::Chunk {
                call,
                bytes: bytes.clone(),
            });
        }
        if let Some(left) = &mut self.remaining {
            *left = left.saturating_sub(bytes.len() as u64);
            if *left == 0 {
                self.end(None);
            }
        }
        match &mut self.strip {
            None => bytes,
            Some(splitter) => {
                let mut out = BytesMut::new();
                for event in splitter.push(&bytes) {
                    out.extend_from_slice(&without_injected_usage(&event));
                }
                out.freeze()
            }
        }
    }

    /// The upstream body ended; returns what is left for the client.
    pub fn finish(&mut self, failure: Option<String>) -> Bytes {
        self.end(failure);
        self.strip
            .as_mut()
            .and_then(EventSplitter::rest)
            .map(|rest| without_injected_usage(&rest))
            .unwrap_or_default()
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

/// One SSE event without what `stream_options.include_usage` added to it: the final chunk
/// with empty `choices` and the usage goes, and `"usage":null` members are removed.
fn without_injected_usage(event: &[u8]) -> Bytes {
    let Ok(text) = std::str::from_utf8(event) else {
        return Bytes::copy_from_slice(event);
    };
    if text.contains("\"choices\":[]") && text.contains("\"usage\":{") {
        return Bytes::new();
    }
    if text.contains("\"usage\":null") {
        let cleaned = text
            .replace(",\"usage\":null", "")
            .replace("\"usage\":null,", "");
        return Bytes::from(cleaned);
    }
    Bytes::copy_from_slice(event)
}

/// Adds `"stream_options":{"include_usage":true}` to a JSON object request body.
pub fn with_stream_usage(body: &[u8]) -> Option<Bytes> {
    let end = body.iter().rposition(|b| !b.is_ascii_whitespace())?;
    if body[end] != b'}' {
        return None;
    }
    let empty = body[..end].iter().rev().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let mut out = Vec::with_capacity(body.len() + 48);
    out.extend_from_slice(&body[..end]);
    if !empty {
        out.push(b',');
    }
    out.extend_from_slice(br#""stream_options":{"include_usage":true}}"#);
    Some(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injected_usage_is_taken_back_out() {
        let chunk = b"data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n";
        assert_eq!(
            &without_injected_usage(chunk)[..],
            b"data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
        );
        let usage = b"data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\n";
        assert!(without_injected_usage(usage).is_empty());
        assert_eq!(
            &without_injected_usage(b"data: [DONE]\n\n")[..],
            b"data: [DONE]\n\n"
        );
    }

    #[test]
    fn stream_usage_is_added_to_the_request() {
        let b = with_stream_usage(br#"{"model":"m","stream":true} "#).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["stream_options"]["include_usage"], true);
        assert_eq!(v["model"], "m");
        assert!(with_stream_usage(b"[1]").is_none());
        assert_eq!(
            &with_stream_usage(b"{}").unwrap()[..],
            br#"{"stream_options":{"include_usage":true}}"#
        );
    }
}
