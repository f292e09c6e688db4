//! OTLP/gRPC: the `TraceService`, `LogsService` and `MetricsService` on their own port (4317
//! by default), calling the same [`export_traces`](super::export_traces) /
//! [`export_logs`](super::export_logs) / [`export_metrics`](super::export_metrics) as
//! OTLP/HTTP. Gzip-compressed requests are accepted; messages are capped at the server's
//! `max_body_bytes`. With credentials configured, calls carry the token in their
//! `authorization: Bearer` (or `x-flightdeck-token`) metadata.

use super::ExportError;
use crate::AppState;
use crate::error::ApiError;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::future::Future;
use tokio::net::TcpListener;
use tonic::codec::CompressionEncoding;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

/// The services, over the server's state.
struct Otlp(AppState);

#[tonic::async_trait]
impl TraceService for Otlp {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let client = client(&request);
        let result = super::export_traces(&self.0, request.into_inner()).await;
        super::count_refusals(&self.0, &client, "spans", &result);
        let outcome = result.map_err(status)?;
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: (outcome.rejected > 0).then_some(ExportTracePartialSuccess {
                rejected_spans: outcome.rejected,
                error_message: outcome.message,
            }),
        }))
    }
}

#[tonic::async_trait]
impl LogsService for Otlp {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let client = client(&request);
        let result = super::export_logs(&self.0, request.into_inner()).await;
        super::count_refusals(&self.0, &client, "log records", &result);
        let outcome = result.map_err(status)?;
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: (outcome.rejected > 0).then_some(ExportLogsPartialSuccess {
                rejected_log_records: outcome.rejected,
                error_message: outcome.message,
            }),
        }))
    }
}

#[tonic::async_trait]
impl MetricsService for Otlp {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let client = client(&request);
        let result = super::export_metrics(&self.0, request.into_inner()).await;
        super::count_refusals(&self.0, &client, "data points", &result);
        let outcome = result.map_err(status)?;
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: (outcome.rejected > 0).then_some(ExportMetricsPartialSuccess {
                rejected_data_points: outcome.rejected,
                error_message: outcome.message,
            }),
        }))
    }
}

/// Who sent a request: its peer address and user agent.
fn client<T>(request: &Request<T>) -> String {
    let agent = request
        .metadata()
        .get("user-agent")
        .and_then(|v| v.to_str().ok());
    crate::refusals::client_at(request.remote_addr(), agent)
}

fn status(e: ExportError) -> Status {
    let e = ApiError::from(e);
    Status::new(super::body::grpc_code(e.status), e.message)
}

/// The same access rule as the HTTP routes, read from a call's metadata before its message
/// is decompressed or decoded.
fn authorize(
    app: AppState,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone + Send + Sync + 'static {
    move |request: Request<()>| {
        let headers = request.metadata().clone().into_headers();
        if app.auth.allows(&axum::http::Method::POST, &headers) {
            Ok(request)
        } else {
            Err(Status::unauthenticated(
                "this server needs credentials: send `authorization: Bearer <token>` metadata",
            ))
        }
    }
}

/// Serves OTLP/gRPC on `listener` until `shutdown` resolves, letting calls in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: AppState,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let limit = app.config.max_body_bytes;
    let gate = authorize(std::sync::Arc::clone(&app));
    let service = std::sync::Arc::new(Otlp(app));
    let traces = TraceServiceServer::from_arc(std::sync::Arc::clone(&service))
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(limit);
    let logs = LogsServiceServer::from_arc(std::sync::Arc::clone(&service))
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(limit);
    let metrics = MetricsServiceServer::from_arc(service)
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(limit);
    tonic::transport::Server::builder()
        .add_service(InterceptedService::new(traces, gate.clone()))
        .add_service(InterceptedService::new(logs, gate.clone()))
        .add_service(InterceptedService::new(metrics, gate))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await
}
