//! Where decoded batches go. [`Sink::Local`] writes through this process's server state:
//! native batches to `Store::append`, OTLP requests through `otlp::export_traces` /
//! `export_logs`, exactly what `POST /api/v1/events` and `POST /v1/traces` do, so the
//! store's durability and the live feed apply unchanged. [`Sink::Remote`] posts the same
//! batches to a running server's ingest endpoints (native NDJSON, OTLP protobuf), for
//! `watch --server` and `import --server`: the store, and its single writer, stay in the one
//! process that owns the database.

use super::Batch;
use crate::AppState;
use crate::otlp::{ExportError, Outcome, export_logs, export_traces};

/// What a sent batch did.
#[derive(Debug, Default, PartialEq)]
pub struct Sent {
    /// Items the receiver refused although it took the rest (OTLP partial success).
    pub rejected: i64,
    /// Why, when `rejected > 0`.
    pub message: String,
}

/// Why a batch was not stored (none of it was).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The batch itself is at fault (nothing in it can be stored): skip it.
    #[error("{0}")]
    Refused(String),
    /// The receiver is away or failed: the batch may be sent again later.
    #[error("{0}")]
    Unavailable(String),
}

/// A destination for batches.
pub enum Sink {
    Local(AppState),
    Remote(Remote),
}

/// A running Flightdeck, reached over HTTP.
pub struct Remote {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Remote {
    /// The server at `base` (`http://host:port`), with the access token if it needs one.
    pub fn new(base: &str, token: Option<String>) -> Remote {
        Remote {
            client: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
            token,
        }
    }

    async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<String, SendError> {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let res = req
            .send()
            .await
            .map_err(|e| SendError::Unavailable(format!("{}: {e}", self.base)))?;
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        let why = format!("{} answered {status}: {text}", self.base);
        match status.as_u16() {
            200..=299 => Ok(text),
            // Credentials and rate are the receiver's state, not the batch's fault.
            401 | 403 | 429 => Err(SendError::Unavailable(why)),
            400..=499 => Err(SendError::Refused(why)),
            _ => Err(SendError::Unavailable(why)),
        }
    }
}

impl Sink {
    /// Stores `batch`; an error means none of it was stored (a refused or failed batch).
    pub async fn send(&self, batch: Batch) -> Result<Sent, SendError> {
        match self {
            Sink::Local(app) => local(app, batch).await,
            Sink::Remote(r) => remote(r, batch).await,
        }
    }
}

async fn local(app: &AppState, batch: Batch) -> Result<Sent, SendError> {
    let outcome = match batch {
        Batch::Native(messages) => {
            app.store
                .append(messages)
                .await
                .map_err(|e| SendError::Unavailable(e.to_string()))?;
            return Ok(Sent::default());
        }
        Batch::Traces(r) => export_traces(app, r).await,
        Batch::Logs(r) => export_logs(app, r).await,
    };
    match outcome {
        Ok(Outcome {
            rejected, message, ..
        }) => Ok(Sent { rejected, message }),
        Err(ExportError::Rejected(o)) => Err(SendError::Refused(o.message)),
        Err(ExportError::Store(e)) => Err(SendError::Unavailable(e.to_string())),
    }
}

async fn remote(r: &Remote, batch: Batch) -> Result<Sent, SendError> {
    let answer = match batch {
        Batch::Native(messages) => {
            let body = super::export::to_jsonl(&messages);
            r.post("/api/v1/events", "application/x-ndjson", body.into_bytes())
                .await?;
            return Ok(Sent::default());
        }
        Batch::Traces(req) => {
            let answer = r
                .post(
                    "/v1/traces",
                    "application/json",
                    serde_json::to_vec(&req).unwrap_or_default(),
                )
                .await?;
            partial(&answer, "partialSuccess", "rejectedSpans")
        }
        Batch::Logs(req) => {
            let answer = r
                .post(
                    "/v1/logs",
                    "application/json",
                    serde_json::to_vec(&req).unwrap_or_default(),
                )
                .await?;
            partial(&answer, "partialSuccess", "rejectedLogRecords")
        }
    };
    Ok(answer)
}

/// The partial success of an OTLP/JSON answer.
fn partial(answer: &str, object: &str, count: &str) -> Sent {
    let v: serde_json::Value = serde_json::from_str(answer).unwrap_or_default();
    let p = &v[object];
    let rejected = match &p[count] {
        serde_json::Value::String(s) => s.parse().unwrap_or(0),
        n => n.as_i64().unwrap_or(0),
    };
    Sent {
        rejected,
        message: p["errorMessage"].as_str().unwrap_or_default().to_owned(),
    }
}
