//! The commit sequence and the gate that ties a reader's view of the database to it.
//!
//! The writer holds the gate exclusively across `COMMIT` and the increment of the sequence;
//! a snapshot holds it shared while its read transaction takes its view (in WAL mode, at the
//! transaction's first read). So the sequence a snapshot reads names exactly the last commit
//! its view contains: a live client that starts from it and applies every later commit of
//! the feed misses nothing and sees nothing twice.

use crate::error::Db;
use flightdeck_store::Result;
use rusqlite::{Connection, Transaction};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

/// The sequence number of the last commit, and the gate around changing it.
#[derive(Default)]
pub struct CommitGate {
    /// Guards no data: it orders commits against the start of snapshots.
    gate: RwLock<()>,
    seq: AtomicU64,
}

impl CommitGate {
    /// The sequence number of the last commit (0 before the first).
    pub fn last(&self) -> u64 {
        self.seq.load(Ordering::SeqCst)
    }

    /// Commits `tx` and numbers the commit; returns its sequence number.
    pub fn commit(&self, tx: Transaction<'_>) -> rusqlite::Result<u64> {
        let _exclusive = self.gate.write().unwrap_or_else(PoisonError::into_inner);
        tx.commit()?;
        Ok(self.seq.fetch_add(1, Ordering::SeqCst) + 1)
    }

    /// Opens a read transaction on `conn` whose view is exactly the database as of the
    /// returned commit sequence number.
    pub fn begin_at<'c>(&self, conn: &'c Connection) -> Result<(u64, Transaction<'c>)> {
        let tx = conn.unchecked_transaction().db()?;
        let _shared = self.gate.read().unwrap_or_else(PoisonError::into_inner);
        // The first read fixes the transaction's view of the WAL.
        tx.query_row(
            "SELECT count(*) FROM (SELECT 1 FROM sessions LIMIT 1)",
            [],
            |_| Ok(()),
        )
        .db()?;
        Ok((self.last(), tx))
    }
}
