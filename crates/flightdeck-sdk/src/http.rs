//! The HTTP transport: `POST {endpoint}/api/v1/events` with a JSON array body.
//!
//! A 2xx answer means the batch is durable. 408, 429, 5xx and connection errors are
//! transient (a `Retry-After` of delta-seconds sets the least wait before the next try); any
//! other status is a rejection, whose JSON error body
//! (`{"error":{"code","message","errors":[{index,field,message}]}}`) names the bad messages.

use crate::error::Error;
use crate::transport::{Rejection, SendError, SendFuture, Transport};
use flightdeck_model::{Message, MessageError};
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use std::time::Duration;

/// The path of the native ingest endpoint.
const EVENTS_PATH: &str = "/api/v1/events";
/// How much of an unparseable error body is quoted in a message.
const MAX_QUOTED_BODY: usize = 300;

/// Sends batches to a Flightdeck server over HTTP(S).
#[derive(Clone, Debug)]
pub struct HttpTransport {
    http: reqwest::Client,
    url: Url,
    token: Option<String>,
}

impl HttpTransport {
    /// A transport for the server at `endpoint` (`http://127.0.0.1:7329`; a URL that already
    /// ends in `/api/v1/events` is used as it is). `token` is sent as a bearer token.
    pub fn new(endpoint: &str, token: Option<String>, timeout: Duration) -> Result<Self, Error> {
        Ok(HttpTransport {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            url: events_url(endpoint)?,
            token,
        })
    }

    /// The URL batches are posted to.
    pub fn url(&self) -> &Url {
        &self.url
    }

    async fn post(&self, batch: &[Message]) -> Result<(), SendError> {
        let body = serde_json::to_vec(batch).map_err(|e| {
            SendError::Rejected(Rejection {
                message: format!("the batch could not be serialized: {e}"),
                ..Rejection::default()
            })
        })?;
        let mut request = self
            .http
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| SendError::Transient(describe(&e)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = retry_after(response.headers());
        let body = response.text().await.unwrap_or_default();
        Err(classify(status, &body, retry_after))
    }
}

impl Transport for HttpTransport {
    fn send<'a>(&'a self, batch: &'a [Message]) -> SendFuture<'a> {
        Box::pin(self.post(batch))
    }
}

fn events_url(endpoint: &str) -> Result<Url, Error> {
    let invalid = |reason: String| Error::InvalidEndpoint {
        endpoint: endpoint.to_owned(),
        reason,
    };
    let base = Url::parse(endpoint).map_err(|e| invalid(e.to_string()))?;
    if !matches!(base.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "scheme {:?} is not http(s)",
            base.scheme()
        )));
    }
    if base.path().ends_with(EVENTS_PATH) {
        return Ok(base);
    }
    let path = format!("{}{EVENTS_PATH}", base.path().trim_end_matches('/'));
    let mut url = base;
    url.set_path(&path);
    Ok(url)
}

/// reqwest's Display hides the cause ("error sending request"); the chain says why.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: Option<String>,
    message: String,
    #[serde(default)]
    errors: Vec<MessageError>,
}

/// A `Retry-After` given in seconds (the HTTP-date form is not followed: plain backoff then).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse().ok().map(Duration::from_secs)
}

fn classify(status: StatusCode, body: &str, retry_after: Option<Duration>) -> SendError {
    let parsed = serde_json::from_str::<ErrorBody>(body).ok();
    let message = match &parsed {
        Some(b) => match &b.error.code {
            Some(code) => format!("{code}: {}", b.error.message),
            None => b.error.message.clone(),
        },
        None => {
            let quoted: String = body.chars().take(MAX_QUOTED_BODY).collect();
            if quoted.is_empty() {
                status.to_string()
            } else {
                quoted
            }
        }
    };
    let transient = status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS;
    if transient {
        let reason = format!("HTTP {status}: {message}");
        return match retry_after {
            Some(after) => SendError::RetryAfter { reason, after },
            None => SendError::Transient(reason),
        };
    }
    SendError::Rejected(Rejection {
        status: Some(status.as_u16()),
        message,
        invalid: parsed.map(|b| b.error.errors).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::messages;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[test]
    fn endpoint_gets_the_events_path_once() {
        let url = |e: &str| events_url(e).unwrap().to_string();
        assert_eq!(
            url("http://127.0.0.1:7329"),
            "http://127.0.0.1:7329/api/v1/events"
        );
        assert_eq!(url("http://h:1/fd/"), "http://h:1/fd/api/v1/events");
        assert_eq!(url("http://h:1/api/v1/events"), "http://h:1/api/v1/events");
        assert!(matches!(
            events_url("ftp://h"),
            Err(Error::InvalidEndpoint { .. })
        ));
        assert!(events_url("not a url").is_err());
    }

    #[test]
    fn statuses_are_classified_and_error_bodies_parsed() {
        let body = r#"{"error":{"code":"invalid_message","message":"1 invalid message(s)",
            "errors":[{"index":2,"field":"span_id","message":"must not be empty"}]}}"#;
        match classify(StatusCode::UNPROCESSABLE_ENTITY, body, None) {
            SendError::Rejected(r) => {
                assert_eq!(r.status, Some(422));
                assert_eq!(r.message, "invalid_message: 1 invalid message(s)");
                assert_eq!(r.invalid[0].index, 2);
                assert_eq!(r.invalid[0].field.as_deref(), Some("span_id"));
            }
            other => panic!("{other:?}"),
        }
        for status in [503, 500, 408, 429] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(matches!(
                classify(status, "", None),
                SendError::Transient(_)
            ));
        }
        let wait = Some(Duration::from_secs(2));
        assert!(matches!(
            classify(StatusCode::SERVICE_UNAVAILABLE, "", wait),
            SendError::RetryAfter { after, .. } if after == Duration::from_secs(2)
        ));
        match classify(StatusCode::PAYLOAD_TOO_LARGE, "too big", wait) {
            SendError::Rejected(r) => assert!(r.is_too_large() && r.message == "too big"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, " 3 ".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2026 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }

    /// Answers one connection with `response` and hands back the request it read.
    async fn one_shot_server(response: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = socket.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let length: usize = text[..head_end]
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length: "))
                        .map(|v| v.trim().parse().unwrap())
                        .unwrap_or(0);
                    if request.len() >= head_end + 4 + length {
                        break;
                    }
                }
            }
            socket.write_all(response.as_bytes()).await.unwrap();
            String::from_utf8(request).unwrap()
        });
        (endpoint, task)
    }

    #[tokio::test]
    async fn posts_a_json_array_with_the_bearer_token() {
        let ok = "HTTP/1.1 200 OK\r\ncontent-length: 14\r\n\r\n{\"accepted\":2}";
        let (endpoint, server) = one_shot_server(ok).await;
        let t =
            HttpTransport::new(&endpoint, Some("s3cret".into()), Duration::from_secs(5)).unwrap();
        t.send(&messages(2)).await.unwrap();
        let request = server.await.unwrap();
        assert!(
            request.starts_with("POST /api/v1/events HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            request.contains("authorization: Bearer s3cret\r\n"),
            "{request}"
        );
        assert!(
            request.contains("content-type: application/json\r\n"),
            "{request}"
        );
        let body = &request[request.find("\r\n\r\n").unwrap() + 4..];
        let sent: Vec<serde_json::Value> = serde_json::from_str(body).unwrap();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0]["type"], "event");
    }

    #[tokio::test]
    async fn unavailable_and_unreachable_servers_are_transient() {
        let busy = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n";
        let (endpoint, server) = one_shot_server(busy).await;
        let t = HttpTransport::new(&endpoint, None, Duration::from_secs(5)).unwrap();
        assert!(matches!(
            t.send(&messages(1)).await,
            Err(SendError::Transient(_))
        ));
        server.await.unwrap();

        let later = "HTTP/1.1 429 Too Many Requests\r\nretry-after: 7\r\ncontent-length: 0\r\n\r\n";
        let (endpoint, server) = one_shot_server(later).await;
        let t = HttpTransport::new(&endpoint, None, Duration::from_secs(5)).unwrap();
        match t.send(&messages(1)).await {
            Err(SendError::RetryAfter { after, .. }) => assert_eq!(after, Duration::from_secs(7)),
            other => panic!("{other:?}"),
        }
        server.await.unwrap();

        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let t = HttpTransport::new(&endpoint, None, Duration::from_secs(5)).unwrap();
        match t.send(&messages(1)).await {
            Err(SendError::Transient(why)) => assert!(why.contains("onnect"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
