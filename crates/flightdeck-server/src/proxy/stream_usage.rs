//! Token usage for streamed chat completions that did not ask for it. The proxy adds
//! `stream_options.include_usage` to the request so the call can be recorded with its
//! tokens, then takes back out what that option made the upstream add, so the client
//! receives what it would have received directly: the final chunk that carries the usage
//! (empty `choices`) is dropped, and the `usage` member of every other chunk is removed.
//!
//! Chunks are read with a JSON parser, whatever their formatting (compact, spaced, split
//! over several `data:` lines); only the bytes of the `usage` member are cut, so every other
//! byte reaches the client as the upstream wrote it.

use super::sse;
use bytes::Bytes;
use serde::Deserializer as _;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// The request body with `"stream_options":{"include_usage":true}` added, if it is a JSON
/// object.
pub fn request_with_usage(body: &[u8]) -> Option<Bytes> {
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

/// One SSE event as the client would have received it without the injected option.
pub fn event_without_usage(event: Bytes) -> Bytes {
    let Some(data) = sse::data(&event) else {
        return event;
    };
    match chunk_without_usage(&data) {
        Chunk::Unchanged => event,
        Chunk::Dropped => Bytes::new(),
        Chunk::Rewritten(data) => sse::with_data(&event, &data),
    }
}

/// What taking the usage out of one chunk's data did.
#[derive(Debug, PartialEq)]
enum Chunk {
    /// Not a JSON object, or one without `usage`.
    Unchanged,
    /// The usage chunk itself: `choices` empty and a usage object.
    Dropped,
    /// The chunk without its `usage` member.
    Rewritten(String),
}

fn chunk_without_usage(data: &str) -> Chunk {
    let Some(members) = Members::parse(data) else {
        return Chunk::Unchanged;
    };
    let Some(at) = members.0.iter().position(|m| m.key == "usage") else {
        return Chunk::Unchanged;
    };
    let choices_empty = members.0.iter().find(|m| m.key == "choices").is_some_and(
        |m| matches!(serde_json::from_str::<Vec<&RawValue>>(m.value.get()), Ok(v) if v.is_empty()),
    );
    if choices_empty && members.0[at].value.get() != "null" {
        return Chunk::Dropped;
    }
    let (start, end) = members.cut(data, at);
    Chunk::Rewritten(format!("{}{}", &data[..start], &data[end..]))
}

/// One member of a JSON object: its key and its value as written.
struct Member<'a> {
    key: String,
    value: &'a RawValue,
}

/// The members of a JSON object, in the order written.
struct Members<'a>(Vec<Member<'a>>);

impl<'a> Members<'a> {
    fn parse(text: &'a str) -> Option<Members<'a>> {
        let mut de = serde_json::Deserializer::from_str(text);
        let members = de.deserialize_map(MembersVisitor).ok()?;
        de.end().ok()?;
        Some(members)
    }

    /// The byte range of `text` to remove so that member `at` goes, with its key and one
    /// separating comma, and everything else stays as written.
    fn cut(&self, text: &str, at: usize) -> (usize, usize) {
        let span = |m: &Member| {
            let start = m.value.get().as_ptr() as usize - text.as_ptr() as usize;
            (start, start + m.value.get().len())
        };
        let (_, end) = span(&self.0[at]);
        if at > 0 {
            // From the end of the previous value: `, "usage": null`.
            return (span(&self.0[at - 1]).1, end);
        }
        // The first member: from its key up to the next key (or the closing brace).
        let key_start = text.find('{').map_or(0, |i| i + 1);
        let key_start = key_start + leading_space(&text[key_start..]);
        let after = end + leading_space(&text[end..]);
        let next = if text[after..].starts_with(',') {
            let next = after + 1;
            next + leading_space(&text[next..])
        } else {
            end
        };
        (key_start, next)
    }
}

fn leading_space(s: &str) -> usize {
    s.len() - s.trim_start_matches([' ', '\t', '\n', '\r']).len()
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
        let mut members = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value: &'de RawValue = map.next_value()?;
            members.push(Member { key, value });
        }
        Ok(Members(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(data: &str) -> String {
        match chunk_without_usage(data) {
            Chunk::Rewritten(s) => s,
            other => panic!("{data}: {other:?}"),
        }
    }

    #[test]
    fn the_usage_member_goes_in_any_formatting_and_position() {
        assert_eq!(
            rewritten(r#"{"id":"c","choices":[{"delta":{"content":"Hi"}}],"usage":null}"#),
            r#"{"id":"c","choices":[{"delta":{"content":"Hi"}}]}"#
        );
        assert_eq!(
            rewritten(r#"{"id": "c", "usage": null, "choices": [{"index": 0}]}"#),
            r#"{"id": "c", "choices": [{"index": 0}]}"#
        );
        assert_eq!(
            rewritten(r#"{ "usage" : null , "id": "c" }"#),
            r#"{ "id": "c" }"#
        );
        assert_eq!(rewritten("{\n  \"usage\": null\n}"), "{\n  \n}");
        // A key that only looks like it inside a string is left alone.
        assert_eq!(
            rewritten(r#"{"text":"\"usage\":null","usage":null}"#),
            r#"{"text":"\"usage\":null"}"#
        );
        // A final chunk with choices and usage (some servers) keeps its choices.
        assert_eq!(
            rewritten(r#"{"choices": [{"finish_reason": "stop"}], "usage": {"total_tokens": 3}}"#),
            r#"{"choices": [{"finish_reason": "stop"}]}"#
        );
    }

    #[test]
    fn the_usage_chunk_is_dropped_and_other_data_kept() {
        for usage in [
            r#"{"id":"c","choices":[],"usage":{"prompt_tokens":1}}"#,
            r#"{"id": "c", "choices": [ ], "usage": {"prompt_tokens": 1}}"#,
        ] {
            assert_eq!(chunk_without_usage(usage), Chunk::Dropped);
        }
        for other in [
            "[DONE]",
            r#"{"choices":[]}"#,
            "{not json",
            r#"[{"usage":null}]"#,
        ] {
            assert_eq!(chunk_without_usage(other), Chunk::Unchanged, "{other}");
        }
        // Azure's first chunk has no choices and no usage: it stays.
        assert_eq!(
            chunk_without_usage(r#"{"choices":[],"prompt_filter_results":[],"usage":null}"#),
            Chunk::Rewritten(r#"{"choices":[],"prompt_filter_results":[]}"#.into())
        );
    }

    #[test]
    fn events_keep_their_framing() {
        let event = Bytes::from_static(b"data: {\"a\": 1, \"usage\": null}\r\n\r\n");
        assert_eq!(&event_without_usage(event)[..], b"data: {\"a\": 1}\r\n\r\n");
        let done = Bytes::from_static(b"data: [DONE]\n\n");
        assert_eq!(event_without_usage(done.clone()), done);
        let usage = Bytes::from_static(b"data: {\"choices\": [], \"usage\": {}}\n\n");
        assert!(event_without_usage(usage).is_empty());
    }

    #[test]
    fn stream_usage_is_added_to_the_request() {
        let b = request_with_usage(br#"{"model":"m","stream":true} "#).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["stream_options"]["include_usage"], true);
        assert_eq!(v["model"], "m");
        assert!(request_with_usage(b"[1]").is_none());
        assert_eq!(
            &request_with_usage(b"{}").unwrap()[..],
            br#"{"stream_options":{"include_usage":true}}"#
        );
    }
}
