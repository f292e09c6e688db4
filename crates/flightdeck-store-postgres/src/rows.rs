//! Row-level reads and writes of the writer, each for many rows in one statement: the states
//! of spans and sessions loaded by key (`UNNEST` of key arrays) and written back as multi-row
//! upserts, and the additions to agent and model totals. The SQL for each table's write lives
//! here and nowhere else.

use crate::sql::{execute, query};
use deadpool_postgres::ClientWrapper;
use flightdeck_model::record::{SessionStatus, Totals};
use flightdeck_model::{Attributes, SpanKind, SpanOutcome, Timestamp, Usage};
use flightdeck_store::merge::{SessionState, SpanState};
use std::collections::HashMap;
use tokio_postgres::{Error, Row};

use flightdeck_store::columns::outcome_str;
pub use flightdeck_store::columns::{json_or_default, level_str, parse_level};

/// A span as the writer writes it back: its merged state and what the group brought.
pub struct SpanRow<'a> {
    pub session_id: &'a str,
    pub span_id: &'a str,
    pub state: &'a SpanState,
    pub input: Option<&'a [u8]>,
    pub output: Option<&'a [u8]>,
    pub params: Option<&'a [u8]>,
    pub attributes: Option<&'a Attributes>,
}

const SPAN_STATE: &str = "s.trace_id, s.parent_id, s.kind, s.name, s.agent, s.model, s.provider,
    s.status, s.started_at, s.ended_at, s.input_tokens, s.output_tokens, s.usage_final,
    s.cost_usd, s.cost_given, s.error, s.scores, s.output IS NOT NULL";

fn span_state(r: &Row, i: usize) -> SpanState {
    let input: Option<i64> = r.get(i + 10);
    let output: Option<i64> = r.get(i + 11);
    SpanState {
        trace_id: r.get(i),
        parent_id: r.get(i + 1),
        kind: r
            .get::<_, Option<String>>(i + 2)
            .and_then(|k| SpanKind::parse(&k)),
        name: r.get(i + 3),
        agent: r.get(i + 4),
        model: r.get(i + 5),
        provider: r.get(i + 6),
        status: match r.get::<_, Option<&str>>(i + 7) {
            Some("ok") => Some(SpanOutcome::Ok),
            Some("error") => Some(SpanOutcome::Error),
            _ => None,
        },
        started_at: r.get::<_, Option<i64>>(i + 8).map(Timestamp),
        ended_at: r.get::<_, Option<i64>>(i + 9).map(Timestamp),
        usage: (input.is_some() || output.is_some()).then(|| Usage {
            input_tokens: input.unwrap_or(0) as u64,
            output_tokens: output.unwrap_or(0) as u64,
        }),
        usage_final: r.get(i + 12),
        cost_usd: r.get(i + 13),
        cost_given: r.get(i + 14),
        error: r.get(i + 15),
        scores: json_or_default(r.get(i + 16)),
        has_output: r.get(i + 17),
    }
}

/// The stored states of the spans `keys` (session, span) names; missing ones are left out.
pub async fn load_spans(
    c: &ClientWrapper,
    keys: &[(&str, &str)],
) -> Result<HashMap<(String, String), SpanState>, Error> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let (sessions, spans): (Vec<&str>, Vec<&str>) = keys.iter().copied().unzip();
    let rows = query(
        c,
        &format!(
            "SELECT s.session_id, s.span_id, {SPAN_STATE}
             FROM spans s JOIN UNNEST($1::text[], $2::text[]) AS k (session_id, span_id)
               ON s.session_id = k.session_id AND s.span_id = k.span_id"
        ),
        &[&sessions, &spans],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| ((r.get(0), r.get(1)), span_state(r, 2)))
        .collect())
}

/// Writes spans back: hot columns from their states, payloads only where the group brought
/// one, attributes merged key by key into the stored ones. Keys must be distinct.
pub async fn upsert_spans(c: &ClientWrapper, rows: &[SpanRow<'_>]) -> Result<(), Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let col = |f: &dyn Fn(&SpanRow<'_>) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let session_id: Vec<&str> = rows.iter().map(|r| r.session_id).collect();
    let span_id: Vec<&str> = rows.iter().map(|r| r.span_id).collect();
    let trace_id = col(&|r| r.state.trace_id.clone());
    let parent_id = col(&|r| r.state.parent_id.clone());
    let kind = col(&|r| r.state.kind.map(|k| k.as_str().to_owned()));
    let name = col(&|r| r.state.name.clone());
    let agent = col(&|r| r.state.agent.clone());
    let model = col(&|r| r.state.model.clone());
    let provider = col(&|r| r.state.provider.clone());
    let status = col(&|r| r.state.status.map(|s| outcome_str(s).to_owned()));
    let error = col(&|r| r.state.error.clone());
    let scores = col(&|r| {
        (!r.state.scores.is_empty())
            .then(|| serde_json::to_string(&r.state.scores).unwrap_or_default())
    });
    let attributes = col(&|r| {
        r.attributes
            .map(|a| serde_json::to_string(a).unwrap_or_default())
    });
    let ints =
        |f: &dyn Fn(&SpanState) -> Option<i64>| rows.iter().map(|r| f(r.state)).collect::<Vec<_>>();
    let started_at = ints(&|s| s.started_at.map(|t| t.0));
    let ended_at = ints(&|s| s.ended_at.map(|t| t.0));
    let input_tokens = ints(&|s| s.usage.map(|u| u.input_tokens as i64));
    let output_tokens = ints(&|s| s.usage.map(|u| u.output_tokens as i64));
    let usage_final: Vec<bool> = rows.iter().map(|r| r.state.usage_final).collect();
    let cost_given: Vec<bool> = rows.iter().map(|r| r.state.cost_given).collect();
    let cost_usd: Vec<Option<f64>> = rows.iter().map(|r| r.state.cost_usd).collect();
    let input: Vec<Option<&[u8]>> = rows.iter().map(|r| r.input).collect();
    let output: Vec<Option<&[u8]>> = rows.iter().map(|r| r.output).collect();
    let params: Vec<Option<&[u8]>> = rows.iter().map(|r| r.params).collect();
    execute(
        c,
        "INSERT INTO spans AS s (session_id, span_id, trace_id, parent_id, kind, name, agent,
            model, provider, status, started_at, ended_at, input_tokens, output_tokens,
            usage_final, cost_usd, cost_given, error, scores, attributes, input, output, params)
         SELECT session_id, span_id, trace_id, parent_id, kind, name, agent, model, provider,
            status, started_at, ended_at, input_tokens, output_tokens, usage_final, cost_usd,
            cost_given, error, scores, attributes::jsonb, input, output, params
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[],
            $13::bigint[], $14::bigint[], $15::boolean[], $16::float8[], $17::boolean[],
            $18::text[], $19::text[], $20::text[], $21::bytea[], $22::bytea[], $23::bytea[])
           AS u (session_id, span_id, trace_id, parent_id, kind, name, agent, model, provider,
            status, started_at, ended_at, input_tokens, output_tokens, usage_final, cost_usd,
            cost_given, error, scores, attributes, input, output, params)
         ON CONFLICT (session_id, span_id) DO UPDATE SET
            trace_id = excluded.trace_id, parent_id = excluded.parent_id, kind = excluded.kind,
            name = excluded.name, agent = excluded.agent, model = excluded.model,
            provider = excluded.provider, status = excluded.status,
            started_at = excluded.started_at, ended_at = excluded.ended_at,
            input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
            usage_final = excluded.usage_final, cost_usd = excluded.cost_usd,
            cost_given = excluded.cost_given, error = excluded.error, scores = excluded.scores,
            attributes = CASE WHEN excluded.attributes IS NULL THEN s.attributes
                              WHEN s.attributes IS NULL THEN excluded.attributes
                              ELSE s.attributes || excluded.attributes END,
            input = COALESCE(excluded.input, s.input),
            output = COALESCE(excluded.output, s.output),
            params = COALESCE(excluded.params, s.params)",
        &[
            &session_id,
            &span_id,
            &trace_id,
            &parent_id,
            &kind,
            &name,
            &agent,
            &model,
            &provider,
            &status,
            &started_at,
            &ended_at,
            &input_tokens,
            &output_tokens,
            &usage_final,
            &cost_usd,
            &cost_given,
            &error,
            &scores,
            &attributes,
            &input,
            &output,
            &params,
        ],
    )
    .await?;
    Ok(())
}

const SESSION_STATE: &str = "name, status, started_at, has_start, ended_at, tags, metadata,
    budget, error, spans, llm_calls, tool_calls, errors, input_tokens, output_tokens, cost_usd,
    unpriced_llm_calls, traced, idle_ended";

fn session_state(r: &Row, i: usize) -> SessionState {
    SessionState {
        name: r.get(i),
        status: SessionStatus::parse(r.get(i + 1)).unwrap_or(SessionStatus::Running),
        started_at: Timestamp(r.get(i + 2)),
        has_start: r.get(i + 3),
        ended_at: r.get::<_, Option<i64>>(i + 4).map(Timestamp),
        tags: json_or_default(r.get(i + 5)),
        metadata: json_or_default(r.get(i + 6)),
        budget: r
            .get::<_, Option<String>>(i + 7)
            .and_then(|b| serde_json::from_str(&b).ok()),
        error: r.get(i + 8),
        totals: totals_at(r, i + 9),
        traced: r.get(i + 17),
        idle_ended: r.get(i + 18),
    }
}

/// The stored states of the sessions `ids` names; missing ones are left out.
pub async fn load_sessions(
    c: &ClientWrapper,
    ids: &[&str],
) -> Result<HashMap<String, SessionState>, Error> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = query(
        c,
        &format!("SELECT session_id, {SESSION_STATE} FROM sessions WHERE session_id = ANY($1)"),
        &[&ids],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), session_state(r, 1)))
        .collect())
}

/// One session's stored state.
pub async fn load_session(c: &ClientWrapper, id: &str) -> Result<Option<SessionState>, Error> {
    Ok(load_sessions(c, &[id]).await?.remove(id))
}

/// Reads the eight totals columns starting at column `i`.
pub fn totals_at(r: &Row, i: usize) -> Totals {
    Totals {
        spans: r.get(i),
        llm_calls: r.get(i + 1),
        tool_calls: r.get(i + 2),
        errors: r.get(i + 3),
        input_tokens: r.get(i + 4),
        output_tokens: r.get(i + 5),
        cost_usd: r.get(i + 6),
        unpriced_llm_calls: r.get(i + 7),
    }
}

/// Writes sessions' states; `now` (the writer's clock) is when they were last touched, which
/// the idle rule reads. Ids must be distinct.
pub async fn upsert_sessions(
    c: &ClientWrapper,
    sessions: &[(&str, &SessionState)],
    now: Timestamp,
) -> Result<(), Error> {
    if sessions.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = sessions.iter().map(|s| s.0).collect();
    let st = |f: &dyn Fn(&SessionState) -> Option<String>| {
        sessions.iter().map(|s| f(s.1)).collect::<Vec<_>>()
    };
    let name = st(&|s| s.name.clone());
    let status = st(&|s| Some(s.status.as_str().to_owned()));
    let tags = st(&|s| serde_json::to_string(&s.tags).ok());
    let metadata = st(&|s| serde_json::to_string(&s.metadata).ok());
    let budget = st(&|s| {
        s.budget
            .as_ref()
            .and_then(|b| serde_json::to_string(b).ok())
    });
    let error = st(&|s| s.error.clone());
    let int =
        |f: &dyn Fn(&SessionState) -> i64| sessions.iter().map(|s| f(s.1)).collect::<Vec<_>>();
    let started_at = int(&|s| s.started_at.0);
    let ended_at: Vec<Option<i64>> = sessions.iter().map(|s| s.1.ended_at.map(|t| t.0)).collect();
    let spans = int(&|s| s.totals.spans);
    let llm_calls = int(&|s| s.totals.llm_calls);
    let tool_calls = int(&|s| s.totals.tool_calls);
    let errors = int(&|s| s.totals.errors);
    let input_tokens = int(&|s| s.totals.input_tokens);
    let output_tokens = int(&|s| s.totals.output_tokens);
    let unpriced = int(&|s| s.totals.unpriced_llm_calls);
    let cost: Vec<f64> = sessions.iter().map(|s| s.1.totals.cost_usd).collect();
    let flag =
        |f: &dyn Fn(&SessionState) -> bool| sessions.iter().map(|s| f(s.1)).collect::<Vec<_>>();
    let has_start = flag(&|s| s.has_start);
    let traced = flag(&|s| s.traced);
    let idle_ended = flag(&|s| s.idle_ended);
    execute(
        c,
        "INSERT INTO sessions (session_id, name, status, started_at, has_start, ended_at, tags,
            metadata, budget, error, spans, llm_calls, tool_calls, errors, input_tokens,
            output_tokens, cost_usd, unpriced_llm_calls, traced, idle_ended, touched_at)
         SELECT u.*, $21::bigint FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[],
            $5::boolean[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[],
            $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[],
            $16::bigint[], $17::float8[], $18::bigint[], $19::boolean[], $20::boolean[]) AS u
         ON CONFLICT (session_id) DO UPDATE SET
            name = excluded.name, status = excluded.status, started_at = excluded.started_at,
            has_start = excluded.has_start, ended_at = excluded.ended_at, tags = excluded.tags,
            metadata = excluded.metadata, budget = excluded.budget, error = excluded.error,
            spans = excluded.spans, llm_calls = excluded.llm_calls,
            tool_calls = excluded.tool_calls, errors = excluded.errors,
            input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
            cost_usd = excluded.cost_usd, unpriced_llm_calls = excluded.unpriced_llm_calls,
            traced = excluded.traced, idle_ended = excluded.idle_ended,
            touched_at = excluded.touched_at",
        &[
            &ids,
            &name,
            &status,
            &started_at,
            &has_start,
            &ended_at,
            &tags,
            &metadata,
            &budget,
            &error,
            &spans,
            &llm_calls,
            &tool_calls,
            &errors,
            &input_tokens,
            &output_tokens,
            &cost,
            &unpriced,
            &traced,
            &idle_ended,
            &now.0,
        ],
    )
    .await?;
    Ok(())
}

/// Adds to the totals of agents (session, agent) and, for LLM calls, of models (session,
/// model). Keys must be distinct within each list.
pub async fn add_totals(
    c: &ClientWrapper,
    agents: &[((&str, &str), Totals)],
    models: &[((&str, &str), Totals)],
) -> Result<(), Error> {
    if !agents.is_empty() {
        let (keys, t) = columns(agents);
        execute(
            c,
            "INSERT INTO agents AS a (session_id, agent, spans, llm_calls, tool_calls, errors,
                input_tokens, output_tokens, cost_usd, unpriced_llm_calls)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[],
                $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::float8[], $10::bigint[])
             ON CONFLICT (session_id, agent) DO UPDATE SET
                spans = a.spans + excluded.spans, llm_calls = a.llm_calls + excluded.llm_calls,
                tool_calls = a.tool_calls + excluded.tool_calls,
                errors = a.errors + excluded.errors,
                input_tokens = a.input_tokens + excluded.input_tokens,
                output_tokens = a.output_tokens + excluded.output_tokens,
                cost_usd = a.cost_usd + excluded.cost_usd,
                unpriced_llm_calls = a.unpriced_llm_calls + excluded.unpriced_llm_calls",
            &[
                &keys.0,
                &keys.1,
                &t.spans,
                &t.llm_calls,
                &t.tool_calls,
                &t.errors,
                &t.input_tokens,
                &t.output_tokens,
                &t.cost_usd,
                &t.unpriced,
            ],
        )
        .await?;
    }
    if !models.is_empty() {
        let (keys, t) = columns(models);
        execute(
            c,
            "INSERT INTO session_models AS m (session_id, model, requests, input_tokens,
                output_tokens, cost_usd)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[],
                $5::bigint[], $6::float8[])
             ON CONFLICT (session_id, model) DO UPDATE SET
                requests = m.requests + excluded.requests,
                input_tokens = m.input_tokens + excluded.input_tokens,
                output_tokens = m.output_tokens + excluded.output_tokens,
                cost_usd = m.cost_usd + excluded.cost_usd",
            &[
                &keys.0,
                &keys.1,
                &t.llm_calls,
                &t.input_tokens,
                &t.output_tokens,
                &t.cost_usd,
            ],
        )
        .await?;
    }
    Ok(())
}

/// Totals as columns, for `UNNEST`.
#[derive(Default)]
struct TotalsColumns {
    spans: Vec<i64>,
    llm_calls: Vec<i64>,
    tool_calls: Vec<i64>,
    errors: Vec<i64>,
    input_tokens: Vec<i64>,
    output_tokens: Vec<i64>,
    cost_usd: Vec<f64>,
    unpriced: Vec<i64>,
}

type KeyColumns<'a> = (Vec<&'a str>, Vec<&'a str>);

fn columns<'a>(rows: &[((&'a str, &'a str), Totals)]) -> (KeyColumns<'a>, TotalsColumns) {
    let mut keys = (Vec::new(), Vec::new());
    let mut t = TotalsColumns::default();
    for ((a, b), d) in rows {
        keys.0.push(*a);
        keys.1.push(*b);
        t.spans.push(d.spans);
        t.llm_calls.push(d.llm_calls);
        t.tool_calls.push(d.tool_calls);
        t.errors.push(d.errors);
        t.input_tokens.push(d.input_tokens);
        t.output_tokens.push(d.output_tokens);
        t.cost_usd.push(d.cost_usd);
        t.unpriced.push(d.unpriced_llm_calls);
    }
    (keys, t)
}
