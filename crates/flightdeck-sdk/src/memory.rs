//! An in-memory [`Transport`]: keeps every delivered message, for tests and simulations.

use crate::transport::{SendFuture, Transport};
use flightdeck_model::Message;
use std::sync::{Arc, Mutex};

/// Collects every batch it is given, in order; always succeeds. Cheap to clone: clones share
/// the same messages, so keep one to inspect what a [`Client`](crate::Client) sent.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), flightdeck_sdk::Error> {
/// use flightdeck_sdk::{Flightdeck, MemorySink};
///
/// let sink = MemorySink::new();
/// let client = Flightdeck::with_transport(sink.clone()).build()?;
/// client.session("test").start().end();
/// client.flush().await?;
/// assert_eq!(sink.messages().len(), 2); // session.start, session.end
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemorySink {
    batches: Arc<Mutex<Vec<Vec<Message>>>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message delivered so far, in delivery order.
    pub fn messages(&self) -> Vec<Message> {
        self.lock().iter().flatten().cloned().collect()
    }

    /// The batches delivered so far, as they were sent.
    pub fn batches(&self) -> Vec<Vec<Message>> {
        self.lock().clone()
    }

    /// Forgets everything delivered so far.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<Message>>> {
        // A panic elsewhere while holding the lock leaves the data intact; keep using it.
        self.batches.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Transport for MemorySink {
    fn send<'a>(&'a self, batch: &'a [Message]) -> SendFuture<'a> {
        self.lock().push(batch.to_vec());
        Box::pin(std::future::ready(Ok(())))
    }
}
