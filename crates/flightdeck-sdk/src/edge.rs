//! Edges: relations that are not parent and child (delegation, agent-to-agent message,
//! dependency). Each end is a span, an agent, or both.

use crate::payload::{new_id, now};
use crate::session::SessionHandle;
use flightdeck_model::{Edge, EdgeKind, Message};

/// Describes an edge; from [`SessionHandle::edge`]. Needs a `from` and a `to` end (span or
/// agent); the server refuses an edge without them.
#[must_use = "an edge is only recorded once `send` is called"]
pub struct EdgeBuilder {
    session: SessionHandle,
    edge: Edge,
}

impl EdgeBuilder {
    pub(crate) fn new(session: SessionHandle, kind: EdgeKind) -> Self {
        EdgeBuilder {
            edge: Edge {
                session_id: session.id().to_owned(),
                edge_id: None,
                kind,
                from_span: None,
                to_span: None,
                from_agent: None,
                to_agent: None,
                label: None,
                at: None,
            },
            session,
        }
    }

    /// Uses this id instead of a fresh UUID.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.edge.edge_id = Some(id.into());
        self
    }

    /// The span the edge starts from.
    pub fn from_span(mut self, span_id: impl Into<String>) -> Self {
        self.edge.from_span = Some(span_id.into());
        self
    }

    /// The span the edge points to.
    pub fn to_span(mut self, span_id: impl Into<String>) -> Self {
        self.edge.to_span = Some(span_id.into());
        self
    }

    /// The agent the edge starts from.
    pub fn from_agent(mut self, agent: impl Into<String>) -> Self {
        self.edge.from_agent = Some(agent.into());
        self
    }

    /// The agent the edge points to.
    pub fn to_agent(mut self, agent: impl Into<String>) -> Self {
        self.edge.to_agent = Some(agent.into());
        self
    }

    /// A short label (the gist of a message, the name of a delegated task).
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.edge.label = Some(label.into());
        self
    }

    /// Sends the edge.
    pub fn send(mut self) {
        if self.edge.edge_id.is_none() {
            self.edge.edge_id = Some(new_id());
        }
        self.edge.at = now();
        self.session.send(Message::Edge(self.edge));
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::client_with;
    use crate::{EdgeKind, MemorySink, Message};

    #[tokio::test]
    async fn edges_get_an_id_and_both_ends() {
        let sink = MemorySink::new();
        let client = client_with(sink.clone());
        let session = client.session("s").start();
        session
            .edge(EdgeKind::Delegation)
            .from_agent("planner")
            .to_agent("hacker")
            .from_span("p")
            .to_span("h")
            .label("kill the cameras")
            .send();
        session
            .edge(EdgeKind::DependsOn)
            .id("d1")
            .from_span("b")
            .to_span("a")
            .send();
        client.flush().await.unwrap();
        let edges: Vec<_> = sink
            .messages()
            .into_iter()
            .filter_map(|m| match m {
                Message::Edge(e) => Some(e),
                _ => None,
            })
            .collect();
        let e = &edges[0];
        assert_eq!(e.kind, EdgeKind::Delegation);
        assert_eq!(
            (e.from_agent.as_deref(), e.to_agent.as_deref()),
            (Some("planner"), Some("hacker"))
        );
        assert_eq!(
            (e.from_span.as_deref(), e.to_span.as_deref()),
            (Some("p"), Some("h"))
        );
        assert_eq!(e.label.as_deref(), Some("kill the cameras"));
        assert!(e.edge_id.is_some() && e.at.is_some());
        assert_eq!(edges[1].edge_id.as_deref(), Some("d1"));
    }
}
