//! The same-run baseline of `bench live`: a bare broadcast. The same HTTP ingest and the same
//! WebSocket clients, but each request's body goes straight to every client through a tokio
//! broadcast channel: no decoding, no store, no fsync, no hub. What Flightdeck adds over it is
//! what it costs to be durable and to scope and batch frames; what both share (loopback, the
//! sockets, the clients, the machine) is measured in the same run.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use std::net::SocketAddr;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

/// Frames a slow client may fall behind before it is told to resync, as the hub does.
const BACKLOG: usize = 4_096;

/// A running bare broadcast server.
pub struct BareHub {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    serving: JoinHandle<std::io::Result<()>>,
}

impl BareHub {
    /// Serves `POST /api/v1/events` and `GET /ws` on a free loopback port.
    pub async fn start() -> anyhow::Result<Self> {
        let (frames, _) = broadcast::channel::<Utf8Bytes>(BACKLOG);
        let app = Router::new()
            .route("/api/v1/events", post(publish))
            .route("/ws", get(upgrade))
            .with_state(frames);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(BareHub {
            addr,
            stop,
            serving,
        })
    }

    /// Stops the server.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.serving.await??;
        Ok(())
    }
}

/// Checks the body is text once, then shares it with every client (a clone is a reference).
async fn publish(State(frames): State<broadcast::Sender<Utf8Bytes>>, body: Bytes) -> StatusCode {
    let Ok(text) = String::from_utf8(body.into()) else {
        return StatusCode::BAD_REQUEST;
    };
    // No client yet is not an error: the body simply reaches nobody.
    let _ = frames.send(Utf8Bytes::from(text));
    StatusCode::OK
}

async fn upgrade(
    State(frames): State<broadcast::Sender<Utf8Bytes>>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| forward(socket, frames.subscribe()))
}

/// Answers the client's subscribe with a hello, then sends it every body as one frame.
async fn forward(mut socket: WebSocket, mut frames: broadcast::Receiver<Utf8Bytes>) {
    if !matches!(socket.recv().await, Some(Ok(Message::Text(_)))) {
        return;
    }
    if socket
        .send(Message::text(r#"{"v":1,"type":"hello"}"#))
        .await
        .is_err()
    {
        return;
    }
    loop {
        let frame = match frames.recv().await {
            Ok(text) => Message::Text(text),
            Err(broadcast::error::RecvError::Lagged(_)) => {
                Message::text(r#"{"v":1,"type":"resync"}"#)
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if socket.send(frame).await.is_err() {
            return;
        }
    }
}
