//! Work done on the caller's thread before a batch reaches the single writer: server times
//! and content-derived ids filled in where the client sent none, and payloads compressed.
//! Keeping this off the writer lets ingest use every core while the writer only writes.
//!
//! Because times and ids are filled here, the messages offered on the commit feed carry the
//! same keys the store used, so a live client can merge them by id exactly as the store did.

use crate::codec::{self, EncodeDict};
use crate::dictionary::Dictionaries;
use flightdeck_model::{Message, Timestamp, message as m};
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

/// Encodes payloads with the database's dictionary, and offers them as training samples
/// while it has none.
struct Encoder<'a> {
    dicts: &'a Dictionaries,
    dict: Option<&'static EncodeDict>,
    samples: Option<Vec<Vec<u8>>>,
}

impl Encoder<'_> {
    fn blob(&mut self, v: &Option<Box<RawValue>>) -> Option<Vec<u8>> {
        let raw = v.as_ref()?.get().as_bytes();
        if self.dict.is_none()
            && self.samples.is_none()
            && let Some(samples) = self.dicts.sample(raw)
        {
            self.samples = Some(samples);
        }
        Some(codec::encode(raw, self.dict))
    }
}

/// Fills missing times with `now`, derives missing edge and event ids, and encodes payloads.
/// Returns the dictionary training samples too, the one time they are complete.
pub fn prepare(
    mut messages: Vec<Message>,
    now: Timestamp,
    dicts: &Dictionaries,
) -> (Prepared, Option<Vec<Vec<u8>>>) {
    let mut enc = Encoder {
        dicts,
        dict: dicts.encoder(),
        samples: None,
    };
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
            Message::SessionMove(_) | Message::SpanMove(_) => {}
            Message::SpanStart(s) => {
                s.started_at.get_or_insert(now);
                b.input = enc.blob(&s.input);
                b.params = enc.blob(&s.params);
            }
            Message::SpanUpdate(s) => {
                s.at.get_or_insert(now);
                b.input = enc.blob(&s.input);
                b.output = enc.blob(&s.output);
            }
            Message::SpanEnd(s) => {
                s.ended_at.get_or_insert(now);
                b.output = enc.blob(&s.output);
            }
            Message::Span(s) => {
                b.input = enc.blob(&s.input);
                b.output = enc.blob(&s.output);
                b.params = enc.blob(&s.params);
            }
            Message::Edge(e) => {
                e.at.get_or_insert(now);
                if e.edge_id.is_none() {
                    e.edge_id = Some(edge_id(e));
                }
            }
            Message::Event(e) => {
                e.at.get_or_insert(now);
                if e.event_id.is_none() {
                    e.event_id = Some(event_id(e));
                }
                b.data = enc.blob(&e.data);
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
    (Prepared { messages, blobs }, enc.samples)
}

/// The edge's id: the one sent, else one derived from its content (time included).
pub fn edge_id(e: &m::Edge) -> String {
    if let Some(id) = &e.edge_id {
        return id.clone();
    }
    derived_id(&[
        e.kind.as_str().as_bytes(),
        opt(&e.from_span),
        opt(&e.to_span),
        opt(&e.from_agent),
        opt(&e.to_agent),
        opt(&e.label),
        &e.at.map_or(0, |t| t.0).to_le_bytes(),
    ])
}

/// The event's id: the one sent, else one derived from its content (time included).
pub fn event_id(e: &m::Event) -> String {
    if let Some(id) = &e.event_id {
        return id.clone();
    }
    derived_id(&[
        opt(&e.span_id),
        &e.at.map_or(0, |t| t.0).to_le_bytes(),
        e.category.as_bytes(),
        opt(&e.name),
        opt(&e.message),
        e.data.as_ref().map_or(&b""[..], |d| d.get().as_bytes()),
    ])
}

fn opt(v: &Option<String>) -> &[u8] {
    v.as_deref().map_or(&b""[..], str::as_bytes)
}

/// A stable 64-bit FNV-1a hash, for ids derived from content (edges and events sent without
/// an id): the same message always gets the same id, so a retry is recognised.
fn derived_id(parts: &[&[u8]]) -> String {
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
