//! SQLite's errors as the contract's: `.db()?` turns a `rusqlite` failure into
//! [`StoreError::Database`] (the two types belong to other crates, so no `From` can join them).

use flightdeck_store::{Result, StoreError};

/// Converts a `rusqlite` result into a store result.
pub(crate) trait Db<T> {
    fn db(self) -> Result<T>;
}

impl<T> Db<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T> {
        self.map_err(|e| StoreError::Database(e.to_string()))
    }
}
