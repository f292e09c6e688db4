//! Replay from here: re-run a session recorded through the proxy with one change. A replay
//! forks the original session at one of its LLM calls; the re-run points its client at
//! `/replay/{id}/{upstream}/...` (or sends `x-flightdeck-replay: {id}` on the normal proxy
//! route). Calls before the fork point are answered from the recording, byte for byte, and
//! never reach the upstream; the fork call goes upstream with the edited request; every later
//! call goes upstream; all of them are recorded into the fork session.
//!
//! - `matching`: the normalised request hash and the per-agent cursors (no I/O);
//! - `plan`: the plan of a replay, read from the store;
//! - `api`: `POST /api/v1/replays`, `GET /api/v1/replays/{id}`, `GET /api/v1/exchanges/...`;
//! - here: the replays in progress, and what the proxy asks of them for each call.
//!
//! A replay's record (fork point, what was saved, the first mismatch, and where the re-run is
//! per agent) is kept in the store (`Store::write_replay`), written after each call off the
//! response path, so after a restart a re-run goes on where it was. In memory a replay holds
//! the recorded exchanges it may still serve (each let go once the re-run is past it), and at
//! most [`KEPT_RUNS`] replays are held: past that, the least recently used one whose record is
//! stored is dropped, and rebuilt from the store if its re-run goes on.

pub mod api;
mod matching;
mod plan;

use crate::error::ApiError;
use axum::http::StatusCode;
use bytes::Bytes;
use flightdeck_model::Timestamp;
use flightdeck_model::replay::{Exchange, Mismatch, OnMismatch, ReplayRecord};
use flightdeck_store::Store;
use matching::{Agent, Cursors, Plan, Step};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Replays held in memory at most (see the module's comment).
const KEPT_RUNS: usize = 16;

/// The header that puts a call on the normal proxy route into a replay.
pub const HEADER: &str = "x-flightdeck-replay";

/// The replays in progress.
pub struct Replays {
    store: Arc<dyn Store>,
    runs: tokio::sync::Mutex<Runs>,
}

/// The replays held in memory, least recently used dropped first.
#[derive(Default)]
struct Runs {
    by_id: HashMap<String, Arc<Run>>,
    /// Counts uses, to tell the least recent.
    clock: u64,
}

/// One replay: its plan and where the re-run is.
struct Run {
    /// The edit of the fork call, and its hash.
    edited: Option<(Bytes, String)>,
    state: Mutex<State>,
    /// The highest version of the record the store has taken.
    stored: AtomicU64,
    /// When it was last used, on the clock of [`Runs`].
    used: AtomicU64,
}

struct State {
    record: ReplayRecord,
    plan: Plan,
    cursors: Cursors,
}

/// What the proxy does with a call of a replay.
pub enum Routed {
    /// Send this request upstream; record the call into `fork_session`.
    Upstream { fork_session: String, body: Bytes },
    /// Answer with this recorded exchange; record the call into `fork_session`.
    Recorded {
        fork_session: String,
        /// The span id to record the call under (listed in the record's `served_spans`).
        span_id: String,
        exchange: Arc<Exchange>,
    },
}

impl Runs {
    fn get(&mut self, id: &str) -> Option<Arc<Run>> {
        self.clock += 1;
        let run = self.by_id.get(id)?;
        run.used.store(self.clock, Ordering::Relaxed);
        Some(Arc::clone(run))
    }

    /// Holds `run`, then drops the least recently used stored runs past [`KEPT_RUNS`] (a run
    /// whose latest progress is still being written stays, so none is rebuilt from an older
    /// record).
    fn insert(&mut self, id: String, run: Arc<Run>) {
        self.clock += 1;
        run.used.store(self.clock, Ordering::Relaxed);
        self.by_id.insert(id.clone(), run);
        while self.by_id.len() > KEPT_RUNS {
            let oldest = self
                .by_id
                .iter()
                .filter(|(k, r)| **k != id && r.is_stored())
                .min_by_key(|(_, r)| r.used.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.by_id.remove(&k),
                None => break,
            };
        }
    }
}

impl Replays {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Replays {
            store,
            runs: Default::default(),
        }
    }

    /// Starts `record`'s run (a new replay, already stored).
    async fn start(&self, record: ReplayRecord, plan: Plan) {
        let run = Arc::new(Run::new(record, plan, Cursors::default()));
        let id = run.record().replay_id;
        self.runs.lock().await.insert(id, run);
    }

    /// The run of `replay_id`: in memory, or rebuilt from its stored record.
    async fn run(&self, replay_id: &str) -> Result<Arc<Run>, ApiError> {
        let mut runs = self.runs.lock().await;
        if let Some(run) = runs.get(replay_id) {
            return Ok(run);
        }
        let Some(record) = self.store.replay(replay_id).await? else {
            return Err(ApiError::not_found(format!(
                "no replay {replay_id:?}; start one with POST /api/v1/replays"
            )));
        };
        let cursors = Cursors::from_progress(&record.progress);
        let (plan, _) = plan::build(
            self.store.as_ref(),
            &record.session_id,
            &record.span_id,
            &cursors,
        )
        .await?;
        let run = Arc::new(Run::new(record, plan, cursors));
        runs.insert(replay_id.to_owned(), Arc::clone(&run));
        Ok(run)
    }

    /// The replay's record as it stands (the one in progress, else the stored one).
    pub async fn record(&self, replay_id: &str) -> Result<ReplayRecord, ApiError> {
        Ok(self.run(replay_id).await?.record())
    }

    /// Decides one call of `agent` with request `body` in replay `replay_id`.
    pub async fn route(
        &self,
        replay_id: &str,
        agent: &Agent,
        body: Bytes,
    ) -> Result<Routed, ApiError> {
        let run = self.run(replay_id).await?;
        let hash = matching::hash(&body);
        let (fork_session, original, decided) = {
            let mut state = run.lock();
            let State {
                record,
                plan,
                cursors,
            } = &mut *state;
            let edited = run.edited.as_ref().map(|(_, h)| h.as_str());
            let step = plan.step(cursors, agent, &hash, edited);
            let decided = match step {
                Step::Serve(p) => {
                    Decided::Serve(p.span_id.clone(), p.saves.clone(), p.exchange.clone())
                }
                Step::Fork => Decided::Fork,
                Step::Upstream => Decided::Upstream,
                Step::Mismatch { recorded, call } => {
                    Decided::Mismatch(recorded.span_id.clone(), call)
                }
            };
            plan.release(agent, cursors);
            (
                record.fork_session_id.clone(),
                record.session_id.clone(),
                decided,
            )
        };
        let routed = match decided {
            Decided::Serve(span, saves, kept) => {
                let recorded = match kept {
                    Some(x) => Some(x),
                    None => self.store.exchange(&original, &span).await?.map(Arc::new),
                };
                let Some(x) = recorded else {
                    // Gone from the store since the plan was made: the upstream answers.
                    run.update(&self.store, |r| r.upstream_calls += 1);
                    return Ok(Routed::Upstream { fork_session, body });
                };
                let span_id = uuid::Uuid::new_v4().to_string();
                run.update(&self.store, |r| {
                    r.served_spans.push(span_id.clone());
                    r.saved.calls += saves.calls;
                    r.saved.input_tokens += saves.input_tokens;
                    r.saved.output_tokens += saves.output_tokens;
                    r.saved.cost_usd += saves.cost_usd;
                    r.saved.time_ms += saves.time_ms;
                });
                return Ok(Routed::Recorded {
                    fork_session,
                    span_id,
                    exchange: x,
                });
            }
            Decided::Fork => run.edited.as_ref().map_or(body, |(b, _)| b.clone()),
            Decided::Upstream => body,
            Decided::Mismatch(span, call) => {
                let recorded = self.store.exchange(&original, &span).await?;
                let diff = matching::request_diff(
                    recorded.as_ref().map_or(&[][..], |x| &x.request),
                    &body,
                );
                let outcome = run.record().on_mismatch;
                let mismatch = Mismatch {
                    agent: agent.clone(),
                    call,
                    recorded_span_id: span,
                    at: Timestamp::now(),
                    diff: diff.clone(),
                    outcome,
                };
                run.update(&self.store, |r| {
                    r.mismatch.get_or_insert(mismatch);
                });
                if outcome == OnMismatch::Fail {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "replay_mismatch",
                        format!(
                            "call {call} of agent {} does not match the recording \
                             (on_mismatch is \"fail\"); the request changed:\n{diff}",
                            agent.as_deref().unwrap_or("(none)")
                        ),
                    ));
                }
                body
            }
        };
        run.update(&self.store, |r| r.upstream_calls += 1);
        Ok(Routed::Upstream {
            fork_session,
            body: routed,
        })
    }
}

enum Decided {
    Serve(
        String,
        flightdeck_model::replay::Saved,
        Option<Arc<Exchange>>,
    ),
    Fork,
    Upstream,
    Mismatch(String, usize),
}

impl Run {
    fn new(record: ReplayRecord, plan: Plan, cursors: Cursors) -> Self {
        let edited = record.request.as_ref().map(|r| {
            let bytes = Bytes::from(r.get().to_owned());
            let hash = matching::hash(&bytes);
            (bytes, hash)
        });
        Run {
            edited,
            stored: AtomicU64::new(record.version),
            used: AtomicU64::new(0),
            state: Mutex::new(State {
                record,
                plan,
                cursors,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self) -> ReplayRecord {
        self.lock().record.clone()
    }

    /// Whether the store holds the record as it stands.
    fn is_stored(&self) -> bool {
        self.stored.load(Ordering::Acquire) >= self.lock().record.version
    }

    /// Changes the record, with the re-run's progress, and stores it in the background (a
    /// newer version always wins).
    fn update(self: &Arc<Self>, store: &Arc<dyn Store>, change: impl FnOnce(&mut ReplayRecord)) {
        let record = {
            let mut state = self.lock();
            let progress = state.cursors.progress();
            let r = &mut state.record;
            change(r);
            r.progress = progress;
            r.version += 1;
            r.clone()
        };
        let store = Arc::clone(store);
        let run = Arc::clone(self);
        tokio::spawn(async move {
            let version = record.version;
            match store.write_replay(record).await {
                Ok(()) => {
                    run.stored.fetch_max(version, Ordering::AcqRel);
                }
                Err(e) => tracing::warn!(error = %e, "a replay's progress could not be stored"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightdeck_model::replay::{ForkPoint, Saved};

    fn run(id: &str, version: u64, stored: u64) -> Arc<Run> {
        let record = ReplayRecord {
            replay_id: id.into(),
            session_id: "s".into(),
            span_id: "a".into(),
            fork_session_id: format!("replay-{id}"),
            created_at: Timestamp(0),
            fork: ForkPoint {
                agent: None,
                call: 1,
            },
            request: None,
            on_mismatch: OnMismatch::Upstream,
            recorded_calls: 0,
            saved: Saved::default(),
            upstream_calls: 0,
            mismatch: None,
            progress: Vec::new(),
            served_spans: Vec::new(),
            version,
        };
        let run = Run::new(record, Plan::default(), Cursors::default());
        run.stored.store(stored, Ordering::Relaxed);
        Arc::new(run)
    }

    #[test]
    fn the_least_recently_used_stored_runs_are_dropped_past_the_bound() {
        let mut runs = Runs::default();
        // The first is still being written: it stays, however old.
        runs.insert("r0".into(), run("r0", 2, 1));
        for i in 1..=KEPT_RUNS {
            runs.insert(format!("r{i}"), run(&format!("r{i}"), 1, 1));
        }
        assert_eq!(runs.by_id.len(), KEPT_RUNS);
        assert!(runs.by_id.contains_key("r0") && !runs.by_id.contains_key("r1"));
        // A use makes a run recent: the next one in line goes instead.
        assert!(runs.get("r2").is_some());
        runs.insert("new".into(), run("new", 1, 1));
        assert!(runs.by_id.contains_key("r2") && !runs.by_id.contains_key("r3"));
        assert_eq!(runs.by_id.len(), KEPT_RUNS);
    }
}
