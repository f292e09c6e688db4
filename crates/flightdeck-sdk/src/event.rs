//! Events: timestamped records in a session or span (log lines, decisions, custom
//! categories). Each gets an id, so a resent batch never doubles it.

use crate::payload::{new_id, now, to_raw};
use crate::session::SessionHandle;
use flightdeck_model::{Event, Level, Message};
use serde::Serialize;

/// Describes an event; from [`SessionHandle::event`] or [`Span::event`](crate::Span::event).
#[must_use = "an event is only recorded once `send` is called"]
pub struct EventBuilder {
    session: SessionHandle,
    event: Event,
}

impl EventBuilder {
    pub(crate) fn new(session: SessionHandle, category: String) -> Self {
        EventBuilder {
            event: Event {
                session_id: session.id().to_owned(),
                span_id: None,
                event_id: None,
                at: None,
                category,
                level: None,
                agent: None,
                name: None,
                message: None,
                data: None,
            },
            session,
        }
    }

    /// Uses this id instead of a fresh UUID.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.event.event_id = Some(id.into());
        self
    }

    /// Places the event inside the span with this id.
    pub fn span(mut self, span_id: impl Into<String>) -> Self {
        self.event.span_id = Some(span_id.into());
        self
    }

    /// The severity (for logs).
    pub fn level(mut self, level: Level) -> Self {
        self.event.level = Some(level);
        self
    }

    /// The agent the event is about or from.
    pub fn agent(mut self, agent: impl Into<String>) -> Self {
        self.event.agent = Some(agent.into());
        self
    }

    /// A short name (`plan_revision`, `escalation`), grouping events of a category.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.event.name = Some(name.into());
        self
    }

    /// The human-readable text.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.event.message = Some(message.into());
        self
    }

    /// Structured data (any serializable value).
    pub fn data(mut self, data: &(impl Serialize + ?Sized)) -> Self {
        self.event.data = Some(to_raw(data));
        self
    }

    /// Sends the event.
    pub fn send(mut self) {
        if self.event.event_id.is_none() {
            self.event.event_id = Some(new_id());
        }
        self.event.at = now();
        self.session.send(Message::Event(self.event));
    }
}
