//! The read queries. Each function takes a pooled connection (or the snapshot's transaction
//! on one) and answers one question of the [`flightdeck_store::Store`] contract, with the
//! same answers as the SQLite store's `read.rs`.

use crate::dictionary::raw_payload;
use crate::error::Db;
use crate::rows::{json_or_default, parse_level, totals_at};
use crate::sql::{query, query_opt};
use deadpool_postgres::ClientWrapper;
use flightdeck_model::message::Level;
use flightdeck_model::record::*;
use flightdeck_model::{AgentState, EdgeKind, SpanKind, Timestamp, Usage};
use flightdeck_store::dictionary::Dictionaries;
use flightdeck_store::query::{
    self, EventQuery, LogQuery, MetricQuery, SessionQuery, SessionSort, StatsScope,
};
use flightdeck_store::stats::{self, ScopedSpan};
use flightdeck_store::{Result, StoreError};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

const SUMMARY_COLUMNS: &str = "s.session_id, s.name, s.status, s.started_at, s.ended_at, s.tags,
    s.budget, s.error, s.spans, s.llm_calls, s.tool_calls, s.errors, s.input_tokens,
    s.output_tokens, s.cost_usd, s.unpriced_llm_calls,
    ARRAY(SELECT a.agent FROM agents a WHERE a.session_id = s.session_id ORDER BY a.agent)";

fn session_row(r: &Row, now: Timestamp) -> SessionSummary {
    let started_at = Timestamp(r.get(3));
    let ended_at = r.get::<_, Option<i64>>(4).map(Timestamp);
    SessionSummary {
        session_id: r.get(0),
        name: r.get(1),
        status: SessionStatus::parse(r.get::<_, &str>(2)).unwrap_or(SessionStatus::Running),
        started_at,
        ended_at,
        duration_ms: (ended_at.unwrap_or(now).0 - started_at.0).max(0) as f64 / 1e6,
        tags: json_or_default(r.get(5)),
        agents: r.get(16),
        budget: r
            .get::<_, Option<String>>(6)
            .and_then(|b| serde_json::from_str(&b).ok()),
        error: r.get(7),
        totals: totals_at(r, 8),
    }
}

/// One session's summary, or `None`.
pub async fn session_summary(
    c: &ClientWrapper,
    id: &str,
    now: Timestamp,
) -> Result<Option<SessionSummary>> {
    let sql = format!("SELECT {SUMMARY_COLUMNS} FROM sessions s WHERE s.session_id = $1");
    Ok(query_opt(c, &sql, &[&id])
        .await
        .db()?
        .map(|r| session_row(&r, now)))
}

/// The summaries of sessions `ids`, in that order (those that exist).
pub async fn session_summaries(
    c: &ClientWrapper,
    ids: &[String],
    now: Timestamp,
) -> Result<Vec<SessionSummary>> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM sessions s
         JOIN UNNEST($1::text[]) WITH ORDINALITY AS k (id, i) ON s.session_id = k.id ORDER BY k.i"
    );
    Ok(query(c, &sql, &[&ids])
        .await
        .db()?
        .iter()
        .map(|r| session_row(r, now))
        .collect())
}

/// One session with its metadata.
pub async fn session(c: &ClientWrapper, id: &str, now: Timestamp) -> Result<Option<Session>> {
    let sql =
        format!("SELECT {SUMMARY_COLUMNS}, s.metadata FROM sessions s WHERE s.session_id = $1");
    Ok(query_opt(c, &sql, &[&id]).await.db()?.map(|r| Session {
        summary: session_row(&r, now),
        metadata: json_or_default(r.get(17)),
    }))
}

/// The session list.
pub async fn sessions(
    c: &ClientWrapper,
    q: &SessionQuery,
    now: Timestamp,
) -> Result<Page<SessionSummary>> {
    let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM sessions s WHERE true");
    let mut args: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    let mut bind = |v: Box<dyn ToSql + Sync + Send>| {
        args.push(v);
        args.len()
    };
    if let Some(status) = q.status {
        let i = bind(Box::new(status.as_str().to_owned()));
        sql.push_str(&format!(" AND s.status = ${i}"));
    }
    if let Some(from) = q.from {
        let i = bind(Box::new(from.0));
        sql.push_str(&format!(" AND s.started_at >= ${i}"));
    }
    if let Some(to) = q.to {
        let i = bind(Box::new(to.0));
        sql.push_str(&format!(" AND s.started_at < ${i}"));
    }
    match q.has_errors {
        Some(true) => sql.push_str(" AND (s.errors > 0 OR s.status = 'failed')"),
        Some(false) => sql.push_str(" AND s.errors = 0 AND s.status != 'failed'"),
        None => {}
    }
    // Agent and model match part of a name, ignoring case: "plan" finds "planner".
    if let Some(agent) = &q.agent {
        let i = bind(Box::new(query::like_pattern(agent)));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM agents a WHERE a.session_id = s.session_id AND a.agent ILIKE ${i})"
        ));
    }
    if let Some(model) = &q.model {
        let i = bind(Box::new(query::like_pattern(model)));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM session_models m WHERE m.session_id = s.session_id AND m.model ILIKE ${i})"
        ));
    }
    if let Some(text) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let i = bind(Box::new(query::like_pattern(text)));
        sql.push_str(&format!(
            " AND (s.name ILIKE ${i} OR s.session_id ILIKE ${i} OR s.tags ILIKE ${i} \
             OR EXISTS (SELECT 1 FROM agents a WHERE a.session_id = s.session_id \
             AND a.agent ILIKE ${i}))"
        ));
    }
    let (sort, desc) = SessionSort::parse(q.sort.as_deref())?;
    let key = sort.column();
    let (op, dir) = if desc { ("<", "DESC") } else { (">", "ASC") };
    if let Some(cursor) = &q.cursor {
        let (value, id) = query::decode_cursor(cursor)?;
        let i = match sort {
            // A cost's cursor holds the bits of the number.
            SessionSort::Cost => bind(Box::new(f64::from_bits(value as u64))),
            _ => bind(Box::new(value)),
        };
        let j = bind(Box::new(id));
        sql.push_str(&format!(
            " AND ({key} {op} ${i} OR ({key} = ${i} AND s.session_id {op} ${j}))"
        ));
    }
    let limit = query::page_size(q.limit, 50, 500);
    sql.push_str(&format!(
        " ORDER BY {key} {dir}, s.session_id {dir} LIMIT {}",
        limit + 1
    ));
    let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| &**a as _).collect();
    let mut items: Vec<SessionSummary> = query(c, &sql, &params)
        .await
        .db()?
        .iter()
        .map(|r| session_row(r, now))
        .collect();
    Ok(query::page(&mut items, limit, |s| {
        query::encode_cursor(sort.cursor_value(s), &s.session_id)
    }))
}

const SPAN_COLUMNS: &str = "session_id, span_id, parent_id, kind, name, agent, status, started_at,
    ended_at, model, input_tokens, output_tokens, cost_usd, error, scores, trace_id";

fn span_row(r: &Row) -> SpanSummary {
    let started_at = r.get::<_, Option<i64>>(7).map(Timestamp);
    let ended_at = r.get::<_, Option<i64>>(8).map(Timestamp);
    let input: Option<i64> = r.get(10);
    let output: Option<i64> = r.get(11);
    let span_id: String = r.get(1);
    SpanSummary {
        session_id: r.get(0),
        parent_id: r.get(2),
        kind: r
            .get::<_, Option<&str>>(3)
            .and_then(SpanKind::parse)
            .unwrap_or(SpanKind::Custom),
        name: r
            .get::<_, Option<String>>(4)
            .unwrap_or_else(|| span_id.clone()),
        span_id,
        agent: r.get(5),
        status: r
            .get::<_, Option<&str>>(6)
            .and_then(SpanStatus::parse)
            .unwrap_or(SpanStatus::Running),
        started_at,
        ended_at,
        duration_ms: match (started_at, ended_at) {
            (Some(s), Some(e)) => Some((e.0 - s.0).max(0) as f64 / 1e6),
            _ => None,
        },
        model: r.get(9),
        usage: (input.is_some() || output.is_some()).then(|| Usage {
            input_tokens: input.unwrap_or(0) as u64,
            output_tokens: output.unwrap_or(0) as u64,
        }),
        cost_usd: r.get(12),
        error: r.get(13),
        scores: json_or_default(r.get(14)),
        trace_id: r.get(15),
    }
}

/// A session's spans without payloads, in start order; not those known only from updates.
pub async fn spans(c: &ClientWrapper, session_id: &str) -> Result<Vec<SpanSummary>> {
    listed_spans(c, session_id, "").await
}

/// The running spans of a session, in start order, through the `spans_running` index.
pub async fn running_spans(c: &ClientWrapper, session_id: &str) -> Result<Vec<SpanSummary>> {
    listed_spans(c, session_id, " AND status IS NULL").await
}

/// The listed spans (see [`spans`]) of a session that also meet `and`.
async fn listed_spans(c: &ClientWrapper, session_id: &str, and: &str) -> Result<Vec<SpanSummary>> {
    let sql = format!(
        "SELECT {SPAN_COLUMNS} FROM spans WHERE session_id = $1{and}
           AND (kind IS NOT NULL OR started_at IS NOT NULL OR ended_at IS NOT NULL)
         ORDER BY started_at NULLS FIRST, span_id"
    );
    Ok(query(c, &sql, &[&session_id])
        .await
        .db()?
        .iter()
        .map(span_row)
        .collect())
}

/// One span in full; a running span's output is its streamed chunks so far.
pub async fn span(
    c: &ClientWrapper,
    dicts: &Dictionaries,
    session_id: &str,
    span_id: &str,
) -> Result<Option<SpanDetail>> {
    let sql = format!(
        "SELECT {SPAN_COLUMNS}, provider, input, output, params, attributes::text
         FROM spans WHERE session_id = $1 AND span_id = $2"
    );
    let Some(r) = query_opt(c, &sql, &[&session_id, &span_id]).await.db()? else {
        return Ok(None);
    };
    let output = match r.get::<_, Option<Vec<u8>>>(18) {
        Some(o) => raw_payload(c, dicts, Some(o)).await?,
        None => {
            let chunks: Vec<String> = query(
                c,
                "SELECT text FROM span_chunks WHERE session_id = $1 AND span_id = $2 ORDER BY seq",
                &[&session_id, &span_id],
            )
            .await
            .db()?
            .iter()
            .map(|r| r.get(0))
            .collect();
            if chunks.is_empty() {
                None
            } else {
                let text = serde_json::to_string(&chunks.concat()).unwrap_or_default();
                RawValue::from_string(text).ok()
            }
        }
    };
    Ok(Some(SpanDetail {
        summary: span_row(&r),
        provider: r.get(16),
        input: raw_payload(c, dicts, r.get(17)).await?,
        output,
        params: raw_payload(c, dicts, r.get(19)).await?,
        attributes: json_or_default(r.get(20)),
    }))
}

/// A session's edges, in time order.
pub async fn edges(c: &ClientWrapper, session_id: &str) -> Result<Vec<EdgeRecord>> {
    let rows = query(
        c,
        "SELECT edge_id, kind, from_span, to_span, from_agent, to_agent, label, at
         FROM edges WHERE session_id = $1 ORDER BY at NULLS FIRST, edge_id",
        &[&session_id],
    )
    .await
    .db()?;
    Ok(rows
        .iter()
        .map(|r| EdgeRecord {
            edge_id: r.get(0),
            kind: EdgeKind::parse(r.get::<_, &str>(1)).unwrap_or(EdgeKind::Message),
            from_span: r.get(2),
            to_span: r.get(3),
            from_agent: r.get(4),
            to_agent: r.get(5),
            label: r.get(6),
            at: r.get::<_, Option<i64>>(7).map(Timestamp),
        })
        .collect())
}

/// A session's events in time order, paged.
pub async fn events(
    c: &ClientWrapper,
    dicts: &Dictionaries,
    session_id: &str,
    q: &EventQuery,
) -> Result<Page<EventRecord>> {
    let limit = query::page_size(q.limit, 200, 1000);
    let (after_at, after_id) = match &q.cursor {
        Some(cur) => {
            let (at, id) = query::decode_cursor(cur)?;
            let id: i64 = id
                .parse()
                .map_err(|_| StoreError::InvalidQuery(format!("invalid cursor {cur:?}")))?;
            (at, id)
        }
        None => (i64::MIN, i64::MIN),
    };
    let rows = query(
        c,
        "SELECT id, event_id, span_id, at, category, level, agent, name, message, data
         FROM events WHERE session_id = $1 AND ($2::text IS NULL OR category = $2)
           AND (at > $3 OR (at = $3 AND id > $4))
         ORDER BY at, id LIMIT $5",
        &[
            &session_id,
            &q.category,
            &after_at,
            &after_id,
            &((limit + 1) as i64),
        ],
    )
    .await
    .db()?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(EventRecord {
            seq: r.get(0),
            event_id: r.get(1),
            span_id: r.get(2),
            at: Timestamp(r.get(3)),
            category: r.get(4),
            level: r.get::<_, Option<&str>>(5).and_then(parse_level),
            agent: r.get(6),
            name: r.get(7),
            message: r.get(8),
            data: raw_payload(c, dicts, r.get(9)).await?,
        });
    }
    Ok(query::page(&mut items, limit, |e| {
        query::encode_cursor(e.at.0, &e.seq.to_string())
    }))
}

/// Log lines of every session: the newest page before `before`, or the oldest page after
/// `after`; oldest first either way. Filters by minimum level, agent, session and text.
pub async fn logs(c: &ClientWrapper, q: &LogQuery) -> Result<Vec<LogLine>> {
    let limit = query::page_size(q.limit, 500, 5000) as i64;
    let rank = |l: Level| match l {
        Level::Debug => 0i32,
        Level::Info => 1,
        Level::Warn => 2,
        Level::Error => 3,
    };
    let sql = format!(
        "SELECT id, session_id, span_id, at, level, agent, name, message FROM events
         WHERE category = 'log' AND ($1::text IS NULL OR session_id = $1)
           AND ($2::text IS NULL OR agent = $2)
           AND ($3::text IS NULL OR strpos(lower(coalesce(message, '') || ' ' || coalesce(name, '')), lower($3)) > 0)
           AND (CASE level WHEN 'debug' THEN 0 WHEN 'warn' THEN 2 WHEN 'error' THEN 3 ELSE 1 END) >= $4
           AND id < $5 AND id > $6
         ORDER BY id {} LIMIT $7",
        if q.after.is_some() { "ASC" } else { "DESC" }
    );
    let text = q.q.as_deref().filter(|t| !t.is_empty());
    let rows = query(
        c,
        &sql,
        &[
            &q.session_id,
            &q.agent,
            &text,
            &q.level.map_or(0, rank),
            &q.before.unwrap_or(i64::MAX),
            &q.after.unwrap_or(i64::MIN),
            &limit,
        ],
    )
    .await
    .db()?;
    let mut lines: Vec<LogLine> = rows
        .iter()
        .map(|r| LogLine {
            seq: r.get(0),
            session_id: r.get(1),
            span_id: r.get(2),
            at: Timestamp(r.get(3)),
            level: r.get::<_, Option<&str>>(4).and_then(parse_level),
            agent: r.get(5),
            name: r.get(6),
            message: r.get(7),
        })
        .collect();
    if q.after.is_none() {
        lines.reverse();
    }
    Ok(lines)
}

/// A session's agents; an agent whose heartbeat is older than `offline_after` is offline.
pub async fn agents(
    c: &ClientWrapper,
    session_id: &str,
    now: Timestamp,
    offline_after_ns: i64,
) -> Result<Vec<AgentSummary>> {
    let mut sent = BTreeMap::<String, i64>::new();
    let mut received = BTreeMap::<String, i64>::new();
    let flows = query(
        c,
        "SELECT COALESCE(e.from_agent, (SELECT agent FROM spans s WHERE s.session_id = e.session_id AND s.span_id = e.from_span)),
                COALESCE(e.to_agent, (SELECT agent FROM spans s WHERE s.session_id = e.session_id AND s.span_id = e.to_span))
         FROM edges e WHERE e.session_id = $1 AND e.kind IN ('message', 'delegation')",
        &[&session_id],
    )
    .await
    .db()?;
    for r in &flows {
        if let Some(from) = r.get::<_, Option<String>>(0) {
            *sent.entry(from).or_default() += 1;
        }
        if let Some(to) = r.get::<_, Option<String>>(1) {
            *received.entry(to).or_default() += 1;
        }
    }
    let rows = query(
        c,
        "SELECT agent, status, role, model, task, last_seen, spans, llm_calls, tool_calls,
                errors, input_tokens, output_tokens, cost_usd, unpriced_llm_calls
         FROM agents WHERE session_id = $1 ORDER BY agent",
        &[&session_id],
    )
    .await
    .db()?;
    Ok(rows
        .iter()
        .map(|r| {
            let agent: String = r.get(0);
            let last_seen = r.get::<_, Option<i64>>(5).map(Timestamp);
            let mut status = r.get::<_, Option<&str>>(1).and_then(agent_state);
            if status.is_some() && last_seen.is_some_and(|t| now.0 - t.0 > offline_after_ns) {
                status = Some(AgentState::Offline);
            }
            AgentSummary {
                messages_sent: sent.get(&agent).copied().unwrap_or(0),
                messages_received: received.get(&agent).copied().unwrap_or(0),
                agent,
                status,
                role: r.get(2),
                model: r.get(3),
                task: r.get(4),
                last_seen,
                totals: totals_at(r, 6),
            }
        })
        .collect())
}

/// The agents of running sessions and of sessions with an agent seen since `seen_since`,
/// most recently seen first.
pub async fn live_agents(
    c: &ClientWrapper,
    seen_since: Timestamp,
    now: Timestamp,
    offline_after_ns: i64,
    limit: usize,
) -> Result<Vec<LiveAgent>> {
    let sessions = query(
        c,
        "SELECT s.session_id, s.name FROM sessions s
         WHERE s.status = 'running'
            OR EXISTS (SELECT 1 FROM agents a WHERE a.session_id = s.session_id AND a.last_seen >= $1)
         ORDER BY s.started_at DESC LIMIT 200",
        &[&seen_since.0],
    )
    .await
    .db()?;
    let mut out = Vec::new();
    for r in &sessions {
        let (session_id, session_name): (String, Option<String>) = (r.get(0), r.get(1));
        for agent in agents(c, &session_id, now, offline_after_ns).await? {
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

/// The spans of one kind in scope, keyed by `group` (a column).
async fn scoped_spans(
    c: &ClientWrapper,
    kind: SpanKind,
    group: &str,
    scope: &StatsScope,
) -> Result<Vec<ScopedSpan>> {
    let columns = format!(
        "SELECT {group}, status, started_at, ended_at, input_tokens, output_tokens, cost_usd
         FROM spans WHERE kind = $1"
    );
    let rows = if let Some(id) = &scope.session_id {
        query(
            c,
            &format!("{columns} AND session_id = $2"),
            &[&kind.as_str(), id],
        )
        .await
    } else {
        let from = scope.from.map_or(i64::MIN, |t| t.0);
        let to = scope.to.map_or(i64::MAX, |t| t.0);
        query(
            c,
            &format!(
                "{columns} AND session_id IN (SELECT session_id FROM sessions
                 WHERE started_at >= $2 AND started_at < $3)"
            ),
            &[&kind.as_str(), &from, &to],
        )
        .await
    }
    .db()?;
    Ok(rows
        .iter()
        .map(|r| {
            ScopedSpan::new(
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
            )
        })
        .collect())
}

/// LLM calls by model.
pub async fn llm_stats(c: &ClientWrapper, scope: &StatsScope) -> Result<Vec<LlmStats>> {
    Ok(stats::llm_stats(
        scoped_spans(c, SpanKind::Llm, "model", scope).await?,
    ))
}

/// Tool calls by tool name.
pub async fn tool_stats(c: &ClientWrapper, scope: &StatsScope) -> Result<Vec<ToolStats>> {
    Ok(stats::tool_stats(
        scoped_spans(c, SpanKind::Tool, "name", scope).await?,
    ))
}

/// Headline figures.
pub async fn overview(c: &ClientWrapper, scope: &StatsScope) -> Result<OverviewStats> {
    let from = scope.from.map_or(i64::MIN, |t| t.0);
    let to = scope.to.map_or(i64::MAX, |t| t.0);
    let rows = query(
        c,
        "SELECT count(*), count(*) FILTER (WHERE status = 'running'),
                count(*) FILTER (WHERE status = 'completed'),
                count(*) FILTER (WHERE status = 'failed'),
                COALESCE(sum(spans), 0)::bigint, COALESCE(sum(llm_calls), 0)::bigint,
                COALESCE(sum(tool_calls), 0)::bigint, COALESCE(sum(errors), 0)::bigint,
                COALESCE(sum(input_tokens), 0)::bigint, COALESCE(sum(output_tokens), 0)::bigint,
                COALESCE(sum(cost_usd), 0)::float8, COALESCE(sum(unpriced_llm_calls), 0)::bigint
         FROM sessions WHERE ($1::text IS NULL OR session_id = $1)
           AND started_at >= $2 AND started_at < $3",
        &[&scope.session_id, &from, &to],
    )
    .await
    .db()?;
    let r = &rows[0];
    let sessions: i64 = r.get(0);
    let (completed, failed): (i64, i64) = (r.get(2), r.get(3));
    let totals = totals_at(r, 4);
    let ended = completed + failed;
    Ok(OverviewStats {
        sessions,
        running: r.get(1),
        completed,
        failed,
        completion_rate: (ended > 0).then(|| completed as f64 / ended as f64),
        avg_spans_per_session: if sessions > 0 {
            totals.spans as f64 / sessions as f64
        } else {
            0.0
        },
        totals,
    })
}

/// Metric samples (or bucket averages), oldest first, the latest `limit` of them.
pub async fn metrics(c: &ClientWrapper, q: &MetricQuery) -> Result<Vec<MetricPoint>> {
    let limit = query::page_size(q.limit, 1000, 10_000) as i64;
    // Bucket width in nanoseconds; 1 ns buckets are the samples themselves.
    let step = q
        .step_secs
        .filter(|s| *s > 0)
        .map_or(1, |s| s as i64 * 1_000_000_000);
    let rows = query(
        c,
        "SELECT name, session_id, (at / $6) * $6 AS bucket, avg(value), max(unit), labels
         FROM metrics
         WHERE ($1::text IS NULL OR name = $1) AND ($2::text IS NULL OR session_id = $2)
           AND at >= $3 AND at < $4
           AND ($7::text IS NULL OR left(name, length($7)) = $7)
         GROUP BY name, labels, session_id, bucket
         ORDER BY bucket DESC LIMIT $5",
        &[
            &q.name,
            &q.session_id,
            &q.from.map_or(i64::MIN, |t| t.0),
            &q.to.map_or(i64::MAX, |t| t.0),
            &limit,
            &step,
            &q.prefix,
        ],
    )
    .await
    .db()?;
    let mut points: Vec<MetricPoint> = rows
        .iter()
        .map(|r| MetricPoint {
            name: r.get(0),
            session_id: Some(r.get::<_, String>(1)).filter(|s| !s.is_empty()),
            at: Timestamp(r.get(2)),
            value: r.get(3),
            unit: r.get(4),
            labels: json_or_default(r.get(5)),
        })
        .collect();
    points.reverse();
    Ok(points)
}
