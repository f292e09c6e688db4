//! The same-run baseline of `bench ingest`: the spans of the run inserted by a bare rusqlite
//! loop (WAL, `synchronous=FULL`, 1,000 rows per transaction, a primary key on
//! (session_id, span_id) and one index, payloads as plain text), with nothing of
//! Flightdeck's work (no decoding, merging, totals, compression or feed). The store's rate
//! over this one says how Flightdeck compares with SQLite itself on the same machine in the
//! same hour, which absolute figures on a noisy machine cannot.

use flightdeck_model::Message;
use std::path::Path;
use std::time::Instant;

/// Rows per transaction.
const PER_TRANSACTION: usize = 1_000;

/// One span as the bare loop writes it.
struct Row<'a> {
    session: &'a str,
    span: &'a str,
    parent: Option<&'a str>,
    name: &'a str,
    model: Option<&'a str>,
    started: i64,
    ended: i64,
    input: Option<&'a str>,
    output: Option<&'a str>,
}

/// Spans per second of the bare loop over the spans in `batches`.
pub fn spans_per_second(db: &Path, batches: &[Vec<Message>]) -> anyhow::Result<f64> {
    let rows: Vec<Row<'_>> = batches
        .iter()
        .flatten()
        .filter_map(|m| match m {
            Message::Span(s) => Some(Row {
                session: &s.session_id,
                span: &s.span_id,
                parent: s.parent_id.as_deref(),
                name: &s.name,
                model: s.model.as_deref(),
                started: s.started_at.0,
                ended: s.ended_at.0,
                input: s.input.as_ref().map(|v| v.get()),
                output: s.output.as_ref().map(|v| v.get()),
            }),
            _ => None,
        })
        .collect();
    let mut conn = rusqlite::Connection::open(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE spans (session_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_id TEXT,
           name TEXT NOT NULL, model TEXT, started_at INTEGER, ended_at INTEGER,
           input TEXT, output TEXT, PRIMARY KEY (session_id, span_id));
         CREATE INDEX spans_by_start ON spans (session_id, started_at);",
    )?;
    let start = Instant::now();
    for chunk in rows.chunks(PER_TRANSACTION) {
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO spans VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for r in chunk {
                insert.execute(rusqlite::params![
                    r.session, r.span, r.parent, r.name, r.model, r.started, r.ended, r.input,
                    r.output
                ])?;
            }
        }
        tx.commit()?;
    }
    Ok(rows.len() as f64 / start.elapsed().as_secs_f64())
}
