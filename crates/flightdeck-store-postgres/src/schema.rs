//! The PostgreSQL schema and its versioned migrations.
//!
//! The pending migrations run in order in one transaction, and `schema_versions` records
//! every one applied; an advisory lock makes nodes that start together over one database take
//! turns. Never edit a released migration: add the next one.
//!
//! The tables are those of the SQLite store (see its `schema.rs` for the layout: a narrow hot
//! span row beside compressed payloads, totals kept on write, the moves remembered), with two
//! rules for distribution by session on Citus (docs/deploy.md): every table leads with
//! `session_id`, and every primary or unique key contains it. The exceptions are the commit
//! feed (`feed_head`, `feed`: one row per commit, which may touch many sessions) and the
//! compression dictionaries: small tables that stay on the coordinator.
//!
//! `feed_head` holds the last commit sequence number. Each commit takes the next one with
//! `UPDATE feed_head SET seq = seq + 1 RETURNING seq`: the row lock orders commits, so the
//! numbers are gap-free and in commit order, which sequences are not. `feed` keeps each
//! commit's messages by that number, so another node can read what this one committed.
//!
//! Times are unix nanoseconds (`BIGINT`); JSON columns are text, except span attributes,
//! which are merged key by key on write (`jsonb`).

use tokio_postgres::Client;

/// The migrations, in order; version `i + 1` is `MIGRATIONS[i]`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE sessions (
    session_id         TEXT PRIMARY KEY,
    name               TEXT,
    status             TEXT NOT NULL,
    started_at         BIGINT NOT NULL,
    has_start          BOOLEAN NOT NULL,
    ended_at           BIGINT,
    tags               TEXT NOT NULL,
    metadata           TEXT NOT NULL,
    budget             TEXT,
    error              TEXT,
    spans              BIGINT NOT NULL,
    llm_calls          BIGINT NOT NULL,
    tool_calls         BIGINT NOT NULL,
    errors             BIGINT NOT NULL,
    input_tokens       BIGINT NOT NULL,
    output_tokens      BIGINT NOT NULL,
    cost_usd           DOUBLE PRECISION NOT NULL,
    unpriced_llm_calls BIGINT NOT NULL,
    traced             BOOLEAN NOT NULL,
    idle_ended         BOOLEAN NOT NULL,
    touched_at         BIGINT
);
CREATE INDEX sessions_by_start ON sessions (started_at DESC, session_id DESC);
CREATE INDEX sessions_idle ON sessions (touched_at) WHERE status = 'running' AND traced;

CREATE TABLE spans (
    session_id    TEXT NOT NULL,
    span_id       TEXT NOT NULL,
    trace_id      TEXT,
    parent_id     TEXT,
    kind          TEXT,
    name          TEXT,
    agent         TEXT,
    model         TEXT,
    provider      TEXT,
    status        TEXT,
    started_at    BIGINT,
    ended_at      BIGINT,
    input_tokens  BIGINT,
    output_tokens BIGINT,
    usage_final   BOOLEAN NOT NULL,
    cost_usd      DOUBLE PRECISION,
    cost_given    BOOLEAN NOT NULL,
    error         TEXT,
    scores        TEXT,
    attributes    JSONB,
    input         BYTEA,
    output        BYTEA,
    params        BYTEA,
    PRIMARY KEY (session_id, span_id)
);

CREATE TABLE span_chunks (
    session_id TEXT NOT NULL,
    span_id    TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    text       TEXT NOT NULL,
    PRIMARY KEY (session_id, span_id, seq)
);

CREATE TABLE edges (
    session_id TEXT NOT NULL,
    edge_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    from_span  TEXT,
    to_span    TEXT,
    from_agent TEXT,
    to_agent   TEXT,
    label      TEXT,
    at         BIGINT,
    PRIMARY KEY (session_id, edge_id)
);

CREATE SEQUENCE event_ids;
CREATE TABLE events (
    session_id TEXT NOT NULL,
    id         BIGINT NOT NULL DEFAULT nextval('event_ids'),
    event_id   TEXT NOT NULL,
    span_id    TEXT,
    at         BIGINT NOT NULL,
    category   TEXT NOT NULL,
    level      TEXT,
    agent      TEXT,
    name       TEXT,
    message    TEXT,
    data       BYTEA,
    PRIMARY KEY (session_id, id),
    UNIQUE (session_id, event_id)
);
CREATE INDEX events_by_time ON events (session_id, at, id);
CREATE INDEX logs_by_id ON events (id) WHERE category = 'log';

CREATE TABLE agents (
    session_id         TEXT NOT NULL,
    agent              TEXT NOT NULL,
    status             TEXT,
    role               TEXT,
    model              TEXT,
    task               TEXT,
    status_at          BIGINT,
    last_seen          BIGINT,
    spans              BIGINT NOT NULL DEFAULT 0,
    llm_calls          BIGINT NOT NULL DEFAULT 0,
    tool_calls         BIGINT NOT NULL DEFAULT 0,
    errors             BIGINT NOT NULL DEFAULT 0,
    input_tokens       BIGINT NOT NULL DEFAULT 0,
    output_tokens      BIGINT NOT NULL DEFAULT 0,
    cost_usd           DOUBLE PRECISION NOT NULL DEFAULT 0,
    unpriced_llm_calls BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, agent)
);
CREATE INDEX agents_by_seen ON agents (last_seen);

CREATE TABLE session_models (
    session_id    TEXT NOT NULL,
    model         TEXT NOT NULL,
    requests      BIGINT NOT NULL DEFAULT 0,
    input_tokens  BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd      DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, model)
);

CREATE TABLE metrics (
    session_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    labels     TEXT NOT NULL,
    at         BIGINT NOT NULL,
    value      DOUBLE PRECISION NOT NULL,
    unit       TEXT,
    PRIMARY KEY (session_id, name, labels, at)
);
CREATE INDEX metrics_by_time ON metrics (at);

CREATE TABLE dictionaries (
    id         SERIAL PRIMARY KEY,
    created_at BIGINT NOT NULL,
    bytes      BYTEA NOT NULL
);

CREATE TABLE reviews (
    session_id   TEXT NOT NULL,
    review_id    TEXT NOT NULL,
    state        TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    deadline     BIGINT NOT NULL,
    record       TEXT NOT NULL,
    PRIMARY KEY (session_id, review_id)
);
CREATE INDEX reviews_by_id ON reviews (review_id);
CREATE INDEX reviews_by_state ON reviews (state, deadline);
CREATE INDEX reviews_by_time ON reviews (requested_at DESC);

CREATE TABLE session_moves (
    session_id TEXT PRIMARY KEY,
    into_id    TEXT NOT NULL,
    at         BIGINT NOT NULL
);

CREATE TABLE span_moves (
    session_id TEXT NOT NULL,
    span_id    TEXT NOT NULL,
    into_id    TEXT NOT NULL,
    into_span  TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (session_id, span_id)
);
CREATE INDEX span_moves_into ON span_moves (into_id, into_span);

CREATE TABLE exchanges (
    session_id   TEXT NOT NULL,
    span_id      TEXT NOT NULL,
    upstream     TEXT NOT NULL,
    path         TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    status       INTEGER NOT NULL,
    content_type TEXT,
    request      BYTEA NOT NULL,
    response     BYTEA NOT NULL,
    chunks       TEXT NOT NULL,
    truncated    BOOLEAN NOT NULL,
    PRIMARY KEY (session_id, span_id)
);

CREATE TABLE replays (
    session_id TEXT NOT NULL,
    replay_id  TEXT NOT NULL,
    version    BIGINT NOT NULL,
    record     TEXT NOT NULL,
    PRIMARY KEY (session_id, replay_id)
);
CREATE INDEX replays_by_id ON replays (replay_id);

CREATE TABLE feed_head (
    one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
    seq BIGINT NOT NULL
);
INSERT INTO feed_head (seq) VALUES (0);

CREATE TABLE feed (
    seq      BIGINT PRIMARY KEY,
    at       BIGINT NOT NULL,
    messages BYTEA NOT NULL
);
"#,
    // 2: the running spans of a session (what it does now; a running span has no outcome
    // yet), without a scan of its others.
    r#"
CREATE INDEX spans_running ON spans (session_id, started_at) WHERE status IS NULL;
"#,
];

/// Any number: the advisory lock that serialises migrations across nodes.
const MIGRATION_LOCK: i64 = 0x666c_6967_6874;

/// Brings the schema up to the latest version.
pub async fn migrate(client: &mut Client) -> Result<(), String> {
    let e = |e: tokio_postgres::Error| e.to_string();
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_versions (
                 version    INTEGER PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await
        .map_err(e)?;
    let tx = client.transaction().await.map_err(e)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(e)?;
    let current: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_versions", &[])
        .await
        .map_err(e)?
        .get(0);
    let current = usize::try_from(current).unwrap_or(0);
    if current > MIGRATIONS.len() {
        return Err(format!(
            "the database has schema version {current}, newer than this build knows ({}); \
             use a newer flightdeck",
            MIGRATIONS.len()
        ));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.batch_execute(sql).await.map_err(e)?;
        let version = (i + 1) as i32;
        tx.execute(
            "INSERT INTO schema_versions (version) VALUES ($1)",
            &[&version],
        )
        .await
        .map_err(e)?;
        tracing::info!(schema.version = version, "applied migration");
    }
    tx.commit().await.map_err(e)
}
