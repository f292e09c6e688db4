//! The background task: drains the buffer into batches and delivers them, retrying.
//!
//! A batch closes when it holds `max_batch` messages, when `linger` has passed since its
//! first message, or when a flush or shutdown asks for it. It is then sent until the server
//! acknowledges it: transient failures are retried with capped exponential backoff, the
//! same batch again and again, so order is kept and nothing is lost while the server is
//! away (new messages wait in the bounded buffer meanwhile). A refusal that names invalid
//! messages drops just those and sends the rest; a batch refused as too large is halved.

use crate::backoff::Backoff;
use crate::stats::Counters;
use crate::transport::{Rejection, SendError, Transport};
use flightdeck_model::Message;
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The longest `Retry-After` obeyed: a server asking for more is waited on this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// What callers put on the buffer.
#[expect(
    clippy::large_enum_variant,
    reason = "nearly every command is a message; boxing would cost an allocation each"
)]
pub(crate) enum Command {
    Message(Message),
    /// Answer once everything before this command is delivered (or refused).
    Flush(oneshot::Sender<()>),
    /// Deliver everything already buffered, refuse anything new, then stop.
    Shutdown,
}

/// How the worker batches and retries.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Batching {
    pub(crate) max_batch: usize,
    pub(crate) linger: Duration,
    pub(crate) backoff: Backoff,
}

pub(crate) struct Worker {
    pub(crate) rx: mpsc::Receiver<Command>,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) batching: Batching,
}

/// What to do after a command was taken.
enum Next {
    /// Keep filling the batch.
    Fill,
    /// Send the batch now.
    Cut,
}

impl Worker {
    /// Runs until shut down, or until every client is dropped and the buffer is drained.
    pub(crate) async fn run(mut self) {
        let mut batch = Vec::with_capacity(self.batching.max_batch);
        let mut waiters = Vec::new();
        loop {
            let open = self.fill(&mut batch, &mut waiters).await;
            if !batch.is_empty() {
                self.deliver(std::mem::take(&mut batch)).await;
            }
            for waiter in waiters.drain(..) {
                let _ = waiter.send(());
            }
            if !open {
                return;
            }
        }
    }

    /// Fills `batch`; false when the buffer is closed and empty.
    async fn fill(
        &mut self,
        batch: &mut Vec<Message>,
        waiters: &mut Vec<oneshot::Sender<()>>,
    ) -> bool {
        let Some(first) = self.rx.recv().await else {
            return false;
        };
        if let Next::Cut = self.take(first, batch, waiters) {
            return true;
        }
        let linger = tokio::time::sleep(self.batching.linger);
        tokio::pin!(linger);
        while batch.len() < self.batching.max_batch {
            tokio::select! {
                biased;
                command = self.rx.recv() => match command {
                    Some(command) => {
                        if let Next::Cut = self.take(command, batch, waiters) {
                            break;
                        }
                    }
                    None => return false,
                },
                () = &mut linger => break,
            }
        }
        true
    }

    fn take(
        &mut self,
        command: Command,
        batch: &mut Vec<Message>,
        waiters: &mut Vec<oneshot::Sender<()>>,
    ) -> Next {
        match command {
            Command::Message(m) => {
                batch.push(m);
                Next::Fill
            }
            Command::Flush(waiter) => {
                waiters.push(waiter);
                Next::Cut
            }
            Command::Shutdown => {
                // Senders now fail; what is already buffered is still received and sent.
                self.rx.close();
                Next::Cut
            }
        }
    }

    /// Delivers `batch`, minus what the server refuses.
    async fn deliver(&self, batch: Vec<Message>) {
        let mut parts = VecDeque::from([batch]);
        while let Some(mut part) = parts.pop_front() {
            let Err(rejection) = self.send_until_answered(&part).await else {
                self.counters.sent.fetch_add(part.len() as u64, Relaxed);
                self.counters.batches.fetch_add(1, Relaxed);
                continue;
            };
            let invalid: BTreeSet<usize> = rejection
                .invalid
                .iter()
                .map(|e| e.index)
                .filter(|&i| i < part.len())
                .collect();
            if !invalid.is_empty() {
                self.refuse(invalid.len(), &rejection);
                let mut index = 0;
                part.retain(|_| {
                    index += 1;
                    !invalid.contains(&(index - 1))
                });
                if !part.is_empty() {
                    parts.push_front(part);
                }
            } else if rejection.is_too_large() && part.len() > 1 {
                let second = part.split_off(part.len() / 2);
                parts.push_front(second);
                parts.push_front(part);
            } else {
                self.refuse(part.len(), &rejection);
            }
        }
    }

    /// Sends `part` until the server acknowledges or refuses it.
    async fn send_until_answered(&self, part: &[Message]) -> Result<(), Rejection> {
        let mut attempt = 0;
        loop {
            match self.transport.send(part).await {
                Ok(()) => {
                    if attempt > 0 {
                        tracing::info!(
                            attempts = attempt + 1,
                            "flightdeck: delivered after retrying"
                        );
                    }
                    return Ok(());
                }
                Err(SendError::Rejected(rejection)) => return Err(rejection),
                Err(SendError::Transient(reason)) => {
                    self.wait_to_retry(&mut attempt, &reason, Duration::ZERO)
                        .await;
                }
                Err(SendError::RetryAfter { reason, after }) => {
                    self.wait_to_retry(&mut attempt, &reason, after.min(MAX_RETRY_AFTER))
                        .await;
                }
            }
        }
    }

    /// Waits out the backoff of failed attempt number `attempt`, and at least `at_least`.
    async fn wait_to_retry(&self, attempt: &mut u32, reason: &str, at_least: Duration) {
        let delay = self.batching.backoff.jittered(*attempt).max(at_least);
        *attempt += 1;
        self.counters.retries.fetch_add(1, Relaxed);
        if attempt.is_power_of_two() {
            tracing::warn!(
                %reason,
                attempt = *attempt,
                retry_in_ms = delay.as_millis() as u64,
                pending = self.counters.pending(),
                "flightdeck: delivery failed; buffering and retrying"
            );
        }
        tokio::time::sleep(delay).await;
    }

    fn refuse(&self, count: usize, rejection: &Rejection) {
        self.counters.rejected.fetch_add(count as u64, Relaxed);
        let first = rejection.invalid.first();
        tracing::warn!(
            count,
            %rejection,
            first_index = first.map(|e| e.index),
            first_field = first.and_then(|e| e.field.as_deref()),
            first_error = first.map(|e| e.message.as_str()),
            "flightdeck: the server refused message(s)"
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{Scripted, client_with, messages};
    use crate::transport::{Rejection, SendError};
    use crate::{Flightdeck, MemorySink};
    use flightdeck_model::{Message, MessageError};
    use std::time::Duration;

    fn names(batch: &[Message]) -> Vec<String> {
        batch
            .iter()
            .map(|m| match m {
                Message::Event(e) => e.message.clone().unwrap(),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn batches_close_by_size_then_by_linger() {
        let sink = MemorySink::new();
        let client = Flightdeck::with_transport(sink.clone())
            .max_batch(1000)
            .linger(Duration::from_millis(50))
            .build()
            .unwrap();
        for m in messages(2500) {
            client.send(m);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        let sizes = |s: &MemorySink| s.batches().iter().map(Vec::len).collect::<Vec<_>>();
        assert_eq!(sizes(&sink), [1000, 1000], "the partial batch lingers");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(sizes(&sink), [1000, 1000, 500]);
        let all = sink.messages();
        assert_eq!(names(&all), names(&messages(2500)), "order is kept");
        let stats = client.stats();
        assert_eq!((stats.sent, stats.batches, stats.pending), (2500, 3, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn flush_cuts_the_linger_short() {
        let sink = MemorySink::new();
        let client = Flightdeck::with_transport(sink.clone())
            .linger(Duration::from_secs(3600))
            .build()
            .unwrap();
        for m in messages(3) {
            client.send(m);
        }
        let started = tokio::time::Instant::now();
        client.flush().await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(sink.batches().len(), 1);
        assert_eq!(sink.messages().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_resend_the_same_batch_until_it_passes() {
        let transport = Scripted::new([
            Err(SendError::Transient("connection refused".into())),
            Err(SendError::Transient("HTTP 503".into())),
            Err(SendError::Transient("connection refused".into())),
        ]);
        let client = client_with(transport.clone());
        for m in messages(5) {
            client.send(m);
        }
        client.flush().await.unwrap();
        let attempts = transport.attempts();
        assert_eq!(attempts.len(), 4);
        let first = serde_json::to_string(&attempts[0]).unwrap();
        for again in &attempts[1..] {
            assert_eq!(
                serde_json::to_string(again).unwrap(),
                first,
                "same batch, same ids"
            );
        }
        let stats = client.stats();
        assert_eq!(
            (stats.sent, stats.retries, stats.rejected, stats.dropped),
            (5, 3, 0, 0)
        );
        assert_eq!(transport.delivered().len(), 5, "delivered exactly once");
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_grows_while_the_server_is_away() {
        let down = (0..4).map(|_| Err(SendError::Transient("down".into())));
        let transport = Scripted::new(down);
        let client = client_with(transport.clone());
        client.send(messages(1).remove(0));
        let started = tokio::time::Instant::now();
        client.flush().await.unwrap();
        // 100 + 200 + 400 + 800 ms from test_support's backoff, each jittered into its
        // upper half.
        let waited = started.elapsed().as_millis();
        assert!((750..=1500).contains(&waited), "{waited} ms");
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_is_waited_out_but_capped() {
        let later = |secs| {
            Err(SendError::RetryAfter {
                reason: "HTTP 503".into(),
                after: Duration::from_secs(secs),
            })
        };
        let transport = Scripted::new([later(3), later(3600)]);
        let client = client_with(transport.clone());
        client.send(messages(1).remove(0));
        let started = tokio::time::Instant::now();
        client.flush_within(Duration::from_secs(120)).await.unwrap();
        // 3 s as asked (more than the 100 ms backoff), then the 60 s cap.
        assert_eq!(started.elapsed().as_secs(), 63);
        assert_eq!(transport.delivered().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn refused_messages_are_dropped_and_the_rest_resent() {
        let invalid = |index| MessageError {
            index,
            field: Some("span_id".into()),
            message: "must not be empty".into(),
        };
        let transport = Scripted::new([Err(SendError::Rejected(Rejection {
            status: Some(400),
            message: "2 invalid message(s)".into(),
            invalid: vec![invalid(1), invalid(3), invalid(99)],
        }))]);
        let client = client_with(transport.clone());
        for m in messages(5) {
            client.send(m);
        }
        client.flush().await.unwrap();
        assert_eq!(names(&transport.delivered()), ["m0", "m2", "m4"]);
        let stats = client.stats();
        assert_eq!((stats.sent, stats.rejected, stats.retries), (3, 2, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_without_details_refuses_the_batch() {
        let transport = Scripted::new([Err(SendError::Rejected(Rejection {
            status: Some(401),
            message: "missing token".into(),
            invalid: vec![],
        }))]);
        let client = client_with(transport.clone());
        for m in messages(5) {
            client.send(m);
        }
        client.flush().await.unwrap();
        let stats = client.stats();
        assert_eq!((stats.sent, stats.rejected, stats.pending), (0, 5, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn too_large_batches_are_halved() {
        let too_large = || {
            Err(SendError::Rejected(Rejection {
                status: Some(413),
                message: "body too large".into(),
                invalid: vec![],
            }))
        };
        // 8 refused; 4 refused; 2 and 2 pass; the other 4 pass.
        let transport = Scripted::new([too_large(), too_large()]);
        let client = client_with(transport.clone());
        for m in messages(8) {
            client.send(m);
        }
        client.flush().await.unwrap();
        let sizes: Vec<usize> = transport.attempts().iter().map(Vec::len).collect();
        assert_eq!(sizes, [8, 4, 2, 2, 4]);
        assert_eq!(names(&transport.delivered()), names(&messages(8)));
        assert_eq!(client.stats().sent, 8);
    }
}
