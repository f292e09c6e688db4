//! Starting to watch a scope: subscribe, then read the snapshot, then send `hello`.
//!
//! The order is what makes snapshot and increments meet. The hub registers the subscription
//! at the last commit it has handled (`from`); every later commit of the scope is queued
//! while the snapshot is read. The snapshot is read exactly as of some commit `seq >= from`
//! (the store's contract), so dropping the queued frames of commits up to `seq` leaves
//! exactly the commits after the snapshot: no gap, no duplicate. `hello.seq` tells the
//! client the same boundary.

use super::frame::{self, Frame, Snapshot};
use super::scope::Scope;
use super::subscription::Subscription;
use crate::App;
use crate::error::ApiError;
use axum::http::StatusCode;
use flightdeck_model::Timestamp;
use flightdeck_store::{SessionQuery, StoreError};

/// Sessions in the overview's snapshot: the first page of the list.
const OVERVIEW_PAGE: usize = 50;

/// Why watching could not start.
#[derive(Debug)]
pub enum WatchError {
    /// The hub has stopped: the server is shutting down.
    Stopped,
    /// The snapshot could not be read.
    Store(StoreError),
}

/// Subscribes to `scope` and reads its snapshot: the `hello` to send first, and the
/// subscription that continues it.
pub async fn start(app: &App, scope: Scope) -> Result<(Frame, Subscription), WatchError> {
    let mut subscription = app
        .hub
        .subscribe(scope.clone())
        .await
        .ok_or(WatchError::Stopped)?;
    let snapshot = match &scope {
        Scope::Overview => {
            let q = SessionQuery {
                limit: Some(OVERVIEW_PAGE),
                ..Default::default()
            };
            Snapshot::Overview(app.store.overview_snapshot(q).await?)
        }
        Scope::Session(id) => {
            Snapshot::Session(app.store.session_snapshot(id, Timestamp::now()).await?)
        }
    };
    debug_assert!(snapshot.seq() >= subscription.from());
    subscription.skip_through(snapshot.seq());
    let hello = frame::hello(&scope, &snapshot, app.config.heartbeat);
    Ok((hello, subscription))
}

impl From<StoreError> for WatchError {
    fn from(e: StoreError) -> Self {
        WatchError::Store(e)
    }
}

impl From<WatchError> for ApiError {
    fn from(e: WatchError) -> Self {
        match e {
            WatchError::Stopped => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server is shutting down; reconnect later",
            ),
            WatchError::Store(e) => e.into(),
        }
    }
}
