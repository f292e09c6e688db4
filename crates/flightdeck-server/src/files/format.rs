//! The trace file formats, told apart per file, and one line (or one protobuf message) of each
//! decoded into a [`Batch`] for a [`Sink`](super::sink::Sink), with the decoders the server
//! already has: native lines through `flightdeck_model::decode_message`, OTLP/JSON through the
//! OTLP ingest's own body decoding; seed 002's trace events (`trace_events`) and Claude Code
//! transcripts (`claude`) map to native messages.

use crate::otlp::body::{Encoding, decode};
use flightdeck_model::{Limits, Message, decode_message};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use serde_json::Value;

/// A trace file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Native protocol messages, one JSON object a line.
    Native,
    /// OTLP/JSON export requests (traces or logs), one a line: the Collector's file exporter.
    OtlpJson,
    /// OTLP protobuf export requests: one whole-file message, or the Collector's file
    /// exporter's `proto` format (each message after its length, 4 bytes big-endian).
    OtlpProto,
    /// The trace events of seed 002 (`event_type`, `trace_id`, `span_id`, `data`).
    TraceEvents,
    /// Claude Code's session transcript (JSONL).
    ClaudeCode,
}

impl Format {
    /// Every format's flag name, in the order they are listed.
    pub const NAMES: [&'static str; 5] = [
        "native",
        "otlp-json",
        "otlp-proto",
        "trace-events",
        "claude-code",
    ];

    /// The flag name of the format.
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::OtlpJson => "otlp-json",
            Format::OtlpProto => "otlp-proto",
            Format::TraceEvents => "trace-events",
            Format::ClaudeCode => "claude-code",
        }
    }

    /// Whether the format is read line by line (all but protobuf).
    pub fn is_lines(self) -> bool {
        self != Format::OtlpProto
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "native" => Format::Native,
            "otlp-json" | "otlp" => Format::OtlpJson,
            "otlp-proto" => Format::OtlpProto,
            "trace-events" => Format::TraceEvents,
            "claude-code" => Format::ClaudeCode,
            _ => {
                return Err(format!(
                    "unknown format {s:?}; one of: {}",
                    Format::NAMES.join(", ")
                ));
            }
        })
    }
}

/// The format of a file from its first bytes: the first complete line when it is a JSON
/// object, else protobuf. `None` when the start says nothing (an empty file, a first line
/// still being written, a JSON object of no known shape): give the format by flag then.
pub fn detect(head: &[u8]) -> Option<Format> {
    let first = head.iter().position(|&b| !b.is_ascii_whitespace())?;
    if head[first] != b'{' {
        // Protobuf export requests start with field 1 (resource_spans/logs), tag 0x0a (a
        // newline, so looked at before skipping blanks); the Collector's length-prefixed
        // files start with a big-endian length.
        return (head[0] == 0x0a || head[0] == 0).then_some(Format::OtlpProto);
    }
    let head = &head[first..];
    let end = head.iter().position(|&b| b == b'\n')?;
    let line: Value = serde_json::from_slice(&head[..end]).ok()?;
    let has = |k: &str| line.get(k).is_some();
    if has("resourceSpans") || has("resourceLogs") {
        return Some(Format::OtlpJson);
    }
    if has("event_type") {
        return Some(Format::TraceEvents);
    }
    if has("sessionId") || has("parentUuid") || has("leafUuid") {
        return Some(Format::ClaudeCode);
    }
    match line.get("type").and_then(Value::as_str) {
        Some(t) if Message::TYPES.contains(&t) => Some(Format::Native),
        _ => None,
    }
}

/// What one line (or protobuf message) of a file holds, ready for a sink.
#[derive(Debug)]
pub enum Batch {
    Native(Vec<Message>),
    Traces(ExportTraceServiceRequest),
    Logs(ExportLogsServiceRequest),
}

impl Batch {
    /// The spans it carries (native `span` and `span.start` messages, OTLP spans).
    pub fn spans(&self) -> usize {
        match self {
            Batch::Native(ms) => ms
                .iter()
                .filter(|m| matches!(m, Message::Span(_) | Message::SpanStart(_)))
                .count(),
            Batch::Traces(r) => trace_spans(r),
            Batch::Logs(_) => 0,
        }
    }
}

fn trace_spans(r: &ExportTraceServiceRequest) -> usize {
    r.resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .map(|ss| ss.spans.len())
        .sum()
}

fn log_records(r: &ExportLogsServiceRequest) -> usize {
    r.resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs)
        .map(|sl| sl.log_records.len())
        .sum()
}

/// Decodes one line of a line format; the error says what is wrong with it.
pub fn decode_line(format: Format, line: &str, limits: &Limits) -> Result<Batch, String> {
    match format {
        Format::Native => decode_message(line, limits)
            .map(|m| Batch::Native(vec![m]))
            .map_err(|(field, message)| match field {
                Some(f) => format!("{f}: {message}"),
                None => message,
            }),
        Format::OtlpJson => {
            let logs = line.contains("\"resourceLogs\"") && !line.contains("\"resourceSpans\"");
            otlp(Encoding::Json, line.as_bytes(), logs)
        }
        Format::OtlpProto => Err("protobuf is not read by lines".into()),
        Format::TraceEvents => super::trace_events::map(line, limits).map(Batch::Native),
        Format::ClaudeCode => super::claude::map(line, limits).map(Batch::Native),
    }
}

/// Decodes one OTLP export request of either signal with the OTLP ingest's decoder.
pub fn otlp(encoding: Encoding, bytes: &[u8], logs: bool) -> Result<Batch, String> {
    if logs {
        decode(encoding, bytes, log_records, "log records")
            .map(Batch::Logs)
            .map_err(|e| e.message)
    } else {
        decode(encoding, bytes, trace_spans, "spans")
            .map(Batch::Traces)
            .map_err(|e| e.message)
    }
}

/// Splits a protobuf file into its export requests: the Collector's length-prefixed records
/// when the lengths add up to the file exactly, else the whole file as one request.
pub fn proto_records(bytes: &[u8]) -> Vec<&[u8]> {
    let mut records = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 4 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len == 0 || rest.len() - 4 < len {
            return vec![bytes];
        }
        records.push(&rest[4..4 + len]);
        rest = &rest[4 + len..];
    }
    if rest.is_empty() && !records.is_empty() {
        records
    } else {
        vec![bytes]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format_from_its_first_line() {
        let cases = [
            (
                &br#"{"type":"span.start","session_id":"s"}"#[..],
                Format::Native,
            ),
            (br#"{"resourceSpans":[]}"#, Format::OtlpJson),
            (br#"{"event_type":"llm_call"}"#, Format::TraceEvents),
            (br#"{"type":"user","sessionId":"x"}"#, Format::ClaudeCode),
        ];
        for (line, want) in cases {
            let mut head = line.to_vec();
            head.push(b'\n');
            assert_eq!(
                detect(&head),
                Some(want),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        assert_eq!(detect(b"{\"type\":\"span"), None, "a partial first line");
        assert_eq!(detect(b"{\"what\":1}\n"), None);
        assert_eq!(detect(b""), None);
        assert_eq!(detect(&[0x0a, 0x10]), Some(Format::OtlpProto));
    }

    #[test]
    fn proto_records_are_length_prefixed_or_one_whole_file() {
        let framed = [0, 0, 0, 2, 0x0a, 0x00, 0, 0, 0, 1, 0x0a];
        assert_eq!(proto_records(&framed), vec![&[0x0a, 0x00][..], &[0x0a][..]]);
        let whole = [0x0a, 0x03, 1, 2, 3];
        assert_eq!(proto_records(&whole), vec![&whole[..]]);
    }
}
