//! The hub task: the one owner of live fan-out. It reads the store's commit feed, encodes
//! what each scope needs of a commit once, and queues it to that scope's subscribers
//! without ever waiting for one (see `registry`). It also registers new subscriptions, at
//! the last commit it has handled, so a snapshot taken afterwards meets the queue.
//!
//! If the hub falls behind the feed (the broadcast reports `Lagged`), the commits it missed
//! reached no one, so every subscription is ended with `resync`; nothing is skipped
//! silently.

use super::frame::{self, Resync};
use super::registry::Registry;
use super::scope::Scope;
use super::stats::Stats;
use super::subscription::Subscription;
use flightdeck_model::Message;
use flightdeck_model::record::SessionSummary;
use flightdeck_store::Committed;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// How often subscriptions whose client has gone are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// A request to the hub task.
pub(super) enum Command {
    Subscribe {
        scope: Scope,
        reply: oneshot::Sender<Subscription>,
    },
}

enum Step {
    Command(Option<Command>),
    Sweep,
    Commit(Result<Arc<Committed>, RecvError>),
}

/// The state of the hub task.
pub(super) struct Fanout {
    pub feed: broadcast::Receiver<Arc<Committed>>,
    pub commands: mpsc::Receiver<Command>,
    pub stop: watch::Receiver<bool>,
    pub registry: Registry,
    pub stats: Arc<Stats>,
    /// The last commit handled (or known to be in the store when the hub started).
    pub last: u64,
}

impl Fanout {
    /// Runs until the hub is stopped or the store's feed closes.
    pub async fn run(mut self) {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        loop {
            // Commands and sweeps first: they are rare, and a busy feed must not starve them.
            let step = tokio::select! {
                biased;
                _ = self.stop.wait_for(|stop| *stop) => break,
                command = self.commands.recv() => Step::Command(command),
                _ = sweep.tick() => Step::Sweep,
                commit = self.feed.recv() => Step::Commit(commit),
            };
            match step {
                Step::Command(Some(Command::Subscribe { scope, reply })) => {
                    let _ = reply.send(self.registry.add(scope, self.last));
                }
                Step::Command(None) | Step::Commit(Err(RecvError::Closed)) => break,
                Step::Sweep => self.registry.sweep(),
                Step::Commit(Ok(c)) => self.publish(&c),
                Step::Commit(Err(RecvError::Lagged(missed))) => {
                    self.missed(missed);
                    self.last += missed;
                }
            }
        }
        tracing::debug!("live hub stopped");
    }

    fn publish(&mut self, c: &Committed) {
        if c.seq <= self.last {
            // Counted by `last_seq` when the hub started: every snapshot contains it.
            return;
        }
        if c.seq > self.last + 1 {
            self.missed(c.seq - self.last - 1);
        }
        self.last = c.seq;
        self.stats.handled(c.seq);
        if self.registry.is_empty() {
            return;
        }
        // A move: the overview drops the moved session, the moved session's watchers learn
        // where it went, and the target's watchers start again from a fresh snapshot.
        let moves: Vec<&Message> = c
            .messages
            .iter()
            .filter(|m| matches!(m, Message::SessionMove(_)))
            .collect();
        for m in &moves {
            if let Message::SessionMove(mv) = m {
                self.registry.resync_session(&mv.into, Resync::SessionMoved);
            }
        }
        if self.registry.watches_overview() && !(c.sessions.is_empty() && moves.is_empty()) {
            let sessions: Vec<&SessionSummary> = c.sessions.iter().collect();
            let f = frame::commit(c.seq, &moves, &sessions);
            self.registry.send_overview(Arc::new(f));
        }
        let mut by_session: HashMap<&str, Vec<&Message>> = HashMap::new();
        for m in &c.messages {
            if let Some(id) = m.session_id().filter(|id| self.registry.watches(id)) {
                by_session.entry(id).or_default().push(m);
            }
        }
        for (id, messages) in by_session {
            let summary: Vec<&SessionSummary> =
                c.sessions.iter().filter(|s| s.session_id == id).collect();
            let f = frame::commit(c.seq, &messages, &summary);
            self.registry.send_session(id, Arc::new(f));
        }
        // Every page shows the review panel, so every subscriber hears of reviews.
        for review in &c.reviews {
            self.registry
                .send_all(Arc::new(frame::review(c.seq, review)));
        }
    }

    /// The hub missed commits: they reached no subscriber, so every subscriber resyncs.
    fn missed(&mut self, commits: u64) {
        tracing::warn!(
            live.missed_commits = commits,
            "the live hub fell behind the store's feed; every live client resyncs"
        );
        self.registry.resync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::super::Hub;
    use super::super::subscription::Next;
    use super::*;
    use flightdeck_model::{Limits, SessionStatus, Timestamp, Totals, decode_batch};

    fn summary(id: &str) -> SessionSummary {
        SessionSummary {
            session_id: id.into(),
            name: None,
            status: SessionStatus::Running,
            started_at: Timestamp(0),
            ended_at: None,
            duration_ms: 0.0,
            tags: vec![],
            agents: vec![],
            totals: Totals::default(),
            budget: None,
            error: None,
        }
    }

    /// A commit with one log event per session named.
    fn commit(seq: u64, sessions: &[&str]) -> Arc<Committed> {
        let lines: Vec<String> = sessions
            .iter()
            .map(|s| format!(r#"{{"type":"event","session_id":"{s}","message":"m{seq}"}}"#))
            .collect();
        Arc::new(Committed {
            seq,
            messages: decode_batch(lines.join("\n").as_bytes(), &Limits::default()).unwrap(),
            sessions: sessions.iter().map(|s| summary(s)).collect(),
            reviews: vec![],
        })
    }

    fn frame_of(next: Next) -> serde_json::Value {
        match next {
            Next::Frame(f) => serde_json::from_str(&f.text).unwrap(),
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// Lets the hub task run until it has handled commit `seq`.
    async fn settle(hub: &Hub, seq: u64) {
        while hub.stats().seq < seq {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn each_scope_gets_only_its_part_of_a_commit() {
        let (feed, rx) = broadcast::channel(16);
        let hub = Hub::spawn(rx, 0, 8);
        let mut overview = hub.subscribe(Scope::Overview).await.unwrap();
        let mut s1 = hub.subscribe(Scope::Session("s1".into())).await.unwrap();
        feed.send(commit(1, &["s1", "s2"])).unwrap();
        feed.send(commit(2, &["s2"])).unwrap();
        feed.send(commit(3, &["s1"])).unwrap();
        settle(&hub, 3).await;

        let f = frame_of(overview.next().await);
        assert_eq!((f["seq"].as_u64(), f.get("messages")), (Some(1), None));
        assert_eq!(f["sessions"].as_array().unwrap().len(), 2);
        assert_eq!(frame_of(overview.next().await)["seq"], 2);

        let f = frame_of(s1.next().await);
        assert_eq!(f["seq"], 1);
        assert_eq!(f["messages"][0]["session_id"], "s1");
        assert_eq!(f["messages"].as_array().unwrap().len(), 1);
        assert_eq!(f["sessions"][0]["session_id"], "s1");
        assert_eq!(frame_of(s1.next().await)["seq"], 3, "commit 2 is not s1's");
        assert!(s1.try_next().is_none());
    }

    #[tokio::test]
    async fn frames_of_commits_a_snapshot_contains_are_skipped() {
        let (feed, rx) = broadcast::channel(16);
        let hub = Hub::spawn(rx, 4, 8);
        let mut s1 = hub.subscribe(Scope::Session("s1".into())).await.unwrap();
        assert_eq!(s1.from(), 4);
        for seq in 5..=8 {
            feed.send(commit(seq, &["s1"])).unwrap();
        }
        settle(&hub, 8).await;
        // A snapshot read after commit 6 landed already contains commits 5 and 6.
        s1.skip_through(6);
        assert_eq!(frame_of(s1.next().await)["seq"], 7);
        assert_eq!(frame_of(s1.try_next().unwrap())["seq"], 8);
    }

    #[tokio::test]
    async fn a_full_queue_ends_that_subscription_only() {
        let (feed, rx) = broadcast::channel(16);
        let hub = Hub::spawn(rx, 0, 2);
        let mut slow = hub.subscribe(Scope::Session("s1".into())).await.unwrap();
        let mut other = hub.subscribe(Scope::Session("s2".into())).await.unwrap();
        for seq in 1..=3 {
            feed.send(commit(seq, &["s1", "s2"])).unwrap();
            settle(&hub, seq).await;
            assert_eq!(frame_of(other.next().await)["seq"], seq);
        }
        assert!(matches!(slow.next().await, Next::Resync(Resync::QueueFull)));
        let stats = hub.stats();
        assert_eq!((stats.resyncs.queue_full, stats.subscribers), (1, 1));
    }

    #[tokio::test]
    async fn a_hub_that_lags_the_feed_resyncs_everyone_then_goes_on() {
        let (feed, rx) = broadcast::channel(4);
        let hub = Hub::spawn(rx, 0, 64);
        let mut a = hub.subscribe(Scope::Overview).await.unwrap();
        let mut b = hub.subscribe(Scope::Session("s1".into())).await.unwrap();
        // The hub task does not run between these sends: it falls 6 commits behind.
        for seq in 1..=10 {
            feed.send(commit(seq, &["s1"])).unwrap();
        }
        settle(&hub, 10).await;
        assert!(matches!(a.next().await, Next::Resync(Resync::HubLagged)));
        assert!(matches!(b.next().await, Next::Resync(Resync::HubLagged)));
        let stats = hub.stats();
        assert_eq!((stats.hub_lags, stats.resyncs.hub_lagged), (1, 2));

        let mut c = hub.subscribe(Scope::Session("s1".into())).await.unwrap();
        assert_eq!(c.from(), 10);
        feed.send(commit(11, &["s1"])).unwrap();
        assert_eq!(frame_of(c.next().await)["seq"], 11);
        assert_eq!(hub.stats().hub_lags, 1, "no second resync after the gap");
    }

    #[tokio::test]
    async fn a_move_reaches_the_overview_and_both_sessions() {
        let (feed, rx) = broadcast::channel(16);
        let hub = Hub::spawn(rx, 0, 8);
        let mut overview = hub.subscribe(Scope::Overview).await.unwrap();
        let mut moved = hub.subscribe(Scope::Session("0af7".into())).await.unwrap();
        let mut target = hub
            .subscribe(Scope::Session("conv-1".into()))
            .await
            .unwrap();
        let messages = decode_batch(
            br#"{"type":"session.move","session_id":"0af7","into":"conv-1"}"#,
            &Limits::default(),
        )
        .unwrap();
        feed.send(Arc::new(Committed {
            seq: 1,
            messages,
            sessions: vec![summary("conv-1")],
            reviews: Vec::new(),
        }))
        .unwrap();
        settle(&hub, 1).await;
        let f = frame_of(overview.next().await);
        assert_eq!(f["messages"][0]["type"], "session.move");
        assert_eq!(f["messages"][0]["session_id"], "0af7");
        assert_eq!(f["sessions"][0]["session_id"], "conv-1");
        let f = frame_of(moved.next().await);
        assert_eq!(f["messages"][0]["into"], "conv-1");
        assert!(matches!(
            target.next().await,
            Next::Resync(Resync::SessionMoved)
        ));
    }

    #[tokio::test]
    async fn a_stopped_hub_closes_its_subscriptions() {
        let (_feed, rx) = broadcast::channel(4);
        let hub = Hub::spawn(rx, 0, 4);
        let mut a = hub.subscribe(Scope::Overview).await.unwrap();
        hub.stop();
        assert!(matches!(a.next().await, Next::Closed));
        assert!(hub.subscribe(Scope::Overview).await.is_none());
    }
}
