//! OpenTelemetry ingest: OTLP traces, logs and metrics, over HTTP (`http`, protobuf or JSON) and gRPC
//! (`grpc`), into the same `Store::append` as native events, so OTLP spans are durable before
//! the answer and reach the live hub like any other message.
//!
//! One path for every transport: decode (`body` for HTTP, tonic for gRPC), then
//! [`export_traces`] / [`export_logs`] (`export`):
//!
//! 1. each span is mapped alone (`span`, reading the conventions in `convention` with
//!    `facts`, `messages`, `parts`, `flat`, `value`); a span that breaks the protocol's rules is
//!    rejected alone and counted in the OTLP partial success;
//! 2. `recent` settles sessions and agents against what it remembers of the trace, and names
//!    earlier spans to restate with their agent;
//! 3. the messages go to the store in one batch.
//!
//! Logs (`logs`) take the same steps; LLM message records become updates of their span.
//! Metrics (`metrics`) become metric points of the same series as native `metric` messages.
//! OTLP has no end of session: `idle` has the store end those that went quiet.
//! The mapping tables are in docs/otel.md.

pub(crate) mod body;
mod convention;
mod export;
mod facts;
mod flat;
pub mod grpc;
pub mod http;
pub mod idle;
mod logs;
mod messages;
pub(crate) mod metrics;
mod parts;
mod recent;
mod span;
pub(crate) mod value;

pub use export::{export_logs, export_traces};
pub use idle::SESSION_IDLE;
pub use metrics::export_metrics;

use crate::refusals::{Refusal, Source};
use flightdeck_store::StoreError;
use recent::Recent;
use std::sync::Mutex;

/// The OTLP ingest's state: the memory that settles sessions and agents across requests.
#[derive(Default)]
pub struct Otlp {
    recent: Mutex<Recent>,
}

/// What became of an export request that was (at least partly) stored.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    /// Spans or log records that were not stored.
    pub rejected: i64,
    /// Why, for the first few; empty when nothing was rejected.
    pub message: String,
    /// The rejected items counted by the rule they broke.
    pub by_rule: Vec<Rejected>,
}

/// Items of one request refused by one rule.
#[derive(Debug, PartialEq)]
pub struct Rejected {
    pub rule: String,
    pub count: u64,
    /// What the answer said of the first of them.
    pub example: String,
}

/// Why an export request was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Nothing in the request could be stored.
    #[error("{}", .0.message)]
    Rejected(Outcome),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counts in the server's refusals what an export of `unit` (spans, log records) from
/// `client` left out, whether it stored the rest or nothing.
fn count_refusals(
    app: &crate::App,
    client: &str,
    unit: &'static str,
    result: &Result<Outcome, ExportError>,
) {
    let outcome = match result {
        Ok(o) | Err(ExportError::Rejected(o)) => o,
        Err(ExportError::Store(_)) => return,
    };
    for r in &outcome.by_rule {
        app.refusals.record(Refusal {
            source: Source::Otlp,
            client,
            reason: &r.rule,
            unit,
            count: r.count,
            example: &r.example,
        });
    }
}

/// Counts a whole OTLP request refused before anything in it was read.
fn count_refused_request(app: &crate::App, client: &str, e: &crate::error::ApiError) {
    if e.status.is_client_error() {
        app.refusals.record(Refusal {
            source: Source::Otlp,
            client,
            reason: e.code,
            unit: "requests",
            count: 1,
            example: &e.message,
        });
    }
}

impl From<ExportError> for crate::error::ApiError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Rejected(o) => Self::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid_otlp",
                o.message,
            ),
            ExportError::Store(e) => e.into(),
        }
    }
}
