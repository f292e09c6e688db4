//! Trace files through the real binary: export then import into a fresh database gives the
//! same API answers; each import format from a file; bad lines named by file and line.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use support::{flightdeck, get, ok, start};

/// A session with every kind of content: spans of each kind (streamed, priced, unpriced,
/// failed, still running, with scores and attributes), an edge, events, agents' reports, a
/// metric, and a failed end.
fn rich_session() -> String {
    let lines = [
        json!({"type":"session.start","session_id":"rt","name":"round trip","started_at":"2026-12-01T10:00:00Z",
               "tags":["files","test"],"metadata":{"repo":"flightdeck","n":3},"budget":{"cost_usd":2.5}}),
        json!({"type":"agent.status","session_id":"rt","agent":"planner","status":"active","role":"lead",
               "model":"gpt-4o","task":"plan","at":"2026-12-01T10:00:01Z"}),
        json!({"type":"span.start","session_id":"rt","span_id":"a1","kind":"agent","name":"planner",
               "agent":"planner","started_at":"2026-12-01T10:00:01Z"}),
        json!({"type":"span.start","session_id":"rt","span_id":"l1","parent_id":"a1","kind":"llm","name":"decompose",
               "agent":"planner","model":"gpt-4o","provider":"openai","started_at":"2026-12-01T10:00:02Z",
               "input":[{"role":"user","content":"plan the job"}],"params":{"temperature":0.2}}),
        json!({"type":"span.update","session_id":"rt","span_id":"l1","seq":0,"output_delta":"step 1"}),
        json!({"type":"span.end","session_id":"rt","span_id":"l1","ended_at":"2026-12-01T10:00:03.25Z",
               "output":{"role":"assistant","content":"step 1, step 2"},"usage":{"input_tokens":12,"output_tokens":34},
               "attributes":{"gen_ai.response.id":"r-1"},"scores":{"energy":0.5}}),
        json!({"type":"span","session_id":"rt","span_id":"l2","parent_id":"a1","kind":"llm","name":"unpriced",
               "agent":"planner","model":"mystery-1","started_at":"2026-12-01T10:00:04Z","ended_at":"2026-12-01T10:00:05Z",
               "usage":{"input_tokens":5,"output_tokens":6}}),
        json!({"type":"span","session_id":"rt","span_id":"l3","parent_id":"a1","kind":"llm","name":"priced by client",
               "agent":"coder","model":"claude-x","started_at":"2026-12-01T10:00:05Z","ended_at":"2026-12-01T10:00:06Z",
               "usage":{"input_tokens":7,"output_tokens":8},"cost_usd":0.125}),
        json!({"type":"span","session_id":"rt","span_id":"t1","parent_id":"l1","kind":"tool","name":"grep",
               "agent":"coder","started_at":"2026-12-01T10:00:06Z","ended_at":"2026-12-01T10:00:06.5Z",
               "status":"error","error":"no match","input":{"pattern":"vault"},"output":null}),
        json!({"type":"span.start","session_id":"rt","span_id":"r1","parent_id":"a1","kind":"chain","name":"still going",
               "agent":"coder","started_at":"2026-12-01T10:00:07Z"}),
        json!({"type":"span.update","session_id":"rt","span_id":"r1","seq":0,"output_delta":"half"}),
        json!({"type":"edge","session_id":"rt","edge_id":"e1","kind":"delegation","from_agent":"planner",
               "to_agent":"coder","from_span":"a1","to_span":"t1","label":"go","at":"2026-12-01T10:00:05.5Z"}),
        json!({"type":"event","session_id":"rt","event_id":"ev1","span_id":"l1","at":"2026-12-01T10:00:02.5Z",
               "category":"log","level":"warn","agent":"planner","message":"slow"}),
        json!({"type":"event","session_id":"rt","event_id":"ev2","at":"2026-12-01T10:00:06Z",
               "category":"decision","name":"route","data":{"to":"coder","why":["fast"]}}),
        json!({"type":"metric","session_id":"rt","name":"queue_depth","value":3.0,"at":"2026-12-01T10:00:04Z",
               "unit":"items","labels":{"queue":"main"}}),
        json!({"type":"span.end","session_id":"rt","span_id":"a1","ended_at":"2026-12-01T10:00:08Z"}),
        json!({"type":"session.end","session_id":"rt","ended_at":"2026-12-01T10:00:09Z","status":"failed","error":"vault shut"}),
    ];
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Every API answer about session `id`.
async fn answers(base: &str, id: &str) -> Value {
    let s = format!("/api/v1/sessions/{id}");
    let spans = get(base, &format!("{s}/spans")).await;
    let mut details = Vec::new();
    for span in spans.as_array().unwrap() {
        let sid = span["span_id"].as_str().unwrap();
        details.push(get(base, &format!("{s}/spans/{sid}")).await);
    }
    json!({
        "session": get(base, &s).await,
        "spans": spans,
        "details": details,
        "edges": get(base, &format!("{s}/edges")).await,
        "events": get(base, &format!("{s}/events")).await,
        "agents": get(base, &format!("{s}/agents")).await,
        "llm": get(base, &format!("{s}/llm")).await,
        "tools": get(base, &format!("{s}/tools")).await,
        "metrics": get(base, &format!("/api/v1/metrics?session_id={id}")).await,
    })
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test]
async fn export_then_import_into_a_fresh_database_gives_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (db_a, db_b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let source = dir.path().join("source.jsonl");
    std::fs::write(&source, rich_session()).unwrap();
    let summary = ok(&["import", path(&source), "--db", path(&db_a)]);
    assert!(
        summary.contains("native (detected), 17 lines: 17 stored"),
        "{summary}"
    );

    // Export through a running server (the API route), import into another over HTTP.
    let a = start(&db_a);
    let exported = dir.path().join("rt.jsonl");
    ok(&["export", "rt", "--server", &a.base, "-o", path(&exported)]);
    let b = start(&db_b);
    ok(&["import", path(&exported), "--server", &b.base]);
    let (want, got) = (answers(&a.base, "rt").await, answers(&b.base, "rt").await);
    assert_eq!(want["session"]["totals"]["spans"], 6, "{want:#}");
    assert_eq!(want["spans"].as_array().unwrap().len(), 6);
    assert_eq!(got, want);

    // The export of the copy is the export of the original, byte for byte; the CLI's own
    // store path gives it too.
    drop(b);
    let again = ok(&["export", "rt", "--db", path(&db_b)]);
    assert_eq!(again, std::fs::read_to_string(&exported).unwrap());

    // The download route names the file and refuses an unknown format.
    let r = reqwest::get(format!("{}/api/v1/sessions/rt/export", a.base))
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"rt.jsonl\""
    );
    let r = reqwest::get(format!("{}/api/v1/sessions/rt/export?format=csv", a.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = reqwest::get(format!("{}/api/v1/sessions/nope/export", a.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn an_otlp_export_imports_back_with_its_spans_models_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let (db_a, db_c) = (dir.path().join("a.db"), dir.path().join("c.db"));
    let source = dir.path().join("source.jsonl");
    std::fs::write(&source, rich_session()).unwrap();
    ok(&["import", path(&source), "--db", path(&db_a)]);
    let otlp = dir.path().join("rt.otlp.jsonl");
    ok(&[
        "export",
        "rt",
        "--format",
        "otlp",
        "--db",
        path(&db_a),
        "-o",
        path(&otlp),
    ]);
    let line: Value = serde_json::from_str(std::fs::read_to_string(&otlp).unwrap().trim()).unwrap();
    let spans = &line["resourceSpans"][0]["scopeSpans"][0]["spans"];
    assert_eq!(spans.as_array().unwrap().len(), 6);
    assert_eq!(
        spans[0]["traceId"].as_str().unwrap().len(),
        32,
        "hex ids: {}",
        spans[0]
    );

    let summary = ok(&["import", path(&otlp), "--db", path(&db_c)]);
    assert!(summary.contains("otlp-json (detected)"), "{summary}");
    let c = start(&db_c);
    let session = get(&c.base, "/api/v1/sessions/rt").await;
    let t = &session["totals"];
    assert_eq!(
        (
            t["spans"].as_i64(),
            t["llm_calls"].as_i64(),
            t["tool_calls"].as_i64()
        ),
        (Some(6), Some(3), Some(1))
    );
    assert_eq!(
        (
            t["input_tokens"].as_i64(),
            t["output_tokens"].as_i64(),
            t["errors"].as_i64()
        ),
        (Some(24), Some(48), Some(1))
    );
    let llm = get(&c.base, "/api/v1/sessions/rt/llm").await;
    let models: Vec<&str> = llm
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert!(
        models.contains(&"gpt-4o") && models.contains(&"mystery-1"),
        "{llm}"
    );
}

#[test]
fn bad_lines_are_named_by_file_and_line_and_the_rest_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mixed.jsonl");
    let good = json!({"type":"span","session_id":"m","span_id":"x","kind":"tool","name":"ls",
                      "started_at":1,"ended_at":2});
    std::fs::write(
        &file,
        format!("{good}\n{{\"type\":\"span\",\"session_id\":\"m\"}}\nnot json\n\n{good}\n"),
    )
    .unwrap();
    let db = dir.path().join("m.db");
    let out = ok(&["import", path(&file), "--db", path(&db)]);
    let name = path(&file);
    assert!(
        out.contains(&format!("{name}:2: ")) && out.contains("span_id"),
        "{out}"
    );
    assert!(out.contains(&format!("{name}:3: ")), "{out}");
    assert!(
        out.contains("4 lines: 2 stored (2 spans), 2 lines rejected"),
        "{out}"
    );

    let odd = dir.path().join("odd.jsonl");
    std::fs::write(&odd, "{\"hello\":1}\n").unwrap();
    let out = flightdeck(&["import", path(&odd), "--db", path(&db)]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("cannot tell the format") && text.contains("--format"),
        "{text}"
    );
}

/// A sample of `tests/files/`.
fn sample(name: &str) -> String {
    format!("{}/../../tests/files/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn a_claude_code_transcript_maps_to_agents_llm_and_tool_spans() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cc.db");
    let out = ok(&[
        "import",
        &sample("claude-code-session.jsonl"),
        "--db",
        path(&db),
    ]);
    assert!(out.contains("claude-code (detected), 11 lines"), "{out}");
    assert!(out.contains("0 lines rejected"), "{out}");
    let s = start(&db);
    let id = "5b1f6a0e-cc01-4d2b-9e51-2f7d0c1a9e11";
    let session = get(&s.base, &format!("/api/v1/sessions/{id}")).await;
    assert_eq!(
        session["name"],
        "The login test fails; find out why and fix it."
    );
    let t = &session["totals"];
    // Five replies, two tools, one sub-agent task; the failed test run is the one error.
    assert_eq!(
        (
            t["llm_calls"].as_i64(),
            t["tool_calls"].as_i64(),
            t["spans"].as_i64()
        ),
        (Some(5), Some(2), Some(8))
    );
    assert_eq!(
        (
            t["input_tokens"].as_i64(),
            t["output_tokens"].as_i64(),
            t["errors"].as_i64()
        ),
        (Some(5800), Some(200), Some(1))
    );
    let agents = get(&s.base, &format!("/api/v1/sessions/{id}/agents")).await;
    let mut names: Vec<&str> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agent"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["claude", "sub-agent"]);
    let task = get(&s.base, &format!("/api/v1/sessions/{id}/spans/toolu_02")).await;
    assert_eq!(
        (task["kind"].as_str(), task["name"].as_str()),
        (Some("agent"), Some("Task: general-purpose"))
    );
    assert_eq!(task["parent_id"], "msg_01B");
    let bash = get(&s.base, &format!("/api/v1/sessions/{id}/spans/toolu_01")).await;
    assert_eq!(
        (bash["status"].as_str(), bash["duration_ms"].as_f64()),
        (Some("error"), Some(6380.0))
    );
    assert_eq!(bash["input"]["command"], "npm test -- login");
}

#[tokio::test]
async fn seed_002_trace_events_map_to_agent_llm_and_tool_spans() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("te.db");
    let out = ok(&["import", &sample("trace-events.jsonl"), "--db", path(&db)]);
    assert!(
        out.contains("trace-events (detected), 7 lines: 7 stored (5 spans), 0 lines rejected"),
        "{out}"
    );
    let s = start(&db);
    let id = "6f1c2b9e-1d2a-4c3b-9a8f-0e1d2c3b4a50";
    let spans = get(&s.base, &format!("/api/v1/sessions/{id}/spans")).await;
    let shape: Vec<(String, String, String)> = spans
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["span_id"].as_str().unwrap().into(),
                s["kind"].as_str().unwrap().into(),
                s["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [
        ("orch-1", "agent", "ok"),
        ("llm-1", "llm", "ok"),
        ("mod-1", "agent", "ok"),
        ("tool-1", "tool", "ok"),
        ("tool-2", "tool", "error"),
    ];
    assert_eq!(shape, want.map(|(a, b, c)| (a.into(), b.into(), c.into())));
    let llm = get(&s.base, &format!("/api/v1/sessions/{id}/spans/llm-1")).await;
    assert_eq!(
        (
            llm["model"].as_str(),
            llm["cost_usd"].as_f64(),
            llm["duration_ms"].as_f64()
        ),
        (Some("gpt-4o"), Some(0.00028), Some(900.0))
    );
    assert_eq!(
        llm["usage"],
        json!({"input_tokens": 40, "output_tokens": 18})
    );
}

/// The test virtualenv's Python (scripts/python-env.sh); `None` (a skip) outside
/// scripts/test.sh, an error under CI.
fn python() -> Option<String> {
    match std::env::var("FLIGHTDECK_PYTHON") {
        Ok(p) => Some(p),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("FLIGHTDECK_PYTHON is not set: run scripts/test.sh")
        }
        Err(_) => {
            eprintln!("skipped: FLIGHTDECK_PYTHON is not set (scripts/test.sh sets it)");
            None
        }
    }
}

#[tokio::test]
async fn an_otlp_protobuf_file_from_the_python_sdk_imports() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("traces.pb");
    let script = format!(
        "{}/../../tests/python/otlp_file.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let status = std::process::Command::new(python)
        .arg(script)
        .arg(&pb)
        .status()
        .unwrap();
    assert!(status.success());
    let db = dir.path().join("pb.db");
    let out = ok(&["import", path(&pb), "--db", path(&db)]);
    assert!(
        out.contains("otlp-proto (detected), 3 lines: 3 stored (3 spans), 0 lines rejected"),
        "{out}"
    );
    let s = start(&db);
    let session = get(&s.base, "/api/v1/sessions/py-file-1").await;
    let t = &session["totals"];
    assert_eq!(
        (
            t["spans"].as_i64(),
            t["llm_calls"].as_i64(),
            t["tool_calls"].as_i64(),
            t["errors"].as_i64()
        ),
        (Some(3), Some(1), Some(1), Some(1))
    );
    assert_eq!(
        (t["input_tokens"].as_i64(), t["output_tokens"].as_i64()),
        (Some(21), Some(7))
    );
    assert_eq!(session["agents"], json!(["planner"]));
}
