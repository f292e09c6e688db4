//! The embedded SQLite store: WAL, one writer thread with group commit, a pool of readers.
//!
//! - times and payload compression, on the caller's thread: `flightdeck_store::prepare`;
//! - `writer` + `apply` + `rows`: the single writer and what it writes; `moves`: re-filing
//!   a session into another (`session.move`), and the idle end of traced sessions (`idle`);
//! - `read`: the queries; `pool`: the reader connections;
//! - `gate`: the commit sequence, and snapshots read exactly as of one commit;
//! - `checkpoint`: WAL checkpoints on a thread of their own, off the commit path;
//! - `dictionary`: where the compression dictionaries (`flightdeck_store::dictionary`) live;
//! - `reviews`: the review gates' table;
//! - `exchanges`, `replays`: proxied calls byte for byte, and replays of sessions;
//! - `schema`: tables and migrations.

mod apply;
mod checkpoint;
mod dictionary;
mod error;
mod exchanges;
mod gate;
mod idle;
mod moves;
mod pool;
mod read;
mod replays;
mod reviews;
mod rollup;
mod rows;
mod schema;
mod search;
mod writer;

use async_trait::async_trait;
use checkpoint::Checkpointer;
use error::Db;
use flightdeck_model::record::*;
use flightdeck_model::replay::{Exchange, ReplayRecord};
use flightdeck_model::review::ReviewRecord;
use flightdeck_model::{Message, Pricing, Timestamp};
use flightdeck_store::dictionary::Dictionaries;
use flightdeck_store::prepare::Prepared;
use flightdeck_store::query::{
    EventQuery, LogQuery, MetricQuery, ReviewQuery, SessionQuery, StatsScope,
};
use flightdeck_store::{Committed, OverviewSnapshot, Result, SessionSnapshot, Store, StoreError};
use flightdeck_store::{Maintenance, ReviewOp, ReviewOutcome};
use gate::CommitGate;
use pool::Readers;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};
use writer::{Command, Writer};

/// How to open a SQLite store.
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    pub path: PathBuf,
    /// Read connections (default 4).
    pub readers: usize,
    /// Batches that may wait for the writer before `append` waits too (default 256).
    pub queue: usize,
    /// fsync every commit (`synchronous=FULL`): survives power loss, not only a crash.
    pub durable: bool,
    /// An agent whose last heartbeat is older than this shows as offline.
    pub agent_offline_after: Duration,
    pub pricing: Arc<Pricing>,
}

impl SqliteOptions {
    /// Defaults for a database at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SqliteOptions {
            path: path.into(),
            readers: 4,
            queue: 256,
            durable: true,
            agent_offline_after: Duration::from_secs(30),
            pricing: Arc::new(Pricing::built_in()),
        }
    }
}

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    writer: mpsc::Sender<Command>,
    readers: Arc<Readers>,
    feed: broadcast::Sender<Arc<Committed>>,
    commits: Arc<CommitGate>,
    closed: AtomicBool,
    offline_after_ns: i64,
    path: PathBuf,
    _checkpoints: Checkpointer,
    dictionaries: Arc<Dictionaries>,
    stats: Arc<flightdeck_store::writer_stats::WriterStats>,
}

/// Committed batches a subscriber may fall behind by before it is told it lagged.
const FEED_CAPACITY: usize = 1024;

impl SqliteStore {
    /// Opens (creating if needed) the database, migrates it, and starts the writer thread.
    pub fn open(opts: SqliteOptions) -> Result<Self> {
        if let Some(dir) = opts.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Database(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut conn = Connection::open(&opts.path).db()?;
        schema::configure(&conn, opts.durable).db()?;
        schema::migrate(&mut conn).db()?;
        let dictionaries = Arc::new(dictionary::load(&conn).db()?);
        let readers = Readers::open(&opts.path, opts.readers)?;
        let checkpoints = Checkpointer::start(&opts.path, opts.durable)?;
        let (tx, rx) = mpsc::channel(opts.queue.max(1));
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        let commits = Arc::new(CommitGate::default());
        let moved = moves::Moved::load(&conn).db()?;
        let stats = Arc::new(flightdeck_store::writer_stats::WriterStats::default());
        let writer = Writer {
            stats: Arc::clone(&stats),
            moved,
            conn,
            pricing: Arc::clone(&opts.pricing),
            feed: feed.clone(),
            commits: Arc::clone(&commits),
            dictionaries: Arc::clone(&dictionaries),
        };
        std::thread::Builder::new()
            .name("flightdeck-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| StoreError::Database(format!("cannot start the writer: {e}")))?;
        tracing::info!(db.path = %opts.path.display(), "sqlite store open");
        Ok(SqliteStore {
            stats,
            writer: tx,
            readers,
            feed,
            commits,
            closed: AtomicBool::new(false),
            offline_after_ns: opts.agent_offline_after.as_nanos() as i64,
            path: opts.path,
            _checkpoints: checkpoints,
            dictionaries,
        })
    }

    /// Trains the compression dictionary on a thread of its own and hands it to the writer.
    fn train_dictionary(&self, samples: Vec<Vec<u8>>) {
        let writer = self.writer.clone();
        let spawned = std::thread::Builder::new()
            .name("flightdeck-dict".into())
            .spawn(move || match Dictionaries::train(&samples) {
                Ok(bytes) => {
                    let _ = writer.blocking_send(Command::Dictionary { bytes });
                }
                Err(e) => tracing::warn!(error = %e, "no compression dictionary: training failed"),
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no compression dictionary: cannot start training");
        }
    }

    /// Sets times and compresses payloads (on the caller's thread), starting the dictionary's
    /// training once enough payloads were seen.
    fn prepare(&self, messages: Vec<Message>) -> Prepared {
        let (batch, samples) =
            flightdeck_store::prepare::prepare(messages, Timestamp::now(), &self.dictionaries);
        if let Some(samples) = samples {
            self.train_dictionary(samples);
        }
        batch
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn send(&self, cmd: Command) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Unavailable("the store is closed".into()));
        }
        self.writer.send(cmd).await.map_err(|_| writer_gone())
    }

    async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        self.readers.with(f).await
    }
}

fn writer_gone() -> StoreError {
    StoreError::Unavailable("the writer has stopped".into())
}

#[async_trait]
impl Maintenance for SqliteStore {
    async fn retain(&self, before: Timestamp) -> Result<usize> {
        let (done, wait) = oneshot::channel();
        self.send(Command::Retain { before, done }).await?;
        wait.await.map_err(|_| writer_gone())?
    }

    async fn roll_up_metrics(
        &self,
        raw_before: Timestamp,
        step: Duration,
        keep_after: Timestamp,
    ) -> Result<(usize, usize)> {
        let (done, wait) = oneshot::channel();
        let step_ns = (step.as_nanos() as i64).max(1);
        self.send(Command::RollUp {
            raw_before,
            step_ns,
            keep_after,
            done,
        })
        .await?;
        wait.await.map_err(|_| writer_gone())?
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn append(&self, messages: Vec<Message>) -> Result<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let batch = self.prepare(messages);
        let (done, wait) = oneshot::channel();
        self.send(Command::Append { batch, done }).await?;
        wait.await.map_err(|_| writer_gone())?
    }

    async fn end_idle(&self, quiet_before: Timestamp) -> Result<usize> {
        let (done, wait) = oneshot::channel();
        self.send(Command::EndIdle { quiet_before, done }).await?;
        wait.await.map_err(|_| writer_gone())?
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Committed>> {
        self.feed.subscribe()
    }

    fn last_seq(&self) -> u64 {
        self.commits.last()
    }

    async fn session_snapshot(&self, session_id: &str, now: Timestamp) -> Result<SessionSnapshot> {
        let (id, commits) = (session_id.to_owned(), Arc::clone(&self.commits));
        let offline = self.offline_after_ns;
        self.read(move |c| {
            let (seq, tx) = commits.begin_at(c)?;
            Ok(SessionSnapshot {
                seq,
                session: read::session_summary(&tx, &id, now).db()?,
                spans: read::spans(&tx, &id)?,
                edges: read::edges(&tx, &id)?,
                agents: read::agents(&tx, &id, now, offline)?,
                agent_offline_after: Duration::from_nanos(offline as u64),
                reviews: reviews::list(&tx, &ReviewQuery::pending()).db()?,
            })
        })
        .await
    }

    async fn overview_snapshot(&self, q: SessionQuery) -> Result<OverviewSnapshot> {
        let commits = Arc::clone(&self.commits);
        self.read(move |c| {
            let (seq, tx) = commits.begin_at(c)?;
            Ok(OverviewSnapshot {
                seq,
                sessions: read::sessions(&tx, &q, Timestamp::now())?,
                stats: read::overview(&tx, &StatsScope::default())?,
                reviews: reviews::list(&tx, &ReviewQuery::pending()).db()?,
            })
        })
        .await
    }

    async fn sessions(&self, q: SessionQuery) -> Result<Page<SessionSummary>> {
        self.read(move |c| read::sessions(c, &q, Timestamp::now()))
            .await
    }

    async fn session_stats(&self, q: SessionQuery) -> Result<OverviewStats> {
        self.read(move |c| read::session_stats(c, &q)).await
    }

    async fn session(&self, session_id: &str) -> Result<Option<Session>> {
        let id = session_id.to_owned();
        self.read(move |c| read::session(c, &id, Timestamp::now()))
            .await
    }

    async fn spans(&self, session_id: &str) -> Result<Vec<SpanSummary>> {
        let id = session_id.to_owned();
        self.read(move |c| read::spans(c, &id)).await
    }

    async fn running_spans(&self, session_id: &str) -> Result<Vec<SpanSummary>> {
        let id = session_id.to_owned();
        self.read(move |c| read::running_spans(c, &id)).await
    }

    async fn span(&self, session_id: &str, span_id: &str) -> Result<Option<SpanDetail>> {
        let (sid, id) = (session_id.to_owned(), span_id.to_owned());
        let dicts = Arc::clone(&self.dictionaries);
        self.read(move |c| read::span(c, &dicts, &sid, &id)).await
    }

    async fn spans_with_text(&self, session_id: &str, text: &str) -> Result<Vec<String>> {
        let (sid, text) = (session_id.to_owned(), text.to_owned());
        let dicts = Arc::clone(&self.dictionaries);
        self.read(move |c| search::spans_with_text(c, &dicts, &sid, &text))
            .await
    }

    async fn edges(&self, session_id: &str) -> Result<Vec<EdgeRecord>> {
        let id = session_id.to_owned();
        self.read(move |c| read::edges(c, &id)).await
    }

    async fn events(&self, session_id: &str, q: EventQuery) -> Result<Page<EventRecord>> {
        let id = session_id.to_owned();
        let dicts = Arc::clone(&self.dictionaries);
        self.read(move |c| read::events(c, &dicts, &id, &q)).await
    }

    async fn agents(&self, session_id: &str, now: Timestamp) -> Result<Vec<AgentSummary>> {
        let id = session_id.to_owned();
        let offline = self.offline_after_ns;
        self.read(move |c| read::agents(c, &id, now, offline)).await
    }

    async fn live_agents(
        &self,
        seen_since: Timestamp,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<LiveAgent>> {
        let offline = self.offline_after_ns;
        self.read(move |c| read::live_agents(c, seen_since, now, offline, limit))
            .await
    }

    async fn llm_stats(&self, scope: StatsScope) -> Result<Vec<LlmStats>> {
        self.read(move |c| read::llm_stats(c, &scope)).await
    }

    async fn tool_stats(&self, scope: StatsScope) -> Result<Vec<ToolStats>> {
        self.read(move |c| read::tool_stats(c, &scope)).await
    }

    async fn overview(&self, scope: StatsScope) -> Result<OverviewStats> {
        self.read(move |c| read::overview(c, &scope)).await
    }

    async fn logs(&self, q: LogQuery) -> Result<Vec<LogLine>> {
        self.read(move |c| read::logs(c, &q)).await
    }

    async fn metrics(&self, q: MetricQuery) -> Result<Vec<MetricPoint>> {
        self.read(move |c| read::metrics(c, &q)).await
    }

    async fn write_review(&self, op: ReviewOp, messages: Vec<Message>) -> Result<ReviewOutcome> {
        let batch = self.prepare(messages);
        let (done, wait) = oneshot::channel();
        self.send(Command::Review {
            op: Box::new(op),
            batch,
            done,
        })
        .await?;
        wait.await.map_err(|_| writer_gone())?
    }

    async fn review(&self, review_id: &str) -> Result<Option<ReviewRecord>> {
        let id = review_id.to_owned();
        self.read(move |c| reviews::load(c, &id).db()).await
    }

    async fn reviews(&self, q: ReviewQuery) -> Result<Vec<ReviewRecord>> {
        self.read(move |c| reviews::list(c, &q).db()).await
    }

    fn health(&self) -> flightdeck_store::Health {
        self.stats.health(&self.writer, Some(self.path.clone()))
    }

    async fn write_exchanges(&self, exchanges: Vec<Exchange>) -> Result<()> {
        if exchanges.is_empty() {
            return Ok(());
        }
        let rows = exchanges.into_iter().map(exchanges::prepare).collect();
        let (done, wait) = oneshot::channel();
        self.send(Command::Exchanges { rows, done }).await?;
        wait.await.map_err(|_| writer_gone())?
    }

    async fn exchange(&self, session_id: &str, span_id: &str) -> Result<Option<Exchange>> {
        let (sid, id) = (session_id.to_owned(), span_id.to_owned());
        self.read(move |c| exchanges::load(c, &sid, &id)).await
    }

    async fn write_replay(&self, record: ReplayRecord) -> Result<()> {
        let (done, wait) = oneshot::channel();
        let record = Box::new(record);
        self.send(Command::Replay { record, done }).await?;
        wait.await.map_err(|_| writer_gone())?
    }

    async fn replay(&self, replay_id: &str) -> Result<Option<ReplayRecord>> {
        let id = replay_id.to_owned();
        self.read(move |c| replays::load(c, &id)).await
    }

    async fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        self.writer
            .send(Command::Close { done })
            .await
            .map_err(|_| writer_gone())?;
        wait.await.map_err(|_| writer_gone())
    }
}
