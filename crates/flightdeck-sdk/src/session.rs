//! Sessions: one run of a multi-agent system. [`Session`] is the guard that ends it,
//! [`SessionHandle`] the cheap clone that spans, edges, events and agents are recorded on.

use crate::agent::AgentBuilder;
use crate::client::Client;
use crate::edge::EdgeBuilder;
use crate::event::EventBuilder;
use crate::metric::MetricBuilder;
use crate::payload::{new_id, now, to_value};
use crate::span::SpanBuilder;
use flightdeck_model::{
    Budget, EdgeKind, Level, Message, SessionEnd, SessionOutcome, SessionStart, SpanKind,
};
use serde::Serialize;
use std::fmt::Display;
use std::ops::Deref;
use std::sync::Arc;

/// Describes a session before it starts; from [`Client::session`].
#[must_use = "a session is only recorded once `start` is called"]
pub struct SessionBuilder {
    client: Client,
    start: SessionStart,
}

impl SessionBuilder {
    pub(crate) fn new(client: Client, name: String) -> Self {
        SessionBuilder {
            client,
            start: SessionStart {
                session_id: String::new(),
                name: Some(name),
                started_at: None,
                tags: Vec::new(),
                metadata: None,
                budget: None,
            },
        }
    }

    /// Uses this id instead of a fresh UUID (to correlate with your own run ids, or to be
    /// reproducible).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.start.session_id = id.into();
        self
    }

    /// Adds a tag, for filtering on the overview.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.start.tags.push(tag.into());
        self
    }

    /// Adds several tags.
    pub fn tags<T: Into<String>>(mut self, tags: impl IntoIterator<Item = T>) -> Self {
        self.start.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Sets one metadata entry (any serializable value).
    pub fn metadata(mut self, key: impl Into<String>, value: &(impl Serialize + ?Sized)) -> Self {
        self.start
            .metadata
            .get_or_insert_default()
            .insert(key.into(), to_value(value));
        self
    }

    /// A cost budget in US dollars; the overview shows how much of it is used.
    pub fn budget_usd(mut self, usd: f64) -> Self {
        self.start
            .budget
            .get_or_insert_with(Budget::default)
            .cost_usd = Some(usd);
        self
    }

    /// A token budget (input plus output).
    pub fn budget_tokens(mut self, tokens: u64) -> Self {
        self.start.budget.get_or_insert_with(Budget::default).tokens = Some(tokens);
        self
    }

    /// Sends `session.start` and returns the guard that ends the session.
    pub fn start(mut self) -> Session {
        if self.start.session_id.is_empty() {
            self.start.session_id = new_id();
        }
        self.start.started_at = now();
        let handle = SessionHandle::new(self.client, self.start.session_id.clone());
        handle.client.send(Message::SessionStart(self.start));
        Session {
            handle,
            ended: false,
        }
    }
}

/// A cheap, cloneable reference to a session, for recording into it from anywhere (other
/// tasks, other threads). Dropping it ends nothing; the [`Session`] guard does that.
#[derive(Clone, Debug)]
pub struct SessionHandle {
    client: Client,
    id: Arc<str>,
}

impl SessionHandle {
    pub(crate) fn new(client: Client, id: String) -> Self {
        SessionHandle {
            client,
            id: id.into(),
        }
    }

    /// The session id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The client this session records through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Starts describing a top-level span; use [`SpanBuilder::parent`] or
    /// [`Span::child`](crate::Span::child) to nest.
    pub fn span(&self, kind: SpanKind, name: impl Into<String>) -> SpanBuilder {
        SpanBuilder::new(self.clone(), kind, name.into())
    }

    /// Starts describing an edge (delegation, message, dependency) between spans or agents.
    pub fn edge(&self, kind: EdgeKind) -> EdgeBuilder {
        EdgeBuilder::new(self.clone(), kind)
    }

    /// Starts describing an event of any category (`"log"`, `"decision"`, your own).
    pub fn event(&self, category: impl Into<String>) -> EventBuilder {
        EventBuilder::new(self.clone(), category.into())
    }

    /// Records a log line.
    pub fn log(&self, level: Level, message: impl Into<String>) {
        self.event("log").level(level).message(message).send();
    }

    /// Records a decision (plan revision, escalation, ...) with its data.
    pub fn decision(
        &self,
        name: impl Into<String>,
        message: impl Into<String>,
        data: &(impl Serialize + ?Sized),
    ) {
        self.event("decision")
            .name(name)
            .message(message)
            .data(data)
            .send();
    }

    /// Starts describing an agent's status; see [`AgentBuilder`].
    pub fn agent(&self, name: impl Into<String>) -> AgentBuilder {
        AgentBuilder::new(self.clone(), name.into())
    }

    /// A queue of this session's jobs; see [`Queue`](crate::Queue).
    pub fn queue(&self, name: impl Into<String>) -> crate::Queue {
        crate::Queue::new(self.clone(), name.into())
    }

    /// Samples this process's CPU, memory and threads every `interval` as metrics of this
    /// session, labelled `pid` (and `agent`); see [`ProcessMetrics`](crate::ProcessMetrics).
    pub fn process_metrics(
        &self,
        interval: std::time::Duration,
        agent: Option<&str>,
    ) -> crate::ProcessMetrics {
        let session = self.clone();
        crate::ProcessMetrics::start(
            Box::new(move |name, value| session.metric(name, value)),
            interval,
            agent,
        )
    }

    /// A metric point belonging to this session.
    pub fn metric(&self, name: impl Into<String>, value: f64) -> MetricBuilder {
        MetricBuilder::new(
            self.client.clone(),
            Some(self.id.to_string()),
            name.into(),
            value,
        )
    }

    pub(crate) fn send(&self, message: Message) {
        self.client.send(message);
    }

    fn end_with(&self, status: SessionOutcome, error: Option<String>) {
        self.send(Message::SessionEnd(SessionEnd {
            session_id: self.id.to_string(),
            ended_at: now(),
            status,
            error,
        }));
    }
}

/// A running session. Ends as completed when dropped, or as failed if dropped while the
/// thread panics; end it explicitly with [`end`](Self::end) or [`end_failed`](Self::end_failed).
/// Derefs to its [`SessionHandle`], which has all the recording methods.
#[derive(Debug)]
#[must_use = "dropping a session ends it at once"]
pub struct Session {
    handle: SessionHandle,
    ended: bool,
}

impl Session {
    /// A cloneable handle on this session, for other tasks.
    pub fn handle(&self) -> SessionHandle {
        self.handle.clone()
    }

    /// Ends the session as completed.
    pub fn end(mut self) {
        self.ended = true;
        self.handle.end_with(SessionOutcome::Completed, None);
    }

    /// Ends the session as failed, with the reason.
    pub fn end_failed(mut self, error: impl Display) {
        self.ended = true;
        self.handle
            .end_with(SessionOutcome::Failed, Some(error.to_string()));
    }
}

impl Deref for Session {
    type Target = SessionHandle;

    fn deref(&self) -> &SessionHandle {
        &self.handle
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        if std::thread::panicking() {
            self.handle
                .end_with(SessionOutcome::Failed, Some("panicked".into()));
        } else {
            self.handle.end_with(SessionOutcome::Completed, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::client_with;
    use crate::{Level, MemorySink, Message};
    use flightdeck_model::SessionOutcome;

    #[tokio::test]
    async fn start_carries_the_description_and_end_the_outcome() {
        let sink = MemorySink::new();
        let client = client_with(sink.clone());
        let session = client
            .session("heist #4")
            .id("s-4")
            .tag("heist")
            .tags(["demo", "bank"])
            .metadata("crew", &4)
            .budget_usd(2.5)
            .budget_tokens(100_000)
            .start();
        assert_eq!(session.id(), "s-4");
        session.log(Level::Info, "crew assembled");
        session.decision("plan_revision", "switch to the vents", &["vents"]);
        session.end_failed("alarm tripped");
        client.flush().await.unwrap();
        let all = sink.messages();
        let Message::SessionStart(start) = &all[0] else {
            panic!("{:?}", all[0])
        };
        assert_eq!(start.name.as_deref(), Some("heist #4"));
        assert_eq!(start.tags, ["heist", "demo", "bank"]);
        assert_eq!(start.metadata.as_ref().unwrap()["crew"], 4);
        let budget = start.budget.as_ref().unwrap();
        assert_eq!((budget.cost_usd, budget.tokens), (Some(2.5), Some(100_000)));
        assert!(start.started_at.is_some());
        let Message::Event(log) = &all[1] else {
            panic!()
        };
        assert_eq!(
            (log.category.as_str(), log.level),
            ("log", Some(Level::Info))
        );
        assert!(log.event_id.is_some() && log.at.is_some());
        let Message::Event(decision) = &all[2] else {
            panic!()
        };
        assert_eq!(decision.category, "decision");
        assert_eq!(decision.name.as_deref(), Some("plan_revision"));
        assert_eq!(decision.data.as_ref().unwrap().get(), r#"["vents"]"#);
        let Message::SessionEnd(end) = &all[3] else {
            panic!()
        };
        assert_eq!(end.status, SessionOutcome::Failed);
        assert_eq!(end.error.as_deref(), Some("alarm tripped"));
        assert_eq!(all.len(), 4);
    }

    #[tokio::test]
    async fn a_dropped_session_completes_and_gets_a_fresh_id() {
        let sink = MemorySink::new();
        let client = client_with(sink.clone());
        let id = {
            let session = client.session("quiet run").start();
            session.id().to_owned()
        };
        client.flush().await.unwrap();
        let all = sink.messages();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        let Message::SessionEnd(end) = &all[1] else {
            panic!()
        };
        assert_eq!(
            (end.session_id.as_str(), end.status),
            (id.as_str(), SessionOutcome::Completed)
        );
    }
}
