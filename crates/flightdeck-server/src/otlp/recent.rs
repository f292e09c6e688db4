//! The OTLP mapper's short, bounded memory of recent traces and spans, which settles what one
//! span alone cannot say: its session and its agent.
//!
//! - **Session**: the span's own `session.id` / `gen_ai.conversation.id`; else the session of
//!   the span itself or its parent when seen before; else the first session any span of its
//!   trace named; else the trace id, provisionally. A log record is filed the same way
//!   (`session_of`).
//! - **Moves**: a trace belongs to one session. When a span first names the session of its
//!   trace, everything filed under the trace id so far belongs there: `settle` names the move
//!   (trace id into session), which the store runs (`session.move`) and keeps, so spans filed
//!   under the trace id later, after a restart too, land in the named session.
//! - **Agent**: the span's own (an agent span is its own agent); else that of its nearest
//!   ancestor with one; at a root (no parent, or a remote one), `service.name`, unless a span
//!   of the trace already named an agent of its own (then the root is a workflow, not an
//!   agent).
//! - **Delegation**: an agent span with an agent of its own (an `invoke_agent`) under another
//!   agent was delegated to by the nearest ancestor that names an agent of its own: a
//!   [`Delegation`], once that ancestry is known.
//!
//! Exporters send spans when they end, so children usually arrive before their parents. A
//! span whose ancestry is not known yet is stored without an agent; when an ancestor settles
//! it, the waiting descendants are restated (a `span.start` repeating their kind, name and
//! start with the agent; the store merges it). Memory is bounded ([`SPANS`], [`TRACES`], the
//! oldest forgotten first): a span whose ancestor arrives more than [`SPANS`] spans later keeps
//! no agent. A trace forgotten (or unknown after a restart) names its move again when a span
//! names its session; the store ignores a second move of the same trace.

use super::value::{SpanId, TraceId, hex};
use crate::fifo::Fifo;
use flightdeck_model::{SpanKind, Timestamp};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// How many spans are remembered.
pub const SPANS: usize = 65_536;
/// How many traces' sessions are remembered.
pub const TRACES: usize = 16_384;
/// The longest ancestry walked (a guard against parent cycles in bad input).
const MAX_DEPTH: usize = 1_024;

/// What it takes to restate a stored span with its agent: a `span.start` with the same facts.
#[derive(Clone, Debug, PartialEq)]
pub struct Restate {
    pub trace: TraceId,
    pub span: SpanId,
    pub parent: Option<SpanId>,
    pub kind: SpanKind,
    pub name: String,
    pub started_at: Timestamp,
}

/// One span (or span-like record) of a request, as `settle` needs it.
pub struct Arrival<'a> {
    pub trace: TraceId,
    pub span: SpanId,
    pub parent: Option<SpanId>,
    pub root: bool,
    pub session: Option<&'a str>,
    pub agent: Option<&'a str>,
    /// The agent of a root without one (`service.name`).
    pub fallback: Option<&'a Arc<str>>,
    /// `None` for a record that is not a span (a Logfire log): it takes its parent's agent.
    pub restate: Option<&'a Restate>,
    /// An agent span with its own agent, which its caller delegated to.
    pub invocation: bool,
}

/// An agent that called another: `from` above the agent span `span` of `to`.
#[derive(Debug, PartialEq)]
pub struct Delegation {
    pub session: Arc<str>,
    pub span: SpanId,
    pub from: Arc<str>,
    pub to: Arc<str>,
    pub at: Timestamp,
}

/// The settled session and agent of each arrival, and earlier spans to restate.
#[derive(Debug, Default)]
pub struct Settled {
    /// Traces whose session became known: (the trace id, as hex, into the session).
    pub moves: Vec<(String, Arc<str>)>,
    pub sessions: Vec<Arc<str>>,
    pub agents: Vec<Option<Arc<str>>>,
    /// Spans stored earlier that now have an agent: (session, span, agent).
    pub restated: Vec<(Arc<str>, Restate, Arc<str>)>,
    pub delegations: Vec<Delegation>,
}

type Key = (TraceId, SpanId);

struct Memo {
    /// The session, when it is not its trace's: named by the span or an ancestor.
    session: Option<Arc<str>>,
    parent: Option<SpanId>,
    root: bool,
    own: Option<Arc<str>>,
    fallback: Option<Arc<str>>,
    /// The effective agent, once settled.
    agent: Option<Arc<str>>,
    settled: bool,
    /// An invocation whose caller is not known yet.
    awaiting_caller: bool,
    restate: Restate,
}

/// The memory; one per server, behind a lock held only while settling a request.
pub struct Recent {
    traces: Fifo<TraceId, Arc<str>>,
    /// Traces in which a span named an agent of its own: their roots fall back to no agent.
    agented: Fifo<TraceId, ()>,
    spans: Fifo<Key, Memo>,
    /// Children seen, by (trace, parent): how a settled span finds its waiting descendants.
    children: HashMap<Key, Vec<SpanId>>,
}

impl Default for Recent {
    fn default() -> Self {
        Recent::with_capacity(SPANS, TRACES)
    }
}

impl Recent {
    pub fn with_capacity(spans: usize, traces: usize) -> Self {
        Recent {
            traces: Fifo::new(traces),
            agented: Fifo::new(traces),
            spans: Fifo::new(spans),
            children: HashMap::new(),
        }
    }

    /// The session a log record of `trace` (and `span`) belongs to, when known.
    pub fn session_of(&self, trace: &TraceId, span: Option<&SpanId>) -> Option<Arc<str>> {
        span.and_then(|s| self.spans.get(&(*trace, *s)))
            .and_then(|m| m.session.clone())
            .or_else(|| self.traces.get(trace).cloned())
    }

    /// Settles the sessions and agents of one request's spans and remembers them.
    pub fn settle(&mut self, arrivals: &[Arrival<'_>]) -> Settled {
        let mut moves = Vec::new();
        for a in arrivals {
            if let Some(s) = a.session
                && self.traces.get(&a.trace).is_none()
            {
                self.traces.insert(a.trace, s.into());
                let provisional = hex(&a.trace);
                if provisional != s {
                    moves.push((provisional, Arc::from(s)));
                }
            }
            if a.agent.is_some() {
                self.agented.insert_if_absent(a.trace, ());
            }
        }
        let sessions: Vec<Arc<str>> = arrivals.iter().map(|a| self.session(a)).collect();
        for a in arrivals {
            if let Some(restate) = a.restate {
                self.remember(a, restate);
            }
        }
        let current: HashSet<Key> = arrivals.iter().map(|a| (a.trace, a.span)).collect();
        let mut settled = Settled {
            moves,
            sessions,
            ..Default::default()
        };
        for a in arrivals {
            let agent = match a.restate {
                Some(_) => self.resolve((a.trace, a.span)),
                None => a
                    .parent
                    .and_then(|p| self.resolve((a.trace, p)))
                    .or_else(|| a.root.then(|| a.fallback.cloned()).flatten().map(Some)),
            };
            if a.restate.is_some() && agent.is_some() {
                self.propagate((a.trace, a.span), &current, &mut settled);
            }
            settled.agents.push(agent.flatten());
        }
        for a in arrivals
            .iter()
            .filter(|a| a.invocation && a.restate.is_some())
        {
            self.delegated((a.trace, a.span), &mut settled.delegations);
        }
        settled
    }

    /// Records the delegation to the invocation `key` once its caller is known; until then it
    /// waits (`propagate` comes back to it when its ancestry arrives).
    fn delegated(&mut self, key: Key, out: &mut Vec<Delegation>) {
        let caller = self.caller(key);
        let Some(memo) = self.spans.get_mut(&key) else {
            return;
        };
        memo.awaiting_caller = caller.is_none();
        if let (Some(Some(from)), Some(to)) = (caller, &memo.own)
            && from != *to
        {
            out.push(Delegation {
                session: filed(&self.traces, &key.0, &memo.session),
                span: key.1,
                from,
                to: Arc::clone(to),
                at: memo.restate.started_at,
            });
        }
    }

    /// The nearest agent named by an ancestor of `key` itself: `Some(None)` when there is
    /// none up to the root, `None` while the ancestry is not known.
    fn caller(&self, key: Key) -> Option<Option<Arc<str>>> {
        let mut cur = self.spans.get(&key)?;
        for _ in 0..MAX_DEPTH {
            if cur.root {
                return Some(None);
            }
            cur = self.spans.get(&(key.0, cur.parent?))?;
            if let Some(own) = &cur.own {
                return Some(Some(Arc::clone(own)));
            }
        }
        Some(None)
    }

    fn session(&self, a: &Arrival<'_>) -> Arc<str> {
        filed(&self.traces, &a.trace, &self.own_session(a))
    }

    /// The session the span or its known ancestry names, when it is not the trace's.
    fn own_session(&self, a: &Arrival<'_>) -> Option<Arc<str>> {
        if let Some(s) = a.session {
            return Some(s.into());
        }
        let memo = |span: &SpanId| self.spans.get(&(a.trace, *span));
        memo(&a.span).and_then(|m| m.session.clone()).or_else(|| {
            a.parent
                .as_ref()
                .and_then(memo)
                .and_then(|m| m.session.clone())
        })
    }

    fn remember(&mut self, a: &Arrival<'_>, restate: &Restate) {
        let key = (a.trace, a.span);
        let memo = Memo {
            session: self.own_session(a),
            parent: a.parent,
            root: a.root,
            own: a.agent.map(Arc::from),
            fallback: a.fallback.cloned(),
            agent: None,
            settled: false,
            awaiting_caller: false,
            restate: restate.clone(),
        };
        if let Some(p) = a.parent {
            let siblings = self.children.entry((a.trace, p)).or_default();
            if !siblings.contains(&a.span) {
                siblings.push(a.span);
            }
        }
        if let Some(((trace, span), old)) = self.spans.insert(key, memo) {
            self.children.remove(&(trace, span));
            if let Some(p) = old.parent
                && let Some(siblings) = self.children.get_mut(&(trace, p))
            {
                siblings.retain(|s| *s != span);
                if siblings.is_empty() {
                    self.children.remove(&(trace, p));
                }
            }
        }
    }

    /// The effective agent of a remembered span: `Some(agent)` once settled (the agent itself
    /// may be `None`), `None` while its ancestry is unknown. Settles the ancestry walked.
    fn resolve(&mut self, key: Key) -> Option<Option<Arc<str>>> {
        let mut chain = Vec::new();
        let mut cur = key;
        let agent = loop {
            let memo = self.spans.get(&cur)?;
            if memo.settled {
                break memo.agent.clone();
            }
            chain.push(cur);
            if memo.own.is_some() {
                break memo.own.clone();
            }
            if memo.root {
                break memo
                    .fallback
                    .clone()
                    .filter(|_| self.agented.get(&cur.0).is_none());
            }
            match memo.parent {
                Some(p) if chain.len() < MAX_DEPTH => cur = (cur.0, p),
                _ => return None,
            }
        };
        for k in chain {
            if let Some(m) = self.spans.get_mut(&k) {
                m.agent.clone_from(&agent);
                m.settled = true;
            }
        }
        Some(agent)
    }

    /// Hands a settled span's agent down to waiting descendants; those from earlier requests
    /// are restated, and invocations among them find their caller.
    fn propagate(&mut self, from: Key, current: &HashSet<Key>, out: &mut Settled) {
        let mut queue = VecDeque::from([from]);
        let mut invocations = Vec::new();
        while let Some(key) = queue.pop_front() {
            let Some(agent) = self.spans.get(&key).map(|m| m.agent.clone()) else {
                continue;
            };
            let kids = self.children.get(&key).cloned().unwrap_or_default();
            for kid in kids {
                let ck = (key.0, kid);
                let Some(m) = self.spans.get_mut(&ck) else {
                    continue;
                };
                if m.settled {
                    if m.awaiting_caller {
                        invocations.push(ck);
                    }
                    continue;
                }
                m.agent = m.own.clone().or_else(|| agent.clone());
                m.settled = true;
                if !current.contains(&ck)
                    && let Some(a) = &m.agent
                {
                    let session = filed(&self.traces, &key.0, &m.session);
                    out.restated
                        .push((session, m.restate.clone(), Arc::clone(a)));
                }
                queue.push_back(ck);
            }
        }
        for key in invocations {
            self.delegated(key, &mut out.delegations);
        }
    }
}

/// The session a remembered span is filed under now: its own, else its trace's (named, or
/// the trace id).
fn filed(traces: &Fifo<TraceId, Arc<str>>, trace: &TraceId, own: &Option<Arc<str>>) -> Arc<str> {
    own.clone()
        .or_else(|| traces.get(trace).cloned())
        .unwrap_or_else(|| hex(trace).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: TraceId = [7; 16];

    fn id(n: u8) -> SpanId {
        [n; 8]
    }

    fn restate(n: u8, parent: Option<u8>) -> Restate {
        Restate {
            trace: T,
            span: id(n),
            parent: parent.map(id),
            kind: SpanKind::Llm,
            name: format!("s{n}"),
            started_at: Timestamp(i64::from(n)),
        }
    }

    /// The span `r`, with its own agent and session if given, of the service `service`.
    fn arrive<'a>(
        r: &'a Restate,
        agent: Option<&'a str>,
        session: Option<&'a str>,
        service: &'a Arc<str>,
    ) -> Arrival<'a> {
        Arrival {
            trace: T,
            span: r.span,
            parent: r.parent,
            root: r.parent.is_none(),
            session,
            agent,
            fallback: Some(service),
            restate: Some(r),
            invocation: false,
        }
    }

    /// The agent span `r` of `agent`, which its caller invoked.
    fn invoke<'a>(r: &'a Restate, agent: &'a str, service: &'a Arc<str>) -> Arrival<'a> {
        Arrival {
            invocation: true,
            ..arrive(r, Some(agent), None, service)
        }
    }

    fn delegations(s: &Settled) -> Vec<(&str, &str, u8)> {
        s.delegations
            .iter()
            .map(|d| (&*d.from, &*d.to, d.span[0]))
            .collect()
    }

    fn agents(s: &Settled) -> Vec<Option<&str>> {
        s.agents.iter().map(|a| a.as_deref()).collect()
    }

    #[test]
    fn children_first_are_restated_when_their_agent_arrives() {
        let svc: Arc<str> = Arc::from("crew-service");
        let mut recent = Recent::default();
        // llm(3) under chain(2) under agent(1) under root(0), sent leaf first, one by one.
        let (r0, r1, r2, r3) = (
            restate(0, None),
            restate(1, Some(0)),
            restate(2, Some(1)),
            restate(3, Some(2)),
        );
        let s = recent.settle(&[arrive(&r3, None, None, &svc)]);
        assert_eq!(agents(&s), [None], "ancestry unknown yet");
        let s = recent.settle(&[arrive(&r2, None, None, &svc)]);
        assert_eq!(agents(&s), [None]);
        assert!(s.restated.is_empty());
        let s = recent.settle(&[arrive(&r1, Some("planner"), None, &svc)]);
        assert_eq!(agents(&s), [Some("planner")]);
        let mut restated: Vec<(&str, u8)> = s
            .restated
            .iter()
            .map(|(_, r, a)| (a.as_ref(), r.span[0]))
            .collect();
        restated.sort();
        assert_eq!(restated, [("planner", 2), ("planner", 3)]);
        assert_eq!(s.restated[0].1, r2, "restated as first stored");
        // The root has no agent of its own, and a span of its trace named one: the root is
        // a workflow, not the service's agent.
        let s = recent.settle(&[arrive(&r0, None, None, &svc)]);
        assert_eq!(agents(&s), [None]);
        assert!(s.restated.is_empty(), "its child has an agent of its own");
    }

    #[test]
    fn a_trace_without_agents_falls_back_to_the_service() {
        let svc: Arc<str> = Arc::from("crew-service");
        let mut recent = Recent::default();
        let (r1, r2) = (restate(1, Some(0)), restate(0, None));
        let s = recent.settle(&[arrive(&r1, None, None, &svc)]);
        assert_eq!(agents(&s), [None]);
        let s = recent.settle(&[arrive(&r2, None, None, &svc)]);
        assert_eq!(agents(&s), [Some("crew-service")]);
        assert_eq!(s.restated[0].2.as_ref(), "crew-service");
    }

    #[test]
    fn an_agent_invoked_under_another_is_a_delegation() {
        let svc: Arc<str> = Arc::from("crew-service");
        // planner(1) -> tool(2) -> invoke_agent hacker(3) -> invoke_agent hacker(4), under a
        // root(0) without an agent; sent leaf first.
        let (r0, r1, r2, r3, r4) = (
            restate(0, None),
            restate(1, Some(0)),
            restate(2, Some(1)),
            restate(3, Some(2)),
            restate(4, Some(3)),
        );
        let mut recent = Recent::default();
        let s = recent.settle(&[invoke(&r4, "hacker", &svc)]);
        assert!(s.delegations.is_empty(), "its caller is not known yet");
        let s = recent.settle(&[invoke(&r3, "hacker", &svc)]);
        assert!(
            s.delegations.is_empty(),
            "an agent calling itself is no delegation"
        );
        let s = recent.settle(&[arrive(&r2, None, None, &svc)]);
        assert!(s.delegations.is_empty());
        let s = recent.settle(&[invoke(&r1, "planner", &svc)]);
        assert_eq!(delegations(&s), [("planner", "hacker", 3)]);
        assert_eq!(s.delegations[0].at, r3.started_at);
        let s = recent.settle(&[arrive(&r0, None, None, &svc)]);
        assert!(
            s.delegations.is_empty(),
            "each delegation once; the root calls no one"
        );

        // In one request, in any order.
        let mut recent = Recent::default();
        let s = recent.settle(&[
            invoke(&r3, "hacker", &svc),
            arrive(&r0, None, None, &svc),
            arrive(&r2, None, None, &svc),
            invoke(&r1, "planner", &svc),
        ]);
        assert_eq!(delegations(&s), [("planner", "hacker", 3)]);
    }

    #[test]
    fn within_one_request_order_does_not_matter() {
        let svc: Arc<str> = Arc::from("crew-service");
        let mut recent = Recent::default();
        let (r1, r2) = (restate(1, None), restate(2, Some(1)));
        let s = recent.settle(&[
            arrive(&r2, None, None, &svc),
            arrive(&r1, Some("hacker"), None, &svc),
        ]);
        assert_eq!(agents(&s), [Some("hacker"), Some("hacker")]);
        assert!(s.restated.is_empty());
    }

    #[test]
    fn a_session_named_anywhere_in_a_trace_holds_for_the_trace() {
        let svc: Arc<str> = Arc::from("crew-service");
        let mut recent = Recent::default();
        let (r1, r2, r3) = (restate(1, None), restate(2, Some(1)), restate(3, Some(1)));
        let s = recent.settle(&[arrive(&r2, None, Some("conv-9"), &svc)]);
        assert_eq!(&*s.sessions[0], "conv-9");
        let s = recent.settle(&[arrive(&r3, None, None, &svc), arrive(&r1, None, None, &svc)]);
        assert_eq!(
            s.sessions.iter().map(|s| &**s).collect::<Vec<_>>(),
            ["conv-9", "conv-9"]
        );
        assert_eq!(
            recent.session_of(&T, Some(&id(3))).as_deref(),
            Some("conv-9")
        );
        assert_eq!(recent.session_of(&T, None).as_deref(), Some("conv-9"));
        // Another trace with no session named: its trace id.
        let other = Arrival {
            trace: [1; 16],
            ..arrive(&r1, None, None, &svc)
        };
        let s = recent.settle(&[other]);
        assert_eq!(&*s.sessions[0], "01".repeat(16));
    }

    #[test]
    fn a_trace_that_names_its_session_late_moves_there_once() {
        let svc: Arc<str> = Arc::from("crew-service");
        let mut recent = Recent::default();
        let (r1, r2, r3) = (restate(1, None), restate(2, Some(1)), restate(3, Some(1)));
        let s = recent.settle(&[arrive(&r2, None, None, &svc)]);
        assert_eq!(&*s.sessions[0], "07".repeat(16), "the trace id, for now");
        assert!(s.moves.is_empty());
        let s = recent.settle(&[arrive(&r1, None, Some("conv-9"), &svc)]);
        assert_eq!(s.moves, [("07".repeat(16), Arc::from("conv-9"))]);
        assert_eq!(&*s.sessions[0], "conv-9");
        assert_eq!(
            &*s.restated[0].0, "conv-9",
            "the child is restated where it moved"
        );
        let s = recent.settle(&[arrive(&r3, None, Some("conv-9"), &svc)]);
        assert!(s.moves.is_empty(), "once per trace");
        assert_eq!(
            recent.session_of(&T, Some(&id(2))).as_deref(),
            Some("conv-9")
        );
    }

    #[test]
    fn memory_is_bounded() {
        let svc: Arc<str> = Arc::from("crew-service");
        let mut recent = Recent::with_capacity(4, 2);
        let rs: Vec<Restate> = (1..=50).map(|n| restate(n, Some(n - 1))).collect();
        for r in &rs {
            recent.settle(&[arrive(r, None, None, &svc)]);
        }
        assert_eq!(recent.spans.len(), 4);
        assert!(recent.children.len() <= 5, "{}", recent.children.len());
        // The forgotten ancestry cannot settle the rest: they keep no agent, no error.
        let r0 = restate(0, None);
        let s = recent.settle(&[arrive(&r0, Some("late"), None, &svc)]);
        assert!(s.restated.is_empty());
    }

    #[test]
    fn a_parent_cycle_ends() {
        let svc: Arc<str> = Arc::from("crew-service");
        let mut recent = Recent::default();
        let (a, b) = (restate(1, Some(2)), restate(2, Some(1)));
        let s = recent.settle(&[arrive(&a, None, None, &svc), arrive(&b, None, None, &svc)]);
        assert_eq!(agents(&s), [None, None]);
    }
}
