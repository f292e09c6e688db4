//! What replays are made of: the exact exchange of one LLM call through the proxy (the
//! request as the client sent it, the response bytes as the client got them, with their chunk
//! boundaries and timing), and the record of a replay (a fork of a recorded session from one
//! of its LLM calls, and what the re-run saved).

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One LLM call through the proxy, byte for byte.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    pub session_id: String,
    pub span_id: String,
    /// The proxy's upstream name (`[proxy.upstreams.NAME]`).
    pub upstream: String,
    /// The path under the upstream, as `/v1/chat/completions`.
    pub path: String,
    pub started_at: Timestamp,
    /// The upstream's status.
    pub status: u16,
    pub content_type: Option<String>,
    /// The request body as the client sent it.
    pub request: Vec<u8>,
    /// The response body as the client received it: the chunks back to back.
    pub response: Vec<u8>,
    /// The response's chunks in order; their lengths add up to `response`'s.
    pub chunks: Vec<ExchangeChunk>,
    /// The request or the response was longer than the recorder keeps: cut, so not replayable.
    pub truncated: bool,
}

/// One chunk of a response body as it arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeChunk {
    /// Bytes.
    pub len: u32,
    /// Microseconds from the request's start to the chunk's arrival.
    pub after_us: u64,
}

impl Exchange {
    /// The response split at its recorded chunk boundaries.
    pub fn response_chunks(&self) -> impl Iterator<Item = &[u8]> {
        let mut at = 0usize;
        self.chunks.iter().map(move |c| {
            let end = (at + c.len as usize).min(self.response.len());
            let piece = &self.response[at.min(end)..end];
            at = end;
            piece
        })
    }
}

/// What a mismatching call of a replay does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMismatch {
    /// Goes upstream and is recorded into the fork (the default).
    #[default]
    Upstream,
    /// Is refused with `409 replay_mismatch`.
    Fail,
}

/// The fork call: the `call`-th (from 1) LLM call of `agent` in the original session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkPoint {
    pub agent: Option<String>,
    pub call: usize,
}

/// What the calls answered from the recording did not spend.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    /// The recorded calls' durations, added up.
    pub time_ms: f64,
}

/// The first call of a replay that did not match the recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mismatch {
    pub agent: Option<String>,
    /// Its place among the agent's calls, from 1.
    pub call: usize,
    /// The recorded call it was matched against.
    pub recorded_span_id: String,
    pub at: Timestamp,
    /// A line diff from the recorded request to the new one (both normalised: keys sorted,
    /// pretty-printed); lines start with `  `, `- ` or `+ `.
    pub diff: String,
    /// What became of the call: `upstream` or `refused`.
    pub outcome: OnMismatch,
}

/// How far one agent of a re-run has come: the calls it made, and whether one of them did not
/// match the recording (its later calls all go upstream).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentProgress {
    pub agent: Option<String>,
    pub calls: usize,
    #[serde(default)]
    pub diverged: bool,
}

/// A replay of a recorded session from one of its LLM calls.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplayRecord {
    pub replay_id: String,
    /// The original session and the LLM call the replay forks at.
    pub session_id: String,
    pub span_id: String,
    /// The session the re-run is recorded into.
    pub fork_session_id: String,
    pub created_at: Timestamp,
    pub fork: ForkPoint,
    /// The request the fork call sends instead of the recorded one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Box<RawValue>>,
    #[serde(default)]
    pub on_mismatch: OnMismatch,
    /// Recorded calls the re-run may be answered with (those before the fork point).
    pub recorded_calls: u64,
    /// Calls answered from the recording so far, and what they saved.
    #[serde(default)]
    pub saved: Saved,
    /// Calls sent upstream so far.
    #[serde(default)]
    pub upstream_calls: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<Mismatch>,
    /// Where the re-run is, per agent (so a restarted server goes on where it was).
    #[serde(default)]
    pub progress: Vec<AgentProgress>,
    /// The fork session's spans that were answered from the recording: the rest of the fork
    /// is what the re-run did anew (drawn as a branch of the original).
    #[serde(default)]
    pub served_spans: Vec<String>,
    /// Grows with every change; the store keeps the highest it was given.
    #[serde(default)]
    pub version: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_split_the_response_where_it_arrived() {
        let x = Exchange {
            session_id: "s".into(),
            span_id: "a".into(),
            upstream: "openai".into(),
            path: "/v1/chat/completions".into(),
            started_at: Timestamp(0),
            status: 200,
            content_type: None,
            request: b"{}".to_vec(),
            response: b"data: 1\n\ndata: 2\n\n".to_vec(),
            chunks: vec![
                ExchangeChunk {
                    len: 9,
                    after_us: 5,
                },
                ExchangeChunk {
                    len: 9,
                    after_us: 8,
                },
            ],
            truncated: false,
        };
        let parts: Vec<&[u8]> = x.response_chunks().collect();
        assert_eq!(parts, [b"data: 1\n\n".as_slice(), b"data: 2\n\n"]);
    }
}
