//! Helpers for the unit tests: sample messages, a scripted transport, a client over it, the
//! metrics a sink was given.

use crate::backoff::Backoff;
use crate::transport::{SendError, SendFuture, Transport};
use crate::{Client, Flightdeck, MemorySink};
use flightdeck_model::{Event, Message, Metric};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `n` log events in session `s`, with messages `m0`, `m1`, ...
pub(crate) fn messages(n: usize) -> Vec<Message> {
    (0..n)
        .map(|i| {
            Message::Event(Event {
                session_id: "s".into(),
                span_id: None,
                event_id: Some(format!("e{i}")),
                at: None,
                category: "log".into(),
                level: None,
                agent: None,
                name: None,
                message: Some(format!("m{i}")),
                data: None,
            })
        })
        .collect()
}

/// A transport that answers attempts from a script, then succeeds; it records every attempt.
#[derive(Clone, Default)]
pub(crate) struct Scripted {
    state: Arc<Mutex<ScriptState>>,
}

#[derive(Default)]
struct ScriptState {
    script: VecDeque<Result<(), SendError>>,
    attempts: Vec<Vec<Message>>,
    delivered: Vec<Message>,
}

impl Scripted {
    pub(crate) fn new(script: impl IntoIterator<Item = Result<(), SendError>>) -> Self {
        let state = ScriptState {
            script: script.into_iter().collect(),
            ..ScriptState::default()
        };
        Scripted {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// Every batch offered, including those that failed.
    pub(crate) fn attempts(&self) -> Vec<Vec<Message>> {
        self.state.lock().unwrap().attempts.clone()
    }

    /// The messages of the batches that succeeded, in order.
    pub(crate) fn delivered(&self) -> Vec<Message> {
        self.state.lock().unwrap().delivered.clone()
    }
}

impl Transport for Scripted {
    fn send<'a>(&'a self, batch: &'a [Message]) -> SendFuture<'a> {
        let mut state = self.state.lock().unwrap();
        state.attempts.push(batch.to_vec());
        let answer = state.script.pop_front().unwrap_or(Ok(()));
        if answer.is_ok() {
            state.delivered.extend_from_slice(batch);
        }
        Box::pin(std::future::ready(answer))
    }
}

/// The backoff of [`client_with`]: 100 ms doubling up to 1 s.
pub(crate) const TEST_BACKOFF: Backoff = Backoff {
    initial: Duration::from_millis(100),
    max: Duration::from_secs(1),
};

/// A client over `transport` with a 50 ms linger and [`TEST_BACKOFF`].
pub(crate) fn client_with(transport: impl Transport) -> Client {
    Flightdeck::with_transport(transport)
        .linger(Duration::from_millis(50))
        .retry_backoff(TEST_BACKOFF.initial, TEST_BACKOFF.max)
        .build()
        .unwrap()
}

/// The metric points `sink` was given, in order.
pub(crate) fn metrics_of(sink: &MemorySink) -> Vec<Metric> {
    sink.messages()
        .into_iter()
        .filter_map(|m| match m {
            Message::Metric(m) => Some(m),
            _ => None,
        })
        .collect()
}
