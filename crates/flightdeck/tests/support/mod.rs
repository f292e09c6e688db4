//! The real binary in tests: a `flightdeck serve` on a free port, and the CLI's other
//! commands run to completion.

#![allow(dead_code)] // each test binary uses its own part

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};

/// A running `flightdeck serve`; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// What it logged so far (standard error), line by line.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Whether a logged line so far contains every one of `parts`.
    pub fn logged(&self, parts: &[&str]) -> bool {
        let log = self.log.lock().unwrap();
        log.iter().any(|l| parts.iter().all(|p| l.contains(p)))
    }

    /// Stops it with SIGTERM (a clean shutdown) and waits.
    pub fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves `db` on a free port (and OTLP/gRPC on another), with `extra` arguments.
pub fn start_with(db: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--otlp-grpc-addr",
            "127.0.0.1:0",
            "--db",
        ])
        .arg(db)
        .args(extra)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start flightdeck");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let base = loop {
        let line = lines.next().expect("server exited before serving").unwrap();
        if let Some(i) = line.find("serving on http://") {
            let url = &line[i + "serving on ".len()..];
            break url.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    let log = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().unwrap().push(line);
        }
    });
    Server { child, base, log }
}

/// Serves `db` on a free port.
pub fn start(db: &Path) -> Server {
    start_with(db, &[])
}

/// Runs `flightdeck ARGS...` to its end.
pub fn flightdeck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run flightdeck")
}

/// Runs `flightdeck ARGS...`, which must succeed; returns its standard output.
pub fn ok(args: &[&str]) -> String {
    let out = flightdeck(args);
    assert!(
        out.status.success(),
        "flightdeck {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `GET base+path` as JSON.
pub async fn get(base: &str, path: &str) -> serde_json::Value {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    assert!(r.status().is_success(), "GET {path}: {}", r.status());
    r.json().await.unwrap()
}
