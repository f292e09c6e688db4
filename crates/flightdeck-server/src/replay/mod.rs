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
//! A replay's record (fork point, what was saved, the first mismatch) is kept in the store
//! (`Store::write_replay`), written after each call off the response path; the cursors live
//! in memory, so after a restart a re-run starts again from the first call.

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
use std::sync::{Arc, Mutex};

/// The header that puts a call on the normal proxy route into a replay.
pub const HEADER: &str = "x-flightdeck-replay";

/// The replays in progress.
pub struct Replays {
    store: Arc<dyn Store>,
    runs: tokio::sync::Mutex<HashMap<String, Arc<Run>>>,
}

/// One replay: its plan and where the re-run is.
struct Run {
    plan: Plan,
    /// The edit of the fork call, and its hash.
    edited: Option<(Bytes, String)>,
    state: Mutex<State>,
}

struct State {
    record: ReplayRecord,
    cursors: Cursors,
}

/// What the proxy does with a call of a replay.
pub enum Routed {
    /// Send this request upstream; record the call into `fork_session`.
    Upstream { fork_session: String, body: Bytes },
    /// Answer with this recorded exchange; record the call into `fork_session`.
    Recorded {
        fork_session: String,
        exchange: Arc<Exchange>,
    },
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
        let run = Arc::new(Run::new(record, plan));
        let id = run.record().replay_id;
        self.runs.lock().await.insert(id, run);
    }

    /// The run of `replay_id`: in memory, or rebuilt from its stored record.
    async fn run(&self, replay_id: &str) -> Result<Arc<Run>, ApiError> {
        let mut runs = self.runs.lock().await;
        if let Some(run) = runs.get(replay_id) {
            return Ok(Arc::clone(run));
        }
        let Some(record) = self.store.replay(replay_id).await? else {
            return Err(ApiError::not_found(format!(
                "no replay {replay_id:?}; start one with POST /api/v1/replays"
            )));
        };
        let (plan, _) =
            plan::build(self.store.as_ref(), &record.session_id, &record.span_id).await?;
        let run = Arc::new(Run::new(record, plan));
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
            let mut state = run.state.lock().unwrap_or_else(|e| e.into_inner());
            let state = &mut *state;
            let edited = run.edited.as_ref().map(|(_, h)| h.as_str());
            let step = run.plan.step(&mut state.cursors, agent, &hash, edited);
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
            (
                state.record.fork_session_id.clone(),
                state.record.session_id.clone(),
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
                run.update(&self.store, |r| {
                    r.saved.calls += saves.calls;
                    r.saved.input_tokens += saves.input_tokens;
                    r.saved.output_tokens += saves.output_tokens;
                    r.saved.cost_usd += saves.cost_usd;
                    r.saved.time_ms += saves.time_ms;
                });
                return Ok(Routed::Recorded {
                    fork_session,
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
    fn new(record: ReplayRecord, plan: Plan) -> Self {
        let edited = record.request.as_ref().map(|r| {
            let bytes = Bytes::from(r.get().to_owned());
            let hash = matching::hash(&bytes);
            (bytes, hash)
        });
        Run {
            plan,
            edited,
            state: Mutex::new(State {
                record,
                cursors: Cursors::default(),
            }),
        }
    }

    fn record(&self) -> ReplayRecord {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record
            .clone()
    }

    /// Changes the record and stores it in the background (a newer version always wins).
    fn update(&self, store: &Arc<dyn Store>, change: impl FnOnce(&mut ReplayRecord)) {
        let record = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            change(&mut state.record);
            state.record.version += 1;
            state.record.clone()
        };
        let store = Arc::clone(store);
        tokio::spawn(async move {
            if let Err(e) = store.write_replay(record).await {
                tracing::warn!(error = %e, "a replay's progress could not be stored");
            }
        });
    }
}
