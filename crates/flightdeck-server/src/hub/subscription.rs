//! The receiving end of one subscription: a bounded queue of frames filled by the hub task,
//! and a signal that says the hub ended the subscription (and why).
//!
//! The hub never waits for a subscriber. When a queue is full the hub drops it and signals
//! [`Next::Resync`]; the connection then tells its client and starts again from a fresh
//! `hello`. The signal is separate from the queue so a resync is seen at once, not after
//! the stale frames still queued.

use super::frame::{Frame, Resync};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// What comes next on a subscription.
#[derive(Debug)]
pub enum Next {
    /// A frame to send on.
    Frame(Arc<Frame>),
    /// The hub ended the subscription; the client must start again from a fresh `hello`.
    Resync(Resync),
    /// The hub stopped (the server is shutting down).
    Closed,
}

/// One client's queue of frames for its scope.
pub struct Subscription {
    frames: mpsc::Receiver<Arc<Frame>>,
    ended: oneshot::Receiver<Resync>,
    /// The last commit the hub had handled when it registered the subscription: every
    /// later commit of the scope is queued.
    from: u64,
    /// Frames of commits up to this one are already in the client's snapshot.
    skip_through: u64,
}

impl Subscription {
    pub(super) fn new(
        frames: mpsc::Receiver<Arc<Frame>>,
        ended: oneshot::Receiver<Resync>,
        from: u64,
    ) -> Self {
        Subscription {
            frames,
            ended,
            from,
            skip_through: from,
        }
    }

    /// The last commit before the first one this subscription receives.
    pub fn from(&self) -> u64 {
        self.from
    }

    /// Drops the queued frames of commits up to `seq` (which a snapshot already contains).
    pub fn skip_through(&mut self, seq: u64) {
        self.skip_through = seq;
    }

    /// Waits for the next frame, or for the end of the subscription.
    pub async fn next(&mut self) -> Next {
        loop {
            if self.ended.is_terminated() {
                return Next::Closed;
            }
            tokio::select! {
                biased;
                ended = &mut self.ended => return ended_with(ended),
                frame = self.frames.recv() => match frame {
                    Some(f) if f.seq <= self.skip_through => continue,
                    Some(f) => return Next::Frame(f),
                    // The hub dropped the queue; its signal follows at once.
                    None => return ended_with((&mut self.ended).await),
                },
            }
        }
    }

    /// The next frame if one is queued already, without waiting.
    pub fn try_next(&mut self) -> Option<Next> {
        match self.ended.try_recv() {
            Ok(reason) => return Some(Next::Resync(reason)),
            Err(oneshot::error::TryRecvError::Closed) => return Some(Next::Closed),
            Err(oneshot::error::TryRecvError::Empty) => {}
        }
        while let Ok(f) = self.frames.try_recv() {
            if f.seq > self.skip_through {
                return Some(Next::Frame(f));
            }
        }
        None
    }
}

fn ended_with(signal: Result<Resync, oneshot::error::RecvError>) -> Next {
    match signal {
        Ok(reason) => Next::Resync(reason),
        Err(_) => Next::Closed,
    }
}
