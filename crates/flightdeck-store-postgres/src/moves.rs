//! `session.move` and `span.move` inside the writer's transaction, before the rest of the
//! group is applied: the rules of the SQLite store's `moves.rs` (each id moves once, chains
//! are followed a few hops, a move's messages and later ones are re-filed where it went), in
//! PostgreSQL. Rows change session by `INSERT ... SELECT` then `DELETE`, never by updating
//! `session_id`: Citus cannot update a distribution column.

use crate::rows::{self, SpanRow};
use crate::sql::{execute, query, query_opt};
use deadpool_postgres::ClientWrapper;
use flightdeck_model::Message;
use flightdeck_model::Timestamp;
use flightdeck_model::message::SpanMove;
use flightdeck_model::record::Totals;
use flightdeck_store::merge::SessionState;
use flightdeck_store::refile::{MAX_HOPS, span_ids_mut};
use flightdeck_store::totals::TotalsDelta;
use std::collections::HashMap;
use tokio_postgres::Error;

/// What kinds of moves the database holds: until one exists, nothing needs re-filing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Moved {
    pub sessions: bool,
    pub spans: bool,
}

impl Moved {
    /// What the database holds.
    pub async fn load(c: &ClientWrapper) -> Result<Moved, Error> {
        let row = query_opt(
            c,
            "SELECT EXISTS (SELECT 1 FROM session_moves), EXISTS (SELECT 1 FROM span_moves)",
            &[],
        )
        .await?;
        Ok(row.map_or(Moved::default(), |r| Moved {
            sessions: r.get(0),
            spans: r.get(1),
        }))
    }
}

/// Runs the group's moves and files its messages where their sessions and spans went.
pub async fn refile(
    c: &ClientWrapper,
    messages: &mut [&mut Message],
    moved: &mut Moved,
    now: Timestamp,
) -> Result<(), Error> {
    for m in messages.iter_mut() {
        match &mut **m {
            Message::SessionMove(mv) => {
                moved.sessions = true;
                let into = session_now(c, &mv.into)
                    .await?
                    .unwrap_or_else(|| mv.into.clone());
                if let Some(went) = session_now(c, &mv.session_id).await? {
                    mv.into = went; // moved before: it stays where it went
                } else if into != mv.session_id {
                    execute(
                        c,
                        "INSERT INTO session_moves (session_id, into_id, at) VALUES ($1, $2, $3)",
                        &[&mv.session_id, &into, &now.0],
                    )
                    .await?;
                    merge_session(c, &mv.session_id, &into, now).await?;
                    mv.into = into;
                }
            }
            Message::SpanMove(mv) => {
                moved.spans = true;
                for session in [&mut mv.session_id, &mut mv.into] {
                    if let Some(went) = session_now(c, session).await? {
                        *session = went;
                    }
                }
                if span_now(c, &mv.session_id, &mv.span_id).await?.is_none() {
                    execute(
                        c,
                        "INSERT INTO span_moves (session_id, span_id, into_id, into_span, at)
                         VALUES ($1, $2, $3, $4, $5)",
                        &[&mv.session_id, &mv.span_id, &mv.into, &mv.into_span, &now.0],
                    )
                    .await?;
                    merge_span(c, mv, now).await?;
                }
            }
            _ => {}
        }
    }
    let mut sessions: HashMap<String, Option<String>> = HashMap::new();
    let mut spans: HashMap<(String, String), Option<(String, String)>> = HashMap::new();
    for m in messages.iter_mut() {
        if matches!(**m, Message::SessionMove(_) | Message::SpanMove(_)) {
            continue;
        }
        if moved.sessions
            && let Some(id) = m.session_id_mut()
        {
            if !sessions.contains_key(id.as_str()) {
                let went = session_now(c, id).await?;
                sessions.insert(id.clone(), went);
            }
            if let Some(Some(went)) = sessions.get(id.as_str()) {
                id.clone_from(went);
            }
        }
        if moved.spans
            && let Some((session, span)) = span_ids_mut(m)
        {
            let key = (session.clone(), span.clone());
            if !spans.contains_key(&key) {
                let went = span_now(c, session, span).await?;
                spans.insert(key.clone(), went);
            }
            if let Some(Some((s, id))) = spans.get(&key) {
                session.clone_from(s);
                span.clone_from(id);
            }
        }
    }
    Ok(())
}

/// Where a session went, following moves; `None` if it never moved.
async fn session_now(c: &ClientWrapper, id: &str) -> Result<Option<String>, Error> {
    let mut at: Option<String> = None;
    for _ in 0..MAX_HOPS {
        let from = at.as_deref().unwrap_or(id);
        let next = query_opt(
            c,
            "SELECT into_id FROM session_moves WHERE session_id = $1",
            &[&from],
        )
        .await?
        .map(|r| r.get::<_, String>(0));
        match next {
            Some(next) if next != id => at = Some(next),
            _ => break,
        }
    }
    Ok(at)
}

/// Where a span went, when it moved.
async fn span_now(
    c: &ClientWrapper,
    session: &str,
    span: &str,
) -> Result<Option<(String, String)>, Error> {
    Ok(query_opt(
        c,
        "SELECT into_id, into_span FROM span_moves WHERE session_id = $1 AND span_id = $2",
        &[&session, &span],
    )
    .await?
    .map(|r| (r.get(0), r.get(1))))
}

/// The columns of each table a session's rows are moved with, after `session_id`.
const MOVED_TABLES: [(&str, &str); 5] = [
    (
        "spans",
        "span_id, trace_id, parent_id, kind, name, agent, model, provider, status, started_at, \
         ended_at, input_tokens, output_tokens, usage_final, cost_usd, cost_given, error, \
         scores, attributes, input, output, params",
    ),
    ("span_chunks", "span_id, seq, text"),
    (
        "events",
        "id, event_id, span_id, at, category, level, agent, name, message, data",
    ),
    (
        "edges",
        "edge_id, kind, from_span, to_span, from_agent, to_agent, label, at",
    ),
    ("metrics", "name, labels, at, value, unit"),
];

/// Merges everything of session `from` into `into` and removes `from`.
async fn merge_session(
    c: &ClientWrapper,
    from: &str,
    into: &str,
    now: Timestamp,
) -> Result<(), Error> {
    let Some(moved) = rows::load_session(c, from).await? else {
        return Ok(()); // nothing filed under it yet: the move only redirects what comes
    };
    let mut fix = TotalsDelta::default();
    let shared: Vec<String> = query(
        c,
        "SELECT a.span_id FROM spans a JOIN spans b ON b.session_id = $2 AND b.span_id = a.span_id
         WHERE a.session_id = $1",
        &[&from, &into],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    for span in shared {
        merge_span_rows(c, (from, &span), (into, &span), &mut fix).await?;
    }
    for (table, columns) in MOVED_TABLES {
        execute(
            c,
            &format!(
                "INSERT INTO {table} (session_id, {columns}) SELECT $2, {columns} FROM {table}
                 WHERE session_id = $1 ON CONFLICT DO NOTHING"
            ),
            &[&from, &into],
        )
        .await?;
        execute(
            c,
            &format!("DELETE FROM {table} WHERE session_id = $1"),
            &[&from],
        )
        .await?;
    }
    for sql in [
        "INSERT INTO agents AS a (session_id, agent, status, role, model, task, status_at,
            last_seen, spans, llm_calls, tool_calls, errors, input_tokens, output_tokens,
            cost_usd, unpriced_llm_calls)
         SELECT $2, agent, status, role, model, task, status_at, last_seen, spans, llm_calls,
            tool_calls, errors, input_tokens, output_tokens, cost_usd, unpriced_llm_calls
         FROM agents WHERE session_id = $1
         ON CONFLICT (session_id, agent) DO UPDATE SET
            status = CASE WHEN a.status_at IS NULL OR excluded.status_at > a.status_at
                     THEN COALESCE(excluded.status, a.status) ELSE a.status END,
            task = CASE WHEN a.status_at IS NULL OR excluded.status_at > a.status_at
                   THEN COALESCE(excluded.task, a.task) ELSE a.task END,
            status_at = GREATEST(a.status_at, excluded.status_at),
            role = COALESCE(a.role, excluded.role), model = COALESCE(a.model, excluded.model),
            last_seen = GREATEST(a.last_seen, excluded.last_seen),
            spans = a.spans + excluded.spans, llm_calls = a.llm_calls + excluded.llm_calls,
            tool_calls = a.tool_calls + excluded.tool_calls, errors = a.errors + excluded.errors,
            input_tokens = a.input_tokens + excluded.input_tokens,
            output_tokens = a.output_tokens + excluded.output_tokens,
            cost_usd = a.cost_usd + excluded.cost_usd,
            unpriced_llm_calls = a.unpriced_llm_calls + excluded.unpriced_llm_calls",
        "INSERT INTO session_models AS m (session_id, model, requests, input_tokens,
            output_tokens, cost_usd)
         SELECT $2, model, requests, input_tokens, output_tokens, cost_usd
         FROM session_models WHERE session_id = $1
         ON CONFLICT (session_id, model) DO UPDATE SET
            requests = m.requests + excluded.requests,
            input_tokens = m.input_tokens + excluded.input_tokens,
            output_tokens = m.output_tokens + excluded.output_tokens,
            cost_usd = m.cost_usd + excluded.cost_usd",
    ] {
        execute(c, sql, &[&from, &into]).await?;
    }
    for table in ["agents", "session_models", "sessions"] {
        execute(
            c,
            &format!("DELETE FROM {table} WHERE session_id = $1"),
            &[&from],
        )
        .await?;
    }
    let state = match rows::load_session(c, into).await? {
        Some(mut target) => {
            target.absorb(&moved);
            target
        }
        None => moved,
    };
    rows::upsert_sessions(c, &[(into, &state)], now).await?;
    // The moved totals count shared spans twice: the corrections filed under `from` now
    // apply to `into`, where those totals went.
    fix.rename(from, into);
    write_fix(c, fix, now).await
}

/// Merges the span `mv.span_id` into `mv.into_span`: the same work reported twice.
async fn merge_span(c: &ClientWrapper, mv: &SpanMove, now: Timestamp) -> Result<(), Error> {
    let (from, into) = (
        (mv.session_id.as_str(), mv.span_id.as_str()),
        (mv.into.as_str(), mv.into_span.as_str()),
    );
    let Some(moved) = rows::load_spans(c, &[from]).await?.into_values().next() else {
        return Ok(());
    };
    let mut fix = TotalsDelta::default();
    if rows::load_session(c, into.0).await?.is_none() {
        let seen = moved.started_at.or(moved.ended_at).unwrap_or(now);
        rows::upsert_sessions(c, &[(into.0, &SessionState::new(seen))], now).await?;
    }
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
        [&from.0, &from.1, &into.0, &into.1];
    if rows::load_spans(c, &[into]).await?.is_empty() {
        let columns = MOVED_TABLES[0].1.replacen("span_id, ", "", 1);
        execute(
            c,
            &format!(
                "INSERT INTO spans (session_id, span_id, {columns}) SELECT $3, $4, {columns}
                 FROM spans WHERE session_id = $1 AND span_id = $2"
            ),
            &params,
        )
        .await?;
        execute(
            c,
            "DELETE FROM spans WHERE session_id = $1 AND span_id = $2",
            &params[..2],
        )
        .await?;
        fix.add(from.0, &moved, -1);
        fix.add(into.0, &moved, 1);
    } else {
        merge_span_rows(c, from, into, &mut fix).await?;
    }
    execute(
        c,
        "INSERT INTO span_chunks (session_id, span_id, seq, text) SELECT $3, $4, seq, text
         FROM span_chunks WHERE session_id = $1 AND span_id = $2 ON CONFLICT DO NOTHING",
        &params,
    )
    .await?;
    if from.0 == into.0 {
        // Within a session an event keeps its key: only its span changes.
        execute(
            c,
            "UPDATE events SET span_id = $3 WHERE session_id = $1 AND span_id = $2",
            &[&from.0, &from.1, &into.1],
        )
        .await?;
    } else {
        execute(
            c,
            "INSERT INTO events (session_id, span_id, id, event_id, at, category, level, agent,
                name, message, data)
             SELECT $3, $4, id, event_id, at, category, level, agent, name, message, data
             FROM events WHERE session_id = $1 AND span_id = $2 ON CONFLICT DO NOTHING",
            &params,
        )
        .await?;
    }
    for table in ["span_chunks", "events"] {
        execute(
            c,
            &format!("DELETE FROM {table} WHERE session_id = $1 AND span_id = $2"),
            &params[..2],
        )
        .await?;
    }
    execute(
        c,
        "UPDATE spans SET parent_id = $3 WHERE session_id = $1 AND parent_id = $2",
        &[&from.0, &from.1, &into.1],
    )
    .await?;
    write_fix(c, fix, now).await
}

/// Makes the copies of one span in `from` and `into` one, in `into`: the kept copy takes what
/// the moved one adds (payloads and attributes too); the moved copy is deleted. Records how the
/// totals must change.
async fn merge_span_rows(
    c: &ClientWrapper,
    from: (&str, &str),
    into: (&str, &str),
    fix: &mut TotalsDelta,
) -> Result<(), Error> {
    let mut both = rows::load_spans(c, &[from, into]).await?;
    let key = |k: (&str, &str)| (k.0.to_owned(), k.1.to_owned());
    let (Some(moved), Some(kept)) = (both.remove(&key(from)), both.remove(&key(into))) else {
        return Ok(());
    };
    let mut merged = kept.clone();
    merged.absorb(&moved);
    fix.add(from.0, &moved, -1);
    fix.add(into.0, &kept, -1);
    fix.add(into.0, &merged, 1);
    execute(
        c,
        "UPDATE spans AS k SET
            input = COALESCE(k.input, m.input), output = COALESCE(k.output, m.output),
            params = COALESCE(k.params, m.params),
            attributes = CASE WHEN m.attributes IS NULL THEN k.attributes
                              WHEN k.attributes IS NULL THEN m.attributes
                              ELSE m.attributes || k.attributes END
         FROM spans AS m
         WHERE k.session_id = $3 AND k.span_id = $4 AND m.session_id = $1 AND m.span_id = $2",
        &[&from.0, &from.1, &into.0, &into.1],
    )
    .await?;
    rows::upsert_spans(
        c,
        &[SpanRow {
            session_id: into.0,
            span_id: into.1,
            state: &merged,
            input: None,
            output: None,
            params: None,
            attributes: None,
        }],
    )
    .await?;
    execute(
        c,
        "DELETE FROM spans WHERE session_id = $1 AND span_id = $2",
        &[&from.0, &from.1],
    )
    .await?;
    Ok(())
}

/// Writes the corrections of totals that moving spans made.
async fn write_fix(c: &ClientWrapper, fix: TotalsDelta, now: Timestamp) -> Result<(), Error> {
    for (session, delta) in fix.sessions.iter().filter(|(_, d)| !d.is_zero()) {
        if let Some(mut state) = rows::load_session(c, session).await? {
            state.totals.add(delta, 1);
            rows::upsert_sessions(c, &[(session, &state)], now).await?;
        }
    }
    let agents: Vec<_> = keyed(&fix.agents).collect();
    let models: Vec<_> = keyed(&fix.models).collect();
    rows::add_totals(c, &agents, &models).await
}

/// The non-zero changes of a map of totals, with borrowed keys.
fn keyed(m: &HashMap<(String, String), Totals>) -> impl Iterator<Item = ((&str, &str), Totals)> {
    m.iter()
        .filter(|(_, d)| !d.is_zero())
        .map(|((s, k), d)| ((s.as_str(), k.as_str()), *d))
}
