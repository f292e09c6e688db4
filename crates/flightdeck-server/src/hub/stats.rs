//! What the hub counts, and `GET /api/v1/hub` to read it: subscribers, frames queued, and
//! every resync by cause, so a client that is cut off never goes unnoticed.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Counters written by the hub task and read by anyone.
#[derive(Default)]
pub struct Stats {
    seq: AtomicU64,
    subscribers: AtomicUsize,
    frames: AtomicU64,
    resync_queue_full: AtomicU64,
    resync_hub_lagged: AtomicU64,
    hub_lags: AtomicU64,
}

impl Stats {
    pub(super) fn handled(&self, seq: u64) {
        self.seq.store(seq, Ordering::Relaxed);
    }

    pub(super) fn set_subscribers(&self, n: usize) {
        self.subscribers.store(n, Ordering::Relaxed);
    }

    pub(super) fn queued(&self, frames: u64) {
        self.frames.fetch_add(frames, Ordering::Relaxed);
    }

    pub(super) fn queue_full(&self) {
        self.resync_queue_full.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn lagged(&self, subscribers: usize) {
        self.hub_lags.fetch_add(1, Ordering::Relaxed);
        self.resync_hub_lagged
            .fetch_add(subscribers as u64, Ordering::Relaxed);
    }

    /// The figures now.
    pub fn read(&self, queue_capacity: usize) -> HubStats {
        HubStats {
            seq: self.seq.load(Ordering::Relaxed),
            subscribers: self.subscribers.load(Ordering::Relaxed),
            queue_capacity,
            frames_queued: self.frames.load(Ordering::Relaxed),
            resyncs: Resyncs {
                queue_full: self.resync_queue_full.load(Ordering::Relaxed),
                hub_lagged: self.resync_hub_lagged.load(Ordering::Relaxed),
            },
            hub_lags: self.hub_lags.load(Ordering::Relaxed),
        }
    }
}

/// The answer of `GET /api/v1/hub`.
#[derive(Debug, Serialize)]
pub struct HubStats {
    /// The last commit the hub has fanned out.
    pub seq: u64,
    /// Live subscriptions now.
    pub subscribers: usize,
    /// Frames each subscription may hold before it is resynced.
    pub queue_capacity: usize,
    /// Frames queued to subscribers since start.
    pub frames_queued: u64,
    /// Subscriptions ended with `resync`, by cause.
    pub resyncs: Resyncs,
    /// Times the hub fell behind the store's feed (each resyncs every subscriber).
    pub hub_lags: u64,
}

/// Resyncs by cause.
#[derive(Debug, Serialize)]
pub struct Resyncs {
    pub queue_full: u64,
    pub hub_lagged: u64,
}

/// `GET /api/v1/hub`.
pub async fn get(State(app): State<AppState>) -> Json<HubStats> {
    Json(app.hub.stats())
}
