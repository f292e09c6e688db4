//! Spans: units of work in a session tree. [`Span`] is a guard that ends itself on drop,
//! as ok, or as an error when the thread is panicking.
//!
//! Progress goes out as it happens: each [`Span::chunk`], [`Span::score`] or
//! [`Span::attribute`] is one `span.update` carrying the span's next `seq`, so the server
//! orders chunks and ignores any it already has. Output, usage and cost travel in `span.end`.

use crate::event::EventBuilder;
use crate::payload::{new_id, now, to_raw, to_value};
use crate::session::SessionHandle;
use flightdeck_model::{
    Level, Message, Scores, SpanEnd, SpanKind, SpanOutcome, SpanStart, SpanUpdate, Usage,
};
use serde::Serialize;
use serde_json::value::RawValue;
use std::fmt::Display;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Describes a span before it starts; from [`SessionHandle::span`] or [`Span::child`].
#[must_use = "a span is only recorded once `start` is called"]
pub struct SpanBuilder {
    session: SessionHandle,
    start: SpanStart,
}

impl SpanBuilder {
    pub(crate) fn new(session: SessionHandle, kind: SpanKind, name: String) -> Self {
        SpanBuilder {
            start: SpanStart {
                session_id: session.id().to_owned(),
                span_id: String::new(),
                trace_id: None,
                parent_id: None,
                kind,
                name,
                agent: None,
                model: None,
                provider: None,
                started_at: None,
                input: None,
                params: None,
                attributes: None,
                scores: None,
            },
            session,
        }
    }

    /// Uses this id instead of a fresh UUID.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.start.span_id = id.into();
        self
    }

    /// Nests the span under the span with this id (see [`Span::id`]).
    pub fn parent(mut self, parent_id: impl Into<String>) -> Self {
        self.start.parent_id = Some(parent_id.into());
        self
    }

    /// The agent doing this work; children started with [`Span::child`] inherit it.
    pub fn agent(mut self, agent: impl Into<String>) -> Self {
        self.start.agent = Some(agent.into());
        self
    }

    /// The model of an LLM call (`gpt-4o`, `claude-sonnet-4`), used to price it.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.start.model = Some(model.into());
        self
    }

    /// The provider of an LLM call (`openai`, `anthropic`).
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.start.provider = Some(provider.into());
        self
    }

    /// The input: chat messages `[{"role": .., "content": ..}]`, tool arguments, a query.
    pub fn input(mut self, input: &(impl Serialize + ?Sized)) -> Self {
        self.start.input = Some(to_raw(input));
        self
    }

    /// Call parameters (`temperature`, `max_tokens`, ...).
    pub fn params(mut self, params: &(impl Serialize + ?Sized)) -> Self {
        self.start.params = Some(to_raw(params));
        self
    }

    /// Sets one free attribute.
    pub fn attribute(mut self, key: impl Into<String>, value: &(impl Serialize + ?Sized)) -> Self {
        self.start
            .attributes
            .get_or_insert_default()
            .insert(key.into(), to_value(value));
        self
    }

    /// Sets one named score known up front.
    pub fn score(mut self, name: impl Into<String>, value: f64) -> Self {
        self.start
            .scores
            .get_or_insert_default()
            .insert(name.into(), value);
        self
    }

    /// Sends `span.start` and returns the running span.
    pub fn start(mut self) -> Span {
        if self.start.span_id.is_empty() {
            self.start.span_id = new_id();
        }
        self.start.started_at = now();
        let span = Span {
            session: self.session,
            id: self.start.span_id.clone(),
            agent: self.start.agent.clone(),
            seq: AtomicU64::new(0),
            finish: Mutex::new(Finish::default()),
            ended: false,
        };
        span.session.send(Message::SpanStart(self.start));
        span
    }
}

/// What goes into `span.end`, gathered while the span runs.
#[derive(Default)]
struct Finish {
    output: Option<Box<RawValue>>,
    usage: Option<Usage>,
    cost_usd: Option<f64>,
}

/// A running span. Ends as ok when dropped, or as an error ("panicked") if dropped while
/// the thread panics. All recording methods take `&self`, so a span can be shared.
#[must_use = "dropping a span ends it at once"]
pub struct Span {
    session: SessionHandle,
    id: String,
    agent: Option<String>,
    seq: AtomicU64,
    finish: Mutex<Finish>,
    ended: bool,
}

impl std::fmt::Debug for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Span")
            .field("session_id", &self.session.id())
            .field("id", &self.id)
            .field("agent", &self.agent)
            .finish()
    }
}

impl Span {
    /// The span id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The agent this span belongs to, if any.
    pub fn agent(&self) -> Option<&str> {
        self.agent.as_deref()
    }

    /// The session the span belongs to.
    pub fn session(&self) -> &SessionHandle {
        &self.session
    }

    /// Starts describing a child span, of the same agent unless overridden.
    pub fn child(&self, kind: SpanKind, name: impl Into<String>) -> SpanBuilder {
        let builder = self.session.span(kind, name).parent(self.id.clone());
        match &self.agent {
            Some(agent) => builder.agent(agent.clone()),
            None => builder,
        }
    }

    /// Streams a piece of output (a token, a line) as it is produced.
    pub fn chunk(&self, text: impl Into<String>) {
        self.update(|u| u.output_delta = Some(text.into()));
    }

    /// Reports a named score now (for example one component of an energy function).
    pub fn score(&self, name: impl Into<String>, value: f64) {
        self.scores([(name, value)]);
    }

    /// Reports several scores now, in one message.
    pub fn scores<K: Into<String>>(&self, scores: impl IntoIterator<Item = (K, f64)>) {
        let scores: Scores = scores.into_iter().map(|(k, v)| (k.into(), v)).collect();
        self.update(|u| u.scores = Some(scores));
    }

    /// Reports a free attribute now.
    pub fn attribute(&self, key: impl Into<String>, value: &(impl Serialize + ?Sized)) {
        let attributes = [(key.into(), to_value(value))].into_iter().collect();
        self.update(|u| u.attributes = Some(attributes));
    }

    /// Sets the final token usage, sent when the span ends.
    pub fn usage(&self, input_tokens: u64, output_tokens: u64) {
        self.finish().usage = Some(Usage {
            input_tokens,
            output_tokens,
        });
    }

    /// Sets the cost in US dollars, when you know it better than the server's price table.
    pub fn cost(&self, usd: f64) {
        self.finish().cost_usd = Some(usd);
    }

    /// Sets the output, sent when the span ends (replacing the streamed chunks as the
    /// final output).
    pub fn set_output(&self, output: &(impl Serialize + ?Sized)) {
        self.finish().output = Some(to_raw(output));
    }

    /// Starts describing an event inside this span, of this span's agent.
    pub fn event(&self, category: impl Into<String>) -> EventBuilder {
        let event = self.session.event(category).span(self.id.clone());
        match &self.agent {
            Some(agent) => event.agent(agent.clone()),
            None => event,
        }
    }

    /// Records a log line inside this span.
    pub fn log(&self, level: Level, message: impl Into<String>) {
        self.event("log").level(level).message(message).send();
    }

    /// Ends the span as ok.
    pub fn end(mut self) {
        self.end_with(SpanOutcome::Ok, None);
    }

    /// Ends the span as an error.
    pub fn fail(mut self, error: impl Display) {
        self.end_with(SpanOutcome::Error, Some(error.to_string()));
    }

    /// Ends the span by `result`: ok, or an error with the error's text. Returns `result`,
    /// so it wraps a fallible call: `span.record(call().await)?`.
    pub fn record<T, E: Display>(self, result: Result<T, E>) -> Result<T, E> {
        match &result {
            Ok(_) => self.end(),
            Err(e) => self.fail(e),
        }
        result
    }

    fn update(&self, fill: impl FnOnce(&mut SpanUpdate)) {
        let mut update = SpanUpdate {
            session_id: self.session.id().to_owned(),
            span_id: self.id.clone(),
            seq: Some(self.seq.fetch_add(1, Relaxed)),
            at: now(),
            output_delta: None,
            input: None,
            output: None,
            usage: None,
            attributes: None,
            scores: None,
        };
        fill(&mut update);
        self.session.send(Message::SpanUpdate(update));
    }

    fn finish(&self) -> std::sync::MutexGuard<'_, Finish> {
        self.finish.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn end_with(&mut self, status: SpanOutcome, error: Option<String>) {
        self.ended = true;
        let finish = std::mem::take(&mut *self.finish());
        self.session.send(Message::SpanEnd(SpanEnd {
            session_id: self.session.id().to_owned(),
            span_id: self.id.clone(),
            ended_at: now(),
            status,
            output: finish.output,
            usage: finish.usage,
            cost_usd: finish.cost_usd,
            error,
            attributes: None,
            scores: None,
        }));
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        if std::thread::panicking() {
            self.end_with(SpanOutcome::Error, Some("panicked".into()));
        } else {
            self.end_with(SpanOutcome::Ok, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::client_with;
    use crate::{MemorySink, Message, SpanKind};
    use flightdeck_model::{SessionOutcome, SpanOutcome, Usage};
    use serde_json::json;

    async fn recorded(sink: &MemorySink, client: &crate::Client) -> Vec<Message> {
        client.flush().await.unwrap();
        sink.messages()
    }

    #[tokio::test]
    async fn children_nest_and_inherit_the_agent_and_end_on_drop() {
        let sink = MemorySink::new();
        let client = client_with(sink.clone());
        let session = client.session("s").id("s1").start();
        {
            let plan = session
                .span(SpanKind::Agent, "plan")
                .id("a")
                .agent("planner")
                .start();
            let llm = plan
                .child(SpanKind::Llm, "decompose")
                .id("b")
                .model("gpt-4o")
                .provider("openai")
                .input(&json!([{"role": "user", "content": "plan the job"}]))
                .params(&json!({"temperature": 0.2}))
                .attribute("attempt", &1)
                .score("prior", 0.5)
                .start();
            let tool = llm
                .child(SpanKind::Tool, "scan")
                .id("c")
                .agent("hacker")
                .start();
            assert_eq!(
                (llm.agent(), tool.agent()),
                (Some("planner"), Some("hacker"))
            );
            drop(tool);
            llm.usage(12, 3);
            llm.cost(0.001);
            llm.set_output(&json!({"role": "assistant", "content": "case the bank"}));
            llm.end();
        }
        let all = recorded(&sink, &client).await;
        let starts: Vec<_> = all
            .iter()
            .filter_map(|m| match m {
                Message::SpanStart(s) => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(starts[0].parent_id, None);
        assert_eq!(starts[1].parent_id.as_deref(), Some("a"));
        assert_eq!(starts[1].agent.as_deref(), Some("planner"));
        assert_eq!(starts[1].model.as_deref(), Some("gpt-4o"));
        assert_eq!(starts[1].provider.as_deref(), Some("openai"));
        assert_eq!(
            starts[1].input.as_ref().unwrap().get(),
            r#"[{"content":"plan the job","role":"user"}]"#
        );
        assert_eq!(
            starts[1].params.as_ref().unwrap().get(),
            r#"{"temperature":0.2}"#
        );
        assert_eq!(starts[1].attributes.as_ref().unwrap()["attempt"], 1);
        assert_eq!(starts[1].scores.as_ref().unwrap()["prior"], 0.5);
        assert_eq!(starts[2].parent_id.as_deref(), Some("b"));
        let ends: Vec<_> = all
            .iter()
            .filter_map(|m| match m {
                Message::SpanEnd(e) => Some(e),
                _ => None,
            })
            .collect();
        let order: Vec<&str> = ends.iter().map(|e| e.span_id.as_str()).collect();
        assert_eq!(order, ["c", "b", "a"], "inner spans end first");
        assert!(
            ends.iter()
                .all(|e| e.status == SpanOutcome::Ok && e.ended_at.is_some())
        );
        assert_eq!(
            ends[1].usage,
            Some(Usage {
                input_tokens: 12,
                output_tokens: 3
            })
        );
        assert_eq!(ends[1].cost_usd, Some(0.001));
        assert!(
            ends[1]
                .output
                .as_ref()
                .unwrap()
                .get()
                .contains("case the bank")
        );
        assert!(all.iter().all(|m| m.session_id() == Some("s1")));
    }

    #[tokio::test]
    async fn updates_are_numbered_per_span() {
        let sink = MemorySink::new();
        let client = client_with(sink.clone());
        let session = client.session("s").start();
        let a = session.span(SpanKind::Llm, "a").id("a").start();
        let b = session.span(SpanKind::Llm, "b").id("b").start();
        a.chunk("Case ");
        b.chunk("Drill ");
        a.chunk("the bank");
        a.score("relevance", 0.9);
        a.scores([("energy.risk", 0.2), ("energy.total", 0.7)]);
        a.attribute("stream", &true);
        b.chunk("the vault");
        let all = recorded(&sink, &client).await;
        let updates: Vec<(String, u64)> = all
            .iter()
            .filter_map(|m| match m {
                Message::SpanUpdate(u) => Some((u.span_id.clone(), u.seq.unwrap())),
                _ => None,
            })
            .collect();
        let expect = [
            ("a", 0),
            ("b", 0),
            ("a", 1),
            ("a", 2),
            ("a", 3),
            ("a", 4),
            ("b", 1),
        ];
        let expect: Vec<(String, u64)> = expect.iter().map(|(s, n)| (s.to_string(), *n)).collect();
        assert_eq!(updates, expect);
        let deltas: Vec<_> = all
            .iter()
            .filter_map(|m| match m {
                Message::SpanUpdate(u) if u.span_id == "a" => u.output_delta.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(deltas, ["Case ", "the bank"]);
        let Some(Message::SpanUpdate(energy)) = all.iter().find(|m| {
            matches!(m, Message::SpanUpdate(u) if u.scores.as_ref().is_some_and(|s| s.len() == 2))
        }) else {
            panic!("no score update")
        };
        assert_eq!(energy.scores.as_ref().unwrap()["energy.risk"], 0.2);
    }

    #[tokio::test]
    async fn record_and_fail_mark_errors() {
        let sink = MemorySink::new();
        let client = client_with(sink.clone());
        let session = client.session("s").start();
        let ok: Result<u32, String> = session
            .span(SpanKind::Tool, "ok")
            .id("ok")
            .start()
            .record(Ok(7));
        assert_eq!(ok, Ok(7));
        let err: Result<u32, String> = session
            .span(SpanKind::Tool, "crack_safe")
            .id("bad")
            .start()
            .record(Err("drill bit snapped".to_owned()));
        assert!(err.is_err());
        session
            .span(SpanKind::Tool, "f")
            .id("f")
            .start()
            .fail("timeout after 30s");
        let all = recorded(&sink, &client).await;
        let outcome = |id: &str| {
            all.iter()
                .find_map(|m| match m {
                    Message::SpanEnd(e) if e.span_id == id => Some((e.status, e.error.clone())),
                    _ => None,
                })
                .unwrap()
        };
        assert_eq!(outcome("ok"), (SpanOutcome::Ok, None));
        assert_eq!(
            outcome("bad"),
            (SpanOutcome::Error, Some("drill bit snapped".into()))
        );
        assert_eq!(
            outcome("f"),
            (SpanOutcome::Error, Some("timeout after 30s".into()))
        );
    }

    #[tokio::test]
    async fn a_panic_fails_the_open_spans_and_the_session() {
        let sink = MemorySink::new();
        let client = client_with(sink.clone());
        let c = client.clone();
        let panicked = std::thread::spawn(move || {
            let session = c.session("doomed").id("s").start();
            let _agent = session.span(SpanKind::Agent, "mole").id("a").start();
            let done = session.span(SpanKind::Tool, "done").id("d").start();
            done.end();
            panic!("the mole lied");
        })
        .join();
        assert!(panicked.is_err());
        let all = recorded(&sink, &client).await;
        let span_end = |id: &str| {
            all.iter()
                .find_map(|m| match m {
                    Message::SpanEnd(e) if e.span_id == id => Some((e.status, e.error.clone())),
                    _ => None,
                })
                .unwrap()
        };
        assert_eq!(span_end("a"), (SpanOutcome::Error, Some("panicked".into())));
        assert_eq!(span_end("d"), (SpanOutcome::Ok, None));
        let Some(Message::SessionEnd(end)) = all.last() else {
            panic!()
        };
        assert_eq!(
            (end.status, end.error.as_deref()),
            (SessionOutcome::Failed, Some("panicked"))
        );
    }

    #[tokio::test]
    async fn span_events_carry_the_span_and_agent() {
        let sink = MemorySink::new();
        let client = client_with(sink.clone());
        let session = client.session("s").start();
        let span = session
            .span(SpanKind::Agent, "mole")
            .id("m")
            .agent("mole")
            .start();
        span.log(crate::Level::Warn, "guards rotate at 2am");
        span.event("custom").id("e1").name("whisper").send();
        drop(span);
        let all = recorded(&sink, &client).await;
        let events: Vec<_> = all
            .iter()
            .filter_map(|m| match m {
                Message::Event(e) => Some(e),
                _ => None,
            })
            .collect();
        assert_eq!(events.len(), 2);
        for e in &events {
            assert_eq!(
                (e.span_id.as_deref(), e.agent.as_deref()),
                (Some("m"), Some("mole"))
            );
        }
        assert_eq!(events[1].event_id.as_deref(), Some("e1"));
        assert_eq!(events[1].category, "custom");
    }
}
