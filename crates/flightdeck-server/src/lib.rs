//! Flightdeck's HTTP server: one [`App`] state and one [`router`] that every transport hangs
//! off. Tests build the router directly or serve it on a port-0 listener with [`serve`].
//!
//! - [`api`]: the routes, grouped by resource (`ingest`, `sessions`, `stats`);
//! - [`otlp`]: OpenTelemetry ingest (OTLP over HTTP on the main port, and over gRPC);
//! - [`error`]: the one JSON error shape and its stable codes.

pub mod api;
pub mod error;
pub mod otlp;

use axum::Router;
use flightdeck_model::Limits;
use flightdeck_store::Store;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Settings of the HTTP layer.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The largest request body accepted, in bytes (after decompression).
    pub max_body_bytes: usize,
    /// Field limits applied while decoding messages.
    pub limits: Limits,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 16 * 1024 * 1024,
            limits: Limits::default(),
        }
    }
}

/// Everything a request handler may need.
pub struct App {
    pub store: Arc<dyn Store>,
    pub config: ServerConfig,
    /// The OTLP ingest's memory of recent traces (sessions and agents across requests).
    pub otlp: otlp::Otlp,
}

impl App {
    /// The state of a server over `store`.
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> AppState {
        Arc::new(App {
            store,
            config,
            otlp: otlp::Otlp::default(),
        })
    }
}

/// The shared state handed to handlers.
pub type AppState = Arc<App>;

/// Builds the whole HTTP surface.
pub fn router(app: AppState) -> Router {
    api::routes(&app.config).with_state(app)
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting connections,
/// lets requests in flight finish, and closes the store so everything acknowledged is on disk.
pub async fn serve(
    listener: TcpListener,
    app: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_grpc(listener, None, app, shutdown).await
}

/// [`serve`], with OTLP/gRPC on `grpc` too when given: both stop on `shutdown`, and the store
/// closes once neither has a request in flight.
pub async fn serve_with_grpc(
    listener: TcpListener,
    grpc: Option<TcpListener>,
    app: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = Arc::clone(&app.store);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let grpc = grpc.map(|listener| {
        let mut stopped = stopped.clone();
        tokio::spawn(otlp::grpc::serve(listener, Arc::clone(&app), async move {
            let _ = stopped.wait_for(|s| *s).await;
        }))
    });
    let http = axum::serve(listener, router(app))
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await;
    if let Some(grpc) = grpc {
        match grpc.await {
            Ok(Err(e)) => tracing::error!(error = %e, "the OTLP/gRPC server failed"),
            Err(e) => tracing::error!(error = %e, "the OTLP/gRPC server panicked"),
            Ok(Ok(())) => {}
        }
    }
    http?;
    if let Err(e) = store.close().await {
        tracing::error!(error = %e, "closing the store failed");
    }
    Ok(())
}
