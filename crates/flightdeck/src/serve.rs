//! `flightdeck serve`: opens the store, serves the API, applies retention, and shuts down
//! gracefully on Ctrl-C or SIGTERM, flushing everything that was acknowledged.

use crate::config::Config;
use anyhow::Context;
use flightdeck_model::Timestamp;
use flightdeck_server::{App, ServerConfig};
use flightdeck_store::{SqliteOptions, SqliteStore, Store};
use std::sync::Arc;
use std::time::Duration;

const RETENTION_EVERY: Duration = Duration::from_secs(3600);

pub async fn run(config: Config) -> anyhow::Result<()> {
    let mut opts = SqliteOptions::new(&config.db);
    opts.pricing = Arc::new(config.pricing);
    let store = Arc::new(
        SqliteStore::open(opts)
            .with_context(|| format!("cannot open the database {}", config.db.display()))?,
    );
    if let Some(days) = config.retain_days {
        spawn_retention(Arc::clone(&store), days);
    }
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        tracing::warn!(
            %addr,
            "listening beyond loopback: anyone who can reach this address can read and write traces"
        );
    }
    tracing::info!(%addr, db = %config.db.display(), "flightdeck serving on http://{addr}");
    let app = App::new(
        store as Arc<dyn Store>,
        ServerConfig {
            max_body_bytes: config.max_body_bytes,
            limits: config.limits,
            allowed_origins: config.allowed_origins,
            live_queue: config.live_queue,
            heartbeat: config.heartbeat,
        },
    );
    flightdeck_server::serve(listener, app, shutdown_signal()).await?;
    tracing::info!("stopped; everything acknowledged is stored");
    Ok(())
}

fn spawn_retention(store: Arc<SqliteStore>, days: u32) {
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

async fn shutdown_signal() {
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
