//! Shared by the server's integration tests: a real server on a port-0 listener over a fresh
//! SQLite store, and the Python interpreter with the ecosystem's real clients.

#![allow(dead_code)] // each test file uses part of this

use flightdeck_server::{App, ServerConfig};
use flightdeck_store::{SqliteOptions, SqliteStore, Store};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// A running server and a client for it.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start(config: ServerConfig) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(SqliteOptions::new(dir.path().join("fd.db"))).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = App::new(Arc::clone(&store), config);
        tokio::spawn(flightdeck_server::serve(
            listener,
            app,
            std::future::pending(),
        ));
        TestServer {
            base,
            client: reqwest::Client::new(),
            store,
            _dir: dir,
        }
    }

    /// Posts a batch; returns the status and the JSON answer.
    pub async fn post(&self, content_type: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}/api/v1/events", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// GETs a path; returns the status and the JSON answer.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }
}

/// The Python interpreter of the test virtualenv (`scripts/python-env.sh`), or `None` when
/// the suite runs without it. Under CI, running without it is an error, not a skip.
pub fn python() -> Option<PathBuf> {
    match std::env::var_os("FLIGHTDECK_PYTHON") {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var_os("CI").is_some() => {
            panic!("FLIGHTDECK_PYTHON is not set: run the suites through scripts/test.sh")
        }
        None => {
            eprintln!("skipped: FLIGHTDECK_PYTHON is not set (scripts/test.sh sets it)");
            None
        }
    }
}

/// A script of `tests/python/` at the repository root.
pub fn python_script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/python")
        .join(name)
}
