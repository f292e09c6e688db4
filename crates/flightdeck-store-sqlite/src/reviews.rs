//! The `reviews` table: one row per review gate, its whole record as JSON beside the columns
//! that queries filter on (state, deadline, session, time).
//!
//! The writer changes a review only through [`apply`], inside its transaction: opening is
//! idempotent by id and settling takes effect only while the review is pending, so the first
//! decision wins whoever sends it.

use flightdeck_model::review::{ReviewRecord, ReviewState};
use flightdeck_store::query::ReviewQuery;
use flightdeck_store::{ReviewOp, ReviewOutcome};
use rusqlite::{Connection, OptionalExtension, params};

/// One review by id.
pub fn load(conn: &Connection, review_id: &str) -> rusqlite::Result<Option<ReviewRecord>> {
    conn.query_row(
        "SELECT record FROM reviews WHERE review_id = ?1",
        [review_id],
        |r| r.get::<_, String>(0),
    )
    .optional()?
    .map(|text| decode(&text))
    .transpose()
}

/// Reviews matching `q`: pending ones by deadline (soonest first), others newest first.
pub fn list(conn: &Connection, q: &ReviewQuery) -> rusqlite::Result<Vec<ReviewRecord>> {
    let limit = q.limit.unwrap_or(200).clamp(1, 100_000) as i64;
    let pending = q.state == Some(ReviewState::Pending);
    let order = if pending {
        "deadline ASC, review_id"
    } else {
        "requested_at DESC, review_id"
    };
    let sql = format!(
        "SELECT record FROM reviews \
         WHERE (?1 IS NULL AND state != 'pending' OR state = ?1) \
         AND (?2 IS NULL OR session_id = ?2) ORDER BY {order} LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![q.state.map(ReviewState::as_str), q.session_id, limit],
        |r| r.get::<_, String>(0),
    )?;
    rows.map(|text| decode(&text?)).collect()
}

/// Applies `op` if it takes effect; answers what happened.
pub fn apply(conn: &Connection, op: &ReviewOp) -> rusqlite::Result<ReviewOutcome> {
    match op {
        ReviewOp::Open(record) => match load(conn, &record.review_id)? {
            Some(existing) => Ok(ReviewOutcome::Unchanged(existing)),
            None => {
                save(conn, record)?;
                Ok(ReviewOutcome::Applied((**record).clone()))
            }
        },
        ReviewOp::Settle {
            review_id,
            settlement,
        } => {
            let Some(record) = load(conn, review_id)? else {
                return Ok(ReviewOutcome::Unknown);
            };
            if record.state != ReviewState::Pending {
                return Ok(ReviewOutcome::Unchanged(record));
            }
            let record = ReviewOp::settled(record, settlement);
            save(conn, &record)?;
            Ok(ReviewOutcome::Applied(record))
        }
    }
}

fn save(conn: &Connection, r: &ReviewRecord) -> rusqlite::Result<()> {
    let record =
        serde_json::to_string(r).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    conn.prepare_cached(
        "INSERT INTO reviews (session_id, review_id, state, requested_at, deadline, record) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (review_id) DO UPDATE SET state = excluded.state, record = excluded.record",
    )?
    .execute(params![
        r.session_id,
        r.review_id,
        r.state.as_str(),
        r.requested_at.0,
        r.deadline.0,
        record
    ])?;
    Ok(())
}

fn decode(text: &str) -> rusqlite::Result<ReviewRecord> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}
