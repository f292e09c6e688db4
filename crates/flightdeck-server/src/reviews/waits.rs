//! Who is waiting for which review, and the wake-up when it is settled.
//!
//! Each review with a waiter (or pending in the store) has an entry: a `watch` channel that
//! the keeper fills with the settled record, and a count of agents waiting now. An agent that
//! waits holds a [`Waiting`]; when the last one lets go, the entry remembers since when
//! nobody waits, so the keeper can mark the review abandoned.

use flightdeck_model::review::ReviewRecord;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;
use tokio::sync::watch;

type Settled = Option<Arc<ReviewRecord>>;

struct Entry {
    settled: watch::Sender<Settled>,
    waiters: usize,
    idle_since: Instant,
    /// Known pending in the store (the keeper said so); else the entry goes with its waiters.
    pending: bool,
}

impl Entry {
    fn new() -> Self {
        Entry {
            settled: watch::channel(None).0,
            waiters: 0,
            idle_since: Instant::now(),
            pending: false,
        }
    }
}

/// The waiting room of every review.
#[derive(Default)]
pub struct Waits {
    entries: Mutex<HashMap<String, Entry>>,
}

/// One agent waiting for one review; dropping it stops the wait.
pub struct Waiting {
    waits: Arc<Waits>,
    review_id: String,
    pub settled: watch::Receiver<Settled>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut entries = self.waits.lock();
        if let Some(e) = entries.get_mut(&self.review_id) {
            e.waiters -= 1;
            if e.waiters == 0 {
                e.idle_since = Instant::now();
                if !e.pending {
                    entries.remove(&self.review_id);
                }
            }
        }
    }
}

impl Waits {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts waiting for `review_id`. Register before reading the review's state, so a
    /// settlement committed after the read still wakes the wait.
    pub fn wait(self: &Arc<Self>, review_id: &str) -> Waiting {
        let mut entries = self.lock();
        let e = entries
            .entry(review_id.to_owned())
            .or_insert_with(Entry::new);
        e.waiters += 1;
        Waiting {
            waits: Arc::clone(self),
            review_id: review_id.to_owned(),
            settled: e.settled.subscribe(),
        }
    }

    /// The review is pending in the store: nobody has waited for it yet.
    pub fn pending(&self, review_id: &str) {
        let mut entries = self.lock();
        let e = entries
            .entry(review_id.to_owned())
            .or_insert_with(Entry::new);
        e.pending = true;
        if e.waiters == 0 {
            e.idle_since = Instant::now();
        }
    }

    /// The review is settled: wake its waiters and forget it.
    pub fn settled(&self, review: Arc<ReviewRecord>) {
        if let Some(e) = self.lock().remove(&review.review_id) {
            e.settled.send_replace(Some(review));
        }
    }

    /// Pending reviews that nobody has waited for since `before`.
    pub fn idle_since(&self, before: Instant) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|(_, e)| e.pending && e.waiters == 0 && e.idle_since < before)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Reviews somebody waits for now (the keeper re-reads them after missing commits).
    pub fn watched(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }
}
