//! Server-sent events, split out of a byte stream that arrives in arbitrary pieces.

use bytes::{Bytes, BytesMut};

/// Collects bytes and yields whole events (the text up to and including a blank line).
#[derive(Default)]
pub struct EventSplitter {
    pending: BytesMut,
}

impl EventSplitter {
    /// Adds `chunk`; returns the events it completed, each with its terminating blank line.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Bytes> {
        self.pending.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some(end) = event_end(&self.pending) {
            events.push(self.pending.split_to(end).freeze());
        }
        events
    }

    /// What is left after the stream ended (an event without its blank line).
    pub fn rest(&mut self) -> Option<Bytes> {
        (!self.pending.is_empty()).then(|| self.pending.split().freeze())
    }
}

/// The end of the first event in `buf`: after "\n\n" or "\r\n\r\n".
fn event_end(buf: &[u8]) -> Option<usize> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The `data:` payload of an event (several data lines joined by newlines).
pub fn data(event: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(event).ok()?;
    let lines: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks() {
        let mut s = EventSplitter::default();
        assert!(s.push(b"data: {\"a\"").is_empty());
        let events = s.push(b":1}\n\ndata: [DONE]\n\nevent: x\r\ndata: y\r\n\r\ndata: tail");
        assert_eq!(events.len(), 3);
        assert_eq!(data(&events[0]).unwrap(), "{\"a\":1}");
        assert_eq!(data(&events[1]).unwrap(), "[DONE]");
        assert_eq!(data(&events[2]).unwrap(), "y");
        assert_eq!(s.rest().unwrap(), &b"data: tail"[..]);
    }
}
