//! `session.move` and `span.move`: re-filing a session into another, or a span into another
//! (the same work reported twice), inside the writer's transaction and before the rest of the
//! group is applied.
//!
//! A group is re-filed in two passes. First every move runs: it is recorded (`session_moves`,
//! `span_moves`), and what the moved session or span holds is merged into the target (spans,
//! chunks, events, edges, agents, per-model totals, metrics, the totals), which then stands
//! alone. Then every other message of the group that names something moved is rewritten to
//! name where it went (so the feed carries the new ids too). Since any order of messages
//! gives the same state (`merge`), applying a message to the target directly is the same as
//! applying it to the moved one and moving it after.
//!
//! Each moves once: a later move of the same id is ignored. A move into a session that itself
//! moved goes where that one went (chains are followed a few steps; a cycle is ignored).

use super::rows;
use flightdeck_model::Message;
use flightdeck_model::Timestamp;
use flightdeck_store::merge::SessionState;
use flightdeck_store::refile::{MAX_HOPS, span_ids_mut};
use flightdeck_store::totals::TotalsDelta as Corrections;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// What kinds of moves the database holds: until one exists, nothing needs re-filing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Moved {
    pub sessions: bool,
    pub spans: bool,
}

impl Moved {
    /// What `conn`'s database holds.
    pub fn load(conn: &Connection) -> rusqlite::Result<Moved> {
        let any = |table: &str| {
            conn.query_row(&format!("SELECT EXISTS (SELECT 1 FROM {table})"), [], |r| {
                r.get(0)
            })
        };
        Ok(Moved {
            sessions: any("session_moves")?,
            spans: any("span_moves")?,
        })
    }
}

/// Runs the group's moves and files its messages where their sessions and spans went.
pub fn refile(
    conn: &Connection,
    lists: &mut [&mut [Message]],
    moved: &mut Moved,
    now: Timestamp,
) -> rusqlite::Result<()> {
    for m in lists.iter_mut().flat_map(|l| l.iter_mut()) {
        match m {
            Message::SessionMove(mv) => {
                moved.sessions = true;
                let into = session_now(conn, &mv.into)?.unwrap_or_else(|| mv.into.clone());
                if let Some(went) = session_now(conn, &mv.session_id)? {
                    mv.into = went; // moved before: it stays where it went
                } else if into != mv.session_id {
                    conn.prepare_cached(
                        "INSERT INTO session_moves (session_id, into_id, at) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![mv.session_id, into, now.0])?;
                    merge_session(conn, &mv.session_id, &into, now)?;
                    mv.into = into;
                }
            }
            Message::SpanMove(mv) => {
                moved.spans = true;
                for session in [&mut mv.session_id, &mut mv.into] {
                    if let Some(went) = session_now(conn, session)? {
                        *session = went;
                    }
                }
                let moved_before = span_now(conn, &mv.session_id, &mv.span_id)?.is_some();
                if !moved_before {
                    conn.prepare_cached(
                        "INSERT INTO span_moves (session_id, span_id, into_id, into_span, at)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![
                        mv.session_id,
                        mv.span_id,
                        mv.into,
                        mv.into_span,
                        now.0
                    ])?;
                    merge_span(conn, mv, now)?;
                }
            }
            _ => {}
        }
    }
    let mut sessions: HashMap<String, Option<String>> = HashMap::new();
    let mut spans: HashMap<(String, String), Option<(String, String)>> = HashMap::new();
    for m in lists.iter_mut().flat_map(|l| l.iter_mut()) {
        if matches!(m, Message::SessionMove(_) | Message::SpanMove(_)) {
            continue;
        }
        if moved.sessions
            && let Some(id) = m.session_id_mut()
        {
            if !sessions.contains_key(id.as_str()) {
                let went = session_now(conn, id)?;
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
                let went = span_now(conn, session, span)?;
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
fn session_now(conn: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT into_id FROM session_moves WHERE session_id = ?1")?;
    let mut at: Option<String> = None;
    for _ in 0..MAX_HOPS {
        let from = at.as_deref().unwrap_or(id);
        match stmt
            .query_row([from], |r| r.get::<_, String>(0))
            .optional()?
        {
            Some(next) if next != id => at = Some(next),
            _ => break,
        }
    }
    Ok(at)
}

/// Where a span went, when it moved.
fn span_now(
    conn: &Connection,
    session: &str,
    span: &str,
) -> rusqlite::Result<Option<(String, String)>> {
    conn.prepare_cached(
        "SELECT into_id, into_span FROM span_moves WHERE session_id = ?1 AND span_id = ?2",
    )?
    .query_row(params![session, span], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
}

/// Merges everything of session `from` into `into` and removes `from`.
fn merge_session(
    conn: &Connection,
    from: &str,
    into: &str,
    now: Timestamp,
) -> rusqlite::Result<()> {
    let Some(moved) = rows::load_session(conn, from)? else {
        return Ok(()); // nothing filed under it yet: the move only redirects what comes
    };
    let mut fix = Corrections::default();
    let shared: Vec<String> = conn
        .prepare_cached(
            "SELECT a.span_id FROM spans a JOIN spans b ON b.session_id = ?2 AND b.span_id = a.span_id
             WHERE a.session_id = ?1",
        )?
        .query_map(params![from, into], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for span in shared {
        merge_span_rows(conn, (from, &span), (into, &span), &mut fix)?;
    }
    for sql in [
        "UPDATE spans SET session_id = ?2 WHERE session_id = ?1",
        "UPDATE OR IGNORE span_chunks SET session_id = ?2 WHERE session_id = ?1",
        "DELETE FROM span_chunks WHERE session_id = ?1",
        "UPDATE OR IGNORE events SET session_id = ?2 WHERE session_id = ?1",
        "DELETE FROM events WHERE session_id = ?1",
        "UPDATE OR IGNORE edges SET session_id = ?2 WHERE session_id = ?1",
        "DELETE FROM edges WHERE session_id = ?1",
        "UPDATE OR IGNORE metrics SET session_id = ?2 WHERE session_id = ?1",
        "DELETE FROM metrics WHERE session_id = ?1",
        "INSERT INTO agents (session_id, agent, status, role, model, task, status_at, last_seen,
            spans, llm_calls, tool_calls, errors, input_tokens, output_tokens, cost_usd)
         SELECT ?2, agent, status, role, model, task, status_at, last_seen, spans, llm_calls,
            tool_calls, errors, input_tokens, output_tokens, cost_usd
         FROM agents WHERE session_id = ?1 AND true
         ON CONFLICT (session_id, agent) DO UPDATE SET
            status = CASE WHEN agents.status_at IS NULL OR excluded.status_at > agents.status_at
                     THEN COALESCE(excluded.status, agents.status) ELSE agents.status END,
            task = CASE WHEN agents.status_at IS NULL OR excluded.status_at > agents.status_at
                   THEN COALESCE(excluded.task, agents.task) ELSE agents.task END,
            status_at = MAX(COALESCE(agents.status_at, excluded.status_at), COALESCE(excluded.status_at, agents.status_at)),
            role = COALESCE(agents.role, excluded.role),
            model = COALESCE(agents.model, excluded.model),
            last_seen = MAX(COALESCE(agents.last_seen, excluded.last_seen), COALESCE(excluded.last_seen, agents.last_seen)),
            spans = agents.spans + excluded.spans, llm_calls = agents.llm_calls + excluded.llm_calls,
            tool_calls = agents.tool_calls + excluded.tool_calls, errors = agents.errors + excluded.errors,
            input_tokens = agents.input_tokens + excluded.input_tokens,
            output_tokens = agents.output_tokens + excluded.output_tokens,
            cost_usd = agents.cost_usd + excluded.cost_usd",
        "DELETE FROM agents WHERE session_id = ?1",
        "INSERT INTO session_models (session_id, model, requests, input_tokens, output_tokens, cost_usd)
         SELECT ?2, model, requests, input_tokens, output_tokens, cost_usd
         FROM session_models WHERE session_id = ?1 AND true
         ON CONFLICT (session_id, model) DO UPDATE SET
            requests = session_models.requests + excluded.requests,
            input_tokens = session_models.input_tokens + excluded.input_tokens,
            output_tokens = session_models.output_tokens + excluded.output_tokens,
            cost_usd = session_models.cost_usd + excluded.cost_usd",
        "DELETE FROM session_models WHERE session_id = ?1",
        "DELETE FROM sessions WHERE session_id = ?1",
    ] {
        let mut stmt = conn.prepare_cached(sql)?;
        match sql.contains("?2") {
            true => stmt.execute(params![from, into])?,
            false => stmt.execute(params![from])?,
        };
    }
    let state = match rows::load_session(conn, into)? {
        Some(mut target) => {
            target.absorb(&moved);
            target
        }
        None => moved,
    };
    rows::upsert_session(conn, into, &state, now)?;
    // The moved totals count shared spans twice: the corrections filed under `from` now
    // apply to `into`, where those totals went.
    fix.rename(from, into);
    write_fix(fix, conn, now)
}

/// Merges the span `mv.span_id` into `mv.into_span`: the same work reported twice.
fn merge_span(
    conn: &Connection,
    mv: &flightdeck_model::message::SpanMove,
    now: Timestamp,
) -> rusqlite::Result<()> {
    let (from, into) = (
        (mv.session_id.as_str(), mv.span_id.as_str()),
        (mv.into.as_str(), mv.into_span.as_str()),
    );
    let Some(moved) = rows::load_span(conn, from.0, from.1)? else {
        return Ok(());
    };
    let mut fix = Corrections::default();
    if rows::load_session(conn, into.0)?.is_none() {
        let seen = moved.started_at.or(moved.ended_at).unwrap_or(now);
        rows::upsert_session(conn, into.0, &SessionState::new(seen), now)?;
    }
    if rows::load_span(conn, into.0, into.1)?.is_some() {
        merge_span_rows(conn, from, into, &mut fix)?;
    } else {
        conn.prepare_cached(
            "UPDATE spans SET session_id = ?3, span_id = ?4 WHERE session_id = ?1 AND span_id = ?2",
        )?
        .execute(params![from.0, from.1, into.0, into.1])?;
        fix.add(from.0, &moved, -1);
        fix.add(into.0, &moved, 1);
    }
    for sql in [
        "UPDATE OR IGNORE span_chunks SET session_id = ?3, span_id = ?4
         WHERE session_id = ?1 AND span_id = ?2",
        "DELETE FROM span_chunks WHERE session_id = ?1 AND span_id = ?2",
        "UPDATE OR IGNORE events SET session_id = ?3, span_id = ?4
         WHERE session_id = ?1 AND span_id = ?2",
        "DELETE FROM events WHERE session_id = ?1 AND span_id = ?2",
        "UPDATE spans SET parent_id = ?4 WHERE session_id = ?1 AND parent_id = ?2",
    ] {
        let mut stmt = conn.prepare_cached(sql)?;
        match sql.contains("?4") {
            true => stmt.execute(params![from.0, from.1, into.0, into.1])?,
            false => stmt.execute(params![from.0, from.1])?,
        };
    }
    write_fix(fix, conn, now)
}

/// Makes the copies of one span in `from` and `into` one, in `into`: the kept copy takes what
/// the moved one adds (payloads and attributes too); the moved copy is deleted. Records how the
/// totals must change.
fn merge_span_rows(
    conn: &Connection,
    from: (&str, &str),
    into: (&str, &str),
    fix: &mut Corrections,
) -> rusqlite::Result<()> {
    let (Some(moved), Some(kept)) = (
        rows::load_span(conn, from.0, from.1)?,
        rows::load_span(conn, into.0, into.1)?,
    ) else {
        return Ok(());
    };
    let mut merged = kept.clone();
    merged.absorb(&moved);
    fix.add(from.0, &moved, -1);
    fix.add(into.0, &kept, -1);
    fix.add(into.0, &merged, 1);
    rows::merge_span_row(conn, from, into, &merged)
}

/// Writes the corrections of totals that moving spans made.
fn write_fix(fix: Corrections, conn: &Connection, now: Timestamp) -> rusqlite::Result<()> {
    for (session, delta) in fix.sessions.iter().filter(|(_, d)| !d.is_zero()) {
        if let Some(mut state) = rows::load_session(conn, session)? {
            state.totals.add(delta, 1);
            rows::upsert_session(conn, session, &state, now)?;
        }
    }
    for ((session, agent), delta) in fix.agents.iter().filter(|(_, d)| !d.is_zero()) {
        rows::add_agent_totals(conn, session, agent, delta)?;
    }
    for ((session, model), delta) in fix.models.iter().filter(|(_, d)| !d.is_zero()) {
        rows::add_model_totals(conn, session, model, delta)?;
    }
    Ok(())
}
