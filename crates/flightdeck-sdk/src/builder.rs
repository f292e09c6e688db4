//! Configuring and starting a [`Client`]: endpoint or transport, buffer, batching, retries.

use crate::backoff::Backoff;
use crate::client::Client;
use crate::error::Error;
use crate::http::HttpTransport;
use crate::transport::Transport;
use crate::worker::Batching;
use std::sync::Arc;
use std::time::Duration;

/// The entry point: `Flightdeck::builder(url).build()?` gives a [`Client`].
#[derive(Debug)]
pub struct Flightdeck;

impl Flightdeck {
    /// A client for the Flightdeck server at `endpoint`, such as `http://127.0.0.1:7329`.
    pub fn builder(endpoint: impl Into<String>) -> Builder {
        Builder::new(Target::Http(endpoint.into()))
    }

    /// A client that hands its batches to `transport` instead of a server, for example a
    /// [`MemorySink`](crate::MemorySink) in tests.
    pub fn with_transport(transport: impl Transport) -> Builder {
        Builder::new(Target::Custom(Arc::new(transport)))
    }
}

enum Target {
    Http(String),
    Custom(Arc<dyn Transport>),
}

/// Settings of a [`Client`]; every one has a sensible default.
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder {
    target: Target,
    token: Option<String>,
    capacity: usize,
    batching: Batching,
    request_timeout: Duration,
    flush_timeout: Duration,
}

impl Builder {
    fn new(target: Target) -> Self {
        Builder {
            target,
            token: None,
            capacity: 100_000,
            batching: Batching {
                max_batch: 1000,
                linger: Duration::from_millis(50),
                backoff: Backoff {
                    initial: Duration::from_millis(100),
                    max: Duration::from_secs(5),
                },
            },
            request_timeout: Duration::from_secs(10),
            flush_timeout: Duration::from_secs(10),
        }
    }

    /// How many messages may wait to be sent (default 100,000); more are dropped and counted.
    pub fn capacity(mut self, messages: usize) -> Self {
        self.capacity = messages.max(1);
        self
    }

    /// The most messages in one request (default 1,000).
    pub fn max_batch(mut self, messages: usize) -> Self {
        self.batching.max_batch = messages.max(1);
        self
    }

    /// How long a batch waits for more messages after its first (default 50 ms).
    pub fn linger(mut self, linger: Duration) -> Self {
        self.batching.linger = linger;
        self
    }

    /// The wait before the first retry, doubled after each failure up to `max`
    /// (default 100 ms up to 5 s). Retries go on until the server answers.
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.batching.backoff = Backoff {
            initial,
            max: max.max(initial),
        };
        self
    }

    /// A bearer token for servers that require one (HTTP only).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The limit on one HTTP request (default 10 s); a timeout counts as transient.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long [`Client::flush`] and [`Client::shutdown`] wait (default 10 s).
    pub fn flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// Starts the client and its background task on the current tokio runtime.
    pub fn build(self) -> Result<Client, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let transport: Arc<dyn Transport> = match self.target {
            Target::Http(endpoint) => Arc::new(HttpTransport::new(
                &endpoint,
                self.token,
                self.request_timeout,
            )?),
            Target::Custom(transport) => transport,
        };
        Ok(Client::start(
            transport,
            runtime,
            self.capacity,
            self.batching,
            self.flush_timeout,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn building_needs_a_runtime_and_a_valid_endpoint() {
        assert!(matches!(
            Flightdeck::builder("http://127.0.0.1:7329").build(),
            Err(Error::NoRuntime)
        ));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = runtime.enter();
        assert!(Flightdeck::builder("http://127.0.0.1:7329").build().is_ok());
        assert!(matches!(
            Flightdeck::builder("127.0.0.1:7329").build(),
            Err(Error::InvalidEndpoint { .. })
        ));
    }
}
