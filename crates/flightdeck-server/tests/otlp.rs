//! OTLP ingest through a real server, with requests built from the opentelemetry-proto types:
//! every transport (HTTP protobuf, HTTP JSON, gzip, gRPC), partial success, bad input, log
//! records joined to their span, Logfire pending spans, agents settled across requests.

mod support;

use flate2::Compression;
use flate2::write::GzEncoder;
use flightdeck_server::ServerConfig;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse, logs_service_client::LogsServiceClient,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse, trace_service_client::TraceServiceClient,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value as V};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, status};
use prost::Message;
use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;
use support::{TestServer, ended};

const START: u64 = 1_795_168_800_000_000_000;

fn kv(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(V::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn int(key: &str, v: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(V::IntValue(v)),
        }),
        ..Default::default()
    }
}

/// A finished span `id` of trace `trace` (ids are a byte repeated).
fn span(trace: u8, id: u8, parent: Option<u8>, name: &str, attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        start_time_unix_nano: START + u64::from(id) * 1_000_000,
        end_time_unix_nano: START + 2_000_000_000,
        attributes,
        ..Default::default()
    }
}

fn chat(trace: u8, id: u8, parent: Option<u8>) -> Span {
    span(
        trace,
        id,
        parent,
        "chat gpt-4o",
        vec![
            kv("gen_ai.operation.name", "chat"),
            kv("gen_ai.request.model", "gpt-4o"),
            int("gen_ai.usage.input_tokens", 12),
            int("gen_ai.usage.output_tokens", 34),
        ],
    )
}

fn traces(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "heist-crew")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn logs(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn hex(byte: u8, n: usize) -> String {
    format!("{byte:02x}").repeat(n)
}

struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The `google.rpc.Status` of a protobuf error answer.
    fn status_message(&self) -> String {
        tonic_types::pb::Status::decode(&self.body[..])
            .unwrap()
            .message
    }
}

async fn post(s: &TestServer, path: &str, content_type: &str, body: Vec<u8>, gzip: bool) -> Answer {
    let mut req = s
        .client
        .post(format!("{}{path}", s.base))
        .header("content-type", content_type);
    let body = if gzip {
        req = req.header("content-encoding", "gzip");
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(&body).unwrap();
        e.finish().unwrap()
    } else {
        body
    };
    let r = req.body(body).send().await.unwrap();
    Answer {
        status: r.status().as_u16(),
        content_type: r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        body: r.bytes().await.unwrap().to_vec(),
    }
}

async fn protobuf(s: &TestServer, request: &ExportTraceServiceRequest) -> Answer {
    post(
        s,
        "/v1/traces",
        "application/x-protobuf",
        request.encode_to_vec(),
        false,
    )
    .await
}

/// A server whose OTLP sessions end after a short quiet time.
async fn quick_to_end() -> TestServer {
    TestServer::start_with(ServerConfig {
        otlp_session_idle: Duration::from_millis(300),
        ..ServerConfig::default()
    })
    .await
}

async fn span_json(s: &TestServer, session: &str, span: &str) -> Value {
    let (status, v) = s
        .get(&format!("/api/v1/sessions/{session}/spans/{span}"))
        .await;
    assert_eq!(status, 200, "{session}/{span}: {v}");
    v
}

#[tokio::test]
async fn protobuf_json_and_gzip_all_land_in_the_store() {
    let s = quick_to_end().await;

    let a = protobuf(&s, &traces(vec![chat(1, 1, None)])).await;
    assert_eq!(
        (a.status, a.content_type.as_str()),
        (200, "application/x-protobuf")
    );
    let response = ExportTraceServiceResponse::decode(&a.body[..]).unwrap();
    assert_eq!(response.partial_success, None);

    let gz = post(
        &s,
        "/v1/traces",
        "application/x-protobuf",
        traces(vec![chat(2, 1, None)]).encode_to_vec(),
        true,
    )
    .await;
    assert_eq!(gz.status, 200);

    // OTLP/JSON as an exporter writes it: hex ids, 64-bit integers as strings, enums as numbers.
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "heist-crew"}}]},
        "scopeSpans": [{"scope": {"name": "manual"}, "spans": [{
            "traceId": hex(3, 16), "spanId": hex(1, 8), "name": "chat gpt-4o", "kind": 3,
            "startTimeUnixNano": START.to_string(), "endTimeUnixNano": (START + 1_000_000_000).to_string(),
            "attributes": [
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "12"}},
                {"key": "gen_ai.input.messages", "value": {"stringValue":
                    "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"plan the job\"}]}]"}}
            ],
            "status": {"code": 1}
        }]}]
    }]});
    let j = post(
        &s,
        "/v1/traces",
        "application/json",
        body.to_string().into_bytes(),
        true,
    )
    .await;
    assert_eq!(
        (j.status, j.content_type.as_str()),
        (200, "application/json")
    );
    assert_eq!(j.json(), json!({}));

    for trace in [1, 2, 3] {
        let session = hex(trace, 16);
        let span = span_json(&s, &session, &hex(1, 8)).await;
        assert_eq!(span["kind"], "llm");
        assert_eq!(span["model"], "gpt-4o");
        assert_eq!(
            span["agent"], "heist-crew",
            "a root's agent is service.name"
        );
        assert_eq!(span["usage"]["input_tokens"], 12);
        assert_eq!(span["attributes"]["resource.service.name"], "heist-crew");
        // A session of one trace ends once it is quiet, at its last span's end.
        let session = ended(&s, &session).await;
        assert_eq!(session["status"], "completed", "{session}");
    }
    let span = span_json(&s, &hex(3, 16), &hex(1, 8)).await;
    assert_eq!(
        span["input"],
        json!([{"role": "user", "content": "plan the job"}])
    );
    assert_eq!(span["attributes"]["otel.span_kind"], "client");
}

#[tokio::test]
async fn partial_success_keeps_the_good_spans() {
    let s = TestServer::start().await;
    let mut short_id = chat(1, 2, Some(1));
    short_id.span_id = vec![2; 5];
    let huge = span(
        1,
        3,
        Some(1),
        "tool",
        vec![kv("blob", &"x".repeat(5 * 1024 * 1024))],
    );
    let request = traces(vec![chat(1, 1, None), short_id, huge]);

    let a = protobuf(&s, &request).await;
    assert_eq!(a.status, 200);
    let partial = ExportTraceServiceResponse::decode(&a.body[..])
        .unwrap()
        .partial_success
        .unwrap();
    assert_eq!(partial.rejected_spans, 2);
    assert!(
        partial
            .error_message
            .contains("span_id must be 8 bytes (16 hex digits), got 5"),
        "{}",
        partial.error_message
    );
    assert!(
        partial.error_message.contains("attributes.blob"),
        "{}",
        partial.error_message
    );
    span_json(&s, &hex(1, 16), &hex(1, 8)).await;
    let (status, _) = s
        .get(&format!(
            "/api/v1/sessions/{}/spans/{}",
            hex(1, 16),
            hex(3, 8)
        ))
        .await;
    assert_eq!(status, 404, "the oversized span was not stored");

    // The same in JSON: the answer is JSON too.
    let j = post(
        &s,
        "/v1/traces",
        "application/json",
        serde_json::to_vec(&request).unwrap(),
        false,
    )
    .await;
    assert_eq!(j.status, 200);
    let v = j.json();
    assert_eq!(
        v["partialSuccess"]["rejectedSpans"]
            .to_string()
            .trim_matches('"'),
        "2",
        "{v}"
    );

    // Heard: counted by rule for the page, twice each (protobuf, then JSON).
    let (_, refusals) = s.get("/api/v1/refusals").await;
    let spans: Vec<&Value> = refusals
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"] == "otlp" && r["unit"] == "spans")
        .collect();
    assert_eq!(spans.len(), 2, "{refusals:#}");
    assert!(spans.iter().all(|r| r["last_hour"] == 2), "{refusals:#}");
    assert!(
        spans
            .iter()
            .any(|r| r["reason"] == "span_id must be 8 bytes (16 hex digits), got 5 bytes"),
        "{refusals:#}"
    );
}

#[tokio::test]
async fn bad_bodies_get_a_clear_4xx_and_the_server_keeps_serving() {
    let s = TestServer::start_with(ServerConfig {
        max_body_bytes: 8 * 1024 * 1024,
        ..Default::default()
    })
    .await;
    let good = traces(vec![chat(1, 1, None)]).encode_to_vec();

    let truncated = post(
        &s,
        "/v1/traces",
        "application/x-protobuf",
        good[..good.len() - 7].to_vec(),
        false,
    )
    .await;
    assert_eq!(
        (truncated.status, truncated.content_type.as_str()),
        (400, "application/x-protobuf")
    );
    assert!(
        truncated
            .status_message()
            .contains("not a valid OTLP protobuf"),
        "{}",
        truncated.status_message()
    );

    let wrong_type = post(&s, "/v1/traces", "text/plain", good.clone(), false).await;
    assert_eq!(wrong_type.status, 415);
    assert!(
        wrong_type.json()["message"]
            .as_str()
            .unwrap()
            .contains("application/x-protobuf")
    );

    let invalid = post(
        &s,
        "/v1/traces",
        "application/json",
        b"{\"resourceSpans\": [{".to_vec(),
        false,
    )
    .await;
    assert_eq!(invalid.status, 400);
    assert!(
        invalid.json()["message"]
            .as_str()
            .unwrap()
            .contains("not valid OTLP/JSON")
    );

    let snake =
        json!({"resource_spans": [{"scope_spans": [{"spans": [{"trace_id": hex(1, 16)}]}]}]});
    let snake = post(
        &s,
        "/v1/traces",
        "application/json",
        snake.to_string().into_bytes(),
        false,
    )
    .await;
    assert_eq!(snake.status, 400);
    assert!(
        snake.json()["message"]
            .as_str()
            .unwrap()
            .contains("lowerCamelCase"),
        "{}",
        snake.json()
    );

    let bad_hex = json!({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz", "spanId": hex(1, 8)}]}]}]});
    let bad_hex = post(
        &s,
        "/v1/traces",
        "application/json",
        bad_hex.to_string().into_bytes(),
        false,
    )
    .await;
    assert_eq!(bad_hex.status, 400, "{}", bad_hex.json());

    let mut wrong_trace = chat(1, 1, None);
    wrong_trace.trace_id = vec![1; 20];
    let all_bad = protobuf(&s, &traces(vec![wrong_trace])).await;
    assert_eq!(all_bad.status, 400, "nothing storable: no partial success");
    assert!(
        all_bad
            .status_message()
            .contains("trace_id must be 16 bytes"),
        "{}",
        all_bad.status_message()
    );

    let too_big = traces(vec![span(
        1,
        9,
        None,
        "big",
        vec![kv("blob", &"y".repeat(9 * 1024 * 1024))],
    )]);
    let too_big = protobuf(&s, &too_big).await;
    assert_eq!(too_big.status, 413);

    let ok = post(&s, "/v1/traces", "application/x-protobuf", good, false).await;
    assert_eq!(ok.status, 200, "still serving");
}

#[tokio::test]
async fn message_logs_join_their_span_in_either_order() {
    let s = TestServer::start().await;
    let details = |trace: u8| LogRecord {
        trace_id: vec![trace; 16],
        span_id: vec![2; 8],
        event_name: "gen_ai.client.inference.operation.details".into(),
        attributes: vec![
            kv("gen_ai.operation.name", "chat"),
            kv(
                "gen_ai.input.messages",
                r#"[{"role":"user","parts":[{"type":"text","content":"When?"}]}]"#,
            ),
            KeyValue {
                key: "gen_ai.output.messages".into(),
                value: Some(AnyValue {
                    value: Some(V::StringValue(
                        r#"[{"role":"assistant","parts":[{"type":"text","content":"Midnight."}]}]"#
                            .into(),
                    )),
                }),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let post_logs = |r: ExportLogsServiceRequest| {
        let s = &s;
        async move {
            post(
                s,
                "/v1/logs",
                "application/x-protobuf",
                r.encode_to_vec(),
                false,
            )
            .await
        }
    };
    // Trace 1: the log before its span; trace 2: after it.
    assert_eq!(post_logs(logs(vec![details(1)])).await.status, 200);
    let (_, early) = s
        .get(&format!("/api/v1/sessions/{}/spans", hex(1, 16)))
        .await;
    assert_eq!(early, json!([]), "no span made up from the log record");
    for trace in [1, 2] {
        let a = protobuf(
            &s,
            &traces(vec![
                span(trace, 1, None, "plan", vec![]),
                chat(trace, 2, Some(1)),
            ]),
        )
        .await;
        assert_eq!(a.status, 200);
    }
    assert_eq!(post_logs(logs(vec![details(2)])).await.status, 200);
    for trace in [1, 2] {
        let (_, all) = s
            .get(&format!("/api/v1/sessions/{}/spans", hex(trace, 16)))
            .await;
        assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
        let span = span_json(&s, &hex(trace, 16), &hex(2, 8)).await;
        assert_eq!(span["status"], "ok");
        assert_eq!(span["kind"], "llm");
        assert_eq!(
            span["input"],
            json!([{"role": "user", "content": "When?"}]),
            "trace {trace}"
        );
        assert_eq!(
            span["output"],
            json!({"role": "assistant", "content": "Midnight."})
        );
    }

    // Any other record is a log event of the session; one without trace or session is refused.
    let line = LogRecord {
        trace_id: vec![1; 16],
        severity_number: 13,
        body: Some(AnyValue {
            value: Some(V::StringValue("rate limited".into())),
        }),
        ..Default::default()
    };
    let orphan = LogRecord {
        body: line.body.clone(),
        ..Default::default()
    };
    let a = post_logs(logs(vec![line, orphan])).await;
    assert_eq!(a.status, 200);
    let partial = ExportLogsServiceResponse::decode(&a.body[..])
        .unwrap()
        .partial_success
        .unwrap();
    assert_eq!(partial.rejected_log_records, 1);
    assert!(
        partial.error_message.contains("session.id"),
        "{}",
        partial.error_message
    );
    let (_, events) = s
        .get(&format!("/api/v1/sessions/{}/events", hex(1, 16)))
        .await;
    let items = events["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{events}");
    assert_eq!(
        (items[0]["level"].as_str(), items[0]["message"].as_str()),
        (Some("warn"), Some("rate limited"))
    );
}

#[tokio::test]
async fn logfire_pending_spans_show_running_until_the_real_span_ends() {
    let s = TestServer::start().await;
    let pending = |id: u8, real: u8, real_parent: &str, name: &str| {
        let mut p = span(
            1,
            id,
            Some(real),
            &format!("{name} (pending)"),
            vec![
                kv("logfire.span_type", "pending_span"),
                kv("logfire.pending_parent_id", real_parent),
                kv("logfire.msg", name),
            ],
        );
        p.start_time_unix_nano = START;
        p.end_time_unix_nano = START;
        p
    };
    let a = protobuf(
        &s,
        &traces(vec![
            pending(10, 1, "0000000000000000", "heist"),
            pending(11, 2, &hex(1, 8), "crack the safe"),
        ]),
    )
    .await;
    assert_eq!(a.status, 200);
    let (_, spans) = s
        .get(&format!("/api/v1/sessions/{}/spans", hex(1, 16)))
        .await;
    let running: Vec<(&str, &str)> = spans
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        running,
        [("heist", "running"), ("crack the safe", "running")]
    );
    let child = span_json(&s, &hex(1, 16), &hex(2, 8)).await;
    assert_eq!(child["parent_id"], hex(1, 8));
    let (_, session) = s.get(&format!("/api/v1/sessions/{}", hex(1, 16))).await;
    assert_eq!(session["status"], "running");

    let mut real = span(
        1,
        2,
        Some(1),
        "crack the safe",
        vec![kv("logfire.span_type", "span")],
    );
    real.start_time_unix_nano = START;
    real.status = Some(Status {
        code: status::StatusCode::Error as i32,
        message: "alarm".into(),
    });
    assert_eq!(protobuf(&s, &traces(vec![real])).await.status, 200);
    let child = span_json(&s, &hex(1, 16), &hex(2, 8)).await;
    assert_eq!(
        (child["status"].as_str(), child["error"].as_str()),
        (Some("error"), Some("alarm"))
    );
    let root = span_json(&s, &hex(1, 16), &hex(1, 8)).await;
    assert_eq!(root["status"], "running", "its real span has not arrived");
}

#[tokio::test]
async fn agents_settle_when_an_ancestor_arrives_later() {
    let s = TestServer::start().await;
    // Exporters send spans as they end: the LLM call, then its chain, then the agent.
    let agent = span(
        1,
        1,
        None,
        "invoke_agent planner",
        vec![
            kv("gen_ai.operation.name", "invoke_agent"),
            kv("gen_ai.agent.name", "planner"),
        ],
    );
    let chain = span(1, 2, Some(1), "step", vec![]);
    for request in [vec![chat(1, 3, Some(2))], vec![chain], vec![agent]] {
        assert_eq!(protobuf(&s, &traces(request)).await.status, 200);
    }
    let (_, spans) = s
        .get(&format!("/api/v1/sessions/{}/spans", hex(1, 16)))
        .await;
    for span in spans.as_array().unwrap() {
        assert_eq!(span["agent"], "planner", "{span}");
    }
    let (_, agents) = s
        .get(&format!("/api/v1/sessions/{}/agents", hex(1, 16)))
        .await;
    assert_eq!(agents.as_array().unwrap().len(), 1, "{agents}");
    assert_eq!(agents[0]["totals"]["llm_calls"], 1);
}

#[tokio::test]
async fn grpc_takes_traces_and_logs_on_the_same_path() {
    let s = TestServer::start_with_grpc(ServerConfig::default()).await;
    let url = format!("http://{}", s.grpc.as_deref().unwrap());
    let mut traces_client = TraceServiceClient::connect(url.clone()).await.unwrap();
    let mut short_id = chat(1, 2, Some(1));
    short_id.span_id = vec![2; 3];
    let response = traces_client
        .export(traces(vec![
            span(1, 1, None, "plan", vec![kv("session.id", "grpc-heist")]),
            short_id,
        ]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.partial_success.unwrap().rejected_spans, 1);
    span_json(&s, "grpc-heist", &hex(1, 8)).await;

    let mut logs_client = LogsServiceClient::connect(url).await.unwrap();
    logs_client
        .export(logs(vec![LogRecord {
            trace_id: vec![1; 16],
            body: Some(AnyValue {
                value: Some(V::StringValue("crew assembled".into())),
            }),
            ..Default::default()
        }]))
        .await
        .unwrap();
    let (_, events) = s.get("/api/v1/sessions/grpc-heist/events").await;
    assert_eq!(
        events["items"][0]["message"], "crew assembled",
        "filed under the trace's session"
    );

    let mut bad = chat(2, 1, None);
    bad.trace_id.clear();
    let e = traces_client.export(traces(vec![bad])).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("trace_id"), "{}", e.message());
}

#[tokio::test]
async fn grpc_asks_for_the_token_when_one_is_configured() {
    let s = TestServer::start_with_grpc(ServerConfig {
        auth: flightdeck_server::auth::AuthConfig {
            token: Some("t0ken".into()),
            password: None,
        },
        ..ServerConfig::default()
    })
    .await;
    let url = format!("http://{}", s.grpc.as_deref().unwrap());
    let mut client = TraceServiceClient::connect(url).await.unwrap();
    let batch = || {
        traces(vec![span(
            1,
            1,
            None,
            "plan",
            vec![kv("session.id", "locked")],
        )])
    };
    let refused = client.export(batch()).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    assert!(
        refused.message().contains("Bearer"),
        "{}",
        refused.message()
    );

    let mut request = tonic::Request::new(batch());
    request
        .metadata_mut()
        .insert("authorization", "Bearer t0ken".parse().unwrap());
    client.export(request).await.unwrap();
}

#[tokio::test]
async fn a_session_named_on_the_root_alone_takes_the_whole_trace_across_restarts() {
    let mut s = TestServer::start().await;
    // As SimpleSpanProcessor exports them: each child as it ends, the root last.
    for id in [2, 3] {
        assert_eq!(
            protobuf(&s, &traces(vec![chat(5, id, Some(1))]))
                .await
                .status,
            200
        );
    }
    let line = LogRecord {
        trace_id: vec![5; 16],
        severity_number: 9,
        body: Some(AnyValue {
            value: Some(V::StringValue("retrying".into())),
        }),
        ..Default::default()
    };
    let a = post(
        &s,
        "/v1/logs",
        "application/x-protobuf",
        logs(vec![line]).encode_to_vec(),
        false,
    )
    .await;
    assert_eq!(a.status, 200);
    let provisional = hex(5, 16);
    let (_, before) = s.get(&format!("/api/v1/sessions/{provisional}")).await;
    assert_eq!(
        before["totals"]["llm_calls"], 2,
        "filed under the trace for now"
    );

    // The root names the session, after a restart: its memory of the trace is gone.
    s.restart().await;
    let root = span(5, 1, None, "crew", vec![kv("session.id", "conv-7")]);
    assert_eq!(protobuf(&s, &traces(vec![root])).await.status, 200);
    // Another restart, then a late child that names nothing.
    s.restart().await;
    assert_eq!(
        protobuf(&s, &traces(vec![chat(5, 4, Some(1))]))
            .await
            .status,
        200
    );

    let (status, _) = s.get(&format!("/api/v1/sessions/{provisional}")).await;
    assert_eq!(status, 404, "the provisional session is gone");
    let (_, session) = s.get("/api/v1/sessions/conv-7").await;
    assert_eq!(session["totals"]["spans"], 4, "{session}");
    assert_eq!(session["totals"]["llm_calls"], 3);
    assert_eq!(session["totals"]["input_tokens"], 36);
    assert!(session["totals"]["cost_usd"].as_f64().unwrap() > 0.0);
    let (_, list) = s.get("/api/v1/sessions").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let (_, spans) = s.get("/api/v1/sessions/conv-7/spans").await;
    for span in spans.as_array().unwrap() {
        assert_eq!(span["trace_id"], provisional, "{span}");
    }
    let (_, events) = s.get("/api/v1/sessions/conv-7/events").await;
    assert_eq!(events["items"][0]["message"], "retrying");
}

#[tokio::test]
async fn otlp_sessions_end_when_quiet_and_a_later_trace_reopens_them() {
    let s = quick_to_end().await;
    let mut root = span(7, 1, None, "turn 1", vec![kv("session.id", "conv-8")]);
    root.status = Some(Status {
        code: status::StatusCode::Error as i32,
        message: "the vault was closed".into(),
    });
    let request = traces(vec![chat(7, 2, Some(1)), root]);
    assert_eq!(protobuf(&s, &request).await.status, 200);
    let session = ended(&s, "conv-8").await;
    assert_eq!(
        session["status"], "failed",
        "its last root failed: {session}"
    );
    assert_eq!(session["error"], "the vault was closed");
    let end = START + 2_000_000_000;
    assert_eq!(
        session["duration_ms"].as_f64().unwrap(),
        (end - (START + 1_000_000)) as f64 / 1e6,
        "last end minus first start, not the time the rule ran"
    );

    // The next turn: a later trace of the same session reopens it, and it ends again.
    let later = |mut sp: Span| {
        sp.start_time_unix_nano += 10_000_000_000;
        sp.end_time_unix_nano += 10_000_000_000;
        sp
    };
    let next = traces(vec![
        later(chat(8, 4, Some(3))),
        later(span(8, 3, None, "turn 2", vec![kv("session.id", "conv-8")])),
    ]);
    assert_eq!(protobuf(&s, &next).await.status, 200);
    let (_, reopened) = s.get("/api/v1/sessions/conv-8").await;
    assert_eq!(reopened["status"], "running", "{reopened}");
    let session = ended(&s, "conv-8").await;
    assert_eq!(session["status"], "completed", "{session}");
    assert_eq!(
        session["duration_ms"].as_f64().unwrap(),
        (end + 10_000_000_000 - (START + 1_000_000)) as f64 / 1e6,
        "{session}"
    );
    assert_eq!(session["totals"]["llm_calls"], 2);
}

/// One call is one row of the LLM stats, filed under the model asked for: answered by a dated
/// version or failed before any answer, over GenAI and OpenInference alike. A model without a
/// price makes the cost unknown, never $0.
#[tokio::test]
async fn llm_stats_group_by_the_model_asked_for_and_say_when_cost_is_unknown() {
    let s = TestServer::start().await;
    let genai = |id: u8, model: &str, extra: Vec<KeyValue>| {
        let mut attrs = vec![
            kv("gen_ai.operation.name", "chat"),
            kv("gen_ai.request.model", model),
        ];
        attrs.extend(extra);
        span(9, id, Some(1), "chat", attrs)
    };
    let usage = || {
        vec![
            int("gen_ai.usage.input_tokens", 1000),
            int("gen_ai.usage.output_tokens", 100),
        ]
    };
    let mut answered = usage();
    answered.push(kv("gen_ai.response.model", "gpt-4o-2024-08-06"));
    let mut failed = genai(3, "gpt-4o", vec![]);
    failed.status = Some(Status {
        code: status::StatusCode::Error as i32,
        message: "429 Too Many Requests".into(),
    });
    let openinference = span(
        9,
        4,
        Some(1),
        "ChatCompletion",
        vec![
            kv("openinference.span.kind", "LLM"),
            kv("llm.invocation_parameters", r#"{"model": "gpt-4o"}"#),
            kv("llm.model_name", "gpt-4o-2024-08-06"),
            int("llm.token_count.prompt", 1000),
            int("llm.token_count.completion", 100),
        ],
    );
    let spans = vec![
        span(
            9,
            1,
            None,
            "crew",
            vec![kv("gen_ai.operation.name", "invoke_agent")],
        ),
        genai(2, "gpt-4o", answered),
        failed,
        openinference,
        genai(5, "house-model-7", usage()),
    ];
    assert_eq!(protobuf(&s, &traces(spans)).await.status, 200);
    let session = hex(9, 16);

    let (status, llm) = s.get(&format!("/api/v1/sessions/{session}/llm")).await;
    assert_eq!(status, 200, "{llm}");
    let rows = llm.as_array().unwrap();
    let models: Vec<&str> = rows.iter().map(|r| r["model"].as_str().unwrap()).collect();
    assert_eq!(models, ["gpt-4o", "house-model-7"], "{llm}");
    let gpt = &rows[0];
    assert_eq!(
        (gpt["requests"].as_i64(), gpt["errors"].as_i64()),
        (Some(3), Some(1))
    );
    let priced = 2.0 * (1000.0 * 2.5 + 100.0 * 10.0) / 1e6;
    assert!(
        (gpt["cost_usd"].as_f64().unwrap() - priced).abs() < 1e-12,
        "{gpt}"
    );
    assert_eq!(gpt["unpriced_requests"], 0);
    let house = &rows[1];
    assert!(house["cost_usd"].is_null(), "{house}");
    assert_eq!(house["unpriced_requests"], 1);

    // The model that answered stays as a detail of the span.
    let answered = span_json(&s, &session, &hex(2, 8)).await;
    assert_eq!(answered["model"], "gpt-4o");
    assert_eq!(
        answered["attributes"]["gen_ai.response.model"],
        "gpt-4o-2024-08-06"
    );
    let oi = span_json(&s, &session, &hex(4, 8)).await;
    assert_eq!(
        oi["attributes"]["gen_ai.response.model"],
        "gpt-4o-2024-08-06"
    );

    let (_, summary) = s.get(&format!("/api/v1/sessions/{session}")).await;
    let totals = &summary["totals"];
    assert_eq!(totals["unpriced_llm_calls"], 1, "{totals}");
    assert!((totals["cost_usd"].as_f64().unwrap() - priced).abs() < 1e-12);
}

#[tokio::test]
async fn metric_points_without_data_are_refused_by_name_and_the_rest_stored() {
    let s = TestServer::start().await;
    let gauge = |name: &str, value: Value| {
        json!({"name": name, "unit": "1", "gauge": {"dataPoints": [
            {"asDouble": value, "timeUnixNano": "1795168800000000000", "attributes": [
                {"key": "queue", "value": {"stringValue": "jobs"}}]}]}})
    };
    let body = |metrics: Vec<Value>| {
        serde_json::to_vec(&json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": metrics}]}]}))
            .unwrap()
    };
    let none = post(
        &s,
        "/v1/metrics",
        "application/json",
        body(vec![json!({"name": "empty"})]),
        false,
    )
    .await;
    assert_eq!(none.status, 400, "{:?}", none.json());
    assert!(
        none.json()["message"]
            .as_str()
            .unwrap()
            .contains("\"empty\" has no data"),
        "{:?}",
        none.json()
    );

    let some = post(
        &s,
        "/v1/metrics",
        "application/json",
        body(vec![
            json!({"name": "empty"}),
            gauge("queue.depth", json!(4.5)),
        ]),
        false,
    )
    .await;
    assert_eq!(some.status, 200);
    let rejected = &some.json()["partialSuccess"]["rejectedDataPoints"];
    assert_eq!(
        rejected.to_string().trim_matches('"'),
        "1",
        "{:?}",
        some.json()
    );
    let (_, points) = s.get("/api/v1/metrics?name=queue.depth").await;
    assert_eq!(points[0]["value"], 4.5);
    assert_eq!(points[0]["at"], "2026-11-20T10:00:00Z");
}
