//! Which store holds the data: a SQLite file (the default) or a PostgreSQL database, named by
//! `--db` / `db =` (a `postgres://` URL selects PostgreSQL), and opening it.

use anyhow::Context;
use flightdeck_model::Pricing;
use flightdeck_store::Maintenance;
use flightdeck_store_postgres::{PostgresOptions, PostgresStore, is_postgres_url};
use flightdeck_store_sqlite::{SqliteOptions, SqliteStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where the data lives.
#[derive(Clone, Debug, PartialEq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Database {
    /// What `--db` or `db =` names: a `postgres://` (or `postgresql://`) URL, else a file.
    pub fn named(db: PathBuf) -> Database {
        match db.to_str() {
            Some(url) if is_postgres_url(url) => Database::Postgres(url.to_owned()),
            _ => Database::Sqlite(db),
        }
    }

    /// The folder of a database file, where state kept beside it goes; none for a server.
    pub fn local_dir(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(path) => path.parent(),
            Database::Postgres(_) => None,
        }
    }

    /// Opens the store.
    pub async fn open(
        &self,
        pricing: Pricing,
        agent_offline_after: Duration,
    ) -> anyhow::Result<Arc<dyn Maintenance>> {
        let pricing = Arc::new(pricing);
        Ok(match self {
            Database::Sqlite(path) => {
                let mut opts = SqliteOptions::new(path);
                opts.pricing = pricing;
                opts.agent_offline_after = agent_offline_after;
                Arc::new(
                    SqliteStore::open(opts)
                        .with_context(|| format!("cannot open the database {self}"))?,
                )
            }
            Database::Postgres(url) => {
                let mut opts = PostgresOptions::new(url);
                opts.pricing = pricing;
                opts.agent_offline_after = agent_offline_after;
                Arc::new(
                    PostgresStore::open(opts)
                        .await
                        .with_context(|| format!("cannot open the database {self}"))?,
                )
            }
        })
    }
}

/// A file's path, or a URL without its password (safe for logs and errors).
impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{name}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_selects_postgres_and_hides_its_password() {
        let pg = Database::named("postgres://fd:s3cret@db:5432/flightdeck".into());
        assert_eq!(pg.to_string(), "postgres://fd:***@db:5432/flightdeck");
        assert!(pg.local_dir().is_none());
        assert!(matches!(
            Database::named("postgresql://db/x".into()),
            Database::Postgres(_)
        ));
        let file = Database::named("data/fd.db".into());
        assert_eq!(file, Database::Sqlite("data/fd.db".into()));
        assert_eq!(file.local_dir(), Some(Path::new("data")));
    }
}
