//! The real binary as a user runs it: acknowledged data survives SIGKILL right after the
//! answer, SIGTERM shuts down cleanly (over SQLite and over PostgreSQL), and `--help` reads
//! well.

use serde_json::{Value, json};
mod support;

use std::process::Command;
use support::start;

fn batch(session: usize) -> String {
    (0..100)
        .map(|i| {
            format!(
                "{}\n",
                json!({"type":"span","session_id":format!("s{session}"),"span_id":format!("x{i}"),
                       "kind":"llm","name":"chat","model":"gpt-4o","started_at":1,"ended_at":2,
                       "input":[{"role":"user","content":"a prompt ".repeat(50)}],
                       "usage":{"input_tokens":10,"output_tokens":5}})
            )
        })
        .collect()
}

async fn spans_of(client: &reqwest::Client, base: &str, session: usize) -> i64 {
    let r = client
        .get(format!("{base}/api/v1/sessions/s{session}"))
        .send()
        .await
        .unwrap();
    if r.status() == 404 {
        return 0;
    }
    let v: Value = r.json().await.unwrap();
    v["totals"]["spans"].as_i64().unwrap()
}

#[tokio::test]
async fn acknowledged_batches_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    survive_sigkill(&dir.path().join("fd.db")).await;
}

#[tokio::test]
async fn acknowledged_batches_survive_sigkill_over_postgres() {
    let url = flightdeck_store_postgres::testing::fresh_database().await;
    survive_sigkill(std::path::Path::new(&url)).await;
}

/// SIGKILL right after the fifteenth answer loses none of the acknowledged batches in `db`
/// (a file or a PostgreSQL URL).
async fn survive_sigkill(db: &std::path::Path) {
    let mut server = start(db);
    let client = reqwest::Client::new();
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel();
    for session in 0..40 {
        let (client, url, acked) = (
            client.clone(),
            format!("{}/api/v1/events", server.base),
            acked_tx.clone(),
        );
        tokio::spawn(async move {
            let r = client.post(url).body(batch(session)).send().await;
            if matches!(r, Ok(ref r) if r.status() == 200) {
                let _ = acked.send(session);
            }
        });
    }
    drop(acked_tx);
    let mut acked = Vec::new();
    while let Some(s) = acked_rx.recv().await {
        acked.push(s);
        if acked.len() == 15 {
            server.child.kill().unwrap(); // SIGKILL, right after the fifteenth answer
            break;
        }
    }
    server.child.wait().unwrap();
    // Answers that arrived while the kill happened count as acknowledged too.
    while let Ok(s) = acked_rx.try_recv() {
        acked.push(s);
    }
    assert!(acked.len() >= 15);

    let mut server = start(db);
    for s in &acked {
        assert_eq!(
            spans_of(&client, &server.base, *s).await,
            100,
            "acknowledged batch s{s} lost"
        );
    }
    // Batches that were not acknowledged are either whole or absent, never partial.
    for s in 0..40 {
        let n = spans_of(&client, &server.base, s).await;
        assert!(n == 0 || n == 100, "batch s{s} is partial: {n} spans");
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly_and_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    sigterm_keeps_everything(&dir.path().join("fd.db")).await;
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly_and_keeps_everything_over_postgres() {
    let url = flightdeck_store_postgres::testing::fresh_database().await;
    sigterm_keeps_everything(std::path::Path::new(&url)).await;
}

async fn sigterm_keeps_everything(db: &std::path::Path) {
    let mut server = start(db);
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/api/v1/events", server.base))
        .body(batch(7))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let term = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");

    let mut server = start(db);
    assert_eq!(spans_of(&client, &server.base, 7).await, 100);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[test]
fn help_reads_well() {
    let out = Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Run the server"), "{text}");
    assert!(text.contains("Measure ingest throughput"), "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--addr",
        "--db",
        "--config",
        "--retain-days",
        "FLIGHTDECK_ADDR",
        "127.0.0.1:7329",
        "--otlp-grpc-addr",
        "127.0.0.1:4317",
        "--no-otlp-grpc",
        "--token",
        "--password",
        "--agent-offline-secs",
    ] {
        assert!(text.contains(flag), "serve --help lacks {flag}:\n{text}");
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .args(["serve", "--addr", "nowhere"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--addr"));
}

#[test]
fn an_open_server_beyond_loopback_is_refused_with_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .args(["serve", "--addr", "0.0.0.0:0", "--no-otlp-grpc", "--db"])
        .arg(dir.path().join("fd.db"))
        .env_remove("FLIGHTDECK_TOKEN")
        .env_remove("FLIGHTDECK_PASSWORD")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("beyond loopback") && err.contains("FLIGHTDECK_TOKEN"),
        "{err}"
    );
}

/// Errors of the user's making: one clear line on stderr, a failing exit code, and no
/// backtrace even where the environment asks for one.
#[test]
fn user_errors_print_one_line_and_no_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("flightdeck.toml");
    std::fs::write(
        &config,
        "[proxy.upstreams.local]\nkind = \"openai\"\nbase_url = \"127.0.0.1:8000\"\n",
    )
    .unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let db = dir.path().join("fd.db");
    let db = db.to_str().unwrap();
    let not_a_db = dir.path().join("garbage.db");
    std::fs::write(&not_a_db, vec![0x42u8; 64 * 1024]).unwrap();
    // A free port: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unreachable = format!("postgres://fd@{}/flightdeck", closed.local_addr().unwrap());
    drop(closed);
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "serve",
                "--no-otlp-grpc",
                "--config",
                config.to_str().unwrap(),
            ],
            "base_url \"127.0.0.1:8000\"",
        ),
        (
            &["serve", "--no-otlp-grpc", "--addr", &taken, "--db", db],
            "cannot listen on",
        ),
        (
            &[
                "serve",
                "--no-otlp-grpc",
                "--db",
                dir.path().to_str().unwrap(),
            ],
            "cannot open the database",
        ),
        (
            &[
                "serve",
                "--no-otlp-grpc",
                "--db",
                not_a_db.to_str().unwrap(),
            ],
            "cannot open the database",
        ),
        (
            &["serve", "--no-otlp-grpc", "--db", &unreachable],
            "cannot connect to PostgreSQL",
        ),
        (
            &[
                "serve",
                "--no-otlp-grpc",
                "--db",
                "postgres://fd:secret@db:notaport/flightdeck",
            ],
            "invalid PostgreSQL URL",
        ),
    ];
    for (args, expected) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_flightdeck"))
            .args(args)
            .args(
                ["--addr", "127.0.0.1:0"]
                    .iter()
                    .filter(|_| !args.contains(&"--addr")),
            )
            .env("RUST_BACKTRACE", "1")
            .env("RUST_LOG", "off")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: one line: {err}"
        );
        assert!(err.starts_with("flightdeck: error: "), "{err}");
        assert!(!err.to_lowercase().contains("backtrace"), "{err}");
        assert!(!err.contains("secret"), "no password in errors: {err}");
    }
}
