//! The single writer: one task owns the write connection, takes batches from a bounded queue,
//! and commits whatever has queued up together in one transaction (group commit). Callers
//! are answered only after `COMMIT` returned; then the batch is offered to local subscribers.
//!
//! Each commit that the feed carries takes its sequence number from `feed_head` as its last
//! statement before `COMMIT` (the row lock orders commits, whichever node makes them) and
//! stores its messages in `feed` under it (see `schema`).

use crate::apply;
use crate::error::Db;
use crate::exchanges;
use crate::maintenance;
use crate::moves;
use crate::read;
use crate::reviews;
use crate::sql::{execute, query};
use deadpool_postgres::Object;
use flightdeck_model::message::SessionEnd;
use flightdeck_model::replay::ReplayRecord;
use flightdeck_model::{Message, Pricing, SessionSummary, Timestamp};
use flightdeck_store::codec;
use flightdeck_store::dictionary::Dictionaries;
use flightdeck_store::prepare::Prepared;
use flightdeck_store::writer_stats::WriterStats;
use flightdeck_store::{Committed, Result, ReviewOp, ReviewOutcome, StoreError};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{broadcast, mpsc, oneshot};

/// At most this many messages go into one transaction; more wait for the next.
const MAX_GROUP_MESSAGES: usize = 50_000;

/// What the writer is asked to do.
pub enum Command {
    Append {
        batch: Prepared,
        done: oneshot::Sender<Result<()>>,
    },
    /// Opens or settles a review, with the messages that record it when it takes effect.
    Review {
        op: Box<ReviewOp>,
        batch: Prepared,
        done: oneshot::Sender<Result<ReviewOutcome>>,
    },
    /// Stores the exact exchanges of proxied calls.
    Exchanges {
        rows: Vec<exchanges::Prepared>,
        done: oneshot::Sender<Result<()>>,
    },
    /// Stores a replay's record (unless a newer version is stored).
    Replay {
        record: Box<ReplayRecord>,
        done: oneshot::Sender<Result<()>>,
    },
    /// Deletes ended sessions (and metrics, and feed entries) older than `before`.
    Retain {
        before: Timestamp,
        done: oneshot::Sender<Result<usize>>,
    },
    /// Rolls metric samples up and drops old points (see `maintenance`).
    RollUp {
        raw_before: Timestamp,
        step_ns: i64,
        keep_after: Timestamp,
        done: oneshot::Sender<Result<(usize, usize)>>,
    },
    /// Ends traced sessions quiet since `quiet_before`.
    EndIdle {
        quiet_before: Timestamp,
        done: oneshot::Sender<Result<usize>>,
    },
    /// Stores a newly trained compression dictionary, then puts it in use.
    Dictionary { bytes: Vec<u8> },
    /// Finishes everything queued before it, then stops.
    Close { done: oneshot::Sender<()> },
}

/// The writer's counts, and the commit sequence number.
#[derive(Default)]
pub struct Stats {
    pub writer: WriterStats,
    /// The sequence number of the last commit this node made or saw at start.
    pub last_seq: AtomicU64,
}

/// The state of the writer task.
pub struct Writer {
    pub conn: Object,
    pub stats: Arc<Stats>,
    pub pricing: Arc<Pricing>,
    pub feed: broadcast::Sender<Arc<Committed>>,
    pub dictionaries: Arc<Dictionaries>,
    /// What moved so far: until something does, no message needs re-filing.
    pub moved: moves::Moved,
}

type Waiting = (Prepared, oneshot::Sender<Result<()>>);

impl Writer {
    /// Runs until `Close` or until every sender is gone.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let mut next = None;
        loop {
            let cmd = match next.take() {
                Some(cmd) => cmd,
                None => match rx.recv().await {
                    Some(cmd) => cmd,
                    None => return,
                },
            };
            match cmd {
                Command::Append { batch, done } => {
                    let mut group = vec![(batch, done)];
                    let mut size = group[0].0.messages.len();
                    while size < MAX_GROUP_MESSAGES {
                        match rx.try_recv() {
                            Ok(Command::Append { batch, done }) => {
                                size += batch.messages.len();
                                group.push((batch, done));
                            }
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.commit_group(group).await;
                }
                Command::Review { op, batch, done } => {
                    let r = match self.begin().await {
                        Ok(()) => self.review(*op, batch).await,
                        Err(e) => Err(e),
                    };
                    self.rollback_on_error(&r).await;
                    let _ = done.send(r.map(|(outcome, committed)| {
                        w_send(&self.feed, committed);
                        outcome
                    }));
                }
                Command::Exchanges { rows, done } => {
                    let conn = &self.conn;
                    let r = transaction(conn, exchanges::insert(conn, &rows)).await;
                    let _ = done.send(r);
                }
                Command::Replay { record, done } => {
                    let conn = &self.conn;
                    let r = transaction(conn, exchanges::save_replay(conn, &record)).await;
                    let _ = done.send(r);
                }
                Command::Retain { before, done } => {
                    let conn = &self.conn;
                    let r =
                        transaction(conn, async { maintenance::retain(conn, before).await.db() });
                    let _ = done.send(r.await);
                }
                Command::RollUp {
                    raw_before,
                    step_ns,
                    keep_after,
                    done,
                } => {
                    let conn = &self.conn;
                    let work = async {
                        maintenance::roll_up(conn, raw_before.0, step_ns, keep_after.0)
                            .await
                            .db()
                    };
                    let _ = done.send(transaction(conn, work).await);
                }
                Command::EndIdle { quiet_before, done } => {
                    let r = match self.begin().await {
                        Ok(()) => self.end_idle(quiet_before).await,
                        Err(e) => Err(e),
                    };
                    self.rollback_on_error(&r).await;
                    let _ = done.send(r.map(|(n, committed)| {
                        w_send(&self.feed, committed);
                        n
                    }));
                }
                Command::Dictionary { bytes } => {
                    let stored =
                        crate::dictionary::store(&self.conn, &bytes, Timestamp::now().0).await;
                    match stored {
                        Ok(id) => {
                            self.dictionaries.install(id, &bytes);
                            tracing::info!(dictionary.id = id, "compression dictionary in use");
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "the compression dictionary could not be stored")
                        }
                    }
                }
                Command::Close { done } => {
                    let _ = done.send(());
                    return;
                }
            }
        }
    }

    /// Opens a transaction for `review` or `end_idle`, which end it themselves when they
    /// succeed; when they fail it is rolled back here.
    async fn begin(&self) -> Result<()> {
        self.conn.batch_execute("BEGIN").await.db()
    }

    async fn rollback_on_error<T>(&self, r: &Result<T>) {
        if r.is_err()
            && let Err(e) = self.conn.batch_execute("ROLLBACK").await
        {
            tracing::warn!(error = %e, "rollback failed");
        }
    }

    async fn commit_group(&mut self, mut group: Vec<Waiting>) {
        let started = std::time::Instant::now();
        let messages: usize = group.iter().map(|(b, _)| b.messages.len()).sum();
        let written = self.write(&mut group).await;
        let nanos = started.elapsed().as_nanos() as u64;
        self.stats.writer.record(written.is_ok(), messages, nanos);
        match written {
            Ok((seq, sessions)) => {
                let mut all = Vec::with_capacity(messages);
                for (batch, done) in group {
                    let _ = done.send(Ok(()));
                    all.extend(batch.messages);
                }
                w_send(
                    &self.feed,
                    Some(Committed {
                        seq,
                        messages: all,
                        sessions,
                        reviews: Vec::new(),
                    }),
                );
            }
            Err(e) => {
                tracing::error!(error = %e, commit.messages = messages, "write failed; batch rejected");
                for (_, done) in group {
                    let _ = done.send(Err(StoreError::Database(e.to_string())));
                }
            }
        }
    }

    /// Applies the group in one transaction; returns its commit sequence number and the
    /// touched sessions (these only when someone listens to the feed).
    async fn write(&mut self, group: &mut [Waiting]) -> Result<(u64, Vec<SessionSummary>)> {
        let now = Timestamp::now();
        let conn = &self.conn;
        let work = async {
            let moving = group.iter().any(|(b, _)| {
                b.messages
                    .iter()
                    .any(|m| matches!(m, Message::SessionMove(_) | Message::SpanMove(_)))
            });
            if moving || self.moved.sessions || self.moved.spans {
                let mut all: Vec<&mut Message> = group
                    .iter_mut()
                    .flat_map(|(b, _)| b.messages.iter_mut())
                    .collect();
                moves::refile(conn, &mut all, &mut self.moved, now)
                    .await
                    .db()?;
            }
            let pairs: Vec<_> = group
                .iter()
                .flat_map(|(b, _)| b.messages.iter().zip(&b.blobs))
                .collect();
            let touched = apply::apply(conn, &self.pricing, &pairs, now).await.db()?;
            let sessions = summaries(&self.feed, conn, &touched).await?;
            let all: Vec<&Message> = group.iter().flat_map(|(b, _)| &b.messages).collect();
            let seq = next_seq(conn, &all, now).await?;
            Ok((seq, sessions))
        };
        let r = transaction(conn, work).await;
        if let Ok((seq, _)) = &r {
            self.stats.last_seq.store(*seq, Ordering::SeqCst);
        }
        r
    }

    /// Applies a review change and, when it takes effect, its messages, in one commit.
    async fn review(
        &mut self,
        op: ReviewOp,
        batch: Prepared,
    ) -> Result<(ReviewOutcome, Option<Committed>)> {
        let conn = &self.conn;
        let outcome = reviews::apply(conn, &op).await?;
        let ReviewOutcome::Applied(record) = &outcome else {
            conn.batch_execute("ROLLBACK").await.db()?;
            return Ok((outcome, None));
        };
        let now = Timestamp::now();
        let pairs: Vec<_> = batch.messages.iter().zip(&batch.blobs).collect();
        let touched = apply::apply(conn, &self.pricing, &pairs, now).await.db()?;
        let sessions = read::session_summaries(conn, &touched, now).await?;
        let refs: Vec<&Message> = batch.messages.iter().collect();
        let seq = next_seq(conn, &refs, now).await?;
        conn.batch_execute("COMMIT").await.db()?;
        self.stats.last_seq.store(seq, Ordering::SeqCst);
        let committed = Committed {
            seq,
            messages: batch.messages,
            sessions,
            reviews: vec![record.clone()],
        };
        Ok((outcome, Some(committed)))
    }

    /// Ends the traced sessions quiet since `quiet_before`, in one commit that reaches the
    /// feed as their `session.end`s.
    async fn end_idle(&mut self, quiet_before: Timestamp) -> Result<(usize, Option<Committed>)> {
        let conn = &self.conn;
        let now = Timestamp::now();
        let ends = maintenance::idle(conn, quiet_before).await.db()?;
        if ends.is_empty() {
            conn.batch_execute("ROLLBACK").await.db()?;
            return Ok((0, None));
        }
        let ids: Vec<&str> = ends.iter().map(|e| e.session_id.as_str()).collect();
        let mut states = crate::rows::load_sessions(conn, &ids).await.db()?;
        let mut messages = Vec::with_capacity(ends.len());
        let mut touched = Vec::with_capacity(ends.len());
        for e in &ends {
            if let Some(state) = states.get_mut(&e.session_id) {
                state.end_idle(e.ended_at, e.outcome, e.error.as_deref());
            }
            touched.push(e.session_id.clone());
            messages.push(Message::SessionEnd(SessionEnd {
                session_id: e.session_id.clone(),
                ended_at: Some(e.ended_at),
                status: e.outcome,
                error: e.error.clone(),
            }));
        }
        let rows: Vec<_> = states.iter().map(|(id, s)| (id.as_str(), s)).collect();
        crate::rows::upsert_sessions(conn, &rows, now).await.db()?;
        let sessions = read::session_summaries(conn, &touched, now).await?;
        let refs: Vec<&Message> = messages.iter().collect();
        let seq = next_seq(conn, &refs, now).await?;
        conn.batch_execute("COMMIT").await.db()?;
        self.stats.last_seq.store(seq, Ordering::SeqCst);
        let n = messages.len();
        Ok((
            n,
            Some(Committed {
                seq,
                messages,
                sessions,
                reviews: Vec::new(),
            }),
        ))
    }
}

/// Offers a commit to local subscribers, when there are any.
fn w_send(feed: &broadcast::Sender<Arc<Committed>>, committed: Option<Committed>) {
    if let Some(c) = committed
        && feed.receiver_count() > 0
    {
        let _ = feed.send(Arc::new(c));
    }
}

/// Runs `work` in a transaction of its own on `conn`: `COMMIT` when it succeeds, `ROLLBACK`
/// when it fails.
async fn transaction<T>(conn: &Object, work: impl Future<Output = Result<T>>) -> Result<T> {
    conn.batch_execute("BEGIN").await.db()?;
    match work.await {
        Ok(v) => {
            conn.batch_execute("COMMIT").await.db()?;
            Ok(v)
        }
        Err(e) => {
            if let Err(rollback) = conn.batch_execute("ROLLBACK").await {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(e)
        }
    }
}

/// Numbers the commit (the last statement before `COMMIT`: the row lock is held briefly) and
/// stores its messages in the feed under that number.
async fn next_seq(conn: &Object, messages: &[&Message], now: Timestamp) -> Result<u64> {
    let json = serde_json::to_vec(messages).map_err(|e| StoreError::Database(e.to_string()))?;
    let stored = codec::encode(&json, None);
    let rows = query(
        conn,
        "UPDATE feed_head SET seq = seq + 1 RETURNING seq",
        &[],
    )
    .await
    .db()?;
    let seq: i64 = rows[0].get(0);
    execute(
        conn,
        "INSERT INTO feed (seq, at, messages) VALUES ($1, $2, $3)",
        &[&seq, &now.0, &stored],
    )
    .await
    .db()?;
    Ok(seq as u64)
}

/// The touched sessions' summaries for the feed, when someone listens.
async fn summaries(
    feed: &broadcast::Sender<Arc<Committed>>,
    conn: &Object,
    touched: &[String],
) -> Result<Vec<SessionSummary>> {
    if feed.receiver_count() == 0 {
        return Ok(Vec::new());
    }
    read::session_summaries(conn, touched, Timestamp::now()).await
}
