//! OTLP/HTTP bodies: the two encodings (`application/x-protobuf`, `application/json`), the
//! answer in the request's encoding, and errors as the specification wants them: a
//! `google.rpc.Status` (protobuf, or its JSON form), with a message written for the client.
//!
//! OTLP/JSON has a trap: the JSON mapping ignores unknown keys, so a body written with
//! snake_case keys (`resource_spans`) decodes to an empty request. A body with content that
//! holds no span (or log record) is refused with a message that says so.

use crate::error::ApiError;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The encoding of a request, and of its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// The request's encoding, from its content type.
pub fn encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/x-protobuf")
        || essence.eq_ignore_ascii_case("application/protobuf")
    {
        Ok(Encoding::Protobuf)
    } else if essence.eq_ignore_ascii_case("application/json") {
        Ok(Encoding::Json)
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "content type {ct:?} is not an OTLP encoding; send application/x-protobuf or application/json"
            ),
        ))
    }
}

/// Decodes a request; `items` counts its spans or records, `what` names them.
pub fn decode<T>(
    encoding: Encoding,
    body: &[u8],
    items: impl Fn(&T) -> usize,
    what: &str,
) -> Result<T, ApiError>
where
    T: prost::Message + Default + DeserializeOwned,
{
    let request = match encoding {
        Encoding::Protobuf => T::decode(body).map_err(|e| {
            bad(format!(
                "the body is not a valid OTLP protobuf export request ({e})"
            ))
        })?,
        Encoding::Json => serde_json::from_slice::<T>(body)
            .map_err(|e| bad(format!("the body is not valid OTLP/JSON: {e}")))?,
    };
    if items(&request) == 0 && has_content(encoding, body) {
        let hint = match encoding {
            Encoding::Json => {
                "; OTLP/JSON keys are lowerCamelCase (resourceSpans, scopeSpans, traceId, \
                 resourceLogs, logRecords ...), and snake_case keys are ignored"
            }
            Encoding::Protobuf => "; is it an export request of the right signal?",
        };
        return Err(bad(format!(
            "the body holds no {what} although it is not empty{hint}"
        )));
    }
    Ok(request)
}

/// Whether a body says anything: any bytes of protobuf, any value in JSON (so `{}` and
/// `{"resourceSpans": []}` are empty, as the JSON mapping defines them).
fn has_content(encoding: Encoding, body: &[u8]) -> bool {
    fn leaf(v: &Value) -> bool {
        match v {
            Value::Array(a) => a.iter().any(leaf),
            Value::Object(o) => o.values().any(leaf),
            _ => true,
        }
    }
    match encoding {
        Encoding::Protobuf => !body.is_empty(),
        Encoding::Json => serde_json::from_slice::<Value>(body).is_ok_and(|v| leaf(&v)),
    }
}

fn bad(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_otlp", message)
}

/// A `200` answer in the request's encoding (in JSON, unset fields left out: `{}` when all
/// went well).
pub fn answer<T: prost::Message + Serialize>(encoding: Encoding, message: &T) -> Response {
    let bytes = match encoding {
        Encoding::Protobuf => message.encode_to_vec(),
        Encoding::Json => {
            let mut v = serde_json::to_value(message).unwrap_or_default();
            if let Value::Object(fields) = &mut v {
                fields.retain(|_, f| !f.is_null());
            }
            v.to_string().into_bytes()
        }
    };
    with_type(encoding, StatusCode::OK, bytes)
}

/// An error as a `google.rpc.Status` in the request's encoding (JSON when it is unknown).
pub fn refuse(encoding: Option<Encoding>, e: ApiError) -> Response {
    let code = grpc_code(e.status) as i32;
    let encoding = encoding.unwrap_or(Encoding::Json);
    let bytes = match encoding {
        Encoding::Protobuf => prost::Message::encode_to_vec(&tonic_types::pb::Status {
            code,
            message: e.message,
            details: Vec::new(),
        }),
        Encoding::Json => serde_json::json!({"code": code, "message": e.message})
            .to_string()
            .into_bytes(),
    };
    with_type(encoding, e.status, bytes)
}

/// The gRPC status code an HTTP status stands for.
pub fn grpc_code(status: StatusCode) -> tonic::Code {
    match status {
        StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            tonic::Code::InvalidArgument
        }
        StatusCode::PAYLOAD_TOO_LARGE => tonic::Code::ResourceExhausted,
        StatusCode::SERVICE_UNAVAILABLE => tonic::Code::Unavailable,
        _ => tonic::Code::Internal,
    }
}

fn with_type(encoding: Encoding, status: StatusCode, bytes: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(encoding.content_type()),
        )],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

    fn spans(r: &ExportTraceServiceRequest) -> usize {
        r.resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum()
    }

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        h
    }

    #[test]
    fn content_types() {
        assert_eq!(
            encoding(&headers("application/x-protobuf")).unwrap(),
            Encoding::Protobuf
        );
        assert_eq!(
            encoding(&headers("application/json; charset=utf-8")).unwrap(),
            Encoding::Json
        );
        let e = encoding(&headers("text/plain")).unwrap_err();
        assert_eq!(e.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(e.message.contains("application/x-protobuf"));
        assert!(encoding(&HeaderMap::new()).is_err());
    }

    #[test]
    fn json_with_camel_case_keys_and_hex_ids() {
        let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
            "spanId":"eee19b7ec3c1b174","name":"chat","startTimeUnixNano":"1795168800000000000",
            "endTimeUnixNano":1795168801000000000,"kind":3}]}]}]}"#;
        let r: ExportTraceServiceRequest = decode(Encoding::Json, body, spans, "spans").unwrap();
        let span = &r.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(
            span.span_id,
            [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74]
        );
        assert_eq!(span.start_time_unix_nano, 1_795_168_800_000_000_000);
    }

    #[test]
    fn a_body_with_content_but_no_span_is_refused() {
        let snake = br#"{"resource_spans":[{"scope_spans":[{"spans":[{"name":"chat"}]}]}]}"#;
        let e =
            decode::<ExportTraceServiceRequest>(Encoding::Json, snake, spans, "spans").unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("lowerCamelCase"), "{}", e.message);
        for empty in [&b"{}"[..], br#"{"resourceSpans":[]}"#] {
            assert!(
                decode::<ExportTraceServiceRequest>(Encoding::Json, empty, spans, "spans").is_ok()
            );
        }
        assert!(
            decode::<ExportTraceServiceRequest>(Encoding::Protobuf, b"", spans, "spans").is_ok()
        );
        let e = decode::<ExportTraceServiceRequest>(
            Encoding::Json,
            b"{\"resourceSpans\": [",
            spans,
            "spans",
        )
        .unwrap_err();
        assert!(e.message.contains("not valid OTLP/JSON"), "{}", e.message);
        let e = decode::<ExportTraceServiceRequest>(
            Encoding::Protobuf,
            &[0x0a, 0xff, 0x01],
            spans,
            "spans",
        )
        .unwrap_err();
        assert!(e.message.contains("protobuf"), "{}", e.message);
    }
}
