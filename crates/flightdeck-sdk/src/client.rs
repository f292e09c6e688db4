//! The [`Client`]: a cheap handle that enqueues messages for the background task.

use crate::error::Error;
use crate::metric::MetricBuilder;
use crate::session::{SessionBuilder, SessionHandle};
use crate::stats::{Counters, Stats};
use crate::transport::Transport;
use crate::worker::{Batching, Command, Worker};
use flightdeck_model::Message;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::AbortHandle;

/// A connection to Flightdeck. Cloning is cheap; clones share one buffer and one background
/// task. Every recording call returns at once; see the [crate docs](crate).
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

struct Shared {
    tx: mpsc::Sender<Command>,
    counters: Arc<Counters>,
    runtime: Handle,
    capacity: usize,
    flush_timeout: Duration,
    /// Becomes true when the background task has stopped.
    stopped: watch::Receiver<bool>,
    worker: AbortHandle,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("stats", &self.stats())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Client {
    pub(crate) fn start(
        transport: Arc<dyn Transport>,
        runtime: Handle,
        capacity: usize,
        batching: Batching,
        flush_timeout: Duration,
    ) -> Client {
        let (tx, rx) = mpsc::channel(capacity);
        let counters = Arc::new(Counters::default());
        let (stopped_tx, stopped) = watch::channel(false);
        let worker = Worker {
            rx,
            transport,
            counters: counters.clone(),
            batching,
        };
        let task = runtime.spawn(async move {
            worker.run().await;
            let _ = stopped_tx.send(true);
        });
        Client {
            shared: Arc::new(Shared {
                tx,
                counters,
                runtime,
                capacity,
                flush_timeout,
                stopped,
                worker: task.abort_handle(),
            }),
        }
    }

    /// Starts describing a new session; see [`SessionBuilder`].
    pub fn session(&self, name: impl Into<String>) -> SessionBuilder {
        SessionBuilder::new(self.clone(), name.into())
    }

    /// A handle on a session that was started elsewhere (another process, an earlier run),
    /// to add spans, events and edges to it. It ends nothing when dropped.
    pub fn attach(&self, session_id: impl Into<String>) -> SessionHandle {
        SessionHandle::new(self.clone(), session_id.into())
    }

    /// A metric point of no session (system or process-wide); see [`MetricBuilder`].
    pub fn metric(&self, name: impl Into<String>, value: f64) -> MetricBuilder {
        MetricBuilder::new(self.clone(), None, name.into(), value)
    }

    /// Samples this process's CPU, memory and threads every `interval` as metrics of no
    /// session, labelled `pid` (and `agent`); see [`ProcessMetrics`](crate::ProcessMetrics).
    pub fn process_metrics(
        &self,
        interval: std::time::Duration,
        agent: Option<&str>,
    ) -> crate::ProcessMetrics {
        let client = self.clone();
        crate::ProcessMetrics::start(
            Box::new(move |name, value| client.metric(name, value)),
            interval,
            agent,
        )
    }

    /// Enqueues a raw protocol message. Never blocks: when the buffer is full or the client
    /// is shut down the message is dropped, counted in [`Stats::dropped`] and logged.
    pub fn send(&self, message: Message) {
        let counters = &self.shared.counters;
        counters.enqueued.fetch_add(1, Relaxed);
        let Err(e) = self.shared.tx.try_send(Command::Message(message)) else {
            return;
        };
        counters.enqueued.fetch_sub(1, Relaxed);
        let dropped = counters.overflowed.fetch_add(1, Relaxed) + 1;
        // Logged at the 1st, 2nd, 4th, 8th ... drop: visible, but never a flood.
        if dropped.is_power_of_two() {
            match e {
                mpsc::error::TrySendError::Full(_) => tracing::warn!(
                    dropped,
                    capacity = self.shared.capacity,
                    "flightdeck: buffer full (server unreachable or too slow); message dropped"
                ),
                mpsc::error::TrySendError::Closed(_) => {
                    tracing::warn!(dropped, "flightdeck: client is shut down; message dropped")
                }
            }
        }
    }

    /// What was sent, refused, dropped and retried so far.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// True once [`shutdown`](Self::shutdown) was called (or the background task stopped).
    pub fn is_closed(&self) -> bool {
        self.shared.tx.is_closed()
    }

    /// Waits until everything enqueued before this call is acknowledged (or refused), at
    /// most the configured flush timeout.
    pub async fn flush(&self) -> Result<(), Error> {
        self.flush_within(self.shared.flush_timeout).await
    }

    /// [`flush`](Self::flush) with an explicit time limit.
    pub async fn flush_within(&self, timeout: Duration) -> Result<(), Error> {
        let (done_tx, done_rx) = oneshot::channel();
        let flushed = async {
            self.shared
                .tx
                .send(Command::Flush(done_tx))
                .await
                .map_err(|_| Error::Closed)?;
            done_rx.await.map_err(|_| Error::Closed)
        };
        tokio::time::timeout(timeout, flushed)
            .await
            .unwrap_or_else(|_| Err(self.timeout_error(timeout)))
    }

    /// Delivers everything enqueued so far, then stops the background task; messages sent
    /// afterwards are dropped and counted. If the server does not take the backlog within
    /// the flush timeout, the task is stopped anyway, the rest is counted as dropped, and
    /// [`Error::Timeout`] is returned. Calling it again is harmless.
    pub async fn shutdown(&self) -> Result<(), Error> {
        let timeout = self.shared.flush_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        // Waits for room when the buffer is full; fails only if already closed.
        let _ = tokio::time::timeout_at(deadline, self.shared.tx.send(Command::Shutdown)).await;
        let mut stopped = self.shared.stopped.clone();
        let finished = tokio::time::timeout_at(deadline, stopped.wait_for(|s| *s))
            .await
            .is_ok();
        if finished {
            return Ok(());
        }
        let error = self.timeout_error(timeout);
        self.shared.worker.abort();
        // Resolves (with an error) once the aborted task is gone.
        let _ = stopped.wait_for(|s| *s).await;
        let counters = &self.shared.counters;
        counters.lost.fetch_add(counters.pending(), Relaxed);
        tracing::warn!(%error, "flightdeck: shutdown gave up; unsent messages dropped");
        Err(error)
    }

    fn timeout_error(&self, timeout: Duration) -> Error {
        Error::Timeout {
            timeout,
            pending: self.shared.counters.pending(),
        }
    }

    /// The runtime the client was built on, for its helper tasks (heartbeats).
    pub(crate) fn runtime(&self) -> &Handle {
        &self.shared.runtime
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{Scripted, client_with, messages};
    use crate::transport::{SendError, SendFuture, Transport};
    use crate::{Error, Flightdeck, MemorySink, Message};
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::sync::{Notify, Semaphore};

    /// A transport that holds each batch until the test lets it through.
    #[derive(Clone)]
    struct Gate {
        arrived: Arc<Notify>,
        open: Arc<Semaphore>,
        sink: MemorySink,
    }

    impl Gate {
        fn closed() -> Self {
            Gate {
                arrived: Arc::default(),
                open: Arc::new(Semaphore::new(0)),
                sink: MemorySink::new(),
            }
        }
    }

    impl Transport for Gate {
        fn send<'a>(&'a self, batch: &'a [Message]) -> SendFuture<'a> {
            Box::pin(async move {
                self.arrived.notify_one();
                self.open.acquire().await.unwrap().forget();
                self.sink.send(batch).await
            })
        }
    }

    #[tokio::test]
    async fn overflow_is_counted_not_blocking() {
        let gate = Gate::closed();
        let client = Flightdeck::with_transport(gate.clone())
            .capacity(10)
            .linger(Duration::ZERO)
            .build()
            .unwrap();
        let mut all = messages(101).into_iter();
        client.send(all.next().unwrap());
        gate.arrived.notified().await; // the first batch is in flight, the buffer empty
        for m in all {
            client.send(m);
        }
        let stats = client.stats();
        assert_eq!((stats.enqueued, stats.dropped, stats.pending), (11, 90, 11));
        gate.open.add_permits(1000);
        client.flush().await.unwrap();
        let stats = client.stats();
        assert_eq!((stats.sent, stats.dropped, stats.pending), (11, 90, 0));
        assert_eq!(gate.sink.messages().len(), 11);
    }

    #[tokio::test(start_paused = true)]
    async fn flush_times_out_while_the_server_stays_away() {
        let down = (0..1000).map(|_| Err(SendError::Transient("down".into())));
        let client = client_with(Scripted::new(down));
        client.send(messages(1).remove(0));
        match client.flush_within(Duration::from_secs(3)).await {
            Err(Error::Timeout { pending, timeout }) => {
                assert_eq!((pending, timeout), (1, Duration::from_secs(3)));
            }
            other => panic!("{other:?}"),
        }
        assert!(client.stats().retries >= 3);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_delivers_the_backlog_then_refuses_more() {
        let sink = MemorySink::new();
        let client = Flightdeck::with_transport(sink.clone()).build().unwrap();
        for m in messages(3) {
            client.send(m);
        }
        client.shutdown().await.unwrap();
        assert!(client.is_closed());
        assert_eq!(sink.messages().len(), 3);
        client.send(messages(1).remove(0));
        assert!(matches!(client.flush().await, Err(Error::Closed)));
        client.shutdown().await.unwrap();
        let stats = client.stats();
        assert_eq!((stats.sent, stats.dropped, stats.pending), (3, 1, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_gives_up_after_the_flush_timeout_and_counts_the_loss() {
        let down = (0..1000).map(|_| Err(SendError::Transient("down".into())));
        let client = Flightdeck::with_transport(Scripted::new(down))
            .capacity(2)
            .max_batch(1)
            .flush_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let mut all = messages(3).into_iter();
        client.send(all.next().unwrap());
        tokio::time::sleep(Duration::from_millis(1)).await; // in flight, retrying
        for m in all {
            client.send(m); // the buffer is now full: even the shutdown has to wait
        }
        let started = tokio::time::Instant::now();
        let result = client.shutdown().await;
        assert!(
            matches!(result, Err(Error::Timeout { pending: 3, .. })),
            "{result:?}"
        );
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(2),
            "one timeout in all"
        );
        let stats = client.stats();
        assert_eq!((stats.sent, stats.dropped, stats.pending), (0, 3, 0));
        assert!(client.is_closed());
    }
}
