//! Shared by the server's integration tests: the real server of `flightdeck_server::testing`,
//! and the Python interpreter with the ecosystem's real clients; `llm`: a server proxying
//! to a fake LLM; `sse`: reading event streams.

#![allow(dead_code)] // each test file uses part of this

pub mod llm;
pub mod sse;

use serde_json::Value;
use std::path::PathBuf;

pub use flightdeck_server::testing::TestServer;

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

/// The session once it has ended: OTLP sessions end by the idle rule, in the background.
pub async fn ended(s: &TestServer, session: &str) -> Value {
    for _ in 0..400 {
        let (status, v) = s.get(&format!("/api/v1/sessions/{session}")).await;
        if status == 200 && v["status"] != "running" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the session {session} did not end");
}

/// Waits until the recorder has stored `n` finished spans in `session`.
pub async fn recorded(s: &TestServer, session: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let (status, spans) = s.get(&format!("/api/v1/sessions/{session}/spans")).await;
        if status == 200 {
            let spans = spans.as_array().unwrap().clone();
            if spans.len() >= n && spans.iter().all(|s| s["status"] != "running") {
                return spans;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{n} finished spans were not recorded in {session}");
}
