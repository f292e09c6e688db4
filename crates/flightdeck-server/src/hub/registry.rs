//! The hub task's subscribers, indexed by scope, and the one rule for queuing to them: try
//! once, never wait; a full queue ends the subscription with `resync`, a closed one (the
//! client left) is forgotten.

use super::frame::{Frame, Resync};
use super::scope::Scope;
use super::stats::Stats;
use super::subscription::Subscription;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};

struct Subscriber {
    queue: mpsc::Sender<Arc<Frame>>,
    ended: Option<oneshot::Sender<Resync>>,
}

impl Subscriber {
    fn end(&mut self, reason: Resync) {
        if let Some(ended) = self.ended.take() {
            let _ = ended.send(reason);
        }
    }
}

/// Every live subscription, by scope.
pub(super) struct Registry {
    overview: Vec<Subscriber>,
    sessions: HashMap<String, Vec<Subscriber>>,
    /// Subscribers in all.
    len: usize,
    capacity: usize,
    stats: Arc<Stats>,
}

impl Registry {
    pub fn new(capacity: usize, stats: Arc<Stats>) -> Self {
        Registry {
            overview: Vec::new(),
            sessions: HashMap::new(),
            len: 0,
            capacity: capacity.max(1),
            stats,
        }
    }

    /// Registers a subscription that receives the frames of commits after `from`.
    pub fn add(&mut self, scope: Scope, from: u64) -> Subscription {
        let (queue, frames) = mpsc::channel(self.capacity);
        let (ended, signal) = oneshot::channel();
        let subscriber = Subscriber {
            queue,
            ended: Some(ended),
        };
        match scope {
            Scope::Overview => self.overview.push(subscriber),
            Scope::Session(id) => self.sessions.entry(id).or_default().push(subscriber),
        }
        self.counted(1, 0);
        Subscription::new(frames, signal, from)
    }

    pub fn watches_overview(&self) -> bool {
        !self.overview.is_empty()
    }

    /// Whether anyone watches this session.
    pub fn watches(&self, session_id: &str) -> bool {
        self.sessions.contains_key(session_id)
    }

    pub fn is_empty(&self) -> bool {
        self.overview.is_empty() && self.sessions.is_empty()
    }

    pub fn send_overview(&mut self, frame: Arc<Frame>) {
        let gone = send(&mut self.overview, frame, &self.stats);
        self.counted(0, gone);
    }

    pub fn send_session(&mut self, session_id: &str, frame: Arc<Frame>) {
        if let Some(list) = self.sessions.get_mut(session_id) {
            let gone = send(list, frame, &self.stats);
            if list.is_empty() {
                self.sessions.remove(session_id);
            }
            self.counted(0, gone);
        }
    }

    /// Queues `frame` to every subscription, whatever it watches.
    pub fn send_all(&mut self, frame: Arc<Frame>) {
        self.send_overview(Arc::clone(&frame));
        let ids: Vec<String> = self.sessions.keys().cloned().collect();
        for id in ids {
            self.send_session(&id, Arc::clone(&frame));
        }
    }

    /// Ends every subscription: the hub missed commits, so no queue can be trusted.
    pub fn resync_all(&mut self) {
        let all = self
            .overview
            .drain(..)
            .chain(self.sessions.drain().flat_map(|(_, list)| list));
        let mut n = 0;
        for mut s in all {
            s.end(Resync::HubLagged);
            n += 1;
        }
        self.stats.lagged(n);
        self.counted(0, n);
    }

    /// Ends the subscriptions to one session, so their clients start again from a fresh
    /// snapshot (another session moved into it).
    pub fn resync_session(&mut self, session_id: &str, reason: Resync) {
        if let Some(list) = self.sessions.remove(session_id) {
            let n = list.len();
            for mut s in list {
                s.end(reason);
            }
            self.counted(0, n);
        }
    }

    /// Forgets the subscriptions whose client has gone.
    pub fn sweep(&mut self) {
        self.overview.retain(|s| !s.queue.is_closed());
        self.sessions.retain(|_, list| {
            list.retain(|s| !s.queue.is_closed());
            !list.is_empty()
        });
        let n = self.overview.len() + self.sessions.values().map(Vec::len).sum::<usize>();
        self.counted(0, self.len - n);
    }

    fn counted(&mut self, added: usize, removed: usize) {
        self.len = self.len + added - removed;
        self.stats.set_subscribers(self.len);
    }
}

/// Queues `frame` to each subscriber without waiting; ends those whose queue is full and
/// drops those whose client is gone. Returns how many were removed.
fn send(list: &mut Vec<Subscriber>, frame: Arc<Frame>, stats: &Stats) -> usize {
    let before = list.len();
    let mut queued = 0;
    list.retain_mut(|s| match s.queue.try_send(Arc::clone(&frame)) {
        Ok(()) => {
            queued += 1;
            true
        }
        Err(TrySendError::Full(_)) => {
            s.end(Resync::QueueFull);
            stats.queue_full();
            tracing::warn!(
                live.seq = frame.seq,
                "live client too slow: its queue is full; sent resync"
            );
            false
        }
        Err(TrySendError::Closed(_)) => false,
    });
    stats.queued(queued);
    before - list.len()
}
