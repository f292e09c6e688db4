//! Agents: live participants of a session that report their state and current task, and a
//! [`Heartbeat`] that tells the server an agent is still alive.

use crate::edge::EdgeBuilder;
use crate::payload::now;
use crate::session::SessionHandle;
use crate::span::SpanBuilder;
use flightdeck_model::{AgentState, AgentStatus, EdgeKind, Message, SpanKind};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::AbortHandle;

/// The shortest heartbeat period accepted.
const MIN_HEARTBEAT: Duration = Duration::from_millis(10);

/// Describes an agent's status report; from [`SessionHandle::agent`] or [`Agent::update`].
/// A report without a status is a heartbeat: alive and unchanged.
#[must_use = "a status is only recorded once `send` is called"]
pub struct AgentBuilder {
    session: SessionHandle,
    status: AgentStatus,
}

impl AgentBuilder {
    pub(crate) fn new(session: SessionHandle, agent: String) -> Self {
        AgentBuilder {
            status: AgentStatus {
                session_id: session.id().to_owned(),
                agent,
                status: None,
                role: None,
                model: None,
                task: None,
                at: None,
            },
            session,
        }
    }

    /// The agent's role (`planner`, `safecracker`).
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.status.role = Some(role.into());
        self
    }

    /// The model the agent runs on.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.status.model = Some(model.into());
        self
    }

    /// Its state.
    pub fn status(mut self, state: AgentState) -> Self {
        self.status.status = Some(state);
        self
    }

    /// What it is working on.
    pub fn task(mut self, task: impl Into<String>) -> Self {
        self.status.task = Some(task.into());
        self
    }

    /// Sends the report and returns a handle on the agent for later reports.
    pub fn send(mut self) -> Agent {
        self.status.at = now();
        let agent = Agent {
            session: self.session.clone(),
            name: self.status.agent.as_str().into(),
        };
        self.session.send(Message::AgentStatus(self.status));
        agent
    }
}

/// A live agent of a session. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Agent {
    session: SessionHandle,
    name: Arc<str>,
}

impl Agent {
    /// The agent's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The session the agent works in.
    pub fn session(&self) -> &SessionHandle {
        &self.session
    }

    /// Starts describing a new report (state, task, role, model).
    pub fn update(&self) -> AgentBuilder {
        self.session.agent(self.name.to_string())
    }

    /// Reports a new state.
    pub fn status(&self, state: AgentState) {
        self.update().status(state).send();
    }

    /// Reports the agent active on `task`.
    pub fn active(&self, task: impl Into<String>) {
        self.update().status(AgentState::Active).task(task).send();
    }

    /// Starts describing a top-level span done by this agent.
    pub fn span(&self, kind: SpanKind, name: impl Into<String>) -> SpanBuilder {
        self.session.span(kind, name).agent(self.name.to_string())
    }

    /// Starts describing a message from this agent to `to`.
    pub fn message_to(&self, to: impl Into<String>) -> EdgeBuilder {
        self.edge_to(EdgeKind::Message, to)
    }

    /// Starts describing a delegation from this agent to `to`.
    pub fn delegate_to(&self, to: impl Into<String>) -> EdgeBuilder {
        self.edge_to(EdgeKind::Delegation, to)
    }

    fn edge_to(&self, kind: EdgeKind, to: impl Into<String>) -> EdgeBuilder {
        self.session
            .edge(kind)
            .from_agent(self.name.to_string())
            .to_agent(to)
    }

    /// Sends a heartbeat (a report without a status) every `every` until the returned
    /// handle is dropped, so that the agent is not shown offline while it is busy.
    pub fn heartbeat(&self, every: Duration) -> Heartbeat {
        let every = every.max(MIN_HEARTBEAT);
        let agent = self.clone();
        let client = self.session.client().clone();
        let task = client.runtime().spawn(async move {
            let start = tokio::time::Instant::now() + every;
            let mut ticks = tokio::time::interval_at(start, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if agent.session.client().is_closed() {
                    return;
                }
                agent.update().send();
            }
        });
        Heartbeat {
            task: task.abort_handle(),
        }
    }
}

/// Keeps an agent's heartbeat going; dropping it stops the heartbeat.
#[derive(Debug)]
#[must_use = "the heartbeat stops when this handle is dropped"]
pub struct Heartbeat {
    task: AbortHandle,
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::client_with;
    use crate::{AgentState, EdgeKind, MemorySink, Message, SpanKind};
    use flightdeck_model::AgentStatus;
    use std::time::Duration;

    fn statuses(sink: &MemorySink) -> Vec<AgentStatus> {
        sink.messages()
            .into_iter()
            .filter_map(|m| match m {
                Message::AgentStatus(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn reports_carry_state_task_role_and_model() {
        let sink = MemorySink::new();
        let client = client_with(sink.clone());
        let session = client.session("s").start();
        let hacker = session
            .agent("hacker")
            .role("hacker")
            .model("claude-sonnet-4")
            .status(AgentState::Initializing)
            .send();
        hacker.active("loop the camera feed");
        hacker.status(AgentState::Idle);
        let span = hacker.span(SpanKind::Agent, "turn").id("t").start();
        hacker
            .message_to("planner")
            .from_span(span.id())
            .label("cameras down")
            .send();
        hacker.delegate_to("mole").send();
        drop(span);
        client.flush().await.unwrap();
        let s = statuses(&sink);
        assert_eq!(s.len(), 3);
        assert_eq!(
            (s[0].role.as_deref(), s[0].model.as_deref()),
            (Some("hacker"), Some("claude-sonnet-4"))
        );
        assert_eq!(s[0].status, Some(AgentState::Initializing));
        assert_eq!(
            (s[1].status, s[1].task.as_deref()),
            (Some(AgentState::Active), Some("loop the camera feed"))
        );
        assert_eq!(
            (s[2].status, s[2].task.as_deref()),
            (Some(AgentState::Idle), None)
        );
        let all = sink.messages();
        let Some(Message::SpanStart(turn)) =
            all.iter().find(|m| matches!(m, Message::SpanStart(_)))
        else {
            panic!()
        };
        assert_eq!(turn.agent.as_deref(), Some("hacker"));
        let edges: Vec<_> = all
            .iter()
            .filter_map(|m| match m {
                Message::Edge(e) => Some((e.kind, e.from_agent.clone(), e.to_agent.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            edges,
            [
                (
                    EdgeKind::Message,
                    Some("hacker".into()),
                    Some("planner".into())
                ),
                (
                    EdgeKind::Delegation,
                    Some("hacker".into()),
                    Some("mole".into())
                ),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeats_tick_until_the_handle_is_dropped() {
        let sink = MemorySink::new();
        let client = client_with(sink.clone());
        let session = client.session("s").start();
        let mole = session.agent("mole").status(AgentState::Active).send();
        let heartbeat = mole.heartbeat(Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(3500)).await;
        drop(heartbeat);
        tokio::time::sleep(Duration::from_secs(5)).await;
        client.flush().await.unwrap();
        let s = statuses(&sink);
        assert_eq!(s.len(), 4, "one report, then beats at 1, 2 and 3 s");
        assert!(
            s[1..]
                .iter()
                .all(|h| h.status.is_none() && h.agent == "mole")
        );
    }
}
