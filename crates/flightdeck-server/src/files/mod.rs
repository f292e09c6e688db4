//! Trace files: sessions written out and read back (docs/files.md).
//!
//! - [`export`]: a stored session as native protocol messages (JSONL), the file format that
//!   imports back to the same API answers;
//! - [`otlp_out`]: the same session as an OTLP/JSON export request, one line per session, as
//!   the OpenTelemetry Collector's file exporter writes them;
//! - [`format`]: the formats read, told apart per file, each line decoded into a [`Batch`];
//!   `trace_events` (seed 002) and `claude` (Claude Code transcripts) map to native messages;
//! - [`sink`]: where decoded batches go: this process's store (through the same paths as
//!   HTTP ingest), or a running server over HTTP;
//! - [`import`]: whole files, with a report of what was stored and what was rejected;
//! - [`share`]: one session as a self-contained HTML page (the UI and the data inside);
//! - [`watch`]: following files, folders and globs (`tail`: one file; `state`: offsets kept
//!   across restarts).

mod claude;
pub mod export;
pub mod feed;
pub mod format;
pub mod import;
mod lines;
pub mod otlp_out;
pub mod share;
pub mod sink;
mod state;
mod tail;

mod trace_events;
pub mod watch;

pub use format::{Batch, Format};
