//! A throwaway PostgreSQL for tests (feature `testing`): one cluster per test process,
//! started with `scripts/postgres.sh` on first use and stopped when the process exits, and
//! one fresh database per caller. When `FLIGHTDECK_TEST_POSTGRES` holds a URL, its server is
//! used instead (the databases are created there).

use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The server's URL (its `postgres` database), or why there is none.
fn server() -> &'static Result<String, String> {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var("FLIGHTDECK_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Ok(url),
        _ => start_cluster(),
    })
}

/// Starts a cluster of this process's own, and a watcher that stops it when we exit.
fn start_cluster() -> Result<String, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/postgres.sh");
    let dir = std::env::temp_dir().join(format!("flightdeck-test-pg-{}", std::process::id()));
    let out = Command::new("bash")
        .arg(script)
        .arg("start")
        .arg(&dir)
        .output()
        .map_err(|e| format!("cannot run {script}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{script} start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let watcher = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; bash '{script}' stop '{dir}'",
        pid = std::process::id(),
        dir = dir.display()
    );
    Command::new("sh")
        .arg("-c")
        .arg(watcher)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the cluster's watcher: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The URL of a new, empty database on the test server.
pub async fn fresh_database() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let server = match server() {
        Ok(url) => url.clone(),
        Err(e) => panic!("no PostgreSQL for the tests: {e}"),
    };
    let name = format!(
        "fd_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let (client, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test server {server}: {e}"));
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}
