//! `POST /v1/traces`, `POST /v1/logs` and `POST /v1/metrics`: OTLP over HTTP on the main port, protobuf or JSON,
//! gzip allowed (`Content-Encoding: gzip`, undone by the router's decompression layer).
//! Answers `200` with the export response (partial success when some items were refused) in
//! the request's encoding, or a `google.rpc.Status` with a 4xx/5xx.

use super::body::{self, Encoding};
use super::{ExportError, Outcome};
use crate::error::ApiError;
use crate::refusals;
use crate::{App, AppState};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{Extensions, HeaderMap};
use axum::response::Response;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::future::Future;

/// What differs between the OTLP signals; the handling is the same.
trait Signal {
    type Request: prost::Message + Default + serde::de::DeserializeOwned;
    type Response: prost::Message + serde::Serialize;
    /// What the request carries, for error messages.
    const ITEMS: &'static str;
    fn count(request: &Self::Request) -> usize;
    fn export(
        app: &App,
        request: Self::Request,
    ) -> impl Future<Output = Result<Outcome, ExportError>> + Send;
    fn respond(outcome: Outcome) -> Self::Response;
}

struct Traces;

impl Signal for Traces {
    type Request = ExportTraceServiceRequest;
    type Response = ExportTraceServiceResponse;
    const ITEMS: &'static str = "spans";
    fn count(r: &Self::Request) -> usize {
        r.resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum()
    }
    fn export(
        app: &App,
        request: Self::Request,
    ) -> impl Future<Output = Result<Outcome, ExportError>> + Send {
        super::export_traces(app, request)
    }
    fn respond(outcome: Outcome) -> Self::Response {
        ExportTraceServiceResponse {
            partial_success: (outcome.rejected > 0).then_some(ExportTracePartialSuccess {
                rejected_spans: outcome.rejected,
                error_message: outcome.message,
            }),
        }
    }
}

struct Logs;

impl Signal for Logs {
    type Request = ExportLogsServiceRequest;
    type Response = ExportLogsServiceResponse;
    const ITEMS: &'static str = "log records";
    fn count(r: &Self::Request) -> usize {
        r.resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum()
    }
    fn export(
        app: &App,
        request: Self::Request,
    ) -> impl Future<Output = Result<Outcome, ExportError>> + Send {
        super::export_logs(app, request)
    }
    fn respond(outcome: Outcome) -> Self::Response {
        ExportLogsServiceResponse {
            partial_success: (outcome.rejected > 0).then_some(ExportLogsPartialSuccess {
                rejected_log_records: outcome.rejected,
                error_message: outcome.message,
            }),
        }
    }
}

struct Metrics;

impl Signal for Metrics {
    type Request = ExportMetricsServiceRequest;
    type Response = ExportMetricsServiceResponse;
    const ITEMS: &'static str = "data points";
    fn count(r: &Self::Request) -> usize {
        super::metrics::count(r)
    }
    fn export(
        app: &App,
        request: Self::Request,
    ) -> impl Future<Output = Result<Outcome, ExportError>> + Send {
        super::export_metrics(app, request)
    }
    fn respond(outcome: Outcome) -> Self::Response {
        ExportMetricsServiceResponse {
            partial_success: (outcome.rejected > 0).then_some(ExportMetricsPartialSuccess {
                rejected_data_points: outcome.rejected,
                error_message: outcome.message,
            }),
        }
    }
}

pub async fn metrics(
    State(app): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle::<Metrics>(&app, &extensions, &headers, body).await
}

pub async fn traces(
    State(app): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle::<Traces>(&app, &extensions, &headers, body).await
}

pub async fn logs(
    State(app): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle::<Logs>(&app, &extensions, &headers, body).await
}

async fn handle<S: Signal>(
    app: &AppState,
    extensions: &Extensions,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let client = || refusals::client(extensions, headers);
    let refuse = |encoding, e: ApiError| {
        super::count_refused_request(app, &client(), &e);
        body::refuse(encoding, e)
    };
    let (encoding, bytes) = match read(app, headers, body) {
        Ok(ok) => ok,
        Err((encoding, e)) => return refuse(encoding, e),
    };
    let request = match body::decode::<S::Request>(encoding, &bytes, S::count, S::ITEMS) {
        Ok(r) => r,
        Err(e) => return refuse(Some(encoding), e),
    };
    let result = S::export(app, request).await;
    super::count_refusals(app, &client(), S::ITEMS, &result);
    match result {
        Ok(outcome) => body::answer(encoding, &S::respond(outcome)),
        Err(e) => body::refuse(Some(encoding), e.into()),
    }
}

/// The encoding and the (decompressed) body, or the error with the encoding when known.
fn read(
    app: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Encoding, Bytes), (Option<Encoding>, ApiError)> {
    let encoding = body::encoding(headers).map_err(|e| (None, e))?;
    let bytes = body.map_err(|e| {
        let advice = "export smaller batches";
        (
            Some(encoding),
            ApiError::unreadable_body(&e, app.config.max_body_bytes, advice),
        )
    })?;
    Ok((encoding, bytes))
}
