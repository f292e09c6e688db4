//! The single writer: one thread owns the write connection, takes batches from a bounded
//! queue, and commits whatever has queued up together in one transaction (group commit).
//! Callers are answered only after the commit is durable; then the batch is offered to
//! subscribers in commit order.

use super::apply::Apply;
use super::gate::CommitGate;
use super::{exchanges, replays, reviews};
use super::{idle, moves, read, rows};
use crate::error::Db;
use flightdeck_model::message::SessionEnd;
use flightdeck_model::{Message, Pricing, Timestamp};
use flightdeck_store::dictionary::Dictionaries;
use flightdeck_store::prepare::Prepared;
use flightdeck_store::writer_stats::WriterStats;
use flightdeck_store::{Committed, Result, ReviewOp, ReviewOutcome, StoreError};
use rusqlite::Connection;
use std::sync::Arc;
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
        record: Box<flightdeck_model::replay::ReplayRecord>,
        done: oneshot::Sender<Result<()>>,
    },
    /// Deletes ended sessions (and metrics) older than `before`.
    Retain {
        before: Timestamp,
        done: oneshot::Sender<Result<usize>>,
    },
    /// Rolls metric samples up and drops old points (see `rollup`).
    RollUp {
        raw_before: Timestamp,
        step_ns: i64,
        keep_after: Timestamp,
        done: oneshot::Sender<Result<(usize, usize)>>,
    },
    /// Ends traced sessions quiet since `quiet_before` (see `idle`).
    EndIdle {
        quiet_before: Timestamp,
        done: oneshot::Sender<Result<usize>>,
    },
    /// Stores a newly trained compression dictionary, then puts it in use.
    Dictionary { bytes: Vec<u8> },
    /// Finishes everything queued before it, then stops.
    Close { done: oneshot::Sender<()> },
}

/// The state of the writer thread.
pub struct Writer {
    pub stats: Arc<WriterStats>,
    pub conn: Connection,
    pub pricing: Arc<Pricing>,
    pub feed: broadcast::Sender<Arc<Committed>>,
    pub commits: Arc<CommitGate>,
    pub dictionaries: Arc<Dictionaries>,
    /// What moved so far: until something does, no message needs re-filing.
    pub moved: moves::Moved,
}

type Waiting = (Prepared, oneshot::Sender<Result<()>>);

impl Writer {
    /// Runs until `Close` or until every sender is gone.
    pub fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        while let Some(cmd) = rx.blocking_recv() {
            let mut next = Some(cmd);
            while let Some(cmd) = next.take() {
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
                        self.commit_group(group);
                    }
                    Command::Review { op, batch, done } => {
                        let _ = done.send(self.review(*op, batch));
                    }
                    Command::Exchanges { rows, done } => {
                        let _ = done.send(self.in_one_commit(|tx| exchanges::insert(tx, &rows)));
                    }
                    Command::Replay { record, done } => {
                        let _ = done.send(self.in_one_commit(|tx| replays::save(tx, &record)));
                    }
                    Command::Retain { before, done } => {
                        let _ = done.send(self.retain(before));
                    }
                    Command::RollUp {
                        raw_before,
                        step_ns,
                        keep_after,
                        done,
                    } => {
                        let mut counts = (0, 0);
                        let r = self.in_one_commit(|tx| {
                            counts =
                                super::rollup::roll_up(tx, raw_before.0, step_ns, keep_after.0)?;
                            Ok(())
                        });
                        let _ = done.send(r.map(|()| counts));
                    }
                    Command::EndIdle { quiet_before, done } => {
                        let _ = done.send(self.end_idle(quiet_before));
                    }
                    Command::Dictionary { bytes } => self.store_dictionary(&bytes),
                    Command::Close { done } => {
                        if let Err(e) = self.conn.execute_batch("PRAGMA optimize") {
                            tracing::warn!(error = %e, "PRAGMA optimize failed at close");
                        }
                        let _ = done.send(());
                        return;
                    }
                }
            }
        }
    }

    fn commit_group(&mut self, mut group: Vec<Waiting>) {
        let started = std::time::Instant::now();
        let messages: usize = group.iter().map(|(b, _)| b.messages.len()).sum();
        let written = self.write(&mut group);
        self.stats.record(
            written.is_ok(),
            messages,
            started.elapsed().as_nanos() as u64,
        );
        match written {
            Ok((seq, sessions)) => {
                let mut all = Vec::with_capacity(messages);
                for (batch, done) in group {
                    let _ = done.send(Ok(()));
                    all.extend(batch.messages);
                }
                tracing::debug!(
                    commit.seq = seq,
                    commit.messages = messages,
                    commit.duration_us = started.elapsed().as_micros() as u64,
                    "committed"
                );
                if self.feed.receiver_count() > 0 {
                    let _ = self.feed.send(Arc::new(Committed {
                        seq,
                        messages: all,
                        sessions,
                        reviews: Vec::new(),
                    }));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, commit.messages = messages, "write failed; batch rejected");
                for (_, done) in group {
                    let _ = done.send(Err(StoreError::Database(e.to_string())));
                }
            }
        }
    }

    /// Applies a review change and, when it takes effect, its messages, in one commit.
    fn review(&mut self, op: ReviewOp, batch: Prepared) -> Result<ReviewOutcome> {
        let tx = self.conn.transaction().db()?;
        let outcome = reviews::apply(&tx, &op).db()?;
        let ReviewOutcome::Applied(record) = &outcome else {
            return Ok(outcome);
        };
        let now = Timestamp::now();
        let touched = {
            let mut apply = Apply::new(&tx, &self.pricing, now);
            for (m, b) in batch.messages.iter().zip(&batch.blobs) {
                apply.message(m, b).db()?;
            }
            apply.finish().db()?
        };
        let sessions = touched
            .iter()
            .filter_map(|id| read::session_summary(&tx, id, now).transpose())
            .collect::<rusqlite::Result<Vec<_>>>()
            .db()?;
        let seq = self.commits.commit(tx).db()?;
        if self.feed.receiver_count() > 0 {
            let _ = self.feed.send(Arc::new(Committed {
                seq,
                messages: batch.messages,
                sessions,
                reviews: vec![record.clone()],
            }));
        }
        Ok(outcome)
    }

    /// Runs `f` in a transaction of its own, which no subscriber hears of.
    fn in_one_commit(&mut self, f: impl FnOnce(&Connection) -> rusqlite::Result<()>) -> Result<()> {
        let tx = self.conn.transaction().db()?;
        f(&tx).db()?;
        tx.commit().db()?;
        Ok(())
    }

    /// Applies the group in one transaction; returns its commit sequence number and the
    /// touched sessions (these only when someone listens to the feed).
    fn write(
        &mut self,
        group: &mut [Waiting],
    ) -> rusqlite::Result<(u64, Vec<flightdeck_model::SessionSummary>)> {
        let now = Timestamp::now();
        let tx = self.conn.transaction()?;
        let moving = group.iter().any(|(b, _)| {
            b.messages
                .iter()
                .any(|m| matches!(m, Message::SessionMove(_) | Message::SpanMove(_)))
        });
        if moving || self.moved.sessions || self.moved.spans {
            let mut lists: Vec<&mut [Message]> = group
                .iter_mut()
                .map(|(b, _)| b.messages.as_mut_slice())
                .collect();
            moves::refile(&tx, &mut lists, &mut self.moved, now)?;
        }
        let touched = {
            let mut apply = Apply::new(&tx, &self.pricing, now);
            for (batch, _) in group {
                for (m, b) in batch.messages.iter().zip(&batch.blobs) {
                    apply.message(m, b)?;
                }
            }
            apply.finish()?
        };
        let sessions = summaries(&self.feed, &tx, &touched)?;
        Ok((self.commits.commit(tx)?, sessions))
    }

    /// Ends the traced sessions quiet since `quiet_before`, in one commit that reaches the
    /// feed as their `session.end`s.
    fn end_idle(&mut self, quiet_before: Timestamp) -> Result<usize> {
        let now = Timestamp::now();
        let tx = self.conn.transaction().db()?;
        let ends = idle::find(&tx, quiet_before).db()?;
        if ends.is_empty() {
            return Ok(0);
        }
        let mut messages = Vec::with_capacity(ends.len());
        let mut touched = Vec::with_capacity(ends.len());
        for e in ends {
            if let Some(mut state) = rows::load_session(&tx, &e.session_id).db()? {
                state.end_idle(e.ended_at, e.outcome, e.error.as_deref());
                rows::upsert_session(&tx, &e.session_id, &state, now).db()?;
            }
            touched.push(e.session_id.clone());
            messages.push(Message::SessionEnd(SessionEnd {
                session_id: e.session_id,
                ended_at: Some(e.ended_at),
                status: e.outcome,
                error: e.error,
            }));
        }
        let sessions = summaries(&self.feed, &tx, &touched).db()?;
        let seq = self.commits.commit(tx).db()?;
        let n = messages.len();
        if self.feed.receiver_count() > 0 {
            let _ = self.feed.send(Arc::new(Committed {
                seq,
                messages,
                sessions,
                reviews: Vec::new(),
            }));
        }
        tracing::debug!(sessions.ended_idle = n, "idle sessions ended");
        Ok(n)
    }

    /// Stores the dictionary durably, and only then lets payloads be encoded with it.
    fn store_dictionary(&mut self, bytes: &[u8]) {
        let stored = super::dictionary::store(&self.conn, bytes, Timestamp::now().0);
        match stored {
            Ok(id) => {
                self.dictionaries.install(id, bytes);
                tracing::info!(
                    dictionary.id = id,
                    dictionary.bytes = bytes.len(),
                    "compression dictionary in use"
                );
            }
            Err(e) => tracing::warn!(error = %e, "the compression dictionary could not be stored"),
        }
    }

    fn retain(&mut self, before: Timestamp) -> Result<usize> {
        let tx = self.conn.transaction().db()?;
        let old = "SELECT session_id FROM sessions WHERE status != 'running' \
                   AND COALESCE(ended_at, started_at) < ?1";
        for table in [
            "reviews",
            "replays",
            "exchanges",
            "spans",
            "span_chunks",
            "edges",
            "events",
            "agents",
            "session_models",
        ] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE session_id IN ({old})"),
                [before.0],
            )
            .db()?;
        }
        let removed = tx.execute(
            "DELETE FROM sessions WHERE status != 'running' AND COALESCE(ended_at, started_at) < ?1",
            [before.0],
        ).db()?;
        tx.execute("DELETE FROM metrics WHERE at < ?1", [before.0])
            .db()?;
        tx.commit().db()?;
        if removed > 0 {
            tracing::info!(retention.sessions_removed = removed, "retention applied");
        }
        Ok(removed)
    }
}

/// The touched sessions' summaries for the feed, when someone listens.
fn summaries(
    feed: &broadcast::Sender<Arc<Committed>>,
    tx: &Connection,
    touched: &[String],
) -> rusqlite::Result<Vec<flightdeck_model::SessionSummary>> {
    if feed.receiver_count() == 0 {
        return Ok(Vec::new());
    }
    let now = Timestamp::now();
    touched
        .iter()
        .filter_map(|id| read::session_summary(tx, id, now).transpose())
        .collect()
}
