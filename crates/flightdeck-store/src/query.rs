//! Query parameters of the [`crate::Store`] read methods, and the opaque paging cursors.
//!
//! The HTTP API takes them as they are from its query strings (names as in docs/api.md), so a
//! new filter is one field here.

use crate::{Result, StoreError};
use flightdeck_model::Timestamp;
use flightdeck_model::record::Page;
use flightdeck_model::record::SessionStatus;
use flightdeck_model::review::ReviewState;
use serde::Deserialize;

/// The filters of the session list. Every field narrows the result.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionQuery {
    pub status: Option<SessionStatus>,
    /// Sessions in which this agent took part.
    pub agent: Option<String>,
    /// Sessions with LLM calls to this model.
    pub model: Option<String>,
    /// Matches the name, id, tags or an agent name (case-insensitive substring).
    #[serde(rename = "q")]
    pub text: Option<String>,
    /// Started at or after.
    pub from: Option<Timestamp>,
    /// Started before.
    pub to: Option<Timestamp>,
    /// Only sessions with at least one failed span (or a failed outcome).
    pub has_errors: Option<bool>,
    /// Page size (1 to 500; default 50).
    pub limit: Option<usize>,
    /// From a previous page's `next_cursor` (of a list in the same order).
    pub cursor: Option<String>,
    /// The order: a [`SessionSort`] key, `-` first for descending (default `-started_at`).
    pub sort: Option<String>,
}

/// What the session list can be ordered by: numbers the store keeps per session, so any
/// order pages with a cursor (the key's value and the session id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionSort {
    StartedAt,
    Spans,
    LlmCalls,
    ToolCalls,
    Errors,
    Tokens,
    Cost,
}

impl SessionSort {
    const KEYS: [(&'static str, SessionSort); 7] = [
        ("started_at", SessionSort::StartedAt),
        ("spans", SessionSort::Spans),
        ("llm_calls", SessionSort::LlmCalls),
        ("tool_calls", SessionSort::ToolCalls),
        ("errors", SessionSort::Errors),
        ("tokens", SessionSort::Tokens),
        ("cost", SessionSort::Cost),
    ];

    /// The column (or expression) of `sessions s` this sort orders by, the same in every
    /// store's SQL.
    pub fn column(self) -> &'static str {
        match self {
            SessionSort::StartedAt => "s.started_at",
            SessionSort::Spans => "s.spans",
            SessionSort::LlmCalls => "s.llm_calls",
            SessionSort::ToolCalls => "s.tool_calls",
            SessionSort::Errors => "s.errors",
            SessionSort::Tokens => "(s.input_tokens + s.output_tokens)",
            SessionSort::Cost => "s.cost_usd",
        }
    }

    /// A session's value of the key, as its paging cursor holds it (a cost: the bits of the
    /// number).
    pub fn cursor_value(self, s: &flightdeck_model::SessionSummary) -> i64 {
        let t = &s.totals;
        match self {
            SessionSort::StartedAt => s.started_at.0,
            SessionSort::Spans => t.spans,
            SessionSort::LlmCalls => t.llm_calls,
            SessionSort::ToolCalls => t.tool_calls,
            SessionSort::Errors => t.errors,
            SessionSort::Tokens => t.input_tokens + t.output_tokens,
            SessionSort::Cost => t.cost_usd.to_bits() as i64,
        }
    }

    /// The order `sort` names, and whether it is descending: `-started_at` when `None`.
    pub fn parse(sort: Option<&str>) -> Result<(SessionSort, bool)> {
        let Some(sort) = sort else {
            return Ok((SessionSort::StartedAt, true));
        };
        let (key, desc) = match sort.strip_prefix('-') {
            Some(k) => (k, true),
            None => (sort, false),
        };
        Self::KEYS
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, s)| (*s, desc))
            .ok_or_else(|| {
                let keys: Vec<&str> = Self::KEYS.iter().map(|(k, _)| *k).collect();
                StoreError::InvalidQuery(format!(
                    "sort: unknown key {key:?}; one of {}, with - first for descending",
                    keys.join(", ")
                ))
            })
    }
}

/// A text search in a session's payloads (`GET /api/v1/sessions/{id}/search`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// The text, 1 to 200 characters.
    pub q: String,
}

/// Paging of a session's events.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Only this category (`log`, `decision`, ...).
    pub category: Option<String>,
    /// Page size (1 to 1000; default 200).
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// Log lines across sessions (`GET /api/v1/logs`): the newest first page, older ones with
/// `before`, and newer ones (following) with `after`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// At least this severity (`debug`, `info`, `warn`, `error`; a line without one is info).
    pub level: Option<flightdeck_model::message::Level>,
    pub agent: Option<String>,
    pub session_id: Option<String>,
    /// Text in the message or name, ignoring case.
    pub q: Option<String>,
    /// Lines stored before this `seq` (older), newest of them first in the page.
    pub before: Option<i64>,
    /// Lines stored after this `seq` (newer), oldest of them first: to follow.
    pub after: Option<i64>,
    /// Page size (1 to 5000; default 500).
    pub limit: Option<usize>,
}

/// The filters of the review list (`GET /api/v1/reviews`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    /// `pending`: the queue, soonest deadline first. Others: that state, newest first. None:
    /// the decided history (every state but pending), newest first.
    pub state: Option<ReviewState>,
    pub session_id: Option<String>,
    /// At most this many (default 200).
    pub limit: Option<usize>,
}

/// The most pending reviews a live `hello` carries.
pub const SNAPSHOT_REVIEWS: usize = 1000;

impl ReviewQuery {
    /// The pending queue across sessions, as a live snapshot carries it.
    pub fn pending() -> Self {
        ReviewQuery {
            state: Some(ReviewState::Pending),
            session_id: None,
            limit: Some(SNAPSHOT_REVIEWS),
        }
    }
}

/// What a statistics query covers: one session, or the sessions started in a time range.
#[derive(Clone, Debug, Default)]
pub struct StatsScope {
    pub session_id: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// Metric samples of one name (or all, or those under a prefix), in a time range.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricQuery {
    pub name: Option<String>,
    /// Names that start with this (`system.`, `gpu.`).
    pub prefix: Option<String>,
    pub session_id: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Averages over buckets of this many seconds (each point at its bucket's start) instead
    /// of every sample: what a chart of a long range needs.
    pub step_secs: Option<u64>,
    /// At most this many of the latest points (default 1000, at most 10000).
    pub limit: Option<usize>,
}

/// Clamps a page size to `1..=max`, with a default.
pub fn page_size(limit: Option<usize>, default: usize, max: usize) -> usize {
    limit.unwrap_or(default).clamp(1, max)
}

/// A cursor names the last item of a page by its sort key: a time and an id.
pub fn encode_cursor(at: i64, id: &str) -> String {
    format!("{at}.{id}")
}

pub fn decode_cursor(cursor: &str) -> Result<(i64, String)> {
    let bad = || StoreError::InvalidQuery(format!("invalid cursor {cursor:?}"));
    let (at, id) = cursor.split_once('.').ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, id.to_owned()))
}

/// `%text%` for a LIKE (or ILIKE) whose escape is a backslash: the text's own `%`, `_` and
/// backslashes match themselves.
pub fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A page of `items` read with one row more than `limit`: the extra row, when there is one,
/// is dropped and says that a next page exists, starting after the page's last item.
pub fn page<T>(items: &mut Vec<T>, limit: usize, cursor: impl Fn(&T) -> String) -> Page<T> {
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(cursor)
    } else {
        None
    };
    Page {
        items: std::mem::take(items),
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_rejection() {
        let c = encode_cursor(-5, "a.b");
        assert_eq!(decode_cursor(&c).unwrap(), (-5, "a.b".to_owned()));
        assert!(decode_cursor("nonsense").is_err());
        assert!(decode_cursor("x.y").is_err());
    }
}
