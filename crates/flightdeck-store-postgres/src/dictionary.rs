//! Where a PostgreSQL database keeps its compression dictionaries: the `dictionaries` table
//! (ids from its serial, so every node that trains one gets its own id). The dictionaries in
//! use are the shared [`flightdeck_store::dictionary::Dictionaries`]; a payload that names one
//! this node has not seen (another node trained it) is loaded before it is decoded.

use crate::error::Db;
use crate::sql::{query, query_opt};
use deadpool_postgres::ClientWrapper;
use flightdeck_store::codec;
use flightdeck_store::dictionary::Dictionaries;
use flightdeck_store::{Result, StoreError};
use serde_json::value::RawValue;

/// The dictionaries of the database; the newest one encodes.
pub async fn load(c: &ClientWrapper) -> std::result::Result<Dictionaries, tokio_postgres::Error> {
    let dicts = Dictionaries::default();
    if let Some(r) = query_opt(
        c,
        "SELECT id, bytes FROM dictionaries ORDER BY id DESC LIMIT 1",
        &[],
    )
    .await?
    {
        dicts.install(r.get::<_, i32>(0) as u32, r.get(1));
    }
    Ok(dicts)
}

/// Stores a trained dictionary; returns its id.
pub async fn store(
    c: &ClientWrapper,
    bytes: &[u8],
    created_at: i64,
) -> std::result::Result<u32, tokio_postgres::Error> {
    let rows = query(
        c,
        "INSERT INTO dictionaries (created_at, bytes) VALUES ($1, $2) RETURNING id",
        &[&created_at, &bytes],
    )
    .await?;
    Ok(rows[0].get::<_, i32>(0) as u32)
}

/// Decodes a stored payload, loading the dictionary it needs first if this node lacks it.
pub async fn decode(c: &ClientWrapper, dicts: &Dictionaries, stored: &[u8]) -> Result<Vec<u8>> {
    if let Some(id) = codec::dictionary_id(stored)
        && dicts.cached_decoder(id).is_none()
    {
        let row = query_opt(
            c,
            "SELECT bytes FROM dictionaries WHERE id = $1",
            &[&(id as i32)],
        )
        .await
        .db()?;
        if let Some(r) = row {
            let bytes: Vec<u8> = r.get(0);
            dicts.decoder(id, |_| Some(bytes));
        }
    }
    codec::decode(stored, |id| dicts.cached_decoder(id)).map_err(StoreError::Database)
}

/// A stored JSON payload as it was sent.
pub async fn raw_payload(
    c: &ClientWrapper,
    dicts: &Dictionaries,
    stored: Option<Vec<u8>>,
) -> Result<Option<Box<RawValue>>> {
    let Some(stored) = stored else {
        return Ok(None);
    };
    let bytes = decode(c, dicts, &stored).await?;
    let text = String::from_utf8(bytes).map_err(|e| StoreError::Database(e.to_string()))?;
    RawValue::from_string(text)
        .map(Some)
        .map_err(|e| StoreError::Database(e.to_string()))
}
