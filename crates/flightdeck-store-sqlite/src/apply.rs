//! Applies a group of messages inside the writer's transaction.
//!
//! Each span, session and agent touched by the group is loaded once, every message about it
//! is merged in memory (rules in `merge`), and it is written back once. Totals of sessions,
//! agents and models change by the difference between a span's old and new contribution, so
//! they stay exact whatever the order or repetition of messages (`flightdeck_store::totals`).

use super::rows;
use flightdeck_model::{Attributes, Message, Pricing, SpanView, Timestamp, message as m};
use flightdeck_store::merge::{SessionState, SpanState};
use flightdeck_store::prepare::{Blobs, edge_id, event_id};
use flightdeck_store::totals::TotalsDelta;
use rusqlite::{Connection, params};
use std::collections::HashMap;

pub(super) struct SpanWork<'m> {
    pub old: Option<SpanState>,
    pub state: SpanState,
    pub input: Option<&'m [u8]>,
    pub output: Option<&'m [u8]>,
    pub params: Option<&'m [u8]>,
    pub attributes: Option<Attributes>,
    pub chunks: Vec<(i64, &'m str)>,
}

struct SessionWork {
    state: SessionState,
}

/// The in-memory work of one group commit.
pub struct Apply<'c, 'm> {
    conn: &'c Connection,
    pricing: &'c Pricing,
    /// The writer's clock for this group: when its sessions were last touched.
    now: Timestamp,
    spans: HashMap<(&'m str, &'m str), SpanWork<'m>>,
    span_order: Vec<(&'m str, &'m str)>,
    sessions: HashMap<&'m str, SessionWork>,
    session_order: Vec<&'m str>,
}

impl<'c, 'm> Apply<'c, 'm> {
    pub fn new(conn: &'c Connection, pricing: &'c Pricing, now: Timestamp) -> Self {
        Apply {
            conn,
            pricing,
            now,
            spans: HashMap::new(),
            span_order: Vec::new(),
            sessions: HashMap::new(),
            session_order: Vec::new(),
        }
    }

    /// Applies one message (with its encoded payloads).
    pub fn message(&mut self, msg: &'m Message, blobs: &'m Blobs) -> rusqlite::Result<()> {
        match msg {
            Message::SessionStart(s) => {
                let at = s.started_at.unwrap_or_else(Timestamp::now);
                self.session(&s.session_id, at)?.state.start(
                    s.name.as_deref(),
                    at,
                    &s.tags,
                    &s.metadata,
                    &s.budget,
                );
            }
            Message::SessionEnd(s) => {
                let at = s.ended_at.unwrap_or_else(Timestamp::now);
                self.session(&s.session_id, at)?
                    .state
                    .end(at, s.status, s.error.as_deref());
            }
            // The moves ran before the group (`moves`); the sessions they changed are
            // touched, so their new totals reach the feed.
            Message::SessionMove(m) => self.touch(&m.into)?,
            Message::SpanMove(m) => {
                self.touch(&m.session_id)?;
                self.touch(&m.into)?;
            }
            Message::SpanStart(s) => self.span_message(s.view(), blobs)?,
            Message::SpanUpdate(s) => self.span_message(s.view(), blobs)?,
            Message::SpanEnd(s) => self.span_message(s.view(), blobs)?,
            Message::Span(s) => self.span_message(s.view(), blobs)?,
            Message::Edge(e) => self.edge(e)?,
            Message::Event(e) => self.event(e, blobs)?,
            Message::AgentStatus(a) => self.agent_status(a)?,
            Message::Metric(x) => self.metric(x)?,
        }
        Ok(())
    }

    /// Counts a session that exists as touched by the group.
    fn touch(&mut self, id: &'m str) -> rusqlite::Result<()> {
        if !self.sessions.contains_key(id)
            && let Some(state) = rows::load_session(self.conn, id)?
        {
            self.sessions.insert(id, SessionWork { state });
            self.session_order.push(id);
        }
        Ok(())
    }

    fn session(&mut self, id: &'m str, seen: Timestamp) -> rusqlite::Result<&mut SessionWork> {
        if !self.sessions.contains_key(id) {
            let state =
                rows::load_session(self.conn, id)?.unwrap_or_else(|| SessionState::new(seen));
            self.sessions.insert(id, SessionWork { state });
            self.session_order.push(id);
        }
        let work = self.sessions.get_mut(id).expect("inserted above");
        work.state.saw(Some(seen));
        Ok(work)
    }

    /// Any span message, merged into its span's state (rules in `merge`); its payloads,
    /// attributes and chunk are kept for the write-back.
    fn span_message(&mut self, v: SpanView<'m>, blobs: &'m Blobs) -> rusqlite::Result<()> {
        let seen = v.started_at.or(v.ended_at).or(v.at);
        self.session(v.session_id, seen.unwrap_or_else(Timestamp::now))?
            .state
            .saw_span(v.ended_at.or(v.started_at), v.trace_id.is_some());
        let key = (v.session_id, v.span_id);
        if !self.spans.contains_key(&key) {
            let old = rows::load_span(self.conn, v.session_id, v.span_id)?;
            let state = old.clone().unwrap_or_default();
            self.spans.insert(
                key,
                SpanWork {
                    old,
                    state,
                    input: None,
                    output: None,
                    params: None,
                    attributes: None,
                    chunks: Vec::new(),
                },
            );
            self.span_order.push(key);
        }
        let w = self.spans.get_mut(&key).expect("inserted above");
        w.state.apply(&v, self.pricing);
        w.input = blobs.input.as_deref().or(w.input);
        w.output = blobs.output.as_deref().or(w.output);
        w.params = blobs.params.as_deref().or(w.params);
        if let Some(a) = v.attributes {
            let merged = w.attributes.get_or_insert_with(Attributes::new);
            merged.extend(a.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let Some(text) = v.output_delta {
            // A chunk is placed by its seq, else by its time.
            let at = v.at.unwrap_or_else(Timestamp::now);
            let position = v.seq.map_or(at.0, |q| i64::try_from(q).unwrap_or(i64::MAX));
            w.chunks.push((position, text));
        }
        Ok(())
    }

    fn edge(&mut self, e: &'m m::Edge) -> rusqlite::Result<()> {
        let at = e.at.unwrap_or_else(Timestamp::now);
        self.session(&e.session_id, at)?;
        let id = edge_id(e);
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO edges (session_id, edge_id, kind, from_span, to_span, \
                 from_agent, to_agent, label, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                e.session_id,
                id,
                e.kind.as_str(),
                e.from_span,
                e.to_span,
                e.from_agent,
                e.to_agent,
                e.label,
                at.0
            ])?;
        Ok(())
    }

    fn event(&mut self, e: &'m m::Event, blobs: &Blobs) -> rusqlite::Result<()> {
        let at = e.at.unwrap_or_else(Timestamp::now);
        self.session(&e.session_id, at)?;
        let id = event_id(e);
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO events (session_id, event_id, span_id, at, category, \
                 level, agent, name, message, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                e.session_id,
                id,
                e.span_id,
                at.0,
                e.category,
                e.level.map(rows::level_str),
                e.agent,
                e.name,
                e.message,
                blobs.data
            ])?;
        Ok(())
    }

    fn agent_status(&mut self, a: &'m m::AgentStatus) -> rusqlite::Result<()> {
        let at = a.at.unwrap_or_else(Timestamp::now);
        self.session(&a.session_id, at)?;
        // A report older than the one stored does not overwrite it (out-of-order delivery).
        self.conn
            .prepare_cached(
                "INSERT INTO agents (session_id, agent, status, role, model, task, status_at, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, CASE WHEN ?3 IS NULL THEN NULL ELSE ?7 END, ?7)
                 ON CONFLICT (session_id, agent) DO UPDATE SET
                   status = CASE WHEN excluded.status IS NOT NULL
                                  AND (agents.status_at IS NULL OR excluded.status_at >= agents.status_at)
                             THEN excluded.status ELSE agents.status END,
                   task = CASE WHEN excluded.status IS NOT NULL
                                  AND (agents.status_at IS NULL OR excluded.status_at >= agents.status_at)
                             THEN excluded.task ELSE agents.task END,
                   status_at = MAX(COALESCE(agents.status_at, excluded.status_at), COALESCE(excluded.status_at, agents.status_at)),
                   role = COALESCE(excluded.role, agents.role),
                   model = COALESCE(excluded.model, agents.model),
                   last_seen = MAX(COALESCE(agents.last_seen, excluded.last_seen), excluded.last_seen)",
            )?
            .execute(params![
                a.session_id,
                a.agent,
                a.status.map(|s| s.as_str()),
                a.role,
                a.model,
                a.task,
                at.0
            ])?;
        Ok(())
    }

    fn metric(&mut self, x: &'m m::Metric) -> rusqlite::Result<()> {
        let at = x.at.unwrap_or_else(Timestamp::now);
        if let Some(sid) = &x.session_id {
            self.session(sid, at)?;
        }
        let labels = serde_json::to_string(&x.labels).unwrap_or_else(|_| "{}".into());
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO metrics (name, labels, session_id, at, value, unit) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                x.name,
                labels,
                x.session_id.as_deref().unwrap_or(""),
                at.0,
                x.value,
                x.unit
            ])?;
        Ok(())
    }

    /// Writes every touched span and session once, with the totals they changed. Returns the
    /// ids of the touched sessions.
    pub fn finish(mut self) -> rusqlite::Result<Vec<String>> {
        let mut delta = TotalsDelta::default();
        for key in &self.span_order {
            let w = &self.spans[key];
            rows::upsert_span(self.conn, key.0, key.1, w)?;
            delta.changed(key.0, w.old.as_ref(), &w.state);
            let mut insert_chunk = self.conn.prepare_cached(
                "INSERT OR IGNORE INTO span_chunks (session_id, span_id, seq, text) VALUES (?1, ?2, ?3, ?4)",
            )?;
            if w.state.has_output {
                if w.old.as_ref().is_some_and(|o| !o.has_output) {
                    self.conn
                        .prepare_cached(
                            "DELETE FROM span_chunks WHERE session_id = ?1 AND span_id = ?2",
                        )?
                        .execute(params![key.0, key.1])?;
                }
            } else {
                for (seq, text) in &w.chunks {
                    insert_chunk.execute(params![key.0, key.1, seq, text])?;
                }
            }
        }
        for (id, d) in &delta.sessions {
            if let Some(work) = self.sessions.get_mut(id.as_str()) {
                work.state.totals.add(d, 1);
            }
        }
        for ((session, agent), d) in delta.agents.iter().filter(|(_, d)| !d.is_zero()) {
            rows::add_agent_totals(self.conn, session, agent, d)?;
        }
        for ((session, model), d) in delta.models.iter().filter(|(_, d)| !d.is_zero()) {
            rows::add_model_totals(self.conn, session, model, d)?;
        }
        for id in &self.session_order {
            rows::upsert_session(self.conn, id, &self.sessions[id].state, self.now)?;
        }
        Ok(self.session_order.iter().map(|s| s.to_string()).collect())
    }
}
