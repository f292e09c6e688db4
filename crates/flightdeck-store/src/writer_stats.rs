//! The counts a store's writer keeps, and the [`Health`] they make with its queue.

use crate::Health;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::mpsc;

/// The writer's counts, read by `Store::health`.
#[derive(Default)]
pub struct WriterStats {
    pub commits: AtomicU64,
    pub failed: AtomicU64,
    pub messages: AtomicU64,
    pub nanos: AtomicU64,
    /// The last commit failed (cleared by the next one that succeeds).
    pub failing: AtomicBool,
}

impl WriterStats {
    /// Counts a commit of `messages` that took `nanos`, or failed.
    pub fn record(&self, ok: bool, messages: usize, nanos: u64) {
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        if ok {
            self.commits.fetch_add(1, Ordering::Relaxed);
            self.messages.fetch_add(messages as u64, Ordering::Relaxed);
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.failing.store(!ok, Ordering::Relaxed);
    }

    /// The health of a writer with these counts, fed by `queue`.
    pub fn health<T>(&self, queue: &mpsc::Sender<T>, path: Option<std::path::PathBuf>) -> Health {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let capacity = queue.max_capacity();
        Health {
            writer_queue: capacity - queue.capacity(),
            writer_queue_capacity: capacity,
            commits: load(&self.commits),
            failed_commits: load(&self.failed),
            committed_messages: load(&self.messages),
            commit_seconds: load(&self.nanos) as f64 / 1e9,
            writer_running: !queue.is_closed(),
            last_commit_ok: !self.failing.load(Ordering::Relaxed),
            path,
        }
    }
}
