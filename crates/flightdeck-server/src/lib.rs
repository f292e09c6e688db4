//! Flightdeck's HTTP server: one [`App`] state and one [`router`] that every transport hangs
//! off. Tests build the router directly or serve it on a port-0 listener with [`serve`].
//!
//! - [`api`]: the routes, grouped by resource (`ingest`, `sessions`, `stats`);
//! - [`auth`]: access control (token, password login) in front of every route;
//! - [`hub`]: the live hub: fan-out of commits to WebSocket and SSE clients;
//! - [`otlp`]: OpenTelemetry ingest (OTLP over HTTP on the main port, and over gRPC);
//! - [`proxy`]: the recording LLM proxy under `/proxy/{upstream}/`;
//! - [`playground`]: LLM calls run again, edited, through the proxy, diffed with the original;
//! - [`reviews`]: review gates (open, wait, decide, deadlines);
//! - [`system`]: samples of the host, its GPUs and the process, stored as metrics;
//! - [`replay`]: replay from an LLM call of a proxied session; [`compare`]: two runs aligned;
//! - `words`: word diffs of two texts (playground, compare);
//! - `calls`: one LLM call reported by both (an OTel span and a proxy record), joined;
//! - [`refusals`]: the count of refused input, by source and reason, logged and served;
//! - [`error`]: the one JSON error shape and its stable codes;
//! - [`files`]: trace files: export, import, watch.

pub mod api;
pub mod auth;
mod calls;
pub mod compare;
pub mod error;
mod fifo;
pub mod files;
pub mod hub;
pub mod otlp;
pub mod playground;
pub mod proxy;
pub mod refusals;
pub mod replay;
pub mod reviews;
pub mod system;
#[cfg(feature = "testing")]
pub mod testing;
mod words;

use axum::Router;
use axum::serve::ListenerExt;
use flightdeck_model::Limits;
use flightdeck_store::Store;
use hub::Hub;
use proxy::Proxy;
use proxy::config::ProxyConfig;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Settings of the HTTP layer.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The largest request body accepted, in bytes (after decompression).
    pub max_body_bytes: usize,
    /// Field limits applied while decoding messages.
    pub limits: Limits,
    /// Origins besides the served one whose pages may open the live socket
    /// (`scheme://host[:port]`).
    pub allowed_origins: Vec<String>,
    /// Frames a live client's queue holds before the client is told to resync.
    pub live_queue: usize,
    /// How often live clients get a heartbeat.
    pub heartbeat: Duration,
    /// The recording LLM proxy.
    pub proxy: ProxyConfig,
    /// The credentials clients must present; none: open (for loopback).
    pub auth: auth::AuthConfig,
    /// Review gates.
    pub reviews: reviews::ReviewConfig,
    /// An OTLP session (one whose spans carry trace ids) with every span ended that stays
    /// quiet this long is completed (`Store::end_idle`).
    pub otlp_session_idle: Duration,
    /// How often the host, GPUs and process are sampled; none: never (the default here, for
    /// tests; `flightdeck serve` samples every 5 s).
    pub system_metrics: Option<Duration>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 16 * 1024 * 1024,
            limits: Limits::default(),
            allowed_origins: Vec::new(),
            live_queue: 1024,
            heartbeat: Duration::from_secs(15),
            proxy: ProxyConfig::default(),
            auth: auth::AuthConfig::default(),
            reviews: reviews::ReviewConfig::default(),
            otlp_session_idle: otlp::SESSION_IDLE,
            system_metrics: None,
        }
    }
}

/// Everything a request handler may need.
pub struct App {
    pub store: Arc<dyn Store>,
    pub config: ServerConfig,
    /// The live hub, started on `store`'s commit feed.
    pub hub: Hub,
    /// The recording LLM proxy.
    pub proxy: Arc<Proxy>,
    /// The OTLP ingest's memory of recent traces (sessions and agents across requests).
    pub otlp: otlp::Otlp,
    /// LLM calls seen by OTLP or the proxy, by response id, until the other reports them.
    calls: Arc<calls::Calls>,
    /// Who may pass, and who has logged in.
    pub auth: auth::Auth,
    /// What incoming data was refused, and why.
    pub refusals: Arc<refusals::Refusals>,
    /// Review gates and their keeper.
    pub reviews: Arc<reviews::Reviews>,
    /// What the system sampler found (host, GPUs).
    pub system: Arc<system::SystemInfo>,
    /// Replays in progress.
    pub replays: replay::Replays,
}

impl App {
    /// The state of a server over `store`; starts the live hub and the proxy's recorder, so
    /// it needs a tokio runtime.
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> AppState {
        let hub = Hub::start(store.as_ref(), config.live_queue);
        let refusals = Arc::new(refusals::Refusals::default());
        let calls = Arc::new(calls::Calls::default());
        let proxy = Proxy::start(
            config.proxy.clone(),
            Arc::clone(&store),
            Arc::clone(&refusals),
            Arc::clone(&calls),
        );
        let reviews = reviews::Reviews::start(Arc::clone(&store), config.reviews.clone());
        otlp::idle::spawn(Arc::clone(&store), config.otlp_session_idle);
        let system = system::start(Arc::clone(&store), config.system_metrics);
        Arc::new(App {
            system,
            replays: replay::Replays::new(Arc::clone(&store)),
            reviews,
            store,
            hub,
            proxy,
            otlp: otlp::Otlp::default(),
            calls,
            auth: auth::Auth::new(config.auth.clone()),
            refusals,
            config,
        })
    }
}

/// The shared state handed to handlers.
pub type AppState = Arc<App>;

/// Builds the whole HTTP surface: the API and the web UI (`/`, `/assets/`), behind the
/// access check.
pub fn router(app: AppState) -> Router {
    let gate = axum::middleware::from_fn_with_state(Arc::clone(&app), auth::require);
    api::routes(&app.config)
        .with_state(app)
        .merge(flightdeck_ui::router())
        .layer(gate)
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops the live hub (which ends
/// live streams), stops accepting connections, lets requests in flight finish, writes what
/// the proxy's recorder holds, and closes the store so everything acknowledged is on disk.
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
    let state = Arc::clone(&app);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let grpc = grpc.map(|listener| {
        let mut stopped = stopped.clone();
        tokio::spawn(otlp::grpc::serve(listener, Arc::clone(&app), async move {
            let _ = stopped.wait_for(|s| *s).await;
        }))
    });
    let live = Arc::clone(&app);
    let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
    // Without TCP_NODELAY a small write (a live frame, a streamed chunk) can wait for the
    // client's delayed ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    let http = axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            shutdown.await;
            live.hub.stop();
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
    state.proxy.close().await;
    if let Err(e) = state.store.close().await {
        tracing::error!(error = %e, "closing the store failed");
    }
    Ok(())
}
