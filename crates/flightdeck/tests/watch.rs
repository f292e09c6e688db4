//! `serve --watch` and `watch --server` following files while other processes append to
//! them: partial lines, a bad line, rotation, truncation, and a restart that resumes where
//! the last run stopped.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Server, get, start_with};

/// Appends `text` to `file` from another process (`sh`), as a traced program would.
fn append(file: &Path, text: &str) {
    let status = Command::new("sh")
        .args(["-c", "printf '%s' \"$1\" >> \"$2\"", "sh", text])
        .arg(file)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Runs a shell command line in `dir` (rotation and truncation as tools do them).
fn sh(dir: &Path, script: &str) {
    let status = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "{script}");
}

fn span(session: &str, id: &str) -> String {
    format!(
        "{}\n",
        json!({"type":"span","session_id":session,"span_id":id,"kind":"tool","name":"step",
               "started_at":"2026-12-01T10:00:00Z","ended_at":"2026-12-01T10:00:01Z"})
    )
}

/// The span ids of `session`, waiting (up to 20 s) until there are `n`.
async fn wait_for(server: &Server, session: &str, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = reqwest::get(format!("{}/api/v1/sessions/{session}/spans", server.base))
            .await
            .unwrap();
        let ids: Vec<String> = if r.status().is_success() {
            let v: Value = r.json().await.unwrap();
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| s["span_id"].as_str().unwrap().to_owned())
                .collect()
        } else {
            Vec::new()
        };
        if ids.len() >= n || Instant::now() > deadline {
            return ids;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn follows_appends_rotation_truncation_and_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (db, logs) = (dir.path().join("w.db"), dir.path().join("logs"));
    std::fs::create_dir(&logs).unwrap();
    let pattern = format!("{}/*.jsonl", logs.display());
    let serve = |db: &Path| start_with(db, &["--watch", &pattern]);
    let mut server = serve(&db);
    let a = logs.join("a.jsonl");

    // Two lines and half of a third: the half waits for its newline.
    let third = span("w", "s3");
    let (head, tail) = third.split_at(30);
    append(&a, &format!("{}{}{head}", span("w", "s1"), span("w", "s2")));
    assert_eq!(wait_for(&server, "w", 2).await, ["s1", "s2"]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        wait_for(&server, "w", 2).await.len(),
        2,
        "half a line is not read"
    );

    // The rest of it, a bad line (reported with file and line, skipped) and a streamed chunk
    // without a seq, which a second reading would double.
    let chunk = json!({"type":"span.start","session_id":"w","span_id":"run","kind":"llm","name":"chat",
                       "started_at":"2026-12-01T10:00:02Z"});
    let delta =
        json!({"type":"span.update","session_id":"w","span_id":"run","output_delta":"once"});
    append(
        &a,
        &format!("{tail}{{\"type\":\"span\"}}\n{chunk}\n{delta}\n"),
    );
    assert_eq!(wait_for(&server, "w", 4).await.len(), 4);
    let a_abs = a.display().to_string();
    assert!(
        server.logged(&["skipped a bad line", &a_abs, "line=4"]),
        "{:#?}",
        server.log.lock().unwrap()
    );

    // Rotation: a last line into the old file, then it is moved away and a new one begun.
    append(&a, &span("w", "s5"));
    sh(
        &logs,
        &format!(
            "mv a.jsonl a.jsonl.1 && printf '%s' '{}' > a.jsonl",
            span("w", "s6").trim_end().to_owned() + "\n"
        ),
    );
    let ids = wait_for(&server, "w", 6).await;
    assert!(
        ids.contains(&"s5".into()) && ids.contains(&"s6".into()),
        "{ids:?}"
    );

    // Truncation: a file cut short is read again from its start.
    let b = logs.join("b.jsonl");
    append(
        &b,
        &format!("{}{}", span("t", "long-1"), span("t", "long-2")),
    );
    assert_eq!(wait_for(&server, "t", 2).await.len(), 2);
    sh(
        &logs,
        &format!(
            "printf '%s' '{}' > b.jsonl",
            span("t", "x").trim_end().to_owned() + "\n"
        ),
    );
    assert_eq!(wait_for(&server, "t", 3).await.len(), 3);

    // A restart: what was appended while it was down is read, nothing before it again.
    server.terminate();
    append(&a, &span("w", "s7"));
    let server = serve(&db);
    let ids = wait_for(&server, "w", 7).await;
    assert!(ids.contains(&"s7".into()), "{ids:?}");
    let run = get(&server.base, "/api/v1/sessions/w/spans/run").await;
    assert_eq!(run["output"], "once", "the chunk was read once: {run}");
    let state: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("watch-state.json")).unwrap())
            .unwrap();
    assert!(
        state["files"][&a_abs]["offset"].as_u64().unwrap() > 0,
        "{state}"
    );
}

#[tokio::test]
async fn watch_feeds_a_running_server_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(&dir.path().join("s.db"), &[]);
    let file = dir.path().join("trace.jsonl");
    let state = dir.path().join("state.json");
    let mut watcher = Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .args([
            "watch",
            file.to_str().unwrap(),
            "--server",
            &server.base,
            "--watch-state",
        ])
        .arg(&state)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let event = json!({"event_type":"tool_call","trace_id":"tr-1","span_id":"g1","timestamp":"2026-12-01T10:00:00Z",
                       "agent_name":"module_agent","data":{"tool_name":"grep_codebase","parameters":{"q":"x"},
                       "result":"3 hits","duration_ms":123}});
    append(&file, &format!("{event}\n"));
    let ids = wait_for(&server, "tr-1", 1).await;
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert_eq!(ids, ["g1"]);
    let span = get(&server.base, "/api/v1/sessions/tr-1/spans/g1").await;
    assert_eq!(
        (span["name"].as_str(), span["duration_ms"].as_f64()),
        (Some("grep_codebase"), Some(123.0))
    );
}
