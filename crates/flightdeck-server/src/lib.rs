//! Flightdeck's HTTP server: one [`App`] state and one [`router`] that every transport hangs
//! off. Tests build the router directly or serve it on a port-0 listener with [`serve`].
//!
//! - [`api`]: the routes, grouped by resource (`ingest`, `sessions`, `stats`);
//! - [`proxy`]: the recording LLM proxy under `/proxy/{upstream}/`;
//! - [`error`]: the one JSON error shape and its stable codes.

pub mod api;
pub mod error;
pub mod proxy;
#[cfg(feature = "testing")]
pub mod testing;

use axum::Router;
use axum::serve::ListenerExt;
use flightdeck_model::Limits;
use flightdeck_store::Store;
use proxy::Proxy;
use proxy::config::ProxyConfig;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Settings of the HTTP layer.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The largest request body accepted, in bytes (after decompression).
    pub max_body_bytes: usize,
    /// Field limits applied while decoding messages.
    pub limits: Limits,
    /// The recording LLM proxy.
    pub proxy: ProxyConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 16 * 1024 * 1024,
            limits: Limits::default(),
            proxy: ProxyConfig::default(),
        }
    }
}

/// Everything a request handler may need.
pub struct App {
    pub store: Arc<dyn Store>,
    pub config: ServerConfig,
    pub proxy: Arc<Proxy>,
}

impl App {
    /// The state of a server over `store`; starts the proxy's recorder, so it must run inside
    /// the tokio runtime.
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> AppState {
        let proxy = Proxy::start(config.proxy.clone(), Arc::clone(&store));
        Arc::new(App {
            store,
            config,
            proxy,
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
    let state = Arc::clone(&app);
    let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
    // Small writes (a streamed chunk, a live event) go out at once, not after an ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await?;
    state.proxy.close().await;
    if let Err(e) = state.store.close().await {
        tracing::error!(error = %e, "closing the store failed");
    }
    Ok(())
}
