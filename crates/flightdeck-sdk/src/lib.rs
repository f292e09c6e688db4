//! The Rust client for Flightdeck, the live flight deck for multi-agent LLM systems.
//!
//! Every call is non-blocking: it builds a wire [`Message`] and puts it on a bounded buffer.
//! A background tokio task drains the buffer in batches (by size and a short linger), POSTs
//! them to `/api/v1/events`, and retries transient failures with capped, jittered exponential
//! backoff (never sooner than a server's `Retry-After`), keeping the batch and its order, so nothing accepted is lost while the server is briefly
//! away. What does not fit in the buffer is counted in [`Client::stats`] and logged, never
//! dropped silently. [`Client::flush`] waits until everything sent so far is acknowledged.
//!
//! ```no_run
//! use flightdeck_sdk::{Flightdeck, SpanKind};
//!
//! # async fn demo() -> Result<(), flightdeck_sdk::Error> {
//! let client = Flightdeck::builder("http://127.0.0.1:7329").build()?;
//! let session = client.session("heist #4").tag("demo").start();
//! let plan = session.span(SpanKind::Agent, "plan").agent("planner").start();
//! let llm = plan.child(SpanKind::Llm, "decompose").model("gpt-4o").start();
//! llm.chunk("Case the ");
//! llm.chunk("bank first.");
//! llm.usage(120, 6);
//! llm.end();
//! plan.end();
//! session.end();
//! client.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Sessions and spans are guards: dropped without an explicit end they end themselves,
//! as completed/ok, or as failed when the thread is panicking.

mod agent;
mod backoff;
mod builder;
mod client;
mod edge;
mod error;
mod event;
mod http;
mod memory;
mod metric;
mod payload;
mod process;
mod queue;
mod review;
mod session;
mod span;
mod stats;
mod transport;
mod worker;

#[cfg(test)]
mod test_support;

pub use agent::{Agent, AgentBuilder, Heartbeat};
pub use builder::{Builder, Flightdeck};
pub use client::Client;
pub use edge::EdgeBuilder;
pub use error::Error;
pub use event::EventBuilder;
pub use flightdeck_model::review::{
    Decision, OnTimeout, ReviewOpen, ReviewRecord, ReviewState, Timing,
};
pub use http::HttpTransport;
pub use memory::MemorySink;
pub use metric::MetricBuilder;
pub use process::ProcessMetrics;
pub use queue::Queue;
pub use review::Reviewer;
pub use session::{Session, SessionBuilder, SessionHandle};
pub use span::{Span, SpanBuilder};
pub use stats::Stats;
pub use transport::{Rejection, SendError, SendFuture, Transport};

/// The wire protocol, re-exported so that callers need no direct dependency on it.
pub use flightdeck_model as model;
pub use flightdeck_model::{AgentState, EdgeKind, Level, Message, SpanKind};
