//! Review gates from Rust: [`Reviewer::review`] opens a review and waits for its decision.
//!
//! The wait rides out a server restart (it polls again, with the same client-chosen
//! `review_id`, so a retried open opens nothing twice), and if the server stays unreachable
//! past the review's deadline it applies the review's timeout action by its own clock, so an
//! agent is never blocked longer than it asked to be.

use crate::error::Error;
use flightdeck_model::Timestamp;
use flightdeck_model::review::{ReviewOpen, ReviewRecord, ReviewState};
use reqwest::Url;
use std::time::{Duration, Instant};

/// One long-poll asks the server to wait at most this long (under the 60 s that HTTP
/// clients and proxies commonly allow).
const POLL_SECS: u64 = 25;
/// After the deadline, the server gets this long to tell its own outcome before the
/// client applies the action itself.
const GRACE: Duration = Duration::from_secs(2);
/// The pause between tries while the server is away.
const RETRY: Duration = Duration::from_millis(250);

/// A client for review gates: `Reviewer::new("http://127.0.0.1:7329", None)`.
#[derive(Clone, Debug)]
pub struct Reviewer {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

impl Reviewer {
    pub fn new(endpoint: &str, token: Option<String>) -> Result<Self, Error> {
        let base = Url::parse(endpoint).map_err(|e| Error::InvalidEndpoint {
            endpoint: endpoint.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Reviewer {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(POLL_SECS + 10))
                .build()?,
            base,
            token,
        })
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_path(&format!("{}{path}", self.base.path().trim_end_matches('/')));
        url
    }

    fn authed(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    /// Opens the review and waits until it is settled; answers the settled review (its
    /// `decision`, and `final_output()` to go on with). A refused request (bad input) is an
    /// error; an unreachable server is waited out until the deadline, then the review's
    /// timeout action applies (`decided_by: "client"`).
    pub async fn review(&self, mut open: ReviewOpen) -> Result<ReviewRecord, Error> {
        let id = open
            .review_id
            .get_or_insert_with(|| uuid::Uuid::new_v4().simple().to_string())
            .clone();
        let started = Instant::now();
        let requested_at = Timestamp::now();
        let deadline = started + Duration::from_millis(open.timeout_ms);
        let give_up = deadline + GRACE;
        loop {
            match self
                .send(self.http.post(self.url("/api/v1/reviews")).json(&open))
                .await
            {
                Ok(_) => break,
                Err(Attempt::Refused(e)) => return Err(e),
                Err(Attempt::Away) if Instant::now() >= give_up => {
                    return Ok(fallback(open, id, requested_at));
                }
                Err(Attempt::Away) => tokio::time::sleep(RETRY).await,
            }
        }
        let mut url = self.url(&format!("/api/v1/reviews/{id}"));
        url.set_query(Some(&format!("wait={POLL_SECS}")));
        loop {
            let request = self.http.get(url.clone());
            match self.send(request).await {
                Ok(r) if r.state != ReviewState::Pending => return Ok(r),
                Ok(_) => {}
                Err(Attempt::Refused(e)) => return Err(e),
                Err(Attempt::Away) if Instant::now() >= give_up => {
                    return Ok(fallback(open, id, requested_at));
                }
                Err(Attempt::Away) => tokio::time::sleep(RETRY).await,
            }
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<ReviewRecord, Attempt> {
        let response = self
            .authed(request)
            .send()
            .await
            .map_err(|_| Attempt::Away)?;
        let status = response.status();
        if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            return Err(Attempt::Away);
        }
        let text = response.text().await.map_err(|_| Attempt::Away)?;
        if !status.is_success() {
            return Err(Attempt::Refused(Error::ReviewRefused {
                status: status.as_u16(),
                message: text,
            }));
        }
        serde_json::from_str(&text).map_err(|e| {
            Attempt::Refused(Error::ReviewRefused {
                status: status.as_u16(),
                message: format!("an answer that is not a review ({e}): {text}"),
            })
        })
    }
}

enum Attempt {
    /// Not reached, or busy: try again.
    Away,
    /// Refused for good.
    Refused(Error),
}

/// The review as the client settles it when the server stayed away past the deadline.
fn fallback(open: ReviewOpen, review_id: String, requested_at: Timestamp) -> ReviewRecord {
    tracing::warn!(
        review.id = review_id,
        "the server stayed unreachable past the review's deadline; applying its timeout action"
    );
    let decision = open.on_timeout.decision();
    ReviewRecord {
        state: ReviewState::TimedOut,
        decision: Some(decision),
        decided_by: Some("client".to_owned()),
        decided_at: Some(Timestamp::now()),
        ..ReviewRecord::pending(open, review_id, requested_at)
    }
}
