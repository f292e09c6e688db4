//! The live hub: committed batches fanned out to browsers and other live clients.
//!
//! ```text
//! store commit feed ──► hub task (fanout) ──► one bounded queue per subscription
//!  (broadcast, seq)      encodes once per       ──► connection (ws / sse) ──► client
//!                        scope, never waits
//! ```
//!
//! A client subscribes to a [`Scope`]. It receives a `hello` with a snapshot of that scope
//! read exactly as of commit `seq`, then one `commit` frame for every later commit that
//! touches the scope, in commit order: no gap, no duplicate (see `watch`). A client that
//! does not keep up fills its queue and gets `resync`, never slowing ingest or anyone else.
//!
//! - `scope`: what a client watches;
//! - `frame`: server -> client messages, encoded once; `client`: client -> server messages;
//! - `fanout`: the hub task; `registry`: its subscribers and the queuing rule;
//! - `subscription`: the receiving end of a queue; `watch`: snapshot + subscription;
//! - `stats`: counters and `GET /api/v1/hub`;
//! - `origin`, `ws`, `sse`: the transports (`GET /ws`, `GET /api/v1/stream`).

mod client;
mod fanout;
mod frame;
mod registry;
mod scope;
pub(crate) mod sse;
pub(crate) mod stats;
mod subscription;
mod watch;
pub(crate) mod ws;

use fanout::{Command, Fanout};
use flightdeck_store::{Committed, Store};
pub use frame::{Frame, Resync};

/// The `hello` a subscriber of session `snapshot` gets (a shared page replays it).
pub fn session_hello(
    session_id: &str,
    snapshot: flightdeck_store::SessionSnapshot,
    heartbeat: std::time::Duration,
) -> String {
    let scope = Scope::Session(session_id.to_owned());
    frame::hello(&scope, &frame::Snapshot::Session(snapshot), heartbeat)
        .text
        .to_string()
}
use registry::Registry;
pub use scope::Scope;
pub use stats::HubStats;
use stats::Stats;
use std::future::Future;
use std::sync::Arc;
pub use subscription::{Next, Subscription};
use tokio::sync::{broadcast, mpsc, oneshot, watch as signal};

/// Subscribe requests that may wait for the hub task.
const COMMANDS: usize = 256;

/// The handle of the hub task.
pub struct Hub {
    commands: mpsc::Sender<Command>,
    stats: Arc<Stats>,
    stop: signal::Sender<bool>,
    capacity: usize,
}

impl Hub {
    /// Starts the hub on `store`'s commit feed; each subscription holds at most `capacity`
    /// frames. Needs a tokio runtime.
    pub fn start(store: &dyn Store, capacity: usize) -> Hub {
        // Subscribe first: a commit counted by `last_seq` but broadcast later is then
        // received, and recognised as already contained in every snapshot.
        let feed = store.subscribe();
        Hub::spawn(feed, store.last_seq(), capacity)
    }

    fn spawn(feed: broadcast::Receiver<Arc<Committed>>, last: u64, capacity: usize) -> Hub {
        let stats = Arc::new(Stats::default());
        let (commands, requests) = mpsc::channel(COMMANDS);
        let (stop, stopped) = signal::channel(false);
        let capacity = capacity.max(1);
        stats.handled(last);
        tokio::spawn(
            Fanout {
                feed,
                commands: requests,
                stop: stopped,
                registry: Registry::new(capacity, Arc::clone(&stats)),
                stats: Arc::clone(&stats),
                last,
            }
            .run(),
        );
        Hub {
            commands,
            stats,
            stop,
            capacity,
        }
    }

    /// Registers a subscription to `scope`; `None` once the hub has stopped.
    pub async fn subscribe(&self, scope: Scope) -> Option<Subscription> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Subscribe { scope, reply })
            .await
            .ok()?;
        answer.await.ok()
    }

    /// The hub's counters now.
    pub fn stats(&self) -> HubStats {
        self.stats.read(self.capacity)
    }

    /// Stops the hub: every subscription closes, so live connections end.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Resolves once the hub is told to stop.
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stop = self.stop.subscribe();
        async move {
            let _ = stop.wait_for(|stop| *stop).await;
        }
    }
}
