//! The SQLite schema and its versioned migrations.
//!
//! Migrations run in order, each in its own transaction, and `PRAGMA user_version` records
//! the last one applied. Never edit a released migration: add the next one.
//!
//! Layout: the hot row of a span is narrow (ids, kind, status, times, usage, cost) and its
//! payloads (input, output, params) are zstd-compressed blobs beside it, so listing thousands
//! of spans reads little and ingest writes few bytes. Session, agent and per-model totals are
//! kept up to date by the writer so the overview never scans spans. All times are unix
//! nanoseconds.
//!
//! `session_moves` remembers each `session.move` (the moved session's id, where it went), so
//! messages that name a moved session later, after a restart too, are filed where it went.
//! For OTLP it is the map from trace to session: the moved id is a trace id. `span_moves`
//! does the same for `span.move` (one LLM call reported by the proxy and by OTLP). Like every
//! table they lead with a session id, the one a message names.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE sessions (
    session_id   TEXT PRIMARY KEY,
    name         TEXT,
    status       TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    has_start    INTEGER NOT NULL,
    ended_at     INTEGER,
    tags         TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    budget       TEXT,
    error        TEXT,
    spans        INTEGER NOT NULL,
    llm_calls    INTEGER NOT NULL,
    tool_calls   INTEGER NOT NULL,
    errors       INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost_usd     REAL NOT NULL
);
CREATE INDEX sessions_by_start ON sessions (started_at DESC, session_id DESC);

CREATE TABLE spans (
    session_id   TEXT NOT NULL,
    span_id      TEXT NOT NULL,
    parent_id    TEXT,
    kind         TEXT,
    name         TEXT,
    agent        TEXT,
    model        TEXT,
    provider     TEXT,
    status       TEXT,
    started_at   INTEGER,
    ended_at     INTEGER,
    input_tokens INTEGER,
    output_tokens INTEGER,
    usage_final  INTEGER NOT NULL,
    cost_usd     REAL,
    cost_given   INTEGER NOT NULL,
    error        TEXT,
    scores       TEXT,
    attributes   TEXT,
    input        BLOB,
    output       BLOB,
    params       BLOB,
    PRIMARY KEY (session_id, span_id)
);

CREATE TABLE span_chunks (
    session_id TEXT NOT NULL,
    span_id    TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    text       TEXT NOT NULL,
    PRIMARY KEY (session_id, span_id, seq)
) WITHOUT ROWID;

CREATE TABLE edges (
    session_id TEXT NOT NULL,
    edge_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    from_span  TEXT,
    to_span    TEXT,
    from_agent TEXT,
    to_agent   TEXT,
    label      TEXT,
    at         INTEGER,
    PRIMARY KEY (session_id, edge_id)
) WITHOUT ROWID;

CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    span_id    TEXT,
    at         INTEGER NOT NULL,
    category   TEXT NOT NULL,
    level      TEXT,
    agent      TEXT,
    name       TEXT,
    message    TEXT,
    data       BLOB,
    UNIQUE (session_id, event_id)
);
CREATE INDEX events_by_time ON events (session_id, at, id);

CREATE TABLE agents (
    session_id    TEXT NOT NULL,
    agent         TEXT NOT NULL,
    status        TEXT,
    role          TEXT,
    model         TEXT,
    task          TEXT,
    status_at     INTEGER,
    last_seen     INTEGER,
    spans         INTEGER NOT NULL DEFAULT 0,
    llm_calls     INTEGER NOT NULL DEFAULT 0,
    tool_calls    INTEGER NOT NULL DEFAULT 0,
    errors        INTEGER NOT NULL DEFAULT 0,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd      REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, agent)
) WITHOUT ROWID;
CREATE INDEX agents_by_name ON agents (agent);

CREATE TABLE session_models (
    session_id    TEXT NOT NULL,
    model         TEXT NOT NULL,
    requests      INTEGER NOT NULL DEFAULT 0,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd      REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, model)
) WITHOUT ROWID;
CREATE INDEX session_models_by_model ON session_models (model);

CREATE TABLE metrics (
    name       TEXT NOT NULL,
    labels     TEXT NOT NULL,
    session_id TEXT NOT NULL,
    at         INTEGER NOT NULL,
    value      REAL NOT NULL,
    unit       TEXT,
    PRIMARY KEY (name, labels, session_id, at)
) WITHOUT ROWID;
CREATE INDEX metrics_by_time ON metrics (at);
"#,
    r#"
CREATE TABLE dictionaries (
    id         INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    bytes      BLOB NOT NULL
);
"#,
    // Review gates: the record as JSON, and the columns the queue and the timer filter on.
    r#"
CREATE TABLE reviews (
    session_id   TEXT NOT NULL,
    review_id    TEXT NOT NULL PRIMARY KEY,
    state        TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    deadline     INTEGER NOT NULL,
    record       TEXT NOT NULL
);
CREATE INDEX reviews_by_state ON reviews (state, deadline);
CREATE INDEX reviews_by_session ON reviews (session_id, requested_at);
CREATE INDEX reviews_by_time ON reviews (requested_at DESC);
"#,
    // Trace ids of spans; sessions that end when idle; sessions and spans moved into others.
    r#"
ALTER TABLE spans ADD COLUMN trace_id TEXT;
ALTER TABLE sessions ADD COLUMN traced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN idle_ended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN touched_at INTEGER;
CREATE INDEX sessions_idle ON sessions (touched_at) WHERE status = 'running' AND traced = 1;

CREATE TABLE session_moves (
    session_id TEXT PRIMARY KEY,
    into_id    TEXT NOT NULL,
    at         INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE span_moves (
    session_id TEXT NOT NULL,
    span_id    TEXT NOT NULL,
    into_id    TEXT NOT NULL,
    into_span  TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (session_id, span_id)
) WITHOUT ROWID;
"#,
    // LLM calls whose cost is unknown, beside the cost (`record::cost_unknown`), counted from
    // the spans already stored.
    r#"
ALTER TABLE sessions ADD COLUMN unpriced_llm_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN unpriced_llm_calls INTEGER NOT NULL DEFAULT 0;
CREATE TEMP VIEW unpriced_spans AS
    SELECT session_id, agent FROM spans
    WHERE kind = 'llm' AND cost_usd IS NULL AND (input_tokens IS NOT NULL OR status = 'ok');
UPDATE sessions SET unpriced_llm_calls =
    (SELECT count(*) FROM unpriced_spans u WHERE u.session_id = sessions.session_id);
UPDATE agents SET unpriced_llm_calls =
    (SELECT count(*) FROM unpriced_spans u
     WHERE u.session_id = agents.session_id AND u.agent = agents.agent);
DROP VIEW unpriced_spans;
"#,
    // 6: empty. It was reserved for the playground, which needed no table; it stays so that
    // every database counts its versions the same way.
    "",
    // 7: the exact exchange of each LLM call through the proxy (`exchanges.rs`), and replays
    // of recorded sessions (`replays.rs`).
    r#"
CREATE TABLE exchanges (
    session_id   TEXT NOT NULL,
    span_id      TEXT NOT NULL,
    upstream     TEXT NOT NULL,
    path         TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    status       INTEGER NOT NULL,
    content_type TEXT,
    request      BLOB NOT NULL,
    response     BLOB NOT NULL,
    chunks       TEXT NOT NULL,
    truncated    INTEGER NOT NULL,
    UNIQUE (session_id, span_id)
);

CREATE TABLE replays (
    replay_id  TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    version    INTEGER NOT NULL,
    record     TEXT NOT NULL
);
CREATE INDEX replays_by_session ON replays (session_id);
"#,
    // 8: the running spans of a session (what it does now; a running span has no outcome
    // yet), without a scan of its others.
    r#"
CREATE INDEX spans_running ON spans (session_id, started_at) WHERE status IS NULL;
"#,
];

/// Brings the schema up to the latest version.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let current = usize::try_from(current).unwrap_or(usize::MAX);
    if current > MIGRATIONS.len() {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "the database has schema version {current}, newer than this build knows ({}); \
             use a newer flightdeck",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(schema.version = i + 1, "applied migration");
    }
    Ok(())
}

/// WAL pages past which the writer checkpoints in its own commit: a bound on the WAL for
/// when the background checkpoints (`checkpoint.rs`) fall behind, not the usual path.
pub const WRITER_CHECKPOINT_PAGES: i64 = 10_000;

/// Settings of the writer's connection. The page size applies to a new database only (it
/// must precede WAL): 16 KiB pages hold several compressed spans each and, measured with
/// `flightdeck bench ingest`, cut the writer's CPU per span by about 45% against 4 KiB.
pub fn configure(conn: &Connection, durable: bool) -> rusqlite::Result<()> {
    conn.pragma_update(None, "page_size", 16_384)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", if durable { "FULL" } else { "NORMAL" })?;
    conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.pragma_update(None, "cache_size", -32_000)?;
    Ok(())
}
