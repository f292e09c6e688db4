//! The idle end of traced sessions: a session whose spans carry trace ids (OTLP's) has no
//! `session.end`, so it ends when every span it holds has ended and no message has touched it
//! since `quiet_before`. It ends at its last span's end, `failed` when its last root span
//! failed; a later span reopens it (`merge`).

use flightdeck_model::{SessionOutcome, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

/// A session the idle rule ends, and how.
pub struct IdleEnd {
    pub session_id: String,
    pub ended_at: Timestamp,
    pub outcome: SessionOutcome,
    pub error: Option<String>,
}

/// The traced sessions that are quiet since `quiet_before` with every span ended.
pub fn find(conn: &Connection, quiet_before: Timestamp) -> rusqlite::Result<Vec<IdleEnd>> {
    let quiet: Vec<(String, Option<i64>, i64)> = conn
        .prepare_cached(
            "SELECT s.session_id,
                    (SELECT MAX(p.ended_at) FROM spans p WHERE p.session_id = s.session_id),
                    s.started_at
             FROM sessions s
             WHERE s.status = 'running' AND s.traced = 1 AND s.touched_at < ?1
               AND NOT EXISTS (SELECT 1 FROM spans p WHERE p.session_id = s.session_id
                               AND p.ended_at IS NULL
                               AND (p.kind IS NOT NULL OR p.started_at IS NOT NULL))",
        )?
        .query_map([quiet_before.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut last_root = conn.prepare_cached(
        "SELECT status = 'error', error FROM spans
         WHERE session_id = ?1 AND parent_id IS NULL AND ended_at IS NOT NULL
         ORDER BY ended_at DESC LIMIT 1",
    )?;
    let mut ends = Vec::with_capacity(quiet.len());
    for (session_id, last_end, started_at) in quiet {
        let root: Option<(bool, Option<String>)> = last_root
            .query_row(params![session_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (failed, error) = root.unwrap_or((false, None));
        ends.push(IdleEnd {
            session_id,
            ended_at: Timestamp(last_end.unwrap_or(started_at)),
            outcome: if failed {
                SessionOutcome::Failed
            } else {
                SessionOutcome::Completed
            },
            error: error.filter(|_| failed),
        });
    }
    Ok(ends)
}
