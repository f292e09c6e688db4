//! OpenTelemetry ingest: OTLP traces and logs, over HTTP (`http`, protobuf or JSON) and gRPC
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
//! OTLP has no end of session: `idle` has the store end those that went quiet.
//! The mapping tables are in docs/otel.md.

mod body;
mod convention;
mod export;
mod facts;
mod flat;
pub mod grpc;
pub mod http;
pub mod idle;
mod logs;
mod messages;
mod parts;
mod recent;
mod span;
mod value;

pub use export::{export_logs, export_traces};
pub use idle::SESSION_IDLE;

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
}

/// Why an export request was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Nothing in the request could be stored.
    #[error("{0}")]
    Rejected(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ExportError> for crate::error::ApiError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Rejected(m) => {
                Self::new(axum::http::StatusCode::BAD_REQUEST, "invalid_otlp", m)
            }
            ExportError::Store(e) => e.into(),
        }
    }
}
