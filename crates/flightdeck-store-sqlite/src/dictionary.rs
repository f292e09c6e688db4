//! Where a SQLite database keeps its compression dictionaries: the `dictionaries` table. The
//! dictionaries in use (sampling, training, encoders, decoders) are the shared
//! [`flightdeck_store::dictionary::Dictionaries`].

use flightdeck_store::dictionary::Dictionaries;
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::Arc;
use zstd::dict::DecoderDictionary;

/// The dictionaries of the database behind `conn`; the newest one encodes.
pub fn load(conn: &Connection) -> rusqlite::Result<Dictionaries> {
    let dicts = Dictionaries::default();
    let newest: Option<(u32, Vec<u8>)> = conn
        .query_row(
            "SELECT id, bytes FROM dictionaries ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((id, bytes)) = newest {
        dicts.install(id, &bytes);
    }
    Ok(dicts)
}

/// Stores a trained dictionary; returns its id. Call inside the writer's transaction.
pub fn store(conn: &Connection, bytes: &[u8], created_at: i64) -> rusqlite::Result<u32> {
    conn.execute(
        "INSERT INTO dictionaries (created_at, bytes) VALUES (?1, ?2)",
        params![created_at, bytes],
    )?;
    Ok(conn.last_insert_rowid() as u32)
}

/// The decoder for dictionary `id`, loading it through `conn` if it is not known yet.
pub fn decoder(
    dicts: &Dictionaries,
    conn: &Connection,
    id: u32,
) -> Option<Arc<DecoderDictionary<'static>>> {
    dicts.decoder(id, |id| {
        conn.query_row("SELECT bytes FROM dictionaries WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .ok()
    })
}
