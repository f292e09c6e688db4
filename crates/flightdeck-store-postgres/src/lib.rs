//! The PostgreSQL store: the same contract as the embedded SQLite store, over a database that
//! several Flightdeck nodes can share (design §9), and laid out for Citus (every table leads
//! with `session_id`; docs/deploy.md).
//!
//! - batches are prepared on the caller's task (`flightdeck_store::prepare`: times, derived
//!   ids, compressed payloads);
//! - `writer` + `apply` + `rows`: one writer task with group commit, each group applied with
//!   one multi-row statement per table; `moves`: `session.move` and `span.move`;
//! - `read`, `search`: the queries, on a pool of connections (`deadpool-postgres`); the live
//!   snapshots are one `REPEATABLE READ` transaction that reads the commit sequence too, so
//!   each is exact at a commit;
//! - `reviews`, `exchanges` (with replays), `maintenance` (idle ends, retention, metric
//!   roll-ups), `dictionary` (where the compression dictionaries live);
//! - `schema`: tables, the commit feed, versioned migrations; `sql`, `error`: plumbing;
//! - `testing` (feature `testing`): a throwaway PostgreSQL for tests.

mod apply;
mod dictionary;
mod error;
mod exchanges;
mod maintenance;
mod moves;
mod read;
mod reviews;
mod rows;
mod schema;
mod search;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;
mod writer;

use async_trait::async_trait;
use deadpool_postgres::{ClientWrapper, Manager, ManagerConfig, Pool, RecyclingMethod};
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
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};
use writer::{Command, Writer};

/// How to open a PostgreSQL store.
#[derive(Clone, Debug)]
pub struct PostgresOptions {
    /// `postgres://user:password@host:port/database` (or the key=value form).
    pub url: String,
    /// Read connections (default 8); the writer has one more of its own.
    pub readers: usize,
    /// Batches that may wait for the writer before `append` waits too (default 256).
    pub queue: usize,
    /// An agent whose last heartbeat is older than this shows as offline.
    pub agent_offline_after: Duration,
    pub pricing: Arc<Pricing>,
}

impl PostgresOptions {
    /// Defaults for the database at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        PostgresOptions {
            url: url.into(),
            readers: 8,
            queue: 256,
            agent_offline_after: Duration::from_secs(30),
            pricing: Arc::new(Pricing::built_in()),
        }
    }
}

/// Whether `db` names a PostgreSQL database (a `postgres://` or `postgresql://` URL).
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// The PostgreSQL implementation of [`Store`].
pub struct PostgresStore {
    writer: mpsc::Sender<Command>,
    pool: Pool,
    feed: broadcast::Sender<Arc<Committed>>,
    closed: AtomicBool,
    offline_after_ns: i64,
    dictionaries: Arc<Dictionaries>,
    stats: Arc<writer::Stats>,
}

/// Committed batches a subscriber may fall behind by before it is told it lagged.
const FEED_CAPACITY: usize = 1024;

/// How long connecting may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl PostgresStore {
    /// Connects, migrates the schema, and starts the writer task.
    pub async fn open(opts: PostgresOptions) -> Result<Self> {
        let mut config: tokio_postgres::Config = opts
            .url
            .parse()
            .map_err(|e| StoreError::InvalidQuery(format!("invalid PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("flightdeck");
        }
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(opts.readers.max(1) + 1)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Database(format!("cannot build the pool: {e}")))?;
        let unreachable = |e: deadpool_postgres::PoolError| {
            StoreError::Unavailable(format!(
                "cannot connect to PostgreSQL: {}",
                match &e {
                    deadpool_postgres::PoolError::Backend(e) => error::describe(e),
                    other => other.to_string(),
                }
            ))
        };
        let mut conn = pool.get().await.map_err(unreachable)?;
        let client: &mut tokio_postgres::Client = &mut conn;
        schema::migrate(client)
            .await
            .map_err(StoreError::Database)?;
        let dictionaries = Arc::new(dictionary::load(&conn).await.db()?);
        let moved = moves::Moved::load(&conn).await.db()?;
        let stats = Arc::new(writer::Stats::default());
        let head: i64 = sql::query(&conn, "SELECT seq FROM feed_head", &[])
            .await
            .db()?
            .first()
            .map_or(0, |r| r.get(0));
        stats.last_seq.store(head as u64, Ordering::SeqCst);
        let (tx, rx) = mpsc::channel(opts.queue.max(1));
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        let writer = Writer {
            conn,
            stats: Arc::clone(&stats),
            pricing: Arc::clone(&opts.pricing),
            feed: feed.clone(),
            dictionaries: Arc::clone(&dictionaries),
            moved,
        };
        tokio::spawn(writer.run(rx));
        tracing::info!("postgres store open");
        Ok(PostgresStore {
            writer: tx,
            pool,
            feed,
            closed: AtomicBool::new(false),
            offline_after_ns: opts.agent_offline_after.as_nanos() as i64,
            dictionaries,
            stats,
        })
    }

    /// Trains the compression dictionary on a thread of its own and hands it to the writer.
    fn train_dictionary(&self, samples: Vec<Vec<u8>>) {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || match Dictionaries::train(&samples) {
            Ok(bytes) => {
                let _ = writer.blocking_send(Command::Dictionary { bytes });
            }
            Err(e) => tracing::warn!(error = %e, "no compression dictionary: training failed"),
        });
    }

    /// Sets times and compresses payloads (on the caller's task), starting the dictionary's
    /// training once enough payloads were seen.
    fn prepare(&self, messages: Vec<Message>) -> Prepared {
        let (batch, samples) =
            flightdeck_store::prepare::prepare(messages, Timestamp::now(), &self.dictionaries);
        if let Some(samples) = samples {
            self.train_dictionary(samples);
        }
        batch
    }

    /// Sends the writer a command and waits for its answer.
    async fn ask<T>(&self, cmd: impl FnOnce(oneshot::Sender<Result<T>>) -> Command) -> Result<T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Unavailable("the store is closed".into()));
        }
        let (done, wait) = oneshot::channel();
        self.writer
            .send(cmd(done))
            .await
            .map_err(|_| writer_gone())?;
        wait.await.map_err(|_| writer_gone())?
    }

    /// Runs `f` on a pooled connection.
    async fn read<'a, R, F, Fut>(&'a self, f: F) -> Result<R>
    where
        F: FnOnce(deadpool_postgres::Object) -> Fut,
        Fut: Future<Output = Result<R>> + 'a,
    {
        let conn = self.pool.get().await.db()?;
        f(conn).await
    }

    /// Runs `f` in one read-only `REPEATABLE READ` transaction, with the sequence number of
    /// the last commit its view contains.
    async fn snapshot<R>(
        &self,
        f: impl AsyncFnOnce(&ClientWrapper, u64) -> Result<R>,
    ) -> Result<R> {
        let conn = self.pool.get().await.db()?;
        conn.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .db()?;
        let r = async {
            let seq: i64 = sql::query(&conn, "SELECT seq FROM feed_head", &[])
                .await
                .db()?
                .first()
                .map_or(0, |r| r.get(0));
            f(&conn, seq as u64).await
        }
        .await;
        let end = if r.is_ok() { "COMMIT" } else { "ROLLBACK" };
        conn.batch_execute(end).await.db()?;
        r
    }
}

fn writer_gone() -> StoreError {
    StoreError::Unavailable("the writer has stopped".into())
}

#[async_trait]
impl Maintenance for PostgresStore {
    async fn retain(&self, before: Timestamp) -> Result<usize> {
        self.ask(|done| Command::Retain { before, done }).await
    }

    async fn roll_up_metrics(
        &self,
        raw_before: Timestamp,
        step: Duration,
        keep_after: Timestamp,
    ) -> Result<(usize, usize)> {
        let step_ns = (step.as_nanos() as i64).max(1);
        self.ask(|done| Command::RollUp {
            raw_before,
            step_ns,
            keep_after,
            done,
        })
        .await
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn append(&self, messages: Vec<Message>) -> Result<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let batch = self.prepare(messages);
        self.ask(|done| Command::Append { batch, done }).await
    }

    async fn end_idle(&self, quiet_before: Timestamp) -> Result<usize> {
        self.ask(|done| Command::EndIdle { quiet_before, done })
            .await
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Committed>> {
        self.feed.subscribe()
    }

    fn last_seq(&self) -> u64 {
        self.stats.last_seq.load(Ordering::SeqCst)
    }

    async fn session_snapshot(&self, session_id: &str, now: Timestamp) -> Result<SessionSnapshot> {
        let offline = self.offline_after_ns;
        self.snapshot(async |c, seq| {
            Ok(SessionSnapshot {
                seq,
                session: read::session_summary(c, session_id, now).await?,
                spans: read::spans(c, session_id).await?,
                edges: read::edges(c, session_id).await?,
                agents: read::agents(c, session_id, now, offline).await?,
                agent_offline_after: Duration::from_nanos(offline as u64),
                reviews: reviews::list(c, &ReviewQuery::pending()).await?,
            })
        })
        .await
    }

    async fn overview_snapshot(&self, q: SessionQuery) -> Result<OverviewSnapshot> {
        self.snapshot(async |c, seq| {
            Ok(OverviewSnapshot {
                seq,
                sessions: read::sessions(c, &q, Timestamp::now()).await?,
                stats: read::overview(c, &StatsScope::default()).await?,
                reviews: reviews::list(c, &ReviewQuery::pending()).await?,
            })
        })
        .await
    }

    async fn sessions(&self, q: SessionQuery) -> Result<Page<SessionSummary>> {
        self.read(async |c| read::sessions(&c, &q, Timestamp::now()).await)
            .await
    }

    async fn session(&self, session_id: &str) -> Result<Option<Session>> {
        self.read(async |c| read::session(&c, session_id, Timestamp::now()).await)
            .await
    }

    async fn spans(&self, session_id: &str) -> Result<Vec<SpanSummary>> {
        self.read(async |c| read::spans(&c, session_id).await).await
    }

    async fn running_spans(&self, session_id: &str) -> Result<Vec<SpanSummary>> {
        self.read(async |c| read::running_spans(&c, session_id).await)
            .await
    }

    async fn span(&self, session_id: &str, span_id: &str) -> Result<Option<SpanDetail>> {
        let dicts = &self.dictionaries;
        self.read(async |c| read::span(&c, dicts, session_id, span_id).await)
            .await
    }

    async fn spans_with_text(&self, session_id: &str, text: &str) -> Result<Vec<String>> {
        let dicts = &self.dictionaries;
        self.read(async |c| search::spans_with_text(&c, dicts, session_id, text).await)
            .await
    }

    async fn edges(&self, session_id: &str) -> Result<Vec<EdgeRecord>> {
        self.read(async |c| read::edges(&c, session_id).await).await
    }

    async fn events(&self, session_id: &str, q: EventQuery) -> Result<Page<EventRecord>> {
        let dicts = &self.dictionaries;
        self.read(async |c| read::events(&c, dicts, session_id, &q).await)
            .await
    }

    async fn agents(&self, session_id: &str, now: Timestamp) -> Result<Vec<AgentSummary>> {
        let offline = self.offline_after_ns;
        self.read(async |c| read::agents(&c, session_id, now, offline).await)
            .await
    }

    async fn live_agents(
        &self,
        seen_since: Timestamp,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<LiveAgent>> {
        let offline = self.offline_after_ns;
        self.read(async |c| read::live_agents(&c, seen_since, now, offline, limit).await)
            .await
    }

    async fn llm_stats(&self, scope: StatsScope) -> Result<Vec<LlmStats>> {
        self.read(async |c| read::llm_stats(&c, &scope).await).await
    }

    async fn tool_stats(&self, scope: StatsScope) -> Result<Vec<ToolStats>> {
        self.read(async |c| read::tool_stats(&c, &scope).await)
            .await
    }

    async fn overview(&self, scope: StatsScope) -> Result<OverviewStats> {
        self.read(async |c| read::overview(&c, &scope).await).await
    }

    async fn metrics(&self, q: MetricQuery) -> Result<Vec<MetricPoint>> {
        self.read(async |c| read::metrics(&c, &q).await).await
    }

    async fn logs(&self, q: LogQuery) -> Result<Vec<LogLine>> {
        self.read(async |c| read::logs(&c, &q).await).await
    }

    async fn write_review(&self, op: ReviewOp, messages: Vec<Message>) -> Result<ReviewOutcome> {
        let batch = self.prepare(messages);
        self.ask(|done| Command::Review {
            op: Box::new(op),
            batch,
            done,
        })
        .await
    }

    async fn review(&self, review_id: &str) -> Result<Option<ReviewRecord>> {
        self.read(async |c| reviews::load(&c, review_id, false).await)
            .await
    }

    async fn reviews(&self, q: ReviewQuery) -> Result<Vec<ReviewRecord>> {
        self.read(async |c| reviews::list(&c, &q).await).await
    }

    fn health(&self) -> flightdeck_store::Health {
        self.stats.writer.health(&self.writer, None)
    }

    async fn write_exchanges(&self, exchanges: Vec<Exchange>) -> Result<()> {
        if exchanges.is_empty() {
            return Ok(());
        }
        let rows = exchanges.into_iter().map(exchanges::prepare).collect();
        self.ask(|done| Command::Exchanges { rows, done }).await
    }

    async fn exchange(&self, session_id: &str, span_id: &str) -> Result<Option<Exchange>> {
        self.read(async |c| exchanges::load(&c, session_id, span_id).await)
            .await
    }

    async fn write_replay(&self, record: ReplayRecord) -> Result<()> {
        let record = Box::new(record);
        self.ask(|done| Command::Replay { record, done }).await
    }

    async fn replay(&self, replay_id: &str) -> Result<Option<ReplayRecord>> {
        self.read(async |c| exchanges::load_replay(&c, replay_id).await)
            .await
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
        wait.await.map_err(|_| writer_gone())?;
        self.pool.close();
        Ok(())
    }
}
