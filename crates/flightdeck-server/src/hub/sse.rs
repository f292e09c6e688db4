//! `GET /api/v1/stream?scope=overview|session&session_id=`: the live protocol as
//! Server-Sent Events, for read-only clients.
//!
//! The same messages as the WebSocket, one event each, named by their `type` (`hello`,
//! `commit`, `heartbeat`, `resync`). On `resync` the stream ends; the `EventSource`
//! reconnects and gets a fresh `hello`.

use super::frame::{self, Frame};
use super::scope::Scope;
use super::subscription::{Next, Subscription};
use super::watch;
use crate::AppState;
use crate::api::ApiQuery;
use crate::error::ApiError;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use futures_util::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use tokio::time::{Instant, Interval, MissedTickBehavior, interval_at};

/// Query parameters of `GET /api/v1/stream`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    scope: String,
    session_id: Option<String>,
}

/// Answers with the scope's `hello`, then its commits and heartbeats, until a `resync`.
pub async fn stream(
    State(app): State<AppState>,
    ApiQuery(p): ApiQuery<StreamParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let scope = Scope::parse(&p.scope, p.session_id).map_err(ApiError::bad_request)?;
    let (hello, subscription) = watch::start(&app, scope).await?;
    let period = app.config.heartbeat;
    let mut heartbeat = interval_at(Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let live = Live {
        first: Some(hello),
        subscription: Some(subscription),
        heartbeat,
    };
    Ok(Sse::new(futures_util::stream::unfold(live, Live::step)))
}

/// The state of one event stream.
struct Live {
    first: Option<Frame>,
    /// `None` once the stream has sent `resync`: it ends.
    subscription: Option<Subscription>,
    heartbeat: Interval,
}

enum Step {
    Next(Next),
    Heartbeat,
}

impl Live {
    async fn step(mut self) -> Option<(Result<Event, Infallible>, Live)> {
        if let Some(hello) = self.first.take() {
            return Some((Ok(event(&hello)), self));
        }
        let subscription = self.subscription.as_mut()?;
        let step = tokio::select! {
            next = subscription.next() => Step::Next(next),
            _ = self.heartbeat.tick() => Step::Heartbeat,
        };
        let frame = match step {
            Step::Heartbeat => frame::heartbeat(),
            Step::Next(Next::Frame(f)) => return Some((Ok(event(&f)), self)),
            Step::Next(Next::Resync(reason)) => {
                self.subscription = None;
                frame::resync(reason)
            }
            Step::Next(Next::Closed) => return None,
        };
        Some((Ok(event(&frame)), self))
    }
}

fn event(f: &Frame) -> Event {
    Event::default().event(f.kind).data(f.text.as_str())
}
