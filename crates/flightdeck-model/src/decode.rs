//! Decoding and validating a batch of wire messages, with errors that name the event index
//! and the field.
//!
//! A batch is a JSON array of messages or NDJSON (one message per line). Decoding is strict
//! about what the contract says (types, required fields, sizes) and lenient about unknown
//! fields. A batch with any invalid message is rejected whole, so a client never has to work
//! out which half of its batch was kept.

use crate::message::*;
use crate::span_view::SpanView;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The longest id (session, span, edge, event) accepted, in bytes.
pub const MAX_ID_BYTES: usize = 128;
/// The longest short text (names, agent, model, category, labels) accepted, in bytes.
pub const MAX_NAME_BYTES: usize = 1024;
/// How many message errors one rejection reports at most.
const MAX_REPORTED_ERRORS: usize = 20;
/// The latest time accepted: 2200-01-01T00:00:00Z, in nanoseconds. Anything later is a
/// unit mistake or garbage, not a time a trace happened.
pub const LATEST_TIME: Timestamp = Timestamp(7_258_118_400 * 1_000_000_000);

/// Size limits that apply while decoding.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The largest single free-text or JSON field (`input`, `output`, `message`, ...), in bytes.
    pub max_field_bytes: usize,
    /// The deepest nesting of arrays and objects in a JSON field (`input`, `output`,
    /// `params`, `data`). Real messages, tool schemas included, stay far below the default.
    pub max_json_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_field_bytes: 4 * 1024 * 1024,
            max_json_depth: 64,
        }
    }
}

/// How deeply arrays and objects nest in `json`, which must be valid JSON text. Payloads are
/// mostly the text inside strings, so a string is crossed with `memchr` to its next quote or
/// backslash rather than byte by byte.
fn json_depth(json: &str) -> usize {
    let bytes = json.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                // To the closing quote: an escape takes the byte after the backslash with it.
                while let Some(k) = memchr::memchr2(b'"', b'\\', &bytes[i..]) {
                    i += k + 1;
                    if bytes[i - 1] == b'"' {
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// What is wrong with one message of a batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageError {
    /// Position of the message in the batch (0-based; for NDJSON, the non-empty line).
    pub index: usize,
    /// The offending field as a path (`span_id`, `usage.input_tokens`), when one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

/// Why a whole batch was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BatchError {
    #[error("the request body is empty")]
    Empty,
    #[error("the request body is not UTF-8 text")]
    NotUtf8,
    #[error("the request body is not a JSON array of messages: {0}")]
    Malformed(String),
    #[error("{} invalid message(s); first: message {}: {}", .errors.len(), .errors[0].index, .errors[0].message)]
    Invalid { errors: Vec<MessageError> },
}

/// Decodes a JSON array or NDJSON batch into messages, validating each.
pub fn decode_batch(body: &[u8], limits: &Limits) -> Result<Vec<Message>, BatchError> {
    let text = std::str::from_utf8(body).map_err(|_| BatchError::NotUtf8)?;
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(BatchError::Empty);
    }
    let mut messages = Vec::new();
    let mut errors = Vec::new();
    let mut take = |index: usize, raw: &str| match decode_message(raw, limits) {
        Ok(m) => messages.push(m),
        Err((field, message)) => errors.push(MessageError {
            index,
            field,
            message,
        }),
    };
    if trimmed.starts_with('[') {
        let items: Vec<&RawValue> =
            serde_json::from_str(text).map_err(|e| BatchError::Malformed(e.to_string()))?;
        if items.is_empty() {
            return Err(BatchError::Empty);
        }
        for (i, raw) in items.iter().enumerate() {
            take(i, raw.get());
        }
    } else {
        for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            take(i, line);
        }
    }
    if errors.is_empty() {
        Ok(messages)
    } else {
        errors.truncate(MAX_REPORTED_ERRORS);
        Err(BatchError::Invalid { errors })
    }
}

/// What is wrong with one message: the field (as a path) when one is known, and why.
pub type FieldError = (Option<String>, String);

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    ty: Option<String>,
}

/// Decodes and validates one message from its JSON text.
pub fn decode_message(raw: &str, limits: &Limits) -> Result<Message, FieldError> {
    let envelope: Envelope = serde_json::from_str(raw).map_err(|e| {
        let what = if raw.trim_start().starts_with('{') {
            format!("invalid JSON: {e}")
        } else {
            "a message must be a JSON object".to_owned()
        };
        (None, what)
    })?;
    let Some(ty) = envelope.ty else {
        return Err((Some("type".into()), "missing field `type`".into()));
    };
    let message = match ty.as_str() {
        "session.start" => Message::SessionStart(parse(raw)?),
        "session.end" => Message::SessionEnd(parse(raw)?),
        "session.move" => Message::SessionMove(parse(raw)?),
        "span.move" => Message::SpanMove(parse(raw)?),
        "span.start" => Message::SpanStart(parse(raw)?),
        "span.update" => Message::SpanUpdate(parse(raw)?),
        "span.end" => Message::SpanEnd(parse(raw)?),
        "span" => Message::Span(parse(raw)?),
        "edge" => Message::Edge(parse(raw)?),
        "event" => Message::Event(parse(raw)?),
        "agent.status" => Message::AgentStatus(parse(raw)?),
        "metric" => Message::Metric(parse(raw)?),
        other => {
            return Err((
                Some("type".into()),
                format!(
                    "unknown message type {other:?}; expected one of: {}",
                    Message::TYPES.join(", ")
                ),
            ));
        }
    };
    validate(&message, limits)?;
    Ok(message)
}

/// Deserialises `raw` as `T`; an error names the field by its path.
pub fn parse<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, FieldError> {
    let mut de = serde_json::Deserializer::from_str(raw);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // A missing field is reported by serde at the level of its parent object.
        let field = missing_field(&inner)
            .map(|f| {
                if path == "." {
                    f.to_owned()
                } else {
                    format!("{path}.{f}")
                }
            })
            .or_else(|| (path != ".").then_some(path));
        (field, strip_position(&inner))
    })
}

fn missing_field(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// serde_json appends "at line 1 column 40", which points into the message, not the batch.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

struct Check<'a> {
    limits: &'a Limits,
}

impl Check<'_> {
    fn id(&self, field: &str, v: &str) -> Result<(), FieldError> {
        if v.is_empty() {
            return Err((Some(field.into()), "must not be empty".into()));
        }
        if v.len() > MAX_ID_BYTES {
            return Err((
                Some(field.into()),
                format!("is {} bytes; ids are at most {MAX_ID_BYTES}", v.len()),
            ));
        }
        if let Some(c) = v.chars().find(|c| c.is_control()) {
            return Err((
                Some(field.into()),
                format!("holds the control character {c:?}; ids are printable text"),
            ));
        }
        Ok(())
    }
    fn time(&self, field: &str, v: Option<Timestamp>) -> Result<(), FieldError> {
        match v {
            Some(t) if t.0 < 0 => {
                Err((Some(field.into()), "is before 1970-01-01T00:00:00Z".into()))
            }
            Some(t) if t > LATEST_TIME => Err((
                Some(field.into()),
                format!(
                    "is {}, after 2200-01-01: timestamps are nanoseconds since 1970 or RFC 3339 text",
                    t.to_rfc3339()
                ),
            )),
            _ => Ok(()),
        }
    }
    fn json(&self, field: &str, v: &RawValue) -> Result<(), FieldError> {
        self.text(field, v.get().len())?;
        if json_depth(v.get()) > self.limits.max_json_depth {
            return Err((
                Some(field.into()),
                format!(
                    "nests arrays and objects deeper than {} levels",
                    self.limits.max_json_depth
                ),
            ));
        }
        Ok(())
    }
    fn opt_id(&self, field: &str, v: &Option<String>) -> Result<(), FieldError> {
        v.as_deref().map_or(Ok(()), |v| self.id(field, v))
    }
    fn name(&self, field: &str, v: &str) -> Result<(), FieldError> {
        if v.len() > MAX_NAME_BYTES {
            return Err((
                Some(field.into()),
                format!("is {} bytes; at most {MAX_NAME_BYTES}", v.len()),
            ));
        }
        Ok(())
    }
    fn opt_name(&self, field: &str, v: &Option<String>) -> Result<(), FieldError> {
        v.as_deref().map_or(Ok(()), |v| self.name(field, v))
    }
    fn text(&self, field: &str, len: usize) -> Result<(), FieldError> {
        if len > self.limits.max_field_bytes {
            return Err((
                Some(field.into()),
                format!(
                    "is {len} bytes; fields are at most {} bytes",
                    self.limits.max_field_bytes
                ),
            ));
        }
        Ok(())
    }
    fn opt_text(&self, field: &str, v: &Option<String>) -> Result<(), FieldError> {
        v.as_ref().map_or(Ok(()), |v| self.text(field, v.len()))
    }
    fn raw(&self, field: &str, v: &Option<Box<RawValue>>) -> Result<(), FieldError> {
        v.as_ref().map_or(Ok(()), |v| self.json(field, v))
    }
    fn attrs(&self, field: &str, v: Option<&Attributes>) -> Result<(), FieldError> {
        let Some(map) = v else { return Ok(()) };
        for (k, value) in map {
            // The field's path is only written out for an error: this runs for every key.
            let at = || format!("{field}.{k}");
            if k.len() > MAX_NAME_BYTES {
                return self.name(&at(), k);
            }
            let len = match value {
                serde_json::Value::String(s) => s.len(),
                serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
                    value.to_string().len()
                }
                _ => 0,
            };
            if len > self.limits.max_field_bytes {
                return self.text(&at(), len);
            }
        }
        Ok(())
    }
    fn scores(&self, v: Option<&Scores>) -> Result<(), FieldError> {
        let Some(map) = v else { return Ok(()) };
        for (k, value) in map {
            self.name(&format!("scores.{k}"), k)?;
            if !value.is_finite() {
                return Err((
                    Some(format!("scores.{k}")),
                    "must be a finite number".into(),
                ));
            }
        }
        Ok(())
    }
    fn cost(&self, v: Option<f64>) -> Result<(), FieldError> {
        match v {
            Some(c) if !c.is_finite() || c < 0.0 => Err((
                Some("cost_usd".into()),
                "must be a finite number >= 0".into(),
            )),
            _ => Ok(()),
        }
    }
}

impl Check<'_> {
    /// The rules every span message obeys, read through its [`SpanView`].
    fn span(&self, f: &SpanView<'_>) -> Result<(), FieldError> {
        self.id("session_id", f.session_id)?;
        self.id("span_id", f.span_id)?;
        if let Some(parent) = f.parent_id {
            self.id("parent_id", parent)?;
        }
        if let Some(trace) = f.trace_id {
            self.id("trace_id", trace)?;
        }
        for (field, value) in [
            ("name", f.name),
            ("agent", f.agent),
            ("model", f.model),
            ("provider", f.provider),
        ] {
            value.map_or(Ok(()), |v| self.name(field, v))?;
        }
        for (field, value) in [
            ("input", f.input),
            ("output", f.output),
            ("params", f.params),
        ] {
            value.map_or(Ok(()), |v| self.json(field, v))?;
        }
        self.time("started_at", f.started_at)?;
        self.time("ended_at", f.ended_at)?;
        self.time("at", f.at)?;
        f.error.map_or(Ok(()), |e| self.text("error", e.len()))?;
        self.cost(f.cost_usd)?;
        self.attrs("attributes", f.attributes)?;
        self.scores(f.scores)
    }
}

/// Checks a message built in memory (by a transport other than native JSON) against the same
/// rules as a decoded one: ids, sizes, times.
pub fn validate(m: &Message, limits: &Limits) -> Result<(), FieldError> {
    let c = Check { limits };
    match m {
        Message::SessionStart(s) => {
            c.id("session_id", &s.session_id)?;
            c.time("started_at", s.started_at)?;
            c.opt_name("name", &s.name)?;
            for t in &s.tags {
                c.name("tags", t)?;
            }
            c.attrs("metadata", s.metadata.as_ref())?;
        }
        Message::SessionEnd(s) => {
            c.id("session_id", &s.session_id)?;
            c.time("ended_at", s.ended_at)?;
            c.opt_text("error", &s.error)?;
        }
        Message::SessionMove(s) => {
            c.id("session_id", &s.session_id)?;
            c.id("into", &s.into)?;
            if s.into == s.session_id {
                return Err((Some("into".into()), "is the session itself".into()));
            }
        }
        Message::SpanMove(s) => {
            c.id("session_id", &s.session_id)?;
            c.id("span_id", &s.span_id)?;
            c.id("into", &s.into)?;
            c.id("into_span", &s.into_span)?;
            if (&s.into, &s.into_span) == (&s.session_id, &s.span_id) {
                return Err((Some("into_span".into()), "is the span itself".into()));
            }
        }
        Message::SpanStart(s) => c.span(&s.view())?,
        Message::SpanUpdate(s) => {
            c.opt_text("output_delta", &s.output_delta)?;
            c.span(&s.view())?
        }
        Message::SpanEnd(s) => c.span(&s.view())?,
        Message::Span(s) => {
            c.span(&s.view())?;
            if s.ended_at < s.started_at {
                return Err((Some("ended_at".into()), "is before started_at".into()));
            }
        }
        Message::Edge(e) => {
            c.id("session_id", &e.session_id)?;
            c.opt_id("edge_id", &e.edge_id)?;
            c.time("at", e.at)?;
            c.opt_id("from_span", &e.from_span)?;
            c.opt_id("to_span", &e.to_span)?;
            c.opt_name("from_agent", &e.from_agent)?;
            c.opt_name("to_agent", &e.to_agent)?;
            c.opt_name("label", &e.label)?;
            if e.from_span.is_none() && e.from_agent.is_none() {
                return Err((
                    Some("from_span".into()),
                    "an edge needs `from_span` or `from_agent`".into(),
                ));
            }
            if e.to_span.is_none() && e.to_agent.is_none() {
                return Err((
                    Some("to_span".into()),
                    "an edge needs `to_span` or `to_agent`".into(),
                ));
            }
        }
        Message::Event(e) => {
            c.id("session_id", &e.session_id)?;
            c.opt_id("span_id", &e.span_id)?;
            c.opt_id("event_id", &e.event_id)?;
            c.time("at", e.at)?;
            c.name("category", &e.category)?;
            c.opt_name("agent", &e.agent)?;
            c.opt_name("name", &e.name)?;
            c.opt_text("message", &e.message)?;
            c.raw("data", &e.data)?;
        }
        Message::AgentStatus(a) => {
            c.id("session_id", &a.session_id)?;
            c.name("agent", &a.agent)?;
            c.time("at", a.at)?;
            if a.agent.is_empty() {
                return Err((Some("agent".into()), "must not be empty".into()));
            }
            c.opt_name("role", &a.role)?;
            c.opt_name("model", &a.model)?;
            c.opt_text("task", &a.task)?;
        }
        Message::Metric(m) => {
            c.opt_id("session_id", &m.session_id)?;
            c.name("name", &m.name)?;
            c.time("at", m.at)?;
            if m.name.is_empty() {
                return Err((Some("name".into()), "must not be empty".into()));
            }
            if !m.value.is_finite() {
                return Err((Some("value".into()), "must be a finite number".into()));
            }
            c.opt_name("unit", &m.unit)?;
            for (k, v) in &m.labels {
                c.name(&format!("labels.{k}"), v)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(body: &str) -> Vec<MessageError> {
        match decode_batch(body.as_bytes(), &Limits::default()) {
            Err(BatchError::Invalid { errors }) => errors,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn control_characters_times_out_of_range_and_deep_json_are_refused_by_field() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let cases = [
            (r#"{"type":"session.start","session_id":"s\u0000"}"#.to_owned(), "session_id", "control character"),
            (r#"{"type":"span.start","session_id":"s","span_id":"a\nb","kind":"llm","name":"x"}"#.to_owned(), "span_id", "control character"),
            (r#"{"type":"span.start","session_id":"s","span_id":"a","kind":"llm","name":"x","started_at":-5}"#.to_owned(), "started_at", "before 1970"),
            (r#"{"type":"span.end","session_id":"s","span_id":"a","ended_at":"2250-01-01T00:00:00Z"}"#.to_owned(), "ended_at", "after 2200"),
            (r#"{"type":"event","session_id":"s","category":"log","at":9223372036854775807}"#.to_owned(), "at", "after 2200"),
            (format!(r#"{{"type":"span.start","session_id":"s","span_id":"a","kind":"llm","name":"x","input":{deep}}}"#), "input", "deeper than 64"),
            (format!(r#"{{"type":"event","session_id":"s","category":"log","data":{{"x":{deep}}}}}"#), "data", "deeper than 64"),
        ];
        for (message, field, why) in cases {
            let e = errors(&message);
            assert_eq!(e[0].field.as_deref(), Some(field), "{e:?}");
            assert!(e[0].message.contains(why), "{field}: {e:?}");
        }
        // What real messages hold passes: text that looks like brackets, a deep but sane tool
        // schema, times of today.
        let fine = format!(
            r#"{{"type":"span.start","session_id":"s","span_id":"a","kind":"llm","name":"x","started_at":"2026-12-01T10:00:00Z","input":[{{"role":"user","content":"[[[[{{{{ \"]]]"}}],"params":{{"tools":{}1{}}}}}"#,
            r#"{"a":"#.repeat(30),
            "}".repeat(30)
        );
        decode_batch(fine.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(json_depth(r#"{"a":"[[[","b":[{"c":"\"]"}]}"#), 3);
        // An escaped backslash ends before the quote that closes its string.
        assert_eq!(json_depth(r#"["a\\",["b\"[", "\\\"{"]]"#), 2);
        assert_eq!(json_depth(r#""[[""#), 0);
    }

    #[test]
    fn decodes_array_and_ndjson_alike() {
        let a = r#"[{"type":"session.start","session_id":"s1","name":"heist #4"},
                   {"type":"span.start","session_id":"s1","span_id":"a1","kind":"llm","name":"decompose","input":[{"role":"user","content":"plan the job"}]}]"#;
        let n = "{\"type\":\"session.start\",\"session_id\":\"s1\"}\n\n{\"type\":\"span.end\",\"session_id\":\"s1\",\"span_id\":\"a1\",\"output\":\"ok\"}\n";
        assert_eq!(
            decode_batch(a.as_bytes(), &Limits::default())
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            decode_batch(n.as_bytes(), &Limits::default())
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn raw_payloads_survive_a_round_trip() {
        let m = decode_message(
            r#"{"type":"span.start","session_id":"s","span_id":"x","kind":"tool","name":"grep","input":{"q": "a b"}}"#,
            &Limits::default(),
        )
        .unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains(r#""input":{"q": "a b"}"#), "{json}");
        assert!(json.starts_with(r#"{"type":"span.start""#), "{json}");
    }

    #[test]
    fn names_index_and_field() {
        let e = errors(
            r#"[{"type":"session.start","session_id":"s"},{"type":"span.start","session_id":"s","kind":"llm","name":"x"}]"#,
        );
        assert_eq!(e[0].index, 1);
        assert_eq!(e[0].field.as_deref(), Some("span_id"));

        let e = errors(
            r#"[{"type":"span.end","session_id":"s","span_id":"x","usage":{"input_tokens":"many"}}]"#,
        );
        assert_eq!(e[0].field.as_deref(), Some("usage.input_tokens"));
        assert!(e[0].message.contains("invalid type"), "{}", e[0].message);

        let e = errors(r#"[{"type":"span.launch","session_id":"s"}]"#);
        assert_eq!(e[0].field.as_deref(), Some("type"));
        assert!(e[0].message.contains("span.launch"));

        let e = errors(r#"[{"session_id":"s"}]"#);
        assert_eq!(e[0].field.as_deref(), Some("type"));

        let e = errors(
            r#"[{"type":"span.start","session_id":"s","span_id":"x","kind":"robot","name":"n"}]"#,
        );
        assert_eq!(e[0].field.as_deref(), Some("kind"));

        let long = "x".repeat(MAX_ID_BYTES + 1);
        let e = errors(&format!(
            r#"[{{"type":"session.start","session_id":"{long}"}}]"#
        ));
        assert_eq!(e[0].field.as_deref(), Some("session_id"));

        let e = errors(r#"[42]"#);
        assert!(e[0].message.contains("JSON object"));

        let e = errors(r#"[{"type":"session.move","session_id":"s"}]"#);
        assert_eq!(e[0].field.as_deref(), Some("into"));
        let e = errors(r#"[{"type":"session.move","session_id":"s","into":"s"}]"#);
        assert_eq!(e[0].field.as_deref(), Some("into"));
        assert!(e[0].message.contains("itself"), "{}", e[0].message);
        let e = errors(&format!(
            r#"[{{"type":"span.start","session_id":"s","span_id":"x","kind":"llm","name":"n","trace_id":"{long}"}}]"#
        ));
        assert_eq!(e[0].field.as_deref(), Some("trace_id"));
        let e = errors(r#"[{"type":"span.move","session_id":"s","span_id":"x","into":"s"}]"#);
        assert_eq!(e[0].field.as_deref(), Some("into_span"));
        let e = errors(
            r#"[{"type":"span.move","session_id":"s","span_id":"x","into":"s","into_span":"x"}]"#,
        );
        assert!(e[0].message.contains("itself"), "{}", e[0].message);
    }

    #[test]
    fn a_session_move_and_a_trace_id_decode() {
        let m = decode_batch(
            br#"[{"type":"session.move","session_id":"0af7","into":"conv-1"},
                 {"type":"span","session_id":"conv-1","span_id":"a","trace_id":"0af7","kind":"llm","name":"chat","started_at":1,"ended_at":2}]"#,
            &Limits::default(),
        )
        .unwrap();
        let Message::SessionMove(mv) = &m[0] else {
            panic!("{m:?}")
        };
        assert_eq!(
            (mv.session_id.as_str(), mv.into.as_str()),
            ("0af7", "conv-1")
        );
        let Message::Span(s) = &m[1] else { panic!() };
        assert_eq!(s.view().trace_id, Some("0af7"));
    }

    #[test]
    fn oversize_field_is_named() {
        let limits = Limits {
            max_field_bytes: 100,
            ..Limits::default()
        };
        let big = "y".repeat(200);
        let body =
            format!(r#"{{"type":"span.end","session_id":"s","span_id":"x","output":"{big}"}}"#);
        match decode_batch(body.as_bytes(), &limits) {
            Err(BatchError::Invalid { errors }) => {
                assert_eq!(errors[0].field.as_deref(), Some("output"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn whole_body_errors() {
        let l = Limits::default();
        assert_eq!(decode_batch(b"  ", &l).unwrap_err(), BatchError::Empty);
        assert_eq!(decode_batch(b"[]", &l).unwrap_err(), BatchError::Empty);
        assert_eq!(
            decode_batch(&[0xff, 0xfe], &l).unwrap_err(),
            BatchError::NotUtf8
        );
        assert!(matches!(
            decode_batch(b"[{\"type\":", &l).unwrap_err(),
            BatchError::Malformed(_)
        ));
        // A broken NDJSON line is reported with its index; the others are fine.
        let e = errors("{\"type\":\"session.start\",\"session_id\":\"s\"}\n{\"type\":");
        assert_eq!(e[0].index, 1);
        assert!(e[0].message.contains("invalid JSON"));
    }
}
