//! Row-level reads and writes of the writer: loading a span's or session's state, and
//! writing it back. The SQL for each table's write lives here and nowhere else.

use super::apply::SpanWork;
use flightdeck_model::record::{SessionStatus, Totals};
use flightdeck_model::{SpanKind, SpanOutcome, Timestamp, Usage};
use flightdeck_store::merge::{SessionState, SpanState};
use rusqlite::{Connection, OptionalExtension, params};

use flightdeck_store::columns::outcome_str;
pub use flightdeck_store::columns::{json_or_default, level_str, parse_level};

pub fn load_span(
    conn: &Connection,
    session_id: &str,
    span_id: &str,
) -> rusqlite::Result<Option<SpanState>> {
    conn.prepare_cached(
        "SELECT parent_id, kind, name, agent, model, provider, status, started_at, ended_at,
                input_tokens, output_tokens, usage_final, cost_usd, cost_given, error, scores,
                output IS NOT NULL, trace_id
         FROM spans WHERE session_id = ?1 AND span_id = ?2",
    )?
    .query_row(params![session_id, span_id], |r| {
        let input: Option<i64> = r.get(9)?;
        let output: Option<i64> = r.get(10)?;
        Ok(SpanState {
            trace_id: r.get(17)?,
            parent_id: r.get(0)?,
            kind: r
                .get::<_, Option<String>>(1)?
                .and_then(|k| SpanKind::parse(&k)),
            name: r.get(2)?,
            agent: r.get(3)?,
            model: r.get(4)?,
            provider: r.get(5)?,
            status: match r.get::<_, Option<String>>(6)?.as_deref() {
                Some("ok") => Some(SpanOutcome::Ok),
                Some("error") => Some(SpanOutcome::Error),
                _ => None,
            },
            started_at: r.get::<_, Option<i64>>(7)?.map(Timestamp),
            ended_at: r.get::<_, Option<i64>>(8)?.map(Timestamp),
            usage: (input.is_some() || output.is_some()).then(|| Usage {
                input_tokens: input.unwrap_or(0) as u64,
                output_tokens: output.unwrap_or(0) as u64,
            }),
            usage_final: r.get(11)?,
            cost_usd: r.get(12)?,
            cost_given: r.get(13)?,
            error: r.get(14)?,
            scores: json_or_default(r.get(15)?),
            has_output: r.get(16)?,
        })
    })
    .optional()
}

pub fn upsert_span(
    conn: &Connection,
    session_id: &str,
    span_id: &str,
    w: &SpanWork<'_>,
) -> rusqlite::Result<()> {
    let s = &w.state;
    let scores =
        (!s.scores.is_empty()).then(|| serde_json::to_string(&s.scores).unwrap_or_default());
    let attributes = w
        .attributes
        .as_ref()
        .map(|a| serde_json::to_string(a).unwrap_or_default());
    conn.prepare_cached(
        "INSERT INTO spans (session_id, span_id, parent_id, kind, name, agent, model, provider,
            status, started_at, ended_at, input_tokens, output_tokens, usage_final, cost_usd,
            cost_given, error, scores, attributes, input, output, params, trace_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20, ?21, ?22, ?23)
         ON CONFLICT (session_id, span_id) DO UPDATE SET
            trace_id = excluded.trace_id, parent_id = excluded.parent_id, kind = excluded.kind, name = excluded.name,
            agent = excluded.agent, model = excluded.model, provider = excluded.provider,
            status = excluded.status, started_at = excluded.started_at,
            ended_at = excluded.ended_at, input_tokens = excluded.input_tokens,
            output_tokens = excluded.output_tokens, usage_final = excluded.usage_final,
            cost_usd = excluded.cost_usd, cost_given = excluded.cost_given,
            error = excluded.error, scores = excluded.scores,
            attributes = CASE WHEN excluded.attributes IS NULL THEN spans.attributes
                              WHEN spans.attributes IS NULL THEN excluded.attributes
                              ELSE json_patch(spans.attributes, excluded.attributes) END,
            input = COALESCE(excluded.input, spans.input),
            output = COALESCE(excluded.output, spans.output),
            params = COALESCE(excluded.params, spans.params)",
    )?
    .execute(params![
        session_id,
        span_id,
        s.parent_id,
        s.kind.map(|k| k.as_str()),
        s.name,
        s.agent,
        s.model,
        s.provider,
        s.status.map(outcome_str),
        s.started_at.map(|t| t.0),
        s.ended_at.map(|t| t.0),
        s.usage.map(|u| u.input_tokens as i64),
        s.usage.map(|u| u.output_tokens as i64),
        s.usage_final,
        s.cost_usd,
        s.cost_given,
        s.error,
        scores,
        attributes,
        w.input,
        w.output,
        w.params,
        s.trace_id,
    ])?;
    Ok(())
}

pub fn load_session(conn: &Connection, id: &str) -> rusqlite::Result<Option<SessionState>> {
    conn.prepare_cached(
        "SELECT name, status, started_at, has_start, ended_at, tags, metadata, budget, error,
                spans, llm_calls, tool_calls, errors, input_tokens, output_tokens, cost_usd,
                unpriced_llm_calls, traced, idle_ended
         FROM sessions WHERE session_id = ?1",
    )?
    .query_row([id], |r| {
        Ok(SessionState {
            name: r.get(0)?,
            status: SessionStatus::parse(&r.get::<_, String>(1)?).unwrap_or(SessionStatus::Running),
            started_at: Timestamp(r.get(2)?),
            has_start: r.get(3)?,
            ended_at: r.get::<_, Option<i64>>(4)?.map(Timestamp),
            tags: json_or_default(r.get(5)?),
            metadata: json_or_default(r.get(6)?),
            budget: r
                .get::<_, Option<String>>(7)?
                .and_then(|b| serde_json::from_str(&b).ok()),
            error: r.get(8)?,
            totals: totals_at(r, 9)?,
            traced: r.get(17)?,
            idle_ended: r.get(18)?,
        })
    })
    .optional()
}

/// Reads the eight totals columns starting at column `i`.
pub fn totals_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Totals> {
    Ok(Totals {
        spans: r.get(i)?,
        llm_calls: r.get(i + 1)?,
        tool_calls: r.get(i + 2)?,
        errors: r.get(i + 3)?,
        input_tokens: r.get(i + 4)?,
        output_tokens: r.get(i + 5)?,
        cost_usd: r.get(i + 6)?,
        unpriced_llm_calls: r.get(i + 7)?,
    })
}

/// Writes a session's state; `now` (the writer's clock) is when it was last touched, which
/// the idle rule reads.
pub fn upsert_session(
    conn: &Connection,
    id: &str,
    s: &SessionState,
    now: Timestamp,
) -> rusqlite::Result<()> {
    let t = &s.totals;
    conn.prepare_cached(
        "INSERT INTO sessions (session_id, name, status, started_at, has_start, ended_at, tags,
            metadata, budget, error, spans, llm_calls, tool_calls, errors, input_tokens,
            output_tokens, cost_usd, unpriced_llm_calls, traced, idle_ended, touched_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20, ?21)
         ON CONFLICT (session_id) DO UPDATE SET
            traced = excluded.traced, idle_ended = excluded.idle_ended,
            touched_at = excluded.touched_at,
            name = excluded.name, status = excluded.status, started_at = excluded.started_at,
            has_start = excluded.has_start, ended_at = excluded.ended_at, tags = excluded.tags,
            metadata = excluded.metadata, budget = excluded.budget, error = excluded.error,
            spans = excluded.spans, llm_calls = excluded.llm_calls,
            tool_calls = excluded.tool_calls, errors = excluded.errors,
            input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
            cost_usd = excluded.cost_usd, unpriced_llm_calls = excluded.unpriced_llm_calls",
    )?
    .execute(params![
        id,
        s.name,
        s.status.as_str(),
        s.started_at.0,
        s.has_start,
        s.ended_at.map(|t| t.0),
        serde_json::to_string(&s.tags).unwrap_or_else(|_| "[]".into()),
        serde_json::to_string(&s.metadata).unwrap_or_else(|_| "{}".into()),
        s.budget
            .as_ref()
            .and_then(|b| serde_json::to_string(b).ok()),
        s.error,
        t.spans,
        t.llm_calls,
        t.tool_calls,
        t.errors,
        t.input_tokens,
        t.output_tokens,
        t.cost_usd,
        t.unpriced_llm_calls,
        s.traced,
        s.idle_ended,
        now.0,
    ])?;
    Ok(())
}

pub fn add_agent_totals(
    conn: &Connection,
    session_id: &str,
    agent: &str,
    d: &Totals,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO agents (session_id, agent, spans, llm_calls, tool_calls, errors,
            input_tokens, output_tokens, cost_usd, unpriced_llm_calls)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (session_id, agent) DO UPDATE SET
            spans = spans + excluded.spans, llm_calls = llm_calls + excluded.llm_calls,
            tool_calls = tool_calls + excluded.tool_calls, errors = errors + excluded.errors,
            input_tokens = input_tokens + excluded.input_tokens,
            output_tokens = output_tokens + excluded.output_tokens,
            cost_usd = cost_usd + excluded.cost_usd,
            unpriced_llm_calls = unpriced_llm_calls + excluded.unpriced_llm_calls",
    )?
    .execute(params![
        session_id,
        agent,
        d.spans,
        d.llm_calls,
        d.tool_calls,
        d.errors,
        d.input_tokens,
        d.output_tokens,
        d.cost_usd,
        d.unpriced_llm_calls
    ])?;
    Ok(())
}

pub fn add_model_totals(
    conn: &Connection,
    session_id: &str,
    model: &str,
    d: &Totals,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO session_models (session_id, model, requests, input_tokens, output_tokens, cost_usd)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (session_id, model) DO UPDATE SET
            requests = requests + excluded.requests,
            input_tokens = input_tokens + excluded.input_tokens,
            output_tokens = output_tokens + excluded.output_tokens,
            cost_usd = cost_usd + excluded.cost_usd",
    )?
    .execute(params![session_id, model, d.llm_calls, d.input_tokens, d.output_tokens, d.cost_usd])?;
    Ok(())
}

/// Makes the span `into` (session, span) the merge of itself and the span `from`: hot columns
/// from `merged`, payloads and attributes it lacks from the moved one (the moved attributes
/// under its own). Deletes the moved span.
pub fn merge_span_row(
    conn: &Connection,
    from: (&str, &str),
    into: (&str, &str),
    merged: &SpanState,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE spans AS k SET
            input = COALESCE(k.input, m.input), output = COALESCE(k.output, m.output),
            params = COALESCE(k.params, m.params),
            attributes = CASE WHEN m.attributes IS NULL THEN k.attributes
                              WHEN k.attributes IS NULL THEN m.attributes
                              ELSE json_patch(m.attributes, k.attributes) END
         FROM spans AS m
         WHERE k.session_id = ?3 AND k.span_id = ?4 AND m.session_id = ?1 AND m.span_id = ?2",
    )?
    .execute(params![from.0, from.1, into.0, into.1])?;
    let work = SpanWork {
        old: None,
        state: merged.clone(),
        input: None,
        output: None,
        params: None,
        attributes: None,
        chunks: Vec::new(),
    };
    upsert_span(conn, into.0, into.1, &work)?;
    conn.prepare_cached("DELETE FROM spans WHERE session_id = ?1 AND span_id = ?2")?
        .execute(params![from.0, from.1])?;
    Ok(())
}
