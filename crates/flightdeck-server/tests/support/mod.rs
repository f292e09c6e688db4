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
    /// `host:port` of the OTLP/gRPC listener, when started with one.
    pub grpc: Option<String>,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start(config: ServerConfig) -> TestServer {
        Self::launch(config, false).await
    }

    /// A server with an OTLP/gRPC listener too (on another port-0 listener).
    pub async fn start_with_grpc(config: ServerConfig) -> TestServer {
        Self::launch(config, true).await
    }

    async fn launch(config: ServerConfig, with_grpc: bool) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(SqliteOptions::new(dir.path().join("fd.db"))).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = App::new(Arc::clone(&store), config);
        let grpc = match with_grpc {
            true => Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()),
            false => None,
        };
        let grpc_addr = grpc.as_ref().map(|l| l.local_addr().unwrap().to_string());
        tokio::spawn(flightdeck_server::serve_with_grpc(
            listener,
            grpc,
            app,
            std::future::pending(),
        ));
        TestServer {
            base,
            grpc: grpc_addr,
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

/// Runs `tests/python/NAME` with the test interpreter and `args` (and `env`), on a blocking
/// thread so the server keeps serving; fails the test with the script's output if it fails.
/// Returns the last line the script printed, as JSON. `None` when there is no interpreter.
pub async fn run_python(name: &str, args: &[&str], env: &[(&str, &str)]) -> Option<Value> {
    let python = python()?;
    let script = python_script(name);
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(&script)
            .args(&args)
            .envs(env)
            .current_dir(script.parent().unwrap())
            .output()
            .expect("run the test interpreter")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{name} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or("null");
    Some(serde_json::from_str(last).unwrap_or_else(|e| panic!("{name} printed {last:?}: {e}")))
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
