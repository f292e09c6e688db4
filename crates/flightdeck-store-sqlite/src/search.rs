//! Text search in a session's payloads: the spans whose input or output holds a text, for
//! the page's one search box (names, agents and models it matches itself, from the
//! summaries it has). Payloads are compressed, so they are read and decoded one by one: the
//! cost is one pass over the session's payloads, paid only when someone searches.

use crate::error::Db;
use flightdeck_store::codec;
use flightdeck_store::dictionary::Dictionaries;
use flightdeck_store::text::holds;
use flightdeck_store::{Result, StoreError};
use rusqlite::Connection;
use serde_json::Value;

/// The ids of `session_id`'s spans whose input or output holds `text` in a string (or a
/// key), ignoring case, in start order.
pub fn spans_with_text(
    conn: &Connection,
    dicts: &Dictionaries,
    session_id: &str,
    text: &str,
) -> Result<Vec<String>> {
    let needle = text.to_lowercase();
    let mut stmt = conn
        .prepare_cached(
            "SELECT span_id, input, output FROM spans WHERE session_id = ?1
           AND (input IS NOT NULL OR output IS NOT NULL)
         ORDER BY started_at, span_id",
        )
        .db()?;
    let rows = stmt
        .query_map([session_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<Vec<u8>>>(1)?,
                r.get::<_, Option<Vec<u8>>>(2)?,
            ))
        })
        .db()?;
    let mut found = Vec::new();
    for row in rows {
        let (id, input, output) = row.db()?;
        for stored in [input, output].into_iter().flatten() {
            let bytes = codec::decode(&stored, |d| super::dictionary::decoder(dicts, conn, d))
                .map_err(StoreError::Database)?;
            let value: Value =
                serde_json::from_slice(&bytes).map_err(|e| StoreError::Database(e.to_string()))?;
            if holds(&value, &needle) {
                found.push(id);
                break;
            }
        }
    }
    Ok(found)
}
