//! A small pool of read-only connections. Queries run on tokio's blocking threads, so a slow
//! query never stalls the async runtime, and WAL lets them read while the writer writes.

use crate::error::Db;
use flightdeck_store::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Read-only connections to one database file.
pub struct Readers {
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Readers {
    pub fn open(path: &Path, size: usize) -> Result<Arc<Self>> {
        let mut idle = Vec::with_capacity(size);
        for _ in 0..size.max(1) {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .db()?;
            conn.pragma_update(None, "busy_timeout", 5000).db()?;
            conn.pragma_update(None, "cache_size", -16_000).db()?;
            idle.push(conn);
        }
        Ok(Arc::new(Readers {
            permits: Semaphore::new(idle.len()),
            idle: Mutex::new(idle),
        }))
    }

    /// Runs `f` on an idle connection, waiting for one if all are busy.
    pub async fn with<R: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Connection) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable("the store is closed".into()))?;
        let conn = self
            .idle
            .lock()
            .map_err(|_| StoreError::Unavailable("reader pool poisoned".into()))?
            .pop()
            .ok_or_else(|| StoreError::Unavailable("no idle reader".into()))?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let result = f(&conn);
            if let Ok(mut idle) = pool.idle.lock() {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Database(format!("query task failed: {e}")))?
    }
}
