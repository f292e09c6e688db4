//! The `exchanges` table: the exact exchange of each LLM call through the proxy, keyed by the
//! call's span; and the `replays` table, one record per replay filed under its fork session,
//! kept only when its `version` is higher than the stored one. Bodies are compressed on the
//! caller's task (`codec`, without the payload dictionary). An exchange whose span moved
//! (`span.move`, `session.move`) is still found by the ids it moved to.

use crate::error::Db;
use crate::sql::{execute, query_opt};
use deadpool_postgres::ClientWrapper;
use flightdeck_model::Timestamp;
use flightdeck_model::replay::{Exchange, ExchangeChunk, ReplayRecord};
use flightdeck_store::codec;
use flightdeck_store::{Result, StoreError};

pub use flightdeck_store::exchange::{PreparedExchange as Prepared, prepare};

/// Inserts (or, for the same span, replaces) each exchange.
pub async fn insert(c: &ClientWrapper, all: &[Prepared]) -> Result<()> {
    for p in all {
        let x = &p.exchange;
        execute(
            c,
            "INSERT INTO exchanges (session_id, span_id, upstream, path, started_at, status,
                content_type, request, response, chunks, truncated)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (session_id, span_id) DO UPDATE SET upstream = excluded.upstream,
                path = excluded.path, started_at = excluded.started_at,
                status = excluded.status, content_type = excluded.content_type,
                request = excluded.request, response = excluded.response,
                chunks = excluded.chunks, truncated = excluded.truncated",
            &[
                &x.session_id,
                &x.span_id,
                &x.upstream,
                &x.path,
                &x.started_at.0,
                &i32::from(x.status),
                &x.content_type,
                &p.request,
                &p.response,
                &p.chunks,
                &x.truncated,
            ],
        )
        .await
        .db()?;
    }
    Ok(())
}

const COLUMNS: &str = "x.session_id, x.span_id, x.upstream, x.path, x.started_at, x.status, \
                       x.content_type, x.request, x.response, x.chunks, x.truncated";

/// The exchange of one call, by the ids its span has now.
pub async fn load(c: &ClientWrapper, session_id: &str, span_id: &str) -> Result<Option<Exchange>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM exchanges x WHERE x.session_id = $1 AND x.span_id = $2 \
         UNION ALL SELECT {COLUMNS} FROM exchanges x JOIN span_moves m \
           ON m.session_id = x.session_id AND m.span_id = x.span_id \
           WHERE m.into_id = $1 AND m.into_span = $2 \
         UNION ALL SELECT {COLUMNS} FROM exchanges x JOIN session_moves m \
           ON m.session_id = x.session_id WHERE m.into_id = $1 AND x.span_id = $2 \
         LIMIT 1"
    );
    let Some(r) = query_opt(c, &sql, &[&session_id, &span_id]).await.db()? else {
        return Ok(None);
    };
    let body =
        |i: usize| codec::decode(r.get::<_, &[u8]>(i), |_| None).map_err(StoreError::Database);
    Ok(Some(Exchange {
        session_id: r.get(0),
        span_id: r.get(1),
        upstream: r.get(2),
        path: r.get(3),
        started_at: Timestamp(r.get(4)),
        status: u16::try_from(r.get::<_, i32>(5)).unwrap_or(0),
        content_type: r.get(6),
        request: body(7)?,
        response: body(8)?,
        chunks: serde_json::from_str::<Vec<ExchangeChunk>>(r.get(9))
            .map_err(|e| StoreError::Database(format!("an exchange's chunks: {e}")))?,
        truncated: r.get(10),
    }))
}

/// Stores `r` unless a newer version of it is stored.
pub async fn save_replay(c: &ClientWrapper, r: &ReplayRecord) -> Result<()> {
    let record = serde_json::to_string(r).map_err(|e| StoreError::Database(e.to_string()))?;
    execute(
        c,
        "INSERT INTO replays AS r (session_id, replay_id, version, record) VALUES ($1, $2, $3, $4)
         ON CONFLICT (session_id, replay_id) DO UPDATE SET version = excluded.version,
         record = excluded.record WHERE excluded.version > r.version",
        &[
            &r.fork_session_id,
            &r.replay_id,
            &(r.version as i64),
            &record,
        ],
    )
    .await
    .db()?;
    Ok(())
}

/// One replay by id.
pub async fn load_replay(c: &ClientWrapper, replay_id: &str) -> Result<Option<ReplayRecord>> {
    let row = query_opt(
        c,
        "SELECT record FROM replays WHERE replay_id = $1",
        &[&replay_id],
    )
    .await
    .db()?;
    row.map(|r| {
        serde_json::from_str(r.get(0)).map_err(|e| StoreError::Database(format!("a replay: {e}")))
    })
    .transpose()
}
