//! `flightdeck serve`: opens the store, serves the API, applies retention, and shuts down
//! gracefully on Ctrl-C or SIGTERM, flushing everything that was acknowledged.

use crate::config::Config;
use anyhow::Context;
use flightdeck_model::Timestamp;
use flightdeck_server::{App, AppState, ServerConfig};
use flightdeck_store::Maintenance;
use flightdeck_store::Store;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// A server bound to its address, not yet serving.
pub struct Bound {
    pub addr: SocketAddr,
    /// The OTLP/gRPC address, when that listener is on.
    pub grpc_addr: Option<SocketAddr>,
    listener: TcpListener,
    grpc: Option<TcpListener>,
    app: AppState,
}

impl Bound {
    /// The server's state, for sources started beside it (`--watch`).
    pub fn app(&self) -> AppState {
        Arc::clone(&self.app)
    }

    /// Serves until `shutdown` resolves, then flushes the store.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        flightdeck_server::serve_with_grpc(self.listener, self.grpc, self.app, shutdown).await?;
        tracing::info!("stopped; everything acknowledged is stored");
        Ok(())
    }
}

/// Opens the store and binds the listener.
pub async fn bind(config: Config) -> anyhow::Result<Bound> {
    let (addr_at, grpc_at, db) = (config.addr, config.otlp_grpc_addr, config.db.clone());
    let auth_required = config.auth.is_required();
    let (token, password) = (config.auth.token.is_some(), config.auth.password.is_some());
    let app = open(config).await?;
    let listener = TcpListener::bind(addr_at).await.map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            " (another Flightdeck, or another program, listens there: stop it or choose \
             another address with --addr)"
        } else {
            ""
        };
        anyhow::anyhow!("cannot listen on {addr_at}: {e}{hint}")
    })?;
    let addr = listener.local_addr()?;
    let grpc = match grpc_at {
        Some(at) => Some(TcpListener::bind(at).await.with_context(|| {
            format!(
                "cannot listen for OTLP/gRPC on {at}; choose another address with \
                 --otlp-grpc-addr, or turn it off with --no-otlp-grpc"
            )
        })?),
        None => None,
    };
    let grpc_addr = grpc.as_ref().map(TcpListener::local_addr).transpose()?;
    if let Some(at) = grpc_addr {
        tracing::info!(addr = %at, "OTLP/gRPC on {at}");
    }
    tracing::info!(%addr, %db, "flightdeck serving on http://{addr}");
    if auth_required {
        tracing::info!(token, password, "clients must present credentials");
    }
    Ok(Bound {
        addr,
        grpc_addr,
        listener,
        grpc,
        app,
    })
}

/// Opens the store and the server's state over it (no listener): for `serve`, and for the
/// file commands that write into a database of their own (`import`, `watch`).
pub async fn open(config: Config) -> anyhow::Result<AppState> {
    let store = config
        .db
        .open(config.pricing, config.agent_offline_after)
        .await?;
    if let Some(days) = config.retain_days {
        spawn_retention(Arc::clone(&store), days);
    }
    spawn_metric_rollup(
        Arc::clone(&store),
        config.metrics_raw,
        config.metrics_retain,
    );
    Ok(App::new(
        store as Arc<dyn Store>,
        ServerConfig {
            max_body_bytes: config.max_body_bytes,
            limits: config.limits,
            allowed_origins: config.allowed_origins,
            live_queue: config.live_queue,
            heartbeat: config.heartbeat,
            otlp_session_idle: config.otlp_session_idle,
            system_metrics: config.system_metrics,
            proxy: config.proxy,
            auth: config.auth,
            reviews: config.reviews,
        },
    ))
}

fn spawn_retention(store: Arc<dyn Maintenance>, days: u32) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RETENTION_EVERY);
        loop {
            tick.tick().await;
            let cutoff = Timestamp(Timestamp::now().0 - i64::from(days) * 86_400 * 1_000_000_000);
            if let Err(e) = store.retain(cutoff).await {
                tracing::warn!(error = %e, "retention failed");
            }
        }
    });
}

/// Every ten minutes, metric samples older than `raw` become minute means, and points older
/// than `retain` go, so a week of 5-second samples of 50 series stays small.
fn spawn_metric_rollup(store: Arc<dyn Maintenance>, raw: Duration, retain: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let now = Timestamp::now().0;
            let ago = |d: Duration| Timestamp(now - d.as_nanos() as i64);
            match store
                .roll_up_metrics(ago(raw), Duration::from_secs(60), ago(retain))
                .await
            {
                Ok((rolled, deleted)) if rolled + deleted > 0 => {
                    tracing::info!(
                        metrics.rolled_up = rolled,
                        metrics.deleted = deleted,
                        "metric series kept small"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "metric roll-up failed"),
            }
        }
    });
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight and flushing the store");
}
