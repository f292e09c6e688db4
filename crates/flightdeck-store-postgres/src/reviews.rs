//! The `reviews` table: one row per review gate, its whole record as JSON beside the columns
//! that queries filter on. The writer changes a review only through [`apply`], inside its
//! transaction, with the row locked (`FOR UPDATE`): opening is idempotent by id and settling
//! takes effect only while the review is pending, so the first decision wins, whichever node
//! takes it.

use crate::sql::{execute, query, query_opt};
use deadpool_postgres::ClientWrapper;
use flightdeck_model::review::{ReviewRecord, ReviewState};
use flightdeck_store::query::ReviewQuery;
use flightdeck_store::{ReviewOp, ReviewOutcome, StoreError};

fn decode(text: &str) -> flightdeck_store::Result<ReviewRecord> {
    serde_json::from_str(text).map_err(|e| StoreError::Database(format!("a review: {e}")))
}

/// One review by id (`lock`: for update, in the writer's transaction).
pub async fn load(
    c: &ClientWrapper,
    review_id: &str,
    lock: bool,
) -> flightdeck_store::Result<Option<ReviewRecord>> {
    let sql = if lock {
        "SELECT record FROM reviews WHERE review_id = $1 FOR UPDATE"
    } else {
        "SELECT record FROM reviews WHERE review_id = $1"
    };
    let row = query_opt(c, sql, &[&review_id]).await.map_err(db)?;
    row.map(|r| decode(r.get(0))).transpose()
}

fn db(e: tokio_postgres::Error) -> StoreError {
    StoreError::Database(crate::error::describe(&e))
}

/// Reviews matching `q`: pending ones by deadline (soonest first), others newest first.
pub async fn list(
    c: &ClientWrapper,
    q: &ReviewQuery,
) -> flightdeck_store::Result<Vec<ReviewRecord>> {
    let limit = q.limit.unwrap_or(200).clamp(1, 100_000) as i64;
    let pending = q.state == Some(ReviewState::Pending);
    let order = if pending {
        "deadline ASC, review_id"
    } else {
        "requested_at DESC, review_id"
    };
    let sql = format!(
        "SELECT record FROM reviews \
         WHERE ($1::text IS NULL AND state != 'pending' OR state = $1) \
         AND ($2::text IS NULL OR session_id = $2) ORDER BY {order} LIMIT $3"
    );
    let state = q.state.map(ReviewState::as_str);
    let rows = query(c, &sql, &[&state, &q.session_id, &limit])
        .await
        .map_err(db)?;
    rows.iter().map(|r| decode(r.get(0))).collect()
}

/// Applies `op` if it takes effect; answers what happened.
pub async fn apply(c: &ClientWrapper, op: &ReviewOp) -> flightdeck_store::Result<ReviewOutcome> {
    match op {
        ReviewOp::Open(record) => match load(c, &record.review_id, true).await? {
            Some(existing) => Ok(ReviewOutcome::Unchanged(existing)),
            None => {
                save(c, record).await?;
                Ok(ReviewOutcome::Applied((**record).clone()))
            }
        },
        ReviewOp::Settle {
            review_id,
            settlement,
        } => {
            let Some(record) = load(c, review_id, true).await? else {
                return Ok(ReviewOutcome::Unknown);
            };
            if record.state != ReviewState::Pending {
                return Ok(ReviewOutcome::Unchanged(record));
            }
            let record = ReviewOp::settled(record, settlement);
            save(c, &record).await?;
            Ok(ReviewOutcome::Applied(record))
        }
    }
}

async fn save(c: &ClientWrapper, r: &ReviewRecord) -> flightdeck_store::Result<()> {
    let record = serde_json::to_string(r).map_err(|e| StoreError::Database(e.to_string()))?;
    execute(
        c,
        "INSERT INTO reviews (session_id, review_id, state, requested_at, deadline, record) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (session_id, review_id) DO UPDATE SET state = excluded.state, \
         record = excluded.record",
        &[
            &r.session_id,
            &r.review_id,
            &r.state.as_str(),
            &r.requested_at.0,
            &r.deadline.0,
            &record,
        ],
    )
    .await
    .map_err(db)?;
    Ok(())
}
