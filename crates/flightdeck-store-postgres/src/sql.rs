//! Running SQL on a pooled connection: every statement is prepared once per connection
//! (`prepare_cached`) and then only bound and executed.

use deadpool_postgres::ClientWrapper;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Error, Row};

/// Parameters of a statement.
pub type Params<'a> = [&'a (dyn ToSql + Sync)];

/// The rows of a query.
pub async fn query(c: &ClientWrapper, sql: &str, params: &Params<'_>) -> Result<Vec<Row>, Error> {
    let stmt = c.prepare_cached(sql).await?;
    c.query(&stmt, params).await
}

/// The one row, or none, of a query.
pub async fn query_opt(
    c: &ClientWrapper,
    sql: &str,
    params: &Params<'_>,
) -> Result<Option<Row>, Error> {
    let stmt = c.prepare_cached(sql).await?;
    c.query_opt(&stmt, params).await
}

/// Runs a statement; returns the rows it changed.
pub async fn execute(c: &ClientWrapper, sql: &str, params: &Params<'_>) -> Result<u64, Error> {
    let stmt = c.prepare_cached(sql).await?;
    c.execute(&stmt, params).await
}
