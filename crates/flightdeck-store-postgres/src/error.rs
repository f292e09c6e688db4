//! PostgreSQL's errors as the contract's: `.db()?` turns a driver or pool failure into
//! [`StoreError::Database`], with the server's own message when it sent one.

use flightdeck_store::{Result, StoreError};

/// Converts a driver or pool result into a store result.
pub(crate) trait Db<T> {
    fn db(self) -> Result<T>;
}

impl<T> Db<T> for std::result::Result<T, tokio_postgres::Error> {
    fn db(self) -> Result<T> {
        self.map_err(|e| StoreError::Database(describe(&e)))
    }
}

impl<T> Db<T> for std::result::Result<T, deadpool_postgres::PoolError> {
    fn db(self) -> Result<T> {
        self.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => StoreError::Database(describe(&e)),
            other => StoreError::Unavailable(format!("no database connection: {other}")),
        })
    }
}

/// The server's message (with its detail) when there is one, else the driver's.
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {detail}", db.message()),
            None => db.message().to_owned(),
        },
        // The driver's text names its cause already ("error connecting to server: ...").
        None => e.to_string(),
    }
}
