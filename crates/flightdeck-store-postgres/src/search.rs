//! Text search in a session's payloads: the spans whose input or output holds a text, for the
//! page's one search box. Payloads are compressed, so they are read and decoded one by one:
//! one pass over the session's payloads, paid only when someone searches.

use crate::dictionary::decode;
use crate::error::Db;
use crate::sql::query;
use deadpool_postgres::ClientWrapper;
use flightdeck_store::dictionary::Dictionaries;
use flightdeck_store::text::holds;
use flightdeck_store::{Result, StoreError};
use serde_json::Value;

/// The ids of `session_id`'s spans whose input or output holds `text` in a string (or a
/// key), ignoring case, in start order.
pub async fn spans_with_text(
    c: &ClientWrapper,
    dicts: &Dictionaries,
    session_id: &str,
    text: &str,
) -> Result<Vec<String>> {
    let needle = text.to_lowercase();
    let rows = query(
        c,
        "SELECT span_id, input, output FROM spans WHERE session_id = $1
           AND (input IS NOT NULL OR output IS NOT NULL)
         ORDER BY started_at NULLS FIRST, span_id",
        &[&session_id],
    )
    .await
    .db()?;
    let mut found = Vec::new();
    for r in &rows {
        for i in [1, 2] {
            let Some(stored) = r.get::<_, Option<&[u8]>>(i) else {
                continue;
            };
            let bytes = decode(c, dicts, stored).await?;
            let value: Value =
                serde_json::from_slice(&bytes).map_err(|e| StoreError::Database(e.to_string()))?;
            if holds(&value, &needle) {
                found.push(r.get(0));
                break;
            }
        }
    }
    Ok(found)
}
