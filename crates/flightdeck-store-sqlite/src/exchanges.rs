//! The `exchanges` table: the exact exchange of each LLM call through the proxy, keyed by the
//! call's span. Bodies are zstd-compressed (`codec`, without the payload dictionary, which is
//! trained on span payloads) on the caller's thread; chunk boundaries are JSON text.
//!
//! A proxy record that joined an OTel span (`span.move`), or whose trace was filed into a
//! session (`session.move`), is still found by the ids it was moved to.

use crate::error::Db;
use flightdeck_model::Timestamp;
use flightdeck_model::replay::{Exchange, ExchangeChunk};
use flightdeck_store::codec;
use flightdeck_store::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};

pub use flightdeck_store::exchange::{PreparedExchange as Prepared, prepare};

/// Inserts (or, for the same span, replaces) each exchange.
pub fn insert(conn: &Connection, all: &[Prepared]) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO exchanges (session_id, span_id, upstream, path, started_at, \
         status, content_type, request, response, chunks, truncated) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for p in all {
        let x = &p.exchange;
        stmt.execute(params![
            x.session_id,
            x.span_id,
            x.upstream,
            x.path,
            x.started_at.0,
            x.status,
            x.content_type,
            p.request,
            p.response,
            p.chunks,
            x.truncated,
        ])?;
    }
    Ok(())
}

const COLUMNS: &str = "session_id, span_id, upstream, path, started_at, status, content_type, \
                       request, response, chunks, truncated";

/// The exchange of one call, by the ids its span has now.
pub fn load(conn: &Connection, session_id: &str, span_id: &str) -> Result<Option<Exchange>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM exchanges WHERE session_id = ?1 AND span_id = ?2 \
         UNION ALL SELECT {COLUMNS} FROM exchanges x WHERE EXISTS (SELECT 1 FROM span_moves m \
           WHERE m.into_id = ?1 AND m.into_span = ?2 \
           AND m.session_id = x.session_id AND m.span_id = x.span_id) \
         UNION ALL SELECT {COLUMNS} FROM exchanges x WHERE x.span_id = ?2 AND EXISTS \
           (SELECT 1 FROM session_moves m WHERE m.into_id = ?1 AND m.session_id = x.session_id) \
         LIMIT 1"
    );
    conn.prepare_cached(&sql)
        .db()?
        .query_row(params![session_id, span_id], row)
        .optional()
        .db()?
        .transpose()
}

type Raw = (Exchange, Vec<u8>, Vec<u8>, String);

fn row(r: &Row) -> rusqlite::Result<Result<Exchange>> {
    let raw: Raw = (
        Exchange {
            session_id: r.get(0)?,
            span_id: r.get(1)?,
            upstream: r.get(2)?,
            path: r.get(3)?,
            started_at: Timestamp(r.get(4)?),
            status: r.get(5)?,
            content_type: r.get(6)?,
            request: Vec::new(),
            response: Vec::new(),
            chunks: Vec::new(),
            truncated: r.get(10)?,
        },
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    );
    Ok(decode(raw))
}

fn decode((mut x, request, response, chunks): Raw) -> Result<Exchange> {
    let body = |b: &[u8]| codec::decode(b, |_| None).map_err(StoreError::Database);
    x.request = body(&request)?;
    x.response = body(&response)?;
    x.chunks = serde_json::from_str::<Vec<ExchangeChunk>>(&chunks)
        .map_err(|e| StoreError::Database(format!("an exchange's chunks: {e}")))?;
    Ok(x)
}
