//! Flightdeck's data model and wire protocol v1.
//!
//! - [`message`]: what clients send (`session.start`, `span.start`, `span.end`, ...);
//! - [`decode`]: decoding and validating a batch, with errors that name index and field;
//! - [`record`]: what the query API returns;
//! - [`review`]: review gates (open, decide, the record served);
//! - [`replay`]: the exact exchanges of proxied LLM calls, and replays built on them;
//! - [`pricing`]: the shipped pricing table, for the cost of LLM calls;
//! - [`time`]: timestamps (RFC 3339 or unix nanoseconds on the wire).
//!
//! This crate has no I/O; the server, the store and the SDKs all build on it.

pub mod decode;
pub mod message;
pub mod pricing;
pub mod record;
pub mod replay;
pub mod review;
pub mod span_view;
pub mod time;

pub use decode::{
    BatchError, FieldError, Limits, MessageError, decode_batch, decode_message, validate,
};
pub use message::*;
pub use pricing::{ModelPrice, Pricing};
pub use record::*;
pub use span_view::SpanView;
pub use time::Timestamp;
