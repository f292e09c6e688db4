//! A Flightdeck server on a free loopback port for the benchmarks, over a store they opened,
//! stopped gracefully (store flushed) when they are done.

use flightdeck_server::{App, AppState, ServerConfig};
use flightdeck_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running benchmark server.
pub struct LocalServer {
    pub addr: SocketAddr,
    pub app: AppState,
    stop: oneshot::Sender<()>,
    serving: JoinHandle<std::io::Result<()>>,
}

impl LocalServer {
    /// Serves `store` with `config` on a free loopback port.
    pub async fn start(store: Arc<dyn Store>, config: ServerConfig) -> anyhow::Result<Self> {
        let app = App::new(store, config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(flightdeck_server::serve(
            listener,
            Arc::clone(&app),
            async {
                let _ = stopped.await;
            },
        ));
        Ok(LocalServer {
            addr,
            app,
            stop,
            serving,
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits until everything it acknowledged is stored.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.serving.await??;
        Ok(())
    }
}
