//! The seam between the background task and the network: a [`Transport`] delivers one batch.
//!
//! [`HttpTransport`](crate::HttpTransport) is the real one; [`MemorySink`](crate::MemorySink)
//! keeps the messages in memory for tests. Anything else (a file, a queue) can implement it.

use flightdeck_model::{Message, MessageError};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The future returned by [`Transport::send`].
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// Delivers batches of messages to a Flightdeck server (or anywhere else).
pub trait Transport: Send + Sync + 'static {
    /// Delivers `batch`, resolving to `Ok` only once the receiver has durably accepted it.
    /// The same batch may be sent again after a [`SendError::Transient`], so the receiver
    /// must be idempotent (the Flightdeck server is).
    fn send<'a>(&'a self, batch: &'a [Message]) -> SendFuture<'a>;
}

/// Why a batch was not delivered.
#[derive(Clone, Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying unchanged: connection failure, timeout, 5xx, 408, 429.
    #[error("transient failure: {0}")]
    Transient(String),
    /// Worth retrying unchanged, but not before `after`: the receiver said how long to wait
    /// (HTTP `Retry-After`).
    #[error("transient failure: {reason} (retry after {after:?})")]
    RetryAfter { reason: String, after: Duration },
    /// The receiver refused the batch; sending it unchanged again is pointless.
    #[error("rejected: {0}")]
    Rejected(Rejection),
}

/// A refusal, with the messages it names when the server said which ones were invalid.
#[derive(Clone, Debug, Default, PartialEq, thiserror::Error)]
#[error("{}{message}", status.map(|s| format!("HTTP {s}: ")).unwrap_or_default())]
pub struct Rejection {
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
    /// The server's explanation.
    pub message: String,
    /// The invalid messages by index in the batch; the others may be sent again without them.
    pub invalid: Vec<MessageError>,
}

impl Rejection {
    /// True when the batch was refused only for its size (HTTP 413): halves may pass.
    pub fn is_too_large(&self) -> bool {
        self.status == Some(413)
    }
}
