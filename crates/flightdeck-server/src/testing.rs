//! A real server for integration tests (feature `testing`): a fresh SQLite store in a
//! temporary directory, served on a loopback port, with a client for it. The server's own
//! tests, the SDK's and the demo's all start servers this way. The store skips fsync
//! (`durable: false`): durability across crashes is tested on the real binary instead.

use crate::{App, ServerConfig};
use flightdeck_store::Store;
use flightdeck_store_sqlite::{SqliteOptions, SqliteStore};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server and a client for it.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub addr: SocketAddr,
    /// `host:port` of the OTLP/gRPC listener, when started with one.
    pub grpc: Option<String>,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    stop: Option<oneshot::Sender<()>>,
    serving: JoinHandle<std::io::Result<()>>,
    dir: tempfile::TempDir,
    config: ServerConfig,
}

impl TestServer {
    /// A server with default settings on a free port.
    pub async fn start() -> TestServer {
        Self::start_with(ServerConfig::default()).await
    }

    /// A server with `config` on a free port.
    pub async fn start_with(config: ServerConfig) -> TestServer {
        Self::start_at("127.0.0.1:0".parse().expect("static address"), config).await
    }

    /// A server with `config` on a free port, and an OTLP/gRPC listener on another.
    pub async fn start_with_grpc(config: ServerConfig) -> TestServer {
        Self::launch("127.0.0.1:0".parse().expect("static address"), config, true).await
    }

    /// A server with `config` on `addr`.
    pub async fn start_at(addr: SocketAddr, config: ServerConfig) -> TestServer {
        Self::launch(addr, config, false).await
    }

    async fn launch(addr: SocketAddr, config: ServerConfig, with_grpc: bool) -> TestServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        Self::launch_in(dir, addr, config, with_grpc).await
    }

    /// Stops the server and starts a new one on the same database and address (a restart).
    pub async fn restart(&mut self) {
        self.stop().await.expect("stopped");
        let dir = tempfile::tempdir().expect("temporary directory");
        let old = std::mem::replace(&mut self.dir, dir);
        let with_grpc = self.grpc.is_some();
        let next = Self::launch_in(old, self.addr, self.config.clone(), with_grpc).await;
        *self = next;
    }

    async fn launch_in(
        dir: tempfile::TempDir,
        addr: SocketAddr,
        config: ServerConfig,
        with_grpc: bool,
    ) -> TestServer {
        let mut options = SqliteOptions::new(dir.path().join("fd.db"));
        options.durable = false;
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(options).expect("open store"));
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let base = format!("http://{addr}");
        let app = App::new(Arc::clone(&store), config.clone());
        let grpc = match with_grpc {
            true => Some(
                tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind"),
            ),
            false => None,
        };
        let grpc_addr = grpc
            .as_ref()
            .map(|l| l.local_addr().expect("local address").to_string());
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(crate::serve_with_grpc(listener, grpc, app, async {
            let _ = stopped.await;
        }));
        TestServer {
            base,
            addr,
            grpc: grpc_addr,
            client: reqwest::Client::new(),
            store,
            stop: Some(stop),
            serving,
            dir,
            config,
        }
    }

    /// Stops the server, stays down for `down`, and starts it again on the same database,
    /// address and settings (as a restart of the binary would).
    pub async fn restart_after(self, down: std::time::Duration) -> TestServer {
        let mut old = self;
        old.stop().await.expect("the server stops cleanly");
        tokio::time::sleep(down).await;
        let with_grpc = old.grpc.is_some();
        let TestServer {
            addr, dir, config, ..
        } = old;
        Self::launch_in(dir, addr, config, with_grpc).await
    }

    /// Shuts the server down gracefully; waits until it has stopped.
    pub async fn stop(&mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.serving).await.map_err(std::io::Error::other)?
    }

    /// `http://127.0.0.1:PORT{path}`
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The directory of the server's database files.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Posts a batch to `/api/v1/events`; returns the status and the JSON answer.
    pub async fn post(&self, content_type: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}/api/v1/events", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST /api/v1/events");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// GETs `path`; returns the status and the JSON answer.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// GETs `path`, which must succeed; returns its JSON.
    pub async fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert!((200..300).contains(&status), "GET {path}: {status} {body}");
        body
    }

    /// Fails if `needle` occurs in any of the server's database files.
    pub fn assert_not_stored(&self, needle: &[u8]) {
        for entry in std::fs::read_dir(self.dir()).expect("read the data directory") {
            let path = entry.expect("directory entry").path();
            let bytes = std::fs::read(&path).expect("read a database file");
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} contains {:?}",
                path.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
}
