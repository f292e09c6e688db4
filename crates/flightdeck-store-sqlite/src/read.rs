//! The read queries. Each function takes a connection (a reader from the pool, or the
//! writer's transaction) and answers one question of the [`flightdeck_store::Store`] contract.

use super::rows::{json_or_default, parse_level, totals_at};
use crate::error::Db;
use flightdeck_model::message::Level;
use flightdeck_model::record::*;
use flightdeck_model::{AgentState, EdgeKind, SpanKind, Timestamp, Usage};
use flightdeck_store::codec;
use flightdeck_store::dictionary::Dictionaries;
use flightdeck_store::query::{
    self, EventQuery, LogQuery, MetricQuery, SessionQuery, SessionSort, StatsScope,
};
use flightdeck_store::stats::{self, ScopedSpan};
use flightdeck_store::{Result, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

const SUMMARY_COLUMNS: &str = "s.session_id, s.name, s.status, s.started_at, s.ended_at, s.tags,
    s.budget, s.error, s.spans, s.llm_calls, s.tool_calls, s.errors, s.input_tokens,
    s.output_tokens, s.cost_usd, s.unpriced_llm_calls,
    (SELECT group_concat(agent, char(31)) FROM agents a WHERE a.session_id = s.session_id)";

fn session_row(r: &Row<'_>, now: Timestamp) -> rusqlite::Result<SessionSummary> {
    let started_at = Timestamp(r.get(3)?);
    let ended_at = r.get::<_, Option<i64>>(4)?.map(Timestamp);
    let mut agents: Vec<String> = r
        .get::<_, Option<String>>(16)?
        .map(|s| s.split('\u{1f}').map(str::to_owned).collect())
        .unwrap_or_default();
    agents.sort();
    Ok(SessionSummary {
        session_id: r.get(0)?,
        name: r.get(1)?,
        status: SessionStatus::parse(&r.get::<_, String>(2)?).unwrap_or(SessionStatus::Running),
        started_at,
        ended_at,
        duration_ms: (ended_at.unwrap_or(now).0 - started_at.0).max(0) as f64 / 1e6,
        tags: json_or_default(r.get(5)?),
        agents,
        budget: r
            .get::<_, Option<String>>(6)?
            .and_then(|b| serde_json::from_str(&b).ok()),
        error: r.get(7)?,
        totals: totals_at(r, 8)?,
    })
}

/// One session's summary, or `None`.
pub fn session_summary(
    conn: &Connection,
    id: &str,
    now: Timestamp,
) -> rusqlite::Result<Option<SessionSummary>> {
    conn.prepare_cached(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM sessions s WHERE s.session_id = ?1"
    ))?
    .query_row([id], |r| session_row(r, now))
    .optional()
}

/// One session with its metadata.
pub fn session(conn: &Connection, id: &str, now: Timestamp) -> Result<Option<Session>> {
    let Some(summary) = session_summary(conn, id, now).db()? else {
        return Ok(None);
    };
    let metadata: Option<String> = conn
        .prepare_cached("SELECT metadata FROM sessions WHERE session_id = ?1")
        .db()?
        .query_row([id], |r| r.get(0))
        .db()?;
    Ok(Some(Session {
        summary,
        metadata: json_or_default(metadata),
    }))
}

/// The conditions of `q`'s filters on `sessions s` (each starting with ` AND`), their
/// arguments bound in order.
fn session_filter(q: &SessionQuery) -> (String, Vec<Value>) {
    let mut sql = String::new();
    let mut args: Vec<Value> = Vec::new();
    let mut bind = |v: Value| {
        args.push(v);
        args.len()
    };
    if let Some(status) = q.status {
        let i = bind(status.as_str().to_owned().into());
        sql.push_str(&format!(" AND s.status = ?{i}"));
    }
    if let Some(from) = q.from {
        let i = bind(from.0.into());
        sql.push_str(&format!(" AND s.started_at >= ?{i}"));
    }
    if let Some(to) = q.to {
        let i = bind(to.0.into());
        sql.push_str(&format!(" AND s.started_at < ?{i}"));
    }
    match q.has_errors {
        Some(true) => sql.push_str(" AND (s.errors > 0 OR s.status = 'failed')"),
        Some(false) => sql.push_str(" AND s.errors = 0 AND s.status != 'failed'"),
        None => {}
    }
    // Agent and model match part of a name, ignoring (ASCII) case: "plan" finds "planner".
    if let Some(agent) = &q.agent {
        let i = bind(query::like_pattern(agent).into());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM agents a WHERE a.session_id = s.session_id AND a.agent LIKE ?{i} ESCAPE '\\')"
        ));
    }
    if let Some(model) = &q.model {
        let i = bind(query::like_pattern(model).into());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM session_models m WHERE m.session_id = s.session_id AND m.model LIKE ?{i} ESCAPE '\\')"
        ));
    }
    if let Some(text) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let i = bind(query::like_pattern(text).into());
        sql.push_str(&format!(
            " AND (s.name LIKE ?{i} ESCAPE '\\' OR s.session_id LIKE ?{i} ESCAPE '\\' \
             OR s.tags LIKE ?{i} ESCAPE '\\' OR EXISTS (SELECT 1 FROM agents a \
             WHERE a.session_id = s.session_id AND a.agent LIKE ?{i} ESCAPE '\\'))"
        ));
    }
    (sql, args)
}

/// The session list.
pub fn sessions(
    conn: &Connection,
    q: &SessionQuery,
    now: Timestamp,
) -> Result<Page<SessionSummary>> {
    let (filter, mut args) = session_filter(q);
    let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM sessions s WHERE 1 = 1{filter}");
    let mut bind = |v: Value| {
        args.push(v);
        args.len()
    };
    let (sort, desc) = SessionSort::parse(q.sort.as_deref())?;
    let key = sort.column();
    let (op, dir) = if desc { ("<", "DESC") } else { (">", "ASC") };
    if let Some(cursor) = &q.cursor {
        let (value, id) = query::decode_cursor(cursor)?;
        let i = bind(match sort {
            // A cost's cursor holds the bits of the number.
            SessionSort::Cost => Value::Real(f64::from_bits(value as u64)),
            _ => Value::Integer(value),
        });
        let j = bind(id.into());
        sql.push_str(&format!(
            " AND ({key} {op} ?{i} OR ({key} = ?{i} AND s.session_id {op} ?{j}))"
        ));
    }
    let limit = query::page_size(q.limit, 50, 500);
    sql.push_str(&format!(
        " ORDER BY {key} {dir}, s.session_id {dir} LIMIT {}",
        limit + 1
    ));
    let mut items = conn
        .prepare_cached(&sql)
        .db()?
        .query_map(params_from_iter(args), |r| session_row(r, now))
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    Ok(query::page(&mut items, limit, |s| {
        query::encode_cursor(sort.cursor_value(s), &s.session_id)
    }))
}

const SPAN_COLUMNS: &str = "session_id, span_id, parent_id, kind, name, agent, status, started_at,
    ended_at, model, input_tokens, output_tokens, cost_usd, error, scores, trace_id";

fn span_row(r: &Row<'_>) -> rusqlite::Result<SpanSummary> {
    let started_at = r.get::<_, Option<i64>>(7)?.map(Timestamp);
    let ended_at = r.get::<_, Option<i64>>(8)?.map(Timestamp);
    let input: Option<i64> = r.get(10)?;
    let output: Option<i64> = r.get(11)?;
    let span_id: String = r.get(1)?;
    Ok(SpanSummary {
        session_id: r.get(0)?,
        parent_id: r.get(2)?,
        kind: r
            .get::<_, Option<String>>(3)?
            .and_then(|k| SpanKind::parse(&k))
            .unwrap_or(SpanKind::Custom),
        name: r
            .get::<_, Option<String>>(4)?
            .unwrap_or_else(|| span_id.clone()),
        span_id,
        agent: r.get(5)?,
        status: r
            .get::<_, Option<String>>(6)?
            .and_then(|s| SpanStatus::parse(&s))
            .unwrap_or(SpanStatus::Running),
        started_at,
        ended_at,
        duration_ms: match (started_at, ended_at) {
            (Some(s), Some(e)) => Some((e.0 - s.0).max(0) as f64 / 1e6),
            _ => None,
        },
        model: r.get(9)?,
        usage: (input.is_some() || output.is_some()).then(|| Usage {
            input_tokens: input.unwrap_or(0) as u64,
            output_tokens: output.unwrap_or(0) as u64,
        }),
        cost_usd: r.get(12)?,
        error: r.get(13)?,
        scores: json_or_default(r.get(14)?),
        trace_id: r.get(15)?,
    })
}

/// A session's spans without payloads, in start order; not those known only from updates.
pub fn spans(conn: &Connection, session_id: &str) -> Result<Vec<SpanSummary>> {
    listed_spans(conn, session_id, "spans WHERE session_id = ?1")
}

/// The running spans of a session (no outcome yet), through the partial index
/// `spans_running`.
pub fn running_spans(conn: &Connection, session_id: &str) -> Result<Vec<SpanSummary>> {
    listed_spans(
        conn,
        session_id,
        "spans INDEXED BY spans_running WHERE session_id = ?1 AND status IS NULL",
    )
}

/// The listed spans (see [`spans`]) of `from_where`, a table and the session's condition.
fn listed_spans(conn: &Connection, session_id: &str, from_where: &str) -> Result<Vec<SpanSummary>> {
    conn.prepare_cached(&format!(
        "SELECT {SPAN_COLUMNS} FROM {from_where}
            AND (kind IS NOT NULL OR started_at IS NOT NULL OR ended_at IS NOT NULL)
          ORDER BY started_at, span_id"
    ))
    .db()?
    .query_map([session_id], span_row)
    .db()?
    .collect::<rusqlite::Result<Vec<_>>>()
    .db()
}

fn raw_payload(
    conn: &Connection,
    dicts: &Dictionaries,
    stored: Option<Vec<u8>>,
) -> Result<Option<Box<RawValue>>> {
    let Some(stored) = stored else {
        return Ok(None);
    };
    let bytes = codec::decode(&stored, |id| super::dictionary::decoder(dicts, conn, id))
        .map_err(StoreError::Database)?;
    let text = String::from_utf8(bytes).map_err(|e| StoreError::Database(e.to_string()))?;
    RawValue::from_string(text)
        .map(Some)
        .map_err(|e| StoreError::Database(e.to_string()))
}

/// One span in full; a running span's output is its streamed chunks so far.
pub fn span(
    conn: &Connection,
    dicts: &Dictionaries,
    session_id: &str,
    span_id: &str,
) -> Result<Option<SpanDetail>> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {SPAN_COLUMNS}, provider, input, output, params, attributes
             FROM spans WHERE session_id = ?1 AND span_id = ?2"
        ))
        .db()?
        .query_row(params![session_id, span_id], |r| {
            Ok((
                span_row(r)?,
                r.get::<_, Option<String>>(16)?,
                r.get::<_, Option<Vec<u8>>>(17)?,
                r.get::<_, Option<Vec<u8>>>(18)?,
                r.get::<_, Option<Vec<u8>>>(19)?,
                r.get::<_, Option<String>>(20)?,
            ))
        })
        .optional()
        .db()?;
    let Some((summary, provider, input, output, params, attributes)) = row else {
        return Ok(None);
    };
    let output = match output {
        Some(o) => raw_payload(conn, dicts, Some(o))?,
        None => {
            let chunks: Vec<String> = conn
                .prepare_cached("SELECT text FROM span_chunks WHERE session_id = ?1 AND span_id = ?2 ORDER BY seq").db()?
                .query_map(params![session_id, span_id], |r| r.get(0)).db()?
                .collect::<rusqlite::Result<_>>().db()?;
            if chunks.is_empty() {
                None
            } else {
                let text = serde_json::to_string(&chunks.concat()).unwrap_or_default();
                RawValue::from_string(text).ok()
            }
        }
    };
    Ok(Some(SpanDetail {
        summary,
        provider,
        input: raw_payload(conn, dicts, input)?,
        output,
        params: raw_payload(conn, dicts, params)?,
        attributes: json_or_default(attributes),
    }))
}

/// A session's edges, in time order.
pub fn edges(conn: &Connection, session_id: &str) -> Result<Vec<EdgeRecord>> {
    conn.prepare_cached(
        "SELECT edge_id, kind, from_span, to_span, from_agent, to_agent, label, at
             FROM edges WHERE session_id = ?1 ORDER BY at, edge_id",
    )
    .db()?
    .query_map([session_id], |r| {
        Ok(EdgeRecord {
            edge_id: r.get(0)?,
            kind: EdgeKind::parse(&r.get::<_, String>(1)?).unwrap_or(EdgeKind::Message),
            from_span: r.get(2)?,
            to_span: r.get(3)?,
            from_agent: r.get(4)?,
            to_agent: r.get(5)?,
            label: r.get(6)?,
            at: r.get::<_, Option<i64>>(7)?.map(Timestamp),
        })
    })
    .db()?
    .collect::<rusqlite::Result<Vec<_>>>()
    .db()
}

/// A session's events in time order, paged.
pub fn events(
    conn: &Connection,
    dicts: &Dictionaries,
    session_id: &str,
    q: &EventQuery,
) -> Result<Page<EventRecord>> {
    let limit = query::page_size(q.limit, 200, 1000);
    let (after_at, after_id) = match &q.cursor {
        Some(c) => {
            let (at, id) = query::decode_cursor(c)?;
            let id: i64 = id
                .parse()
                .map_err(|_| StoreError::InvalidQuery(format!("invalid cursor {c:?}")))?;
            (at, id)
        }
        None => (i64::MIN, i64::MIN),
    };
    let rows = conn
        .prepare_cached(
            "SELECT id, event_id, span_id, at, category, level, agent, name, message, data
             FROM events WHERE session_id = ?1 AND (?2 IS NULL OR category = ?2)
               AND (at > ?3 OR (at = ?3 AND id > ?4))
             ORDER BY at, id LIMIT ?5",
        )
        .db()?
        .query_map(
            params![
                session_id,
                q.category,
                after_at,
                after_id,
                (limit + 1) as i64
            ],
            |r| {
                Ok((
                    EventRecord {
                        seq: r.get(0)?,
                        event_id: r.get(1)?,
                        span_id: r.get(2)?,
                        at: Timestamp(r.get(3)?),
                        category: r.get(4)?,
                        level: r.get::<_, Option<String>>(5)?.and_then(|l| parse_level(&l)),
                        agent: r.get(6)?,
                        name: r.get(7)?,
                        message: r.get(8)?,
                        data: None,
                    },
                    r.get::<_, Option<Vec<u8>>>(9)?,
                ))
            },
        )
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    let mut items = Vec::with_capacity(rows.len());
    for (mut e, data) in rows {
        e.data = raw_payload(conn, dicts, data)?;
        items.push(e);
    }
    Ok(query::page(&mut items, limit, |e| {
        query::encode_cursor(e.at.0, &e.seq.to_string())
    }))
}

/// Log lines of every session: the newest page before `before`, or the oldest page after
/// `after`; oldest first either way. Filters by minimum level, agent, session and text.
pub fn logs(conn: &Connection, q: &LogQuery) -> Result<Vec<LogLine>> {
    let limit = query::page_size(q.limit, 500, 5000) as i64;
    let rank = |l: Level| match l {
        Level::Debug => 0,
        Level::Info => 1,
        Level::Warn => 2,
        Level::Error => 3,
    };
    let sql = format!(
        "SELECT id, session_id, span_id, at, level, agent, name, message FROM events
         WHERE category = 'log' AND (?1 IS NULL OR session_id = ?1) AND (?2 IS NULL OR agent = ?2)
           AND (?3 IS NULL OR instr(lower(coalesce(message, '') || ' ' || coalesce(name, '')), lower(?3)) > 0)
           AND (CASE level WHEN 'debug' THEN 0 WHEN 'warn' THEN 2 WHEN 'error' THEN 3 ELSE 1 END) >= ?4
           AND id < ?5 AND id > ?6
         ORDER BY id {} LIMIT ?7",
        if q.after.is_some() { "ASC" } else { "DESC" }
    );
    let mut lines = conn
        .prepare_cached(&sql)
        .db()?
        .query_map(
            params![
                q.session_id,
                q.agent,
                q.q.as_deref().filter(|t| !t.is_empty()),
                q.level.map_or(0, rank),
                q.before.unwrap_or(i64::MAX),
                q.after.unwrap_or(i64::MIN),
                limit
            ],
            |r| {
                Ok(LogLine {
                    seq: r.get(0)?,
                    session_id: r.get(1)?,
                    span_id: r.get(2)?,
                    at: Timestamp(r.get(3)?),
                    level: r.get::<_, Option<String>>(4)?.and_then(|l| parse_level(&l)),
                    agent: r.get(5)?,
                    name: r.get(6)?,
                    message: r.get(7)?,
                })
            },
        )
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    if q.after.is_none() {
        lines.reverse();
    }
    Ok(lines)
}

/// A session's agents; an agent whose heartbeat is older than `offline_after` is offline.
pub fn agents(
    conn: &Connection,
    session_id: &str,
    now: Timestamp,
    offline_after_ns: i64,
) -> Result<Vec<AgentSummary>> {
    let mut sent = BTreeMap::<String, i64>::new();
    let mut received = BTreeMap::<String, i64>::new();
    let mut flows = conn.prepare_cached(
        "SELECT COALESCE(e.from_agent, (SELECT agent FROM spans s WHERE s.session_id = e.session_id AND s.span_id = e.from_span)),
                COALESCE(e.to_agent, (SELECT agent FROM spans s WHERE s.session_id = e.session_id AND s.span_id = e.to_span))
         FROM edges e WHERE e.session_id = ?1 AND e.kind IN ('message', 'delegation')",
    ).db()?;
    let mut rows = flows.query([session_id]).db()?;
    while let Some(r) = rows.next().db()? {
        if let Some(from) = r.get::<_, Option<String>>(0).db()? {
            *sent.entry(from).or_default() += 1;
        }
        if let Some(to) = r.get::<_, Option<String>>(1).db()? {
            *received.entry(to).or_default() += 1;
        }
    }
    conn.prepare_cached(
        "SELECT agent, status, role, model, task, last_seen, spans, llm_calls, tool_calls,
                    errors, input_tokens, output_tokens, cost_usd, unpriced_llm_calls
             FROM agents WHERE session_id = ?1 ORDER BY agent",
    )
    .db()?
    .query_map([session_id], |r| {
        let agent: String = r.get(0)?;
        let last_seen = r.get::<_, Option<i64>>(5)?.map(Timestamp);
        let mut status = r.get::<_, Option<String>>(1)?.and_then(|s| agent_state(&s));
        if status.is_some() && last_seen.is_some_and(|t| now.0 - t.0 > offline_after_ns) {
            status = Some(AgentState::Offline);
        }
        Ok(AgentSummary {
            messages_sent: sent.get(&agent).copied().unwrap_or(0),
            messages_received: received.get(&agent).copied().unwrap_or(0),
            agent,
            status,
            role: r.get(2)?,
            model: r.get(3)?,
            task: r.get(4)?,
            last_seen,
            totals: totals_at(r, 6)?,
        })
    })
    .db()?
    .collect::<rusqlite::Result<Vec<_>>>()
    .db()
}

/// The agents of running sessions and of sessions with an agent seen since `seen_since`:
/// each session's agent list (flows, offline detection), most recently seen first.
pub fn live_agents(
    conn: &Connection,
    seen_since: Timestamp,
    now: Timestamp,
    offline_after_ns: i64,
    limit: usize,
) -> Result<Vec<LiveAgent>> {
    let sessions = conn
        .prepare_cached(
            "SELECT s.session_id, s.name FROM sessions s
             WHERE s.status = 'running'
                OR EXISTS (SELECT 1 FROM agents a WHERE a.session_id = s.session_id AND a.last_seen >= ?1)
             ORDER BY s.started_at DESC LIMIT 200",
        ).db()?
        .query_map([seen_since.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))).db()?
        .collect::<rusqlite::Result<Vec<_>>>().db()?;
    let mut out = Vec::new();
    for (session_id, session_name) in sessions {
        for agent in agents(conn, &session_id, now, offline_after_ns)? {
            out.push(LiveAgent {
                session_id: session_id.clone(),
                session_name: session_name.clone(),
                agent,
            });
        }
    }
    out.sort_by_key(|a| std::cmp::Reverse(a.agent.last_seen));
    out.truncate(limit);
    Ok(out)
}

fn agent_state(s: &str) -> Option<AgentState> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

/// The spans of one kind in scope, as (group key, status, duration ms, usage, cost).
fn scoped_spans(
    conn: &Connection,
    kind: SpanKind,
    group: &str,
    scope: &StatsScope,
) -> Result<Vec<ScopedSpan>> {
    let filter = if scope.session_id.is_some() {
        "session_id = ?2"
    } else {
        "session_id IN (SELECT session_id FROM sessions WHERE started_at >= ?3 AND started_at < ?4)"
    };
    let sql = format!(
        "SELECT {group}, status, started_at, ended_at, input_tokens, output_tokens, cost_usd
         FROM spans WHERE kind = ?1 AND {filter}"
    );
    let mut stmt = conn.prepare_cached(&sql).db()?;
    let from = scope.from.map_or(i64::MIN, |t| t.0);
    let to = scope.to.map_or(i64::MAX, |t| t.0);
    let rows = if let Some(id) = &scope.session_id {
        stmt.query_map(params![kind.as_str(), id], scoped_row)
            .db()?
            .collect::<rusqlite::Result<Vec<_>>>()
    } else {
        stmt.query_map(params![kind.as_str(), Value::Null, from, to], scoped_row)
            .db()?
            .collect::<rusqlite::Result<Vec<_>>>()
    };
    rows.db()
}

fn scoped_row(r: &Row<'_>) -> rusqlite::Result<ScopedSpan> {
    Ok(ScopedSpan::new(
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

/// LLM calls by model.
pub fn llm_stats(conn: &Connection, scope: &StatsScope) -> Result<Vec<LlmStats>> {
    Ok(stats::llm_stats(scoped_spans(
        conn,
        SpanKind::Llm,
        "model",
        scope,
    )?))
}

/// Tool calls by tool name.
pub fn tool_stats(conn: &Connection, scope: &StatsScope) -> Result<Vec<ToolStats>> {
    Ok(stats::tool_stats(scoped_spans(
        conn,
        SpanKind::Tool,
        "name",
        scope,
    )?))
}

/// The counts of the headline figures, over `sessions s` where `filter` holds.
const STATS_SELECT: &str =
    "SELECT count(*), total(status = 'running'), total(status = 'completed'),
        total(status = 'failed'), total(spans), total(llm_calls), total(tool_calls),
        total(errors), total(input_tokens), total(output_tokens), total(cost_usd),
        total(unpriced_llm_calls)
   FROM sessions s WHERE 1 = 1";

fn stats_row(r: &Row<'_>) -> rusqlite::Result<OverviewStats> {
    let f = |i| r.get::<_, f64>(i).map(|v| v as i64);
    Ok(OverviewStats {
        sessions: r.get(0)?,
        running: f(1)?,
        completed: f(2)?,
        failed: f(3)?,
        completion_rate: None,
        avg_spans_per_session: 0.0,
        totals: Totals {
            spans: f(4)?,
            llm_calls: f(5)?,
            tool_calls: f(6)?,
            errors: f(7)?,
            input_tokens: f(8)?,
            output_tokens: f(9)?,
            cost_usd: r.get(10)?,
            unpriced_llm_calls: f(11)?,
        },
    })
}

/// Headline figures.
pub fn overview(conn: &Connection, scope: &StatsScope) -> Result<OverviewStats> {
    let from = scope.from.map_or(i64::MIN, |t| t.0);
    let to = scope.to.map_or(i64::MAX, |t| t.0);
    let sql = format!(
        "{STATS_SELECT} AND (?1 IS NULL OR session_id = ?1) AND started_at >= ?2 AND started_at < ?3"
    );
    let counts = conn
        .prepare_cached(&sql)
        .db()?
        .query_row(params![scope.session_id, from, to], stats_row)
        .db()?;
    Ok(stats::headline(counts))
}

/// Headline figures over every session matching `q`'s filters.
pub fn session_stats(conn: &Connection, q: &SessionQuery) -> Result<OverviewStats> {
    let (filter, args) = session_filter(q);
    let counts = conn
        .prepare_cached(&format!("{STATS_SELECT}{filter}"))
        .db()?
        .query_row(params_from_iter(args), stats_row)
        .db()?;
    Ok(stats::headline(counts))
}

/// Metric samples (or bucket averages), oldest first, the latest `limit` of them.
pub fn metrics(conn: &Connection, q: &MetricQuery) -> Result<Vec<MetricPoint>> {
    let limit = query::page_size(q.limit, 1000, 10_000) as i64;
    // Bucket width in nanoseconds; 1 ns buckets are the samples themselves.
    let step = q
        .step_secs
        .filter(|s| *s > 0)
        .map_or(1, |s| s as i64 * 1_000_000_000);
    let mut points = conn
        .prepare_cached(
            "SELECT name, session_id, (at / ?6) * ?6 AS bucket, avg(value), max(unit), labels
             FROM metrics
             WHERE (?1 IS NULL OR name = ?1) AND (?2 IS NULL OR session_id = ?2)
               AND at >= ?3 AND at < ?4
               AND (?7 IS NULL OR substr(name, 1, length(?7)) = ?7)
             GROUP BY name, labels, session_id, bucket
             ORDER BY bucket DESC LIMIT ?5",
        )
        .db()?
        .query_map(
            params![
                q.name,
                q.session_id,
                q.from.map_or(i64::MIN, |t| t.0),
                q.to.map_or(i64::MAX, |t| t.0),
                limit,
                step,
                q.prefix
            ],
            |r| {
                Ok(MetricPoint {
                    name: r.get(0)?,
                    session_id: r
                        .get::<_, String>(1)
                        .map(|s| (!s.is_empty()).then_some(s))?,
                    at: Timestamp(r.get(2)?),
                    value: r.get(3)?,
                    unit: r.get(4)?,
                    labels: json_or_default(r.get(5)?),
                })
            },
        )
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    points.reverse();
    Ok(points)
}
