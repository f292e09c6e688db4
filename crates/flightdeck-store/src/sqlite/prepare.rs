//! Work done on the caller's thread before a batch reaches the single writer: server times
//! filled in where the client sent none, and payloads compressed. Keeping this off the writer
//! lets ingest use every core while the writer only writes.

use crate::codec;
use flightdeck_model::{Message, Timestamp};
use serde_json::value::RawValue;

/// Encoded payloads of one message, by position in the batch.
#[derive(Debug, Default)]
pub struct Blobs {
    pub input: Option<Vec<u8>>,
    pub output: Option<Vec<u8>>,
    pub params: Option<Vec<u8>>,
    pub data: Option<Vec<u8>>,
}

/// A batch ready for the writer.
#[derive(Debug)]
pub struct Prepared {
    pub messages: Vec<Message>,
    pub blobs: Vec<Blobs>,
}

fn blob(v: &Option<Box<RawValue>>) -> Option<Vec<u8>> {
    v.as_ref().map(|raw| codec::encode(raw.get().as_bytes()))
}

/// Fills missing times with `now` and encodes payloads.
pub fn prepare(mut messages: Vec<Message>, now: Timestamp) -> Prepared {
    let mut blobs = Vec::with_capacity(messages.len());
    for m in &mut messages {
        let mut b = Blobs::default();
        match m {
            Message::SessionStart(s) => {
                s.started_at.get_or_insert(now);
            }
            Message::SessionEnd(s) => {
                s.ended_at.get_or_insert(now);
            }
            Message::SpanStart(s) => {
                s.started_at.get_or_insert(now);
                b.input = blob(&s.input);
                b.params = blob(&s.params);
            }
            Message::SpanUpdate(s) => {
                s.at.get_or_insert(now);
                b.input = blob(&s.input);
                b.output = blob(&s.output);
            }
            Message::SpanEnd(s) => {
                s.ended_at.get_or_insert(now);
                b.output = blob(&s.output);
            }
            Message::Span(s) => {
                b.input = blob(&s.input);
                b.output = blob(&s.output);
                b.params = blob(&s.params);
            }
            Message::Edge(e) => {
                e.at.get_or_insert(now);
            }
            Message::Event(e) => {
                e.at.get_or_insert(now);
                b.data = blob(&e.data);
            }
            Message::AgentStatus(a) => {
                a.at.get_or_insert(now);
            }
            Message::Metric(m) => {
                m.at.get_or_insert(now);
            }
        }
        blobs.push(b);
    }
    Prepared { messages, blobs }
}

/// A stable 64-bit FNV-1a hash, for ids derived from content (edges and events sent without
/// an id): the same message always gets the same id, so a retry is recognised.
pub fn derived_id(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in part.iter().chain(std::iter::once(&0xff)) {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("~{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_separate_parts() {
        assert_eq!(derived_id(&[b"ab", b"c"]), derived_id(&[b"ab", b"c"]));
        assert_ne!(derived_id(&[b"ab", b"c"]), derived_id(&[b"a", b"bc"]));
        assert_eq!(derived_id(&[b""]).len(), 17);
    }
}
