//! Applies a group of messages inside the writer's transaction, in few statements.
//!
//! Three steps: the states of every span and session the group names are loaded in one query
//! each; every message is merged into them in memory, in order (rules in `merge`); then each
//! table is written with one multi-row statement (`UNNEST` of column arrays). Totals of
//! sessions, agents and models change by the difference between a span's old and new
//! contribution (`totals`), so they stay exact whatever the order or repetition of messages.

use crate::rows::{self, SpanRow, level_str};
use crate::sql::execute;
use deadpool_postgres::ClientWrapper;
use flightdeck_model::{Attributes, Message, Pricing, SpanView, Timestamp, message as m};
use flightdeck_store::merge::{SessionState, SpanState};
use flightdeck_store::prepare::{Blobs, edge_id, event_id};
use flightdeck_store::totals::TotalsDelta;
use std::collections::HashMap;
use tokio_postgres::Error;

struct SpanWork<'m> {
    old: Option<SpanState>,
    state: SpanState,
    input: Option<&'m [u8]>,
    output: Option<&'m [u8]>,
    params: Option<&'m [u8]>,
    attributes: Option<Attributes>,
    chunks: Vec<(i64, &'m str)>,
}

/// The in-memory work of one group commit.
struct Group<'m> {
    pricing: &'m Pricing,
    spans: HashMap<(&'m str, &'m str), SpanWork<'m>>,
    span_order: Vec<(&'m str, &'m str)>,
    stored_spans: HashMap<(String, String), SpanState>,
    sessions: HashMap<&'m str, SessionState>,
    session_order: Vec<&'m str>,
    stored_sessions: HashMap<String, SessionState>,
    edges: Vec<(&'m m::Edge, String, i64)>,
    events: Vec<(&'m m::Event, String, i64, Option<&'m [u8]>)>,
    statuses: Vec<(&'m m::AgentStatus, i64)>,
    metrics: Vec<(&'m m::Metric, i64)>,
}

/// The messages' sessions and spans as (session, span) keys, for loading them.
fn keys<'m>(messages: &[(&'m Message, &'m Blobs)]) -> (Vec<&'m str>, Vec<(&'m str, &'m str)>) {
    let (mut sessions, mut spans) = (Vec::new(), Vec::new());
    for (msg, _) in messages {
        match msg {
            Message::SessionMove(mv) => sessions.push(mv.into.as_str()),
            Message::SpanMove(mv) => {
                sessions.push(mv.session_id.as_str());
                sessions.push(mv.into.as_str());
            }
            other => {
                if let Some(id) = other.session_id() {
                    sessions.push(id);
                }
                if let Some(v) = span_view(other) {
                    spans.push((v.session_id, v.span_id));
                }
            }
        }
    }
    sessions.sort_unstable();
    sessions.dedup();
    spans.sort_unstable();
    spans.dedup();
    (sessions, spans)
}

fn span_view(msg: &Message) -> Option<SpanView<'_>> {
    match msg {
        Message::SpanStart(s) => Some(s.view()),
        Message::SpanUpdate(s) => Some(s.view()),
        Message::SpanEnd(s) => Some(s.view()),
        Message::Span(s) => Some(s.view()),
        _ => None,
    }
}

/// Applies the messages (each with its encoded payloads); returns the touched sessions' ids.
pub async fn apply(
    c: &ClientWrapper,
    pricing: &Pricing,
    messages: &[(&Message, &Blobs)],
    now: Timestamp,
) -> Result<Vec<String>, Error> {
    let (session_ids, span_keys) = keys(messages);
    let mut g = Group {
        pricing,
        spans: HashMap::new(),
        span_order: Vec::new(),
        stored_spans: rows::load_spans(c, &span_keys).await?,
        sessions: HashMap::new(),
        session_order: Vec::new(),
        stored_sessions: rows::load_sessions(c, &session_ids).await?,
        edges: Vec::new(),
        events: Vec::new(),
        statuses: Vec::new(),
        metrics: Vec::new(),
    };
    for (msg, blobs) in messages {
        g.message(msg, blobs);
    }
    g.write(c, now).await
}

impl<'m> Group<'m> {
    fn message(&mut self, msg: &'m Message, blobs: &'m Blobs) {
        match msg {
            Message::SessionStart(s) => {
                let at = s.started_at.unwrap_or_else(Timestamp::now);
                self.session(&s.session_id, at).start(
                    s.name.as_deref(),
                    at,
                    &s.tags,
                    &s.metadata,
                    &s.budget,
                );
            }
            Message::SessionEnd(s) => {
                let at = s.ended_at.unwrap_or_else(Timestamp::now);
                self.session(&s.session_id, at)
                    .end(at, s.status, s.error.as_deref());
            }
            // The moves ran before the group (`moves`); the sessions they changed are
            // touched, so their new totals reach the feed.
            Message::SessionMove(mv) => self.touch(&mv.into),
            Message::SpanMove(mv) => {
                self.touch(&mv.session_id);
                self.touch(&mv.into);
            }
            Message::Edge(e) => {
                let at = e.at.unwrap_or_else(Timestamp::now);
                self.session(&e.session_id, at);
                self.edges.push((e, edge_id(e), at.0));
            }
            Message::Event(e) => {
                let at = e.at.unwrap_or_else(Timestamp::now);
                self.session(&e.session_id, at);
                self.events
                    .push((e, event_id(e), at.0, blobs.data.as_deref()));
            }
            Message::AgentStatus(a) => {
                let at = a.at.unwrap_or_else(Timestamp::now);
                self.session(&a.session_id, at);
                self.statuses.push((a, at.0));
            }
            Message::Metric(x) => {
                let at = x.at.unwrap_or_else(Timestamp::now);
                if let Some(sid) = &x.session_id {
                    self.session(sid, at);
                }
                self.metrics.push((x, at.0));
            }
            span => {
                if let Some(v) = span_view(span) {
                    self.span_message(v, blobs);
                }
            }
        }
    }

    /// Counts a session that exists as touched by the group.
    fn touch(&mut self, id: &'m str) {
        if !self.sessions.contains_key(id)
            && let Some(state) = self.stored_sessions.remove(id)
        {
            self.sessions.insert(id, state);
            self.session_order.push(id);
        }
    }

    fn session(&mut self, id: &'m str, seen: Timestamp) -> &mut SessionState {
        if !self.sessions.contains_key(id) {
            let state = self
                .stored_sessions
                .remove(id)
                .unwrap_or_else(|| SessionState::new(seen));
            self.sessions.insert(id, state);
            self.session_order.push(id);
        }
        let state = self.sessions.get_mut(id).expect("inserted above");
        state.saw(Some(seen));
        state
    }

    fn span_message(&mut self, v: SpanView<'m>, blobs: &'m Blobs) {
        let seen = v.started_at.or(v.ended_at).or(v.at);
        self.session(v.session_id, seen.unwrap_or_else(Timestamp::now))
            .saw_span(v.ended_at.or(v.started_at), v.trace_id.is_some());
        let key = (v.session_id, v.span_id);
        if !self.spans.contains_key(&key) {
            let old = self
                .stored_spans
                .remove(&(key.0.to_owned(), key.1.to_owned()));
            self.spans.insert(
                key,
                SpanWork {
                    state: old.clone().unwrap_or_default(),
                    old,
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
    }

    /// Writes every table the group changed, one statement each.
    async fn write(mut self, c: &ClientWrapper, now: Timestamp) -> Result<Vec<String>, Error> {
        let mut delta = TotalsDelta::default();
        let mut span_rows = Vec::with_capacity(self.span_order.len());
        let mut chunks: (Vec<&str>, Vec<&str>, Vec<i64>, Vec<&str>) = Default::default();
        let mut cleared: (Vec<&str>, Vec<&str>) = Default::default();
        for key in &self.span_order {
            let w = &self.spans[key];
            delta.changed(key.0, w.old.as_ref(), &w.state);
            span_rows.push(SpanRow {
                session_id: key.0,
                span_id: key.1,
                state: &w.state,
                input: w.input,
                output: w.output,
                params: w.params,
                attributes: w.attributes.as_ref(),
            });
            if w.state.has_output {
                if w.old.as_ref().is_some_and(|o| !o.has_output) {
                    cleared.0.push(key.0);
                    cleared.1.push(key.1);
                }
            } else {
                for (seq, text) in &w.chunks {
                    chunks.0.push(key.0);
                    chunks.1.push(key.1);
                    chunks.2.push(*seq);
                    chunks.3.push(text);
                }
            }
        }
        rows::upsert_spans(c, &span_rows).await?;
        if !chunks.0.is_empty() {
            execute(
                c,
                "INSERT INTO span_chunks (session_id, span_id, seq, text)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[])
                 ON CONFLICT DO NOTHING",
                &[&chunks.0, &chunks.1, &chunks.2, &chunks.3],
            )
            .await?;
        }
        if !cleared.0.is_empty() {
            execute(
                c,
                "DELETE FROM span_chunks c USING UNNEST($1::text[], $2::text[]) AS k (s, p)
                 WHERE c.session_id = k.s AND c.span_id = k.p",
                &[&cleared.0, &cleared.1],
            )
            .await?;
        }
        for (id, d) in &delta.sessions {
            if let Some(s) = self.sessions.get_mut(id.as_str()) {
                s.totals.add(d, 1);
            }
        }
        let agents: Vec<_> = delta
            .agents
            .iter()
            .filter(|(_, d)| !d.is_zero())
            .map(|((s, a), d)| ((s.as_str(), a.as_str()), *d))
            .collect();
        let models: Vec<_> = delta
            .models
            .iter()
            .filter(|(_, d)| !d.is_zero())
            .map(|((s, m), d)| ((s.as_str(), m.as_str()), *d))
            .collect();
        rows::add_totals(c, &agents, &models).await?;
        self.write_edges(c).await?;
        self.write_events(c).await?;
        self.write_statuses(c).await?;
        self.write_metrics(c).await?;
        let sessions: Vec<(&str, &SessionState)> = self
            .session_order
            .iter()
            .map(|id| (*id, &self.sessions[id]))
            .collect();
        rows::upsert_sessions(c, &sessions, now).await?;
        Ok(self.session_order.iter().map(|s| s.to_string()).collect())
    }

    async fn write_edges(&self, c: &ClientWrapper) -> Result<(), Error> {
        if self.edges.is_empty() {
            return Ok(());
        }
        let e = &self.edges;
        let text =
            |f: &dyn Fn(&m::Edge) -> Option<&str>| e.iter().map(|x| f(x.0)).collect::<Vec<_>>();
        let session: Vec<&str> = e.iter().map(|x| x.0.session_id.as_str()).collect();
        let id: Vec<&str> = e.iter().map(|x| x.1.as_str()).collect();
        let kind = text(&|x| Some(x.kind.as_str()));
        let from_span = text(&|x| x.from_span.as_deref());
        let to_span = text(&|x| x.to_span.as_deref());
        let from_agent = text(&|x| x.from_agent.as_deref());
        let to_agent = text(&|x| x.to_agent.as_deref());
        let label = text(&|x| x.label.as_deref());
        let at: Vec<i64> = e.iter().map(|x| x.2).collect();
        execute(
            c,
            "INSERT INTO edges (session_id, edge_id, kind, from_span, to_span, from_agent,
                to_agent, label, at)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                $6::text[], $7::text[], $8::text[], $9::bigint[])
             ON CONFLICT DO NOTHING",
            &[
                &session,
                &id,
                &kind,
                &from_span,
                &to_span,
                &from_agent,
                &to_agent,
                &label,
                &at,
            ],
        )
        .await?;
        Ok(())
    }

    async fn write_events(&self, c: &ClientWrapper) -> Result<(), Error> {
        if self.events.is_empty() {
            return Ok(());
        }
        let e = &self.events;
        let text =
            |f: &dyn Fn(&m::Event) -> Option<&str>| e.iter().map(|x| f(x.0)).collect::<Vec<_>>();
        let session = text(&|x| Some(x.session_id.as_str()));
        let id: Vec<&str> = e.iter().map(|x| x.1.as_str()).collect();
        let span = text(&|x| x.span_id.as_deref());
        let at: Vec<i64> = e.iter().map(|x| x.2).collect();
        let category = text(&|x| Some(x.category.as_str()));
        let level = text(&|x| x.level.map(level_str));
        let agent = text(&|x| x.agent.as_deref());
        let name = text(&|x| x.name.as_deref());
        let message = text(&|x| x.message.as_deref());
        let data: Vec<Option<&[u8]>> = e.iter().map(|x| x.3).collect();
        // WITH ORDINALITY: the events are numbered (`id`, the order of the logs) as sent.
        execute(
            c,
            "INSERT INTO events (session_id, event_id, span_id, at, category, level, agent,
                name, message, data)
             SELECT s, e, p, a, c, l, g, n, m, d FROM UNNEST($1::text[], $2::text[], $3::text[],
                $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                $10::bytea[]) WITH ORDINALITY AS u (s, e, p, a, c, l, g, n, m, d, i)
             ORDER BY i
             ON CONFLICT DO NOTHING",
            &[
                &session, &id, &span, &at, &category, &level, &agent, &name, &message, &data,
            ],
        )
        .await?;
        Ok(())
    }

    /// Agent reports, merged by the stored rule (an older report does not overwrite a newer
    /// one). One statement per round: the `n`th report of each agent goes in round `n`, as an
    /// upsert may not touch a row twice.
    async fn write_statuses(&self, c: &ClientWrapper) -> Result<(), Error> {
        let mut rounds: Vec<Vec<(&m::AgentStatus, i64)>> = Vec::new();
        let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
        for (a, at) in &self.statuses {
            let n = seen.entry((&a.session_id, &a.agent)).or_default();
            if rounds.len() <= *n {
                rounds.push(Vec::new());
            }
            rounds[*n].push((a, *at));
            *n += 1;
        }
        for round in rounds {
            let text = |f: &dyn Fn(&m::AgentStatus) -> Option<&str>| {
                round.iter().map(|x| f(x.0)).collect::<Vec<_>>()
            };
            let session = text(&|a| Some(a.session_id.as_str()));
            let agent = text(&|a| Some(a.agent.as_str()));
            let status = text(&|a| a.status.map(|s| s.as_str()));
            let role = text(&|a| a.role.as_deref());
            let model = text(&|a| a.model.as_deref());
            let task = text(&|a| a.task.as_deref());
            let at: Vec<i64> = round.iter().map(|x| x.1).collect();
            execute(
                c,
                "INSERT INTO agents AS a (session_id, agent, status, role, model, task,
                    status_at, last_seen)
                 SELECT s, g, st, r, m, t, CASE WHEN st IS NULL THEN NULL ELSE at END, at
                 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                    $6::text[], $7::bigint[]) AS u (s, g, st, r, m, t, at)
                 ON CONFLICT (session_id, agent) DO UPDATE SET
                   status = CASE WHEN excluded.status IS NOT NULL
                                  AND (a.status_at IS NULL OR excluded.status_at >= a.status_at)
                             THEN excluded.status ELSE a.status END,
                   task = CASE WHEN excluded.status IS NOT NULL
                                  AND (a.status_at IS NULL OR excluded.status_at >= a.status_at)
                             THEN excluded.task ELSE a.task END,
                   status_at = GREATEST(a.status_at, excluded.status_at),
                   role = COALESCE(excluded.role, a.role),
                   model = COALESCE(excluded.model, a.model),
                   last_seen = GREATEST(a.last_seen, excluded.last_seen)",
                &[&session, &agent, &status, &role, &model, &task, &at],
            )
            .await?;
        }
        Ok(())
    }

    async fn write_metrics(&self, c: &ClientWrapper) -> Result<(), Error> {
        if self.metrics.is_empty() {
            return Ok(());
        }
        let x = &self.metrics;
        let session: Vec<&str> = x
            .iter()
            .map(|m| m.0.session_id.as_deref().unwrap_or(""))
            .collect();
        let name: Vec<&str> = x.iter().map(|m| m.0.name.as_str()).collect();
        let labels: Vec<String> = x
            .iter()
            .map(|m| serde_json::to_string(&m.0.labels).unwrap_or_else(|_| "{}".into()))
            .collect();
        let at: Vec<i64> = x.iter().map(|m| m.1).collect();
        let value: Vec<f64> = x.iter().map(|m| m.0.value).collect();
        let unit: Vec<Option<&str>> = x.iter().map(|m| m.0.unit.as_deref()).collect();
        execute(
            c,
            "INSERT INTO metrics (session_id, name, labels, at, value, unit)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[],
                $5::float8[], $6::text[])
             ON CONFLICT DO NOTHING",
            &[&session, &name, &labels, &at, &value, &unit],
        )
        .await?;
        Ok(())
    }
}
