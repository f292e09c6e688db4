//! The keeper: one task that follows the store's commit feed for reviews, wakes the agents
//! waiting for a settled one, applies each review's action at its deadline, and marks
//! abandoned the reviews nobody waits for any more.
//!
//! On start it reads the pending reviews from the store, so deadlines survive a restart, and
//! the ones that passed while the server was down get their action at once. If it falls
//! behind the feed, it reads again what it may have missed.

use super::Reviews;
use flightdeck_model::Timestamp;
use flightdeck_model::review::{ReviewRecord, ReviewState, Settlement};
use flightdeck_store::{Committed, ReviewQuery};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;

/// How often idle reviews are looked for.
const SWEEP_EVERY: Duration = Duration::from_millis(500);

/// How soon a settlement the store refused is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// Who settles a review when no person does.
const SERVER: &str = "server";

pub fn start(reviews: Arc<Reviews>) {
    // Subscribe before reading the pending ones: nothing committed between is missed.
    let feed = reviews.store.subscribe();
    tokio::spawn(
        Keeper {
            reviews,
            deadlines: BTreeSet::new(),
        }
        .run(feed),
    );
}

struct Keeper {
    reviews: Arc<Reviews>,
    /// Pending reviews by deadline (unix ns, id).
    deadlines: BTreeSet<(i64, String)>,
}

impl Keeper {
    async fn run(mut self, mut feed: tokio::sync::broadcast::Receiver<Arc<Committed>>) {
        self.reload().await;
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        loop {
            let next = self.deadlines.first().map(|(at, _)| *at);
            let sleep = match next {
                Some(at) => Duration::from_nanos((at - Timestamp::now().0).max(0) as u64),
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                commit = feed.recv() => match commit {
                    Ok(c) => c.reviews.iter().for_each(|r| self.saw(r)),
                    Err(RecvError::Lagged(_)) => self.reload().await,
                    Err(RecvError::Closed) => return,
                },
                _ = tokio::time::sleep(sleep), if next.is_some() => self.expire().await,
                _ = sweep.tick() => self.abandon_idle().await,
            }
        }
    }

    /// A review as a commit left it.
    fn saw(&mut self, r: &ReviewRecord) {
        if r.state == ReviewState::Pending {
            self.deadlines.insert((r.deadline.0, r.review_id.clone()));
            self.reviews.waits.pending(&r.review_id);
        } else {
            self.deadlines.remove(&(r.deadline.0, r.review_id.clone()));
            self.reviews.waits.settled(Arc::new(r.clone()));
        }
    }

    /// Reads the pending reviews, and the state of every review someone waits for.
    async fn reload(&mut self) {
        let pending = ReviewQuery {
            state: Some(ReviewState::Pending),
            session_id: None,
            limit: Some(usize::MAX >> 1),
        };
        match self.reviews.store.reviews(pending).await {
            Ok(list) => {
                self.deadlines.clear();
                list.iter().for_each(|r| self.saw(r));
            }
            Err(e) => tracing::error!(error = %e, "pending reviews could not be read"),
        }
        for id in self.reviews.waits.watched() {
            if let Ok(Some(r)) = self.reviews.store.review(&id).await {
                self.saw(&r);
            }
        }
        self.expire().await;
    }

    /// Applies the action of every review whose deadline has passed.
    async fn expire(&mut self) {
        let now = Timestamp::now();
        while let Some((at, id)) = self.deadlines.first().cloned() {
            if at > now.0 {
                return;
            }
            self.deadlines.pop_first();
            let settled = self
                .settle(&id, |r| Settlement {
                    state: ReviewState::TimedOut,
                    decision: r.on_timeout.decision(),
                    revised_output: None,
                    diff: None,
                    comment: None,
                    decided_by: SERVER.to_owned(),
                    decided_at: r.deadline,
                })
                .await;
            if !settled {
                // The store refused (shutting down, failing): try again shortly.
                self.deadlines.insert((now.0 + RETRY.as_nanos() as i64, id));
                return;
            }
        }
    }

    /// Marks abandoned the pending reviews nobody has waited for during `abandon_after`.
    async fn abandon_idle(&mut self) {
        let Some(before) = Instant::now().checked_sub(self.reviews.config.abandon_after) else {
            return;
        };
        for id in self.reviews.waits.idle_since(before) {
            self.settle(&id, |r| Settlement {
                state: ReviewState::Abandoned,
                decision: r.on_timeout.decision(),
                revised_output: None,
                diff: None,
                comment: None,
                decided_by: SERVER.to_owned(),
                decided_at: Timestamp::now(),
            })
            .await;
        }
    }

    /// Settles a pending review as `how` says; false when the store could not.
    async fn settle(&mut self, id: &str, how: impl FnOnce(&ReviewRecord) -> Settlement) -> bool {
        let review = match self.reviews.store.review(id).await {
            Ok(Some(r)) if r.state == ReviewState::Pending => r,
            Ok(Some(r)) => {
                self.saw(&r);
                return true;
            }
            Ok(None) => return true,
            Err(e) => {
                tracing::error!(error = %e, review.id = id, "review not readable");
                return false;
            }
        };
        let settlement = how(&review);
        match self.reviews.settle(&review, settlement).await {
            Ok(flightdeck_store::ReviewOutcome::Unchanged(r)) => {
                self.saw(&r);
                true
            }
            Ok(_) => true,
            Err(e) => {
                tracing::error!(
                    error = e.message,
                    review.id = id,
                    "review could not be settled"
                );
                false
            }
        }
    }
}
