//! WAL checkpoints off the commit path.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold, on the
//! writer thread: it copies the WAL into the database file and fsyncs it there, and that
//! commit (with every batch queued behind it) waits tens of milliseconds. A live client sees
//! that as latency. So a thread of its own runs a passive checkpoint every `EVERY` on its own
//! connection: passive checkpoints never wait for the writer or the readers, and the writer
//! finds the WAL already copied. The writer keeps a high automatic threshold
//! (`schema::WRITER_CHECKPOINT_PAGES`) only as a bound on the WAL if this thread falls behind.

use crate::error::Db;
use flightdeck_store::{Result, StoreError};
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// How often the WAL is copied into the database file.
const EVERY: Duration = Duration::from_millis(100);

/// Runs background checkpoints until dropped.
pub struct Checkpointer {
    /// Dropping it ends the thread.
    _stop: mpsc::Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path`.
    pub fn start(path: &Path, durable: bool) -> Result<Checkpointer> {
        let conn = Connection::open(path).db()?;
        conn.pragma_update(None, "synchronous", if durable { "FULL" } else { "NORMAL" })
            .db()?;
        conn.pragma_update(None, "busy_timeout", 0).db()?;
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("flightdeck-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    // Busy means another checkpoint is running: this one is not needed.
                    let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                        Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                    });
                    if let Ok((wal, copied)) = done {
                        tracing::trace!(wal.frames = wal, wal.copied = copied, "checkpoint");
                    }
                }
            })
            .map_err(|e| StoreError::Database(format!("cannot start checkpoints: {e}")))?;
        Ok(Checkpointer { _stop: stop })
    }
}

#[cfg(test)]
mod tests {
    use crate::{SqliteOptions, SqliteStore};
    use flightdeck_model::{Limits, decode_batch};
    use flightdeck_store::Store;
    use rusqlite::Connection;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn commits_reach_the_database_file_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(SqliteOptions::new(dir.path().join("fd.db"))).unwrap();
        let batch = br#"{"type":"session.start","session_id":"s1"}"#;
        store
            .append(decode_batch(batch, &Limits::default()).unwrap())
            .await
            .unwrap();
        // A copy of the database file without its WAL holds only what was checkpointed.
        let copy = dir.path().join("copy.db");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            std::fs::copy(dir.path().join("fd.db"), &copy).unwrap();
            let sessions: i64 = Connection::open(&copy)
                .and_then(|c| c.query_row("SELECT count(*) FROM sessions", [], |r| r.get(0)))
                .unwrap_or(0);
            if sessions == 1 {
                return;
            }
            assert!(Instant::now() < deadline, "no checkpoint came");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
