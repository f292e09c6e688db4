//! The writer's housekeeping, each in its own transaction: the idle end of traced sessions
//! (the rule is the SQLite store's `idle.rs`: every span ended, untouched since a cut-off, at
//! its last span's end, `failed` when its last root span failed), retention of ended
//! sessions, and metric roll-ups (a mean per bucket before a cut-off, nothing past the
//! retention; a bucket already reduced to one point at its start is left as it is).

use crate::sql::{execute, query};
use deadpool_postgres::ClientWrapper;
use flightdeck_model::{SessionOutcome, Timestamp};
use tokio_postgres::Error;

/// A session the idle rule ends, and how.
pub struct IdleEnd {
    pub session_id: String,
    pub ended_at: Timestamp,
    pub outcome: SessionOutcome,
    pub error: Option<String>,
}

/// The traced sessions that are quiet since `quiet_before` with every span ended.
pub async fn idle(c: &ClientWrapper, quiet_before: Timestamp) -> Result<Vec<IdleEnd>, Error> {
    let rows = query(
        c,
        "SELECT s.session_id, COALESCE(last.ended_at, s.started_at), root.status = 'error',
                root.error
         FROM sessions s
         LEFT JOIN LATERAL (SELECT MAX(p.ended_at) AS ended_at FROM spans p
                            WHERE p.session_id = s.session_id) last ON true
         LEFT JOIN LATERAL (SELECT p.status, p.error FROM spans p
                            WHERE p.session_id = s.session_id AND p.parent_id IS NULL
                              AND p.ended_at IS NOT NULL
                            ORDER BY p.ended_at DESC LIMIT 1) root ON true
         WHERE s.status = 'running' AND s.traced AND s.touched_at < $1
           AND NOT EXISTS (SELECT 1 FROM spans p WHERE p.session_id = s.session_id
                           AND p.ended_at IS NULL
                           AND (p.kind IS NOT NULL OR p.started_at IS NOT NULL))",
        &[&quiet_before.0],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let failed = r.get::<_, Option<bool>>(2).unwrap_or(false);
            IdleEnd {
                session_id: r.get(0),
                ended_at: Timestamp(r.get(1)),
                outcome: if failed {
                    SessionOutcome::Failed
                } else {
                    SessionOutcome::Completed
                },
                error: r.get::<_, Option<String>>(3).filter(|_| failed),
            }
        })
        .collect())
}

/// Deletes ended sessions older than `before` with everything filed under them, metric
/// samples and feed entries older than it. Returns how many sessions were removed.
pub async fn retain(c: &ClientWrapper, before: Timestamp) -> Result<usize, Error> {
    let old: Vec<String> = query(
        c,
        "SELECT session_id FROM sessions WHERE status != 'running'
           AND COALESCE(ended_at, started_at) < $1",
        &[&before.0],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    for table in [
        "reviews",
        "replays",
        "exchanges",
        "spans",
        "span_chunks",
        "edges",
        "events",
        "agents",
        "session_models",
        "sessions",
    ] {
        execute(
            c,
            &format!("DELETE FROM {table} WHERE session_id = ANY($1)"),
            &[&old],
        )
        .await?;
    }
    execute(c, "DELETE FROM metrics WHERE at < $1", &[&before.0]).await?;
    execute(c, "DELETE FROM feed WHERE at < $1", &[&before.0]).await?;
    Ok(old.len())
}

/// Rolls up samples before `raw_before` (ns) into buckets of `step_ns`, and deletes points
/// before `keep_after` (ns). Returns (samples rolled up, points deleted).
pub async fn roll_up(
    c: &ClientWrapper,
    raw_before: i64,
    step_ns: i64,
    keep_after: i64,
) -> Result<(usize, usize), Error> {
    let deleted = execute(c, "DELETE FROM metrics WHERE at < $1", &[&keep_after]).await?;
    execute(
        c,
        "CREATE TEMP TABLE IF NOT EXISTS rolled (session_id TEXT, name TEXT, labels TEXT,
            bucket BIGINT, value DOUBLE PRECISION, unit TEXT) ON COMMIT DELETE ROWS",
        &[],
    )
    .await?;
    execute(
        c,
        "INSERT INTO rolled
         SELECT session_id, name, labels, (at / $2) * $2 AS bucket, avg(value), max(unit)
         FROM metrics WHERE at < $1
         GROUP BY session_id, name, labels, bucket
         HAVING count(*) > 1 OR min(at) != (min(at) / $2) * $2",
        &[&raw_before, &step_ns],
    )
    .await?;
    let rolled = execute(
        c,
        "DELETE FROM metrics m USING rolled r
         WHERE m.at < $1 AND m.session_id = r.session_id AND m.name = r.name
           AND m.labels = r.labels AND (m.at / $2) * $2 = r.bucket",
        &[&raw_before, &step_ns],
    )
    .await?;
    execute(
        c,
        "INSERT INTO metrics (session_id, name, labels, at, value, unit)
         SELECT session_id, name, labels, bucket, value, unit FROM rolled",
        &[],
    )
    .await?;
    execute(c, "DELETE FROM rolled", &[]).await?;
    Ok((rolled as usize, deleted as usize))
}
