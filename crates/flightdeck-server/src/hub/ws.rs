//! `GET /ws`: the live protocol over a WebSocket, both ways.
//!
//! One task per connection reads client messages, forwards the frames of its subscription
//! (several at a time, flushed together), and sends a heartbeat every `heartbeat`. When the
//! hub ends the subscription with `resync`, the connection says so and starts again from a
//! fresh `hello` on the same scope. A client that does not take what is sent within
//! `SEND_TIMEOUT` is disconnected.

use super::client::{self, Request};
use super::frame;
use super::scope::Scope;
use super::subscription::{Next, Subscription};
use super::watch;
use crate::AppState;
use crate::auth::origin;
use crate::error::ApiError;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures_util::SinkExt;
use std::time::Duration;
use tokio::time::{Instant, MissedTickBehavior, interval_at, timeout};

/// The largest message a client may send.
const MAX_CLIENT_MESSAGE: usize = 1 << 20;
/// A client that does not take a write within this time is disconnected.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Frames written before one flush.
const BATCH: usize = 64;

/// Checks the origin, then upgrades.
pub async fn upgrade(
    State(app): State<AppState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    origin::check(&headers, &app.config.allowed_origins)?;
    let who = app.auth.who(&headers);
    let upgrade = upgrade.map_err(|e| {
        ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "upgrade_required",
            format!(
                "GET /ws takes a WebSocket upgrade ({}); read-only clients can use GET /api/v1/stream",
                e.body_text()
            ),
        )
    })?;
    Ok(upgrade
        .max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| {
            Connection {
                app,
                socket,
                watching: None,
                who,
            }
            .run()
        }))
}

struct Connection {
    app: AppState,
    socket: WebSocket,
    watching: Option<(Scope, Subscription)>,
    /// Who opened the socket (`token`, `login`, `loopback`), for review decisions.
    who: &'static str,
}

enum Step {
    Stop,
    Incoming(Option<Result<Message, axum::Error>>),
    Next(Next),
    Heartbeat,
}

impl Connection {
    async fn run(mut self) {
        let period = self.app.config.heartbeat;
        let mut heartbeat = interval_at(Instant::now() + period, period);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let stopped = self.app.hub.stopped();
        tokio::pin!(stopped);
        loop {
            let step = tokio::select! {
                _ = &mut stopped => Step::Stop,
                incoming = self.socket.recv() => Step::Incoming(incoming),
                next = next(&mut self.watching) => Step::Next(next),
                _ = heartbeat.tick() => Step::Heartbeat,
            };
            let open = match step {
                Step::Stop => return self.goodbye().await,
                Step::Incoming(Some(Ok(message))) => self.on_message(message).await,
                Step::Incoming(_) => false,
                Step::Next(next) => self.forward(next).await,
                Step::Heartbeat => self.send(vec![frame::heartbeat().text]).await,
            };
            if !open {
                return;
            }
        }
    }

    /// Closes the socket because the server is shutting down.
    async fn goodbye(&mut self) {
        let bye = Message::Close(Some(CloseFrame {
            code: close_code::AWAY,
            reason: Utf8Bytes::from_static("the server is shutting down"),
        }));
        let _ = timeout(SEND_TIMEOUT, self.socket.send(bye)).await;
    }

    /// Acts on a client message; false when the connection should end.
    async fn on_message(&mut self, message: Message) -> bool {
        let reply = match message {
            Message::Text(text) => match client::parse(&text) {
                Ok(Request::Subscribe(scope)) => return self.watch(scope).await,
                Ok(Request::Ping(id)) => frame::pong(id.as_ref()),
                Ok(Request::Decide {
                    review_id,
                    input,
                    id,
                }) => match self.app.reviews.decide(&review_id, input, self.who).await {
                    Ok(review) => frame::ack(id.as_ref(), &review),
                    Err(e) => frame::error(e.code, &e.message),
                },
                Err(e) => frame::error(e.code, &e.message),
            },
            Message::Binary(_) => frame::error("bad_message", "send messages as JSON text frames"),
            Message::Ping(_) | Message::Pong(_) => return true,
            Message::Close(_) => return false,
        };
        self.send(vec![reply.text]).await
    }

    /// Starts watching `scope` (dropping any previous subscription) and sends its `hello`.
    async fn watch(&mut self, scope: Scope) -> bool {
        self.watching = None;
        match watch::start(&self.app, scope.clone()).await {
            Ok((hello, subscription)) => {
                self.watching = Some((scope, subscription));
                self.send(vec![hello.text]).await
            }
            Err(e) => {
                let e = ApiError::from(e);
                self.send(vec![frame::error(e.code, &e.message).text]).await
            }
        }
    }

    /// Sends `first` and whatever else is queued already, up to `BATCH` frames.
    async fn forward(&mut self, first: Next) -> bool {
        let mut batch = Vec::new();
        let mut next = Some(first);
        while let Some(n) = next.take() {
            match n {
                Next::Frame(f) => {
                    batch.push(f.text.clone());
                    if batch.len() < BATCH {
                        next = self.watching.as_mut().and_then(|(_, s)| s.try_next());
                    }
                }
                Next::Resync(reason) => {
                    batch.push(frame::resync(reason).text);
                    let Some((scope, _)) = self.watching.take() else {
                        return false;
                    };
                    return self.send(batch).await && self.watch(scope).await;
                }
                Next::Closed => {
                    self.watching = None;
                    if self.send(batch).await {
                        self.goodbye().await;
                    }
                    return false;
                }
            }
        }
        self.send(batch).await
    }

    /// Writes `frames` and flushes once; false if the client is gone or does not read.
    async fn send(&mut self, frames: Vec<Utf8Bytes>) -> bool {
        let socket = &mut self.socket;
        let write = async move {
            for text in frames {
                socket.feed(Message::Text(text)).await?;
            }
            socket.flush().await
        };
        matches!(timeout(SEND_TIMEOUT, write).await, Ok(Ok(())))
    }
}

async fn next(watching: &mut Option<(Scope, Subscription)>) -> Next {
    match watching {
        Some((_, subscription)) => subscription.next().await,
        None => std::future::pending().await,
    }
}
