//! Builds a replay's [`Plan`] from the store: the original session's LLM calls that the proxy
//! recorded (those with an exchange), in start order, and the fork call among them.

use super::matching::{self, Agent, Cursors, Plan, Planned};
use crate::error::ApiError;
use axum::http::StatusCode;
use flightdeck_model::replay::{ForkPoint, Saved};
use flightdeck_model::{SpanKind, SpanSummary};
use flightdeck_store::Store;

/// Bytes of recorded exchanges a plan keeps in memory, so that serving them reads nothing;
/// those past it are read from the store when served.
const KEPT_BYTES: usize = 64 * 1024 * 1024;

/// 422 `not_replayable`.
pub fn not_replayable(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "not_replayable", message)
}

/// The plan of a replay of `session_id` from its LLM call `span_id`, and where it forks;
/// the exchanges of calls a re-run at `at` is past are not kept.
pub async fn build(
    store: &dyn Store,
    session_id: &str,
    span_id: &str,
    at: &Cursors,
) -> Result<(Plan, ForkPoint), ApiError> {
    if store.session(session_id).await?.is_none() {
        return Err(ApiError::not_found(format!("no session {session_id:?}")));
    }
    let spans = store.spans(session_id).await?;
    let Some(fork) = spans.iter().find(|s| s.span_id == span_id) else {
        return Err(ApiError::not_found(format!(
            "no span {span_id:?} in session {session_id:?}"
        )));
    };
    if fork.kind != SpanKind::Llm {
        return Err(not_replayable(format!(
            "span {span_id:?} is a {} span; a replay starts at an LLM call",
            fork.kind.as_str()
        )));
    }
    let fork_at = fork.started_at;
    let mut plan = Plan {
        fork_agent: fork.agent.clone(),
        ..Plan::default()
    };
    let mut seen: std::collections::HashMap<Agent, usize> = Default::default();
    let mut found = false;
    let mut kept = 0usize;
    for s in spans.iter().filter(|s| s.kind == SpanKind::Llm) {
        let Some(x) = store.exchange(session_id, &s.span_id).await? else {
            if s.span_id == span_id {
                return Err(not_replayable(format!(
                    "span {span_id:?} was not recorded through the proxy: a replay answers from \
                     the proxy's recording of each call (see docs/replay.md)"
                )));
            }
            continue;
        };
        let index = seen.entry(s.agent.clone()).or_default();
        let is_fork = s.span_id == span_id;
        let before = if s.agent == plan.fork_agent {
            !found
        } else {
            s.started_at < fork_at
        };
        if is_fork {
            if x.truncated {
                return Err(not_replayable(format!(
                    "the recording of span {span_id:?} was cut at the recorder's bound"
                )));
            }
            found = true;
            plan.fork_index = *index;
        }
        if before || is_fork {
            let servable = !x.truncated && (200..300).contains(&x.status);
            let size = x.request.len() + x.response.len();
            let ahead = !at.passed(&s.agent, *index);
            let keep = servable && ahead && !is_fork && kept + size <= KEPT_BYTES;
            kept += if keep { size } else { 0 };
            plan.calls
                .entry(s.agent.clone())
                .or_default()
                .push(Planned {
                    span_id: s.span_id.clone(),
                    hash: matching::hash(&x.request),
                    servable,
                    saves: saves(s),
                    exchange: keep.then(|| std::sync::Arc::new(x)),
                });
        }
        *index += 1;
    }
    let fork = ForkPoint {
        agent: plan.fork_agent.clone(),
        call: plan.fork_index + 1,
    };
    Ok((plan, fork))
}

/// What answering a recorded call from the recording saves.
fn saves(s: &SpanSummary) -> Saved {
    let usage = s.usage.unwrap_or_default();
    Saved {
        calls: 1,
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cost_usd: s.cost_usd.unwrap_or(0.0),
        time_ms: s.duration_ms.unwrap_or(0.0),
    }
}
