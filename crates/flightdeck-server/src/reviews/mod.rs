//! Review gates on the server: open, wait, decide, and the deadline kept here, not by any
//! browser.
//!
//! Every change goes through the store ([`Store::write_review`]): the writer applies it in one
//! transaction with the review's span and event, so the first decision wins, and the commit
//! reaches the live hub (every page hears `review.requested` / `review.decided` / ...) and
//! the keeper through the one commit feed. Agents wait on [`Waits`], which the keeper wakes
//! from that feed.
//!
//! - `record`: the review's span and events in its session; `diff`: an edit's line diff;
//! - `waits`: who waits for which review; `keeper`: deadlines, abandonment, wake-ups.

pub(crate) mod diff;
mod keeper;
mod record;
mod waits;

use crate::error::ApiError;
use axum::http::StatusCode;
use flightdeck_model::Timestamp;
use flightdeck_model::review::{
    Decision, DecisionInput, ReviewOpen, ReviewRecord, ReviewState, Settlement,
};
use flightdeck_store::{ReviewOp, ReviewOutcome, Store};
use std::sync::Arc;
use std::time::Duration;
pub use waits::Waits;

/// Settings of review gates.
#[derive(Clone, Debug)]
pub struct ReviewConfig {
    /// A pending review nobody waits for during this long is marked abandoned.
    pub abandon_after: Duration,
    /// The longest single long-poll (`GET /api/v1/reviews/{id}?wait=`).
    pub max_wait: Duration,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            abandon_after: Duration::from_secs(90),
            max_wait: Duration::from_secs(50),
        }
    }
}

/// The review gates of a running server.
pub struct Reviews {
    store: Arc<dyn Store>,
    waits: Arc<Waits>,
    pub config: ReviewConfig,
}

impl Reviews {
    /// Starts the keeper on `store`'s feed. Needs a tokio runtime.
    pub fn start(store: Arc<dyn Store>, config: ReviewConfig) -> Arc<Reviews> {
        let reviews = Arc::new(Reviews {
            store,
            waits: Arc::new(Waits::default()),
            config,
        });
        keeper::start(Arc::clone(&reviews));
        reviews
    }

    /// Opens a review, or answers the one a retried request opened before.
    pub async fn open(&self, open: ReviewOpen) -> Result<ReviewRecord, ApiError> {
        open.validate().map_err(ApiError::invalid_field)?;
        let session = open.session_id.clone();
        let record = record::new_record(open, Timestamp::now());
        let messages = record::opened(&record);
        match self
            .store
            .write_review(ReviewOp::Open(Box::new(record)), messages)
            .await?
        {
            ReviewOutcome::Applied(r) => Ok(r),
            ReviewOutcome::Unchanged(r) if r.session_id == session => Ok(r),
            ReviewOutcome::Unchanged(r) => Err(ApiError::new(
                StatusCode::CONFLICT,
                "review_conflict",
                format!(
                    "review {:?} belongs to session {:?}, not {session:?}",
                    r.review_id, r.session_id
                ),
            )),
            ReviewOutcome::Unknown => unreachable!("opening never answers unknown"),
        }
    }

    /// One review; 404 when unknown.
    pub async fn get(&self, review_id: &str) -> Result<ReviewRecord, ApiError> {
        self.store
            .review(review_id)
            .await?
            .ok_or_else(|| unknown(review_id))
    }

    /// The review once it is settled, or as it is after `wait` (pending).
    pub async fn wait(&self, review_id: &str, wait: Duration) -> Result<ReviewRecord, ApiError> {
        if wait.is_zero() {
            // A look, not a wait: it does not keep the review from being abandoned.
            return self.get(review_id).await;
        }
        let mut waiting = self.waits.wait(review_id);
        let now = self.get(review_id).await?;
        if now.state != ReviewState::Pending {
            return Ok(now);
        }
        let settled = tokio::time::timeout(
            wait.min(self.config.max_wait),
            waiting.settled.wait_for(Option::is_some),
        )
        .await;
        match settled {
            Ok(Ok(r)) => Ok(r.as_deref().cloned().unwrap_or(now)),
            _ => Ok(now),
        }
    }

    /// A person's decision: the first one wins; later ones get 409 naming what stands.
    pub async fn decide(
        &self,
        review_id: &str,
        input: DecisionInput,
        by: &str,
    ) -> Result<ReviewRecord, ApiError> {
        let decision = input.validate().map_err(ApiError::invalid_field)?;
        let current = self.get(review_id).await?;
        if current.state != ReviewState::Pending {
            return Err(stands(&current));
        }
        let now = Timestamp::now();
        if now >= current.deadline {
            // The keeper applies the action at once; the deadline has the last word.
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "review_settled",
                format!(
                    "review {review_id:?} passed its deadline ({}); its action {} applies",
                    current.deadline.to_rfc3339(),
                    current.on_timeout.as_str()
                ),
            ));
        }
        let revised = match decision {
            Decision::Edit => input.output,
            _ => None,
        };
        let settlement = Settlement {
            state: ReviewState::Decided,
            decision,
            diff: revised.as_deref().map(|r| diff::diff(&current.output, r)),
            revised_output: revised,
            comment: input.comment,
            decided_by: by.to_owned(),
            decided_at: now,
        };
        match self.settle(&current, settlement).await? {
            ReviewOutcome::Applied(r) => Ok(r),
            ReviewOutcome::Unchanged(r) => Err(stands(&r)),
            ReviewOutcome::Unknown => Err(unknown(review_id)),
        }
    }

    /// Settles `review` as `settlement` says, recording it in the session.
    async fn settle(
        &self,
        review: &ReviewRecord,
        settlement: Settlement,
    ) -> Result<ReviewOutcome, ApiError> {
        let mut after = review.clone();
        after.state = settlement.state;
        after.decision = Some(settlement.decision);
        after.revised_output = settlement.revised_output.clone();
        after.diff = settlement.diff.clone();
        after.comment = settlement.comment.clone();
        after.decided_by = Some(settlement.decided_by.clone());
        after.decided_at = Some(settlement.decided_at);
        let op = ReviewOp::Settle {
            review_id: review.review_id.clone(),
            settlement: Box::new(settlement),
        };
        Ok(self.store.write_review(op, record::settled(&after)).await?)
    }

    /// The pending queue, or the history.
    pub async fn list(
        &self,
        q: flightdeck_store::ReviewQuery,
    ) -> Result<Vec<ReviewRecord>, ApiError> {
        Ok(self.store.reviews(q).await?)
    }
}

fn unknown(review_id: &str) -> ApiError {
    ApiError::not_found(format!("no review {review_id:?}"))
}

/// 409: the review was settled before; says how.
fn stands(r: &ReviewRecord) -> ApiError {
    let decision = r.decision.map(Decision::as_str).unwrap_or("none");
    let by = r.decided_by.as_deref().unwrap_or("server");
    let at = r.decided_at.map(|t| t.to_rfc3339()).unwrap_or_default();
    ApiError::new(
        StatusCode::CONFLICT,
        "review_settled",
        format!(
            "review {:?} is {} already: {decision} by {by} at {at}",
            r.review_id,
            r.state.as_str()
        ),
    )
}
