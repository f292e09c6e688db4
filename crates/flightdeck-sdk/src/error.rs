//! The errors of the SDK's fallible calls: building a client, flushing, shutting down,
//! review gates.

use std::time::Duration;

/// What went wrong in a fallible SDK call. Recording calls themselves never fail: their
/// problems are counted in [`Stats`](crate::Stats) and logged.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The endpoint is not an `http://` or `https://` URL.
    #[error("invalid Flightdeck endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint { endpoint: String, reason: String },
    /// [`Builder::build`](crate::Builder::build) was called outside a tokio runtime.
    #[error("a Flightdeck client must be built inside a tokio runtime")]
    NoRuntime,
    /// The HTTP client could not be created.
    #[error("could not create the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    /// A flush or shutdown did not finish in time; `pending` messages were still unacknowledged.
    #[error("timed out after {timeout:?} with {pending} message(s) not yet acknowledged")]
    Timeout { timeout: Duration, pending: u64 },
    /// The server refused a review request (bad input, credentials): its status and answer.
    #[error("the server refused the review ({status}): {message}")]
    ReviewRefused { status: u16, message: String },
    /// The client was shut down.
    #[error("the Flightdeck client is shut down")]
    Closed,
}
