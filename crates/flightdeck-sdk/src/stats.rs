//! Delivery counters shared by the callers and the background task, and their snapshot.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Live counters; every field only grows.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) enqueued: AtomicU64,
    pub(crate) sent: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) overflowed: AtomicU64,
    pub(crate) lost: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) batches: AtomicU64,
}

impl Counters {
    /// Messages accepted into the buffer and not yet acknowledged, rejected or lost.
    pub(crate) fn pending(&self) -> u64 {
        let done = self.sent.load(Relaxed) + self.rejected.load(Relaxed) + self.lost.load(Relaxed);
        self.enqueued.load(Relaxed).saturating_sub(done)
    }

    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            enqueued: self.enqueued.load(Relaxed),
            sent: self.sent.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            dropped: self.overflowed.load(Relaxed) + self.lost.load(Relaxed),
            retries: self.retries.load(Relaxed),
            batches: self.batches.load(Relaxed),
            pending: self.pending(),
        }
    }
}

/// What a [`Client`](crate::Client) has done so far, from [`Client::stats`](crate::Client::stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages accepted into the buffer.
    pub enqueued: u64,
    /// Messages the server acknowledged.
    pub sent: u64,
    /// Messages the server refused as invalid (a 4xx naming them, or the whole batch).
    pub rejected: u64,
    /// Messages never delivered: the buffer was full, the client was shut down, or a
    /// shutdown timed out with them still pending.
    pub dropped: u64,
    /// Failed delivery attempts that were retried.
    pub retries: u64,
    /// Batches the server acknowledged.
    pub batches: u64,
    /// Messages in the buffer or in flight, not yet acknowledged.
    pub pending: u64,
}
