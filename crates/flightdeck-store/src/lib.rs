//! Flightdeck's storage contract: the [`Store`] trait, and what every implementation shares.
//!
//! Every source (native API, OTLP, proxy, files) ends in [`Store::append`], which returns
//! only once the messages are durable. Committed batches are then offered, in commit order, to
//! whoever subscribed (the live hub). Queries read through the same trait, so the server does
//! not know which database is behind it.
//!
//! The implementations live in crates of their own (`flightdeck-store-sqlite`, the embedded
//! default), so this crate carries no database driver and whatever needs only the contract
//! (the server) compiles while the database code does. What every implementation shares is
//! here: how values are stored in columns (`columns`), the merge rules of messages (`merge`), payload compression (`codec`) with its trained
//! dictionaries (`dictionary`), what is done to a batch before the writer (`prepare`: server
//! times, derived ids, compressed payloads; `exchange`: a proxied call's bodies), query
//! parameters (`query`), latency percentiles (`stats`), text search in payloads (`text`) how totals change with spans
//! (`totals`), what re-filing needs of a message (`refile`) and a writer's counts
//! (`writer_stats`).

pub mod codec;
pub mod columns;
pub mod dictionary;
pub mod exchange;
pub mod merge;
pub mod prepare;
pub mod query;
pub mod refile;
pub mod stats;
pub mod text;
pub mod totals;
pub mod writer_stats;

use async_trait::async_trait;
use flightdeck_model::record::*;
use flightdeck_model::{Message, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

use flightdeck_model::replay::{Exchange, ReplayRecord};
use flightdeck_model::review::{ReviewRecord, Settlement};
pub use query::{
    EventQuery, LogQuery, MetricQuery, ReviewQuery, SearchQuery, SessionQuery, StatsScope,
};

/// A batch that the store made durable, as offered to subscribers.
#[derive(Debug)]
pub struct Committed {
    /// Commit sequence number: strictly increasing, without gaps, per store.
    pub seq: u64,
    /// The messages of the batch, in ingest order, with server-filled times.
    pub messages: Vec<Message>,
    /// The sessions the batch touched, with their totals after it.
    pub sessions: Vec<SessionSummary>,
    /// The reviews the commit opened or settled, as they are after it.
    pub reviews: Vec<ReviewRecord>,
}

/// A change to a review gate, made by the writer in one transaction with the session's
/// messages that record it (see [`Store::write_review`]).
#[derive(Clone, Debug)]
pub enum ReviewOp {
    /// Opens the review, unless one with its id exists (a retried request).
    Open(Box<ReviewRecord>),
    /// Settles the review, if it is still pending (the first decision wins).
    Settle {
        review_id: String,
        settlement: Box<Settlement>,
    },
}

impl ReviewOp {
    /// A pending review as `settlement` decides it.
    pub fn settled(mut record: ReviewRecord, settlement: &Settlement) -> ReviewRecord {
        let s = settlement.clone();
        record.state = s.state;
        record.decision = Some(s.decision);
        record.revised_output = s.revised_output;
        record.diff = s.diff;
        record.comment = s.comment;
        record.decided_by = Some(s.decided_by);
        record.decided_at = Some(s.decided_at);
        record
    }
}

/// What a [`ReviewOp`] did.
#[derive(Clone, Debug)]
pub enum ReviewOutcome {
    /// It took effect: the review after it.
    Applied(ReviewRecord),
    /// Nothing changed: the review as it stands (opened before, or settled before).
    Unchanged(ReviewRecord),
    /// No review has this id.
    Unknown,
}

/// A session as a live client first sees it, read in one transaction.
#[derive(Clone, Debug)]
pub struct SessionSnapshot {
    /// The last commit the snapshot contains: exactly the commits with `seq <=` this.
    pub seq: u64,
    /// `None` while no message has named the session.
    pub session: Option<SessionSummary>,
    pub spans: Vec<SpanSummary>,
    pub edges: Vec<EdgeRecord>,
    pub agents: Vec<AgentSummary>,
    /// The store's rule for `agents`' statuses: an agent whose last heartbeat is older than
    /// this is `offline`. Live clients apply it as time passes without messages.
    pub agent_offline_after: Duration,
    /// The pending reviews of every session (every page shows the review panel).
    pub reviews: Vec<ReviewRecord>,
}

/// The overview as a live client first sees it, read in one transaction.
#[derive(Clone, Debug)]
pub struct OverviewSnapshot {
    /// The last commit the snapshot contains: exactly the commits with `seq <=` this.
    pub seq: u64,
    /// The first page of sessions, newest first.
    pub sessions: Page<SessionSummary>,
    /// Headline figures over all sessions.
    pub stats: OverviewStats,
    /// The pending reviews of every session, soonest deadline first.
    pub reviews: Vec<ReviewRecord>,
}

/// Why a store operation failed. Details are logged by the store; the text here is safe to
/// show a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store is shutting down or its writer stopped; the batch was not stored.
    #[error("the store is not accepting writes: {0}")]
    Unavailable(String),
    /// The database failed; the batch was not stored.
    #[error("storage failure: {0}")]
    Database(String),
    /// A query argument was not valid (a bad cursor, say).
    #[error("{0}")]
    InvalidQuery(String),
}

/// Shorthand for store results.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The storage contract.
///
/// - `append` is atomic per batch and returns `Ok` only when the batch is durable: a crash
///   after `Ok` loses nothing of it.
/// - Appending the same messages again, or in another order, leaves the same state
///   (see `merge` for the rules), so clients can retry freely.
/// - `session.move` re-files a session into another in the commit that carries it: what the
///   moved session held merges into the target, the moved id disappears, and messages naming
///   it later (after a restart too) are filed under the target, also in the feed.
/// - A span known only from `span.update`s is neither listed nor counted until its start,
///   end or kind arrives.
/// - Totals of sessions and agents are maintained on write; reading them never scans spans.
/// - Every committed batch is offered to subscribers in commit order, with no gaps in `seq`.
/// - A snapshot (`session_snapshot`, `overview_snapshot`) is read in one transaction and
///   carries the `seq` of exactly the last commit it contains, so a live client that starts
///   from it and applies the feed's commits with a greater `seq` neither misses nor doubles
///   anything.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores a batch durably.
    async fn append(&self, messages: Vec<Message>) -> Result<()>;
    /// Ends every session whose spans carry trace ids, that no `session.end` ended, whose
    /// spans have all ended and that no message touched since `quiet_before`: at its last
    /// span's end, `failed` when its last root span failed. A later span reopens it. The ends
    /// reach the feed as `session.end`s. Returns how many sessions ended.
    async fn end_idle(&self, quiet_before: Timestamp) -> Result<usize>;
    /// Receives committed batches from now on.
    fn subscribe(&self) -> broadcast::Receiver<Arc<Committed>>;
    /// The sequence number of the last committed batch (0 before the first).
    fn last_seq(&self) -> u64;
    /// One session's summary, spans, edges and agents, exactly as of one commit.
    async fn session_snapshot(&self, session_id: &str, now: Timestamp) -> Result<SessionSnapshot>;
    /// The first page of sessions matching `q` and the headline figures, exactly as of one
    /// commit.
    async fn overview_snapshot(&self, q: SessionQuery) -> Result<OverviewSnapshot>;

    /// Sessions, newest first, filtered and paged.
    async fn sessions(&self, q: SessionQuery) -> Result<Page<SessionSummary>>;
    /// Headline figures over every session matching `q`'s filters (its page ignored). A
    /// store should count them in one query; this default pages through
    /// [`Store::sessions`].
    async fn session_stats(&self, mut q: SessionQuery) -> Result<OverviewStats> {
        let mut counts = OverviewStats::default();
        q.limit = Some(500);
        q.cursor = None;
        loop {
            let page = self.sessions(q.clone()).await?;
            for s in &page.items {
                counts.sessions += 1;
                match s.status {
                    SessionStatus::Running => counts.running += 1,
                    SessionStatus::Completed => counts.completed += 1,
                    SessionStatus::Failed => counts.failed += 1,
                }
                counts.totals.add(&s.totals, 1);
            }
            match page.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => return Ok(stats::headline(counts)),
            }
        }
    }
    /// One session with totals and metadata.
    async fn session(&self, session_id: &str) -> Result<Option<Session>>;
    /// All spans of a session without payloads, in start order.
    async fn spans(&self, session_id: &str) -> Result<Vec<SpanSummary>>;
    /// The running spans of a session, in start order: what it is doing now. A store should
    /// read them without scanning the session's other spans (SQLite: a partial index on
    /// running spans); this default filters [`Store::spans`].
    async fn running_spans(&self, session_id: &str) -> Result<Vec<SpanSummary>> {
        let mut spans = self.spans(session_id).await?;
        spans.retain(|s| s.status == SpanStatus::Running);
        Ok(spans)
    }
    /// One span in full.
    async fn span(&self, session_id: &str, span_id: &str) -> Result<Option<SpanDetail>>;
    /// The ids of a session's spans whose input or output holds `text` (ignoring case), in
    /// start order.
    async fn spans_with_text(&self, session_id: &str, text: &str) -> Result<Vec<String>>;
    /// The edges of a session.
    async fn edges(&self, session_id: &str) -> Result<Vec<EdgeRecord>>;
    /// The events of a session, in time order, paged.
    async fn events(&self, session_id: &str, q: EventQuery) -> Result<Page<EventRecord>>;
    /// The agents of a session with their state and activity.
    async fn agents(&self, session_id: &str, now: Timestamp) -> Result<Vec<AgentSummary>>;
    /// The agents of running sessions and of those seen since `seen_since`, most recently
    /// seen first, at most `limit`.
    async fn live_agents(
        &self,
        seen_since: Timestamp,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<LiveAgent>>;
    /// LLM calls by model.
    async fn llm_stats(&self, scope: StatsScope) -> Result<Vec<LlmStats>>;
    /// Tool calls by tool.
    async fn tool_stats(&self, scope: StatsScope) -> Result<Vec<ToolStats>>;
    /// Headline figures over the sessions started in the range.
    async fn overview(&self, scope: StatsScope) -> Result<OverviewStats>;
    /// Metric samples.
    async fn metrics(&self, q: MetricQuery) -> Result<Vec<MetricPoint>>;
    /// Log lines of every session, oldest first in the page.
    async fn logs(&self, q: LogQuery) -> Result<Vec<LogLine>>;

    /// Opens or settles a review. Only when it takes effect are `messages` (the review's span
    /// and events) stored with it, in the same commit, and the commit offered to subscribers
    /// with the review in `Committed::reviews`.
    async fn write_review(&self, op: ReviewOp, messages: Vec<Message>) -> Result<ReviewOutcome>;
    /// One review.
    async fn review(&self, review_id: &str) -> Result<Option<ReviewRecord>>;
    /// Reviews matching `q` (the pending queue, or the history).
    async fn reviews(&self, q: ReviewQuery) -> Result<Vec<ReviewRecord>>;

    /// How the writer is doing: its queue and its commits so far.
    fn health(&self) -> Health;
    /// Stores the exact exchanges of LLM calls through the proxy, durably, each under its
    /// call's span (replacing one stored for the same span). Not part of the commit feed.
    async fn write_exchanges(&self, exchanges: Vec<Exchange>) -> Result<()>;
    /// The exchange of one call, by its span's ids (those it has now, after any move).
    async fn exchange(&self, session_id: &str, span_id: &str) -> Result<Option<Exchange>>;
    /// Stores a replay's record, unless one with a higher `version` is stored.
    async fn write_replay(&self, record: ReplayRecord) -> Result<()>;
    /// One replay.
    async fn replay(&self, replay_id: &str) -> Result<Option<ReplayRecord>>;

    /// Stops accepting writes, stores everything already accepted, and waits for it.
    async fn close(&self) -> Result<()>;
}

/// Housekeeping the binary schedules: retention and metric roll-ups.
#[async_trait]
pub trait Maintenance: Store {
    /// Deletes ended sessions (with everything in them) and metric samples older than
    /// `before`. Returns how many sessions were removed.
    async fn retain(&self, before: Timestamp) -> Result<usize>;
    /// Keeps metric series small: samples older than `raw_before` become one point (their
    /// mean) per `step`, and points older than `keep_after` are deleted. Returns (samples
    /// rolled up, points deleted).
    async fn roll_up_metrics(
        &self,
        raw_before: Timestamp,
        step: Duration,
        keep_after: Timestamp,
    ) -> Result<(usize, usize)>;
}

/// How a store's writer is doing, for health checks and `/metrics`.
#[derive(Clone, Debug, Default)]
pub struct Health {
    /// Writes waiting for the writer, and how many may wait before appends wait too.
    pub writer_queue: usize,
    pub writer_queue_capacity: usize,
    /// Commits (group commits of one or more batches) since start, and those that failed.
    pub commits: u64,
    pub failed_commits: u64,
    /// Messages committed since start.
    pub committed_messages: u64,
    /// Time spent committing since start.
    pub commit_seconds: f64,
    /// The writer runs, and its last commit (if any) succeeded.
    pub writer_running: bool,
    pub last_commit_ok: bool,
    /// Where the data lives, when it is a local file.
    pub path: Option<std::path::PathBuf>,
}
