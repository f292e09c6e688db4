//! Server -> client messages of the live protocol (docs/protocol.md, "Live protocol"), each
//! encoded once into a [`Frame`] that every transport and every subscriber shares.
//!
//! Every message is a JSON object with `v` (the protocol version) and `type`: `hello`,
//! `commit`, `review.requested` / `review.decided` / `review.timed_out` / `review.abandoned`,
//! `heartbeat`, `pong`, `resync` or `error`.

use super::scope::Scope;
use axum::extract::ws::Utf8Bytes;
use flightdeck_model::record::SessionSummary;
use flightdeck_model::review::{ReviewRecord, ReviewState};
use flightdeck_model::{Message, Timestamp};
use flightdeck_store::{OverviewSnapshot, SessionSnapshot};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// The version of the live protocol this server speaks.
pub const VERSION: u32 = 1;

/// One encoded server message.
#[derive(Debug)]
pub struct Frame {
    /// The commit the message belongs to (`hello`: the snapshot's; others: 0).
    pub seq: u64,
    /// The message `type`, also the SSE event name.
    pub kind: &'static str,
    /// The JSON text.
    pub text: Utf8Bytes,
}

/// Why a subscription was ended and must start again from a fresh `hello`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resync {
    /// The client did not take its messages fast enough and its queue filled up.
    QueueFull,
    /// The hub itself fell behind the store's feed; every subscriber starts again.
    HubLagged,
    /// Another session moved into the watched one (`session.move`): its spans are not in any
    /// frame, so the client starts again from a snapshot that holds them.
    SessionMoved,
}

/// What a `hello` carries, by scope.
pub enum Snapshot {
    Overview(OverviewSnapshot),
    Session(SessionSnapshot),
}

impl Snapshot {
    /// The last commit the snapshot contains.
    pub fn seq(&self) -> u64 {
        match self {
            Snapshot::Overview(s) => s.seq,
            Snapshot::Session(s) => s.seq,
        }
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    v: u32,
    #[serde(flatten)]
    body: Body<'a>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Body<'a> {
    Hello {
        scope: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        session_id: Option<&'a str>,
        seq: u64,
        heartbeat_ms: u64,
        snapshot: SnapshotBody<'a>,
    },
    Commit {
        seq: u64,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        messages: &'a [&'a Message],
        sessions: &'a [&'a SessionSummary],
    },
    #[serde(rename = "review.requested")]
    ReviewRequested(ReviewBody<'a>),
    #[serde(rename = "review.decided")]
    ReviewDecided(ReviewBody<'a>),
    #[serde(rename = "review.timed_out")]
    ReviewTimedOut(ReviewBody<'a>),
    #[serde(rename = "review.abandoned")]
    ReviewAbandoned(ReviewBody<'a>),
    Ack {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a Value>,
        review: &'a ReviewRecord,
    },
    Heartbeat {
        at: Timestamp,
    },
    Pong {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a Value>,
    },
    Resync {
        reason: Resync,
    },
    Error {
        code: &'a str,
        message: &'a str,
    },
}

/// A review as it is after a commit.
#[derive(Serialize)]
struct ReviewBody<'a> {
    seq: u64,
    review: &'a ReviewRecord,
}

#[derive(Serialize)]
#[serde(untagged)]
enum SnapshotBody<'a> {
    Overview {
        sessions: &'a flightdeck_model::record::Page<SessionSummary>,
        stats: &'a flightdeck_model::record::OverviewStats,
        reviews: &'a [ReviewRecord],
    },
    Session {
        session: &'a Option<SessionSummary>,
        spans: &'a [flightdeck_model::record::SpanSummary],
        edges: &'a [flightdeck_model::record::EdgeRecord],
        agents: &'a [flightdeck_model::record::AgentSummary],
        agent_offline_after_ms: u64,
        /// The pending reviews of every session, soonest deadline first.
        reviews: &'a [ReviewRecord],
    },
}

fn encode(kind: &'static str, seq: u64, body: Body<'_>) -> Frame {
    let text = serde_json::to_string(&Envelope { v: VERSION, body })
        .expect("live messages always serialise");
    Frame {
        seq,
        kind,
        text: text.into(),
    }
}

/// `hello`: the scope's state as of `snapshot.seq()`.
pub fn hello(scope: &Scope, snapshot: &Snapshot, heartbeat: Duration) -> Frame {
    let body = match snapshot {
        Snapshot::Overview(s) => SnapshotBody::Overview {
            sessions: &s.sessions,
            stats: &s.stats,
            reviews: &s.reviews,
        },
        Snapshot::Session(s) => SnapshotBody::Session {
            session: &s.session,
            spans: &s.spans,
            edges: &s.edges,
            agents: &s.agents,
            agent_offline_after_ms: s.agent_offline_after.as_millis() as u64,
            reviews: &s.reviews,
        },
    };
    let seq = snapshot.seq();
    let hello = Body::Hello {
        scope: scope.name(),
        session_id: scope.session_id(),
        seq,
        heartbeat_ms: heartbeat.as_millis() as u64,
        snapshot: body,
    };
    encode("hello", seq, hello)
}

/// `commit`: what one commit changed in a scope.
pub fn commit(seq: u64, messages: &[&Message], sessions: &[&SessionSummary]) -> Frame {
    let body = Body::Commit {
        seq,
        messages,
        sessions,
    };
    encode("commit", seq, body)
}

/// `review.requested`, `review.decided`, `review.timed_out` or `review.abandoned`, by the
/// review's state after the commit `seq`.
pub fn review(seq: u64, review: &ReviewRecord) -> Frame {
    let inner = ReviewBody { seq, review };
    let (kind, body) = match review.state {
        ReviewState::Pending => ("review.requested", Body::ReviewRequested(inner)),
        ReviewState::Decided => ("review.decided", Body::ReviewDecided(inner)),
        ReviewState::TimedOut => ("review.timed_out", Body::ReviewTimedOut(inner)),
        ReviewState::Abandoned => ("review.abandoned", Body::ReviewAbandoned(inner)),
    };
    encode(kind, seq, body)
}

/// `ack`: a `review.decide` took effect; the review as it is now.
pub fn ack(id: Option<&Value>, review: &ReviewRecord) -> Frame {
    encode("ack", 0, Body::Ack { id, review })
}

/// `heartbeat`, with the server's time.
pub fn heartbeat() -> Frame {
    let at = Timestamp::now();
    encode("heartbeat", 0, Body::Heartbeat { at })
}

/// `pong`, echoing the ping's `id`.
pub fn pong(id: Option<&Value>) -> Frame {
    encode("pong", 0, Body::Pong { id })
}

/// `resync`: drop the state and expect a fresh `hello`.
pub fn resync(reason: Resync) -> Frame {
    encode("resync", 0, Body::Resync { reason })
}

/// `error`: a request the server could not act on; the connection stays open.
pub fn error(code: &str, message: &str) -> Frame {
    encode("error", 0, Body::Error { code, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_the_version_and_its_type() {
        for f in [
            heartbeat(),
            pong(Some(&Value::from(7))),
            resync(Resync::QueueFull),
            error("bad_message", "no"),
            commit(3, &[], &[]),
        ] {
            let v: Value = serde_json::from_str(&f.text).unwrap();
            assert_eq!(v["v"], 1);
            assert_eq!(v["type"], f.kind);
        }
        let v: Value = serde_json::from_str(&resync(Resync::HubLagged).text).unwrap();
        assert_eq!(v["reason"], "hub_lagged");
        let v: Value = serde_json::from_str(&pong(Some(&Value::from(7))).text).unwrap();
        assert_eq!(v["id"], 7);
    }

    #[test]
    fn a_session_hello_carries_its_seq_and_the_pending_reviews() {
        let snapshot = Snapshot::Session(SessionSnapshot {
            seq: 9,
            session: None,
            spans: vec![],
            edges: vec![],
            agents: vec![],
            agent_offline_after: Duration::from_secs(30),
            reviews: vec![],
        });
        let f = hello(
            &Scope::Session("s1".into()),
            &snapshot,
            Duration::from_secs(15),
        );
        let v: Value = serde_json::from_str(&f.text).unwrap();
        assert_eq!(f.seq, 9);
        assert_eq!(
            v,
            serde_json::json!({"v":1,"type":"hello","scope":"session","session_id":"s1","seq":9,
                "heartbeat_ms":15000,"snapshot":{"session":null,"spans":[],"edges":[],"agents":[],
                "agent_offline_after_ms":30000,"reviews":[]}})
        );
    }
}
