//! The `replays` table: one row per replay, its record as JSON, filed under its fork session
//! (so retention takes it with the fork). A write keeps the record only if its `version` is
//! higher than the stored one, so progress written out of order never goes backwards.

use crate::error::Db;
use flightdeck_model::replay::ReplayRecord;
use flightdeck_store::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

/// Stores `r` unless a newer version of it is stored.
pub fn save(conn: &Connection, r: &ReplayRecord) -> rusqlite::Result<()> {
    let record =
        serde_json::to_string(r).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    conn.prepare_cached(
        "INSERT INTO replays (replay_id, session_id, version, record) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (replay_id) DO UPDATE SET version = excluded.version, \
         record = excluded.record WHERE excluded.version > replays.version",
    )?
    .execute(params![
        r.replay_id,
        r.fork_session_id,
        r.version as i64,
        record
    ])?;
    Ok(())
}

/// One replay by id.
pub fn load(conn: &Connection, replay_id: &str) -> Result<Option<ReplayRecord>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT record FROM replays WHERE replay_id = ?1")
        .db()?
        .query_row([replay_id], |r| r.get(0))
        .optional()
        .db()?;
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| StoreError::Database(format!("a replay: {e}")))
    })
    .transpose()
}
