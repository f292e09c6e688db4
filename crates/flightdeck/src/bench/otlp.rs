//! `flightdeck bench otlp`: OTLP/HTTP protobuf ingest in spans/s through a real server on
//! loopback, beside native ingest (`POST /api/v1/events`) of the same spans, and the ratio
//! (the budget is OTLP >= 0.8x native).
//!
//! The spans are those of `bench ingest` (LLM calls with 1 to 4 KB of prose), written as the
//! OTel GenAI instrumentation for OpenAI writes them: `gen_ai.*` attributes with the messages
//! as JSON parts, a Python SDK resource, one request per batch. The native spans carry the
//! same information (the resource and scope as attributes, the answer as a message), and the
//! run checks that both paths stored the very same spans, so the ratio is the cost of the
//! transport and the mapping, not of a difference in data. `--save-payloads` keeps the OTLP
//! request bodies so another receiver can be sent the same bytes (scripts/bench-phoenix.sh).

use super::LocalServer;
use super::ingest::{Figures, SPANS_PER_SESSION, measure, open, post_all};
use super::text::{Rng, llm_span};
use crate::cli::OtlpBenchArgs;
use flightdeck_server::ServerConfig;
use flightdeck_store::{StatsScope, Store};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value as V,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span::SpanKind};
use prost::Message;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

pub async fn run(args: OtlpBenchArgs) -> anyhow::Result<()> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("flightdeck-bench-otlp-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir)?;
    println!(
        "flightdeck bench otlp: {} LLM spans, {} per request, {} clients, {} cores",
        args.spans,
        args.batch,
        args.producers,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let (native, otlp) = generate(args.spans, args.batch);
    let size = |bodies: &[Vec<u8>]| bodies.iter().map(Vec::len).sum::<usize>();
    println!(
        "generated {:.1} MB of NDJSON and {:.1} MB of OTLP protobuf for the same spans",
        size(&native) as f64 / 1e6,
        size(&otlp) as f64 / 1e6
    );
    if let Some(out) = &args.save_payloads {
        std::fs::create_dir_all(out)?;
        for (i, body) in otlp.iter().enumerate() {
            std::fs::write(out.join(format!("{i:05}.pb")), body)?;
        }
        println!("saved the OTLP request bodies in {}", out.display());
    }
    let native = serve_and_post(
        &args,
        &dir.join("native.db"),
        "/api/v1/events",
        "application/x-ndjson",
        native,
    )
    .await?;
    native.print(
        "native: POST /api/v1/events (NDJSON)",
        &dir.join("native.db"),
    );
    let otlp = serve_and_post(
        &args,
        &dir.join("otlp.db"),
        "/v1/traces",
        "application/x-protobuf",
        otlp,
    )
    .await?;
    otlp.print(
        "OTLP/HTTP: POST /v1/traces (protobuf)",
        &dir.join("otlp.db"),
    );
    same_spans(&dir, args.spans).await?;
    let (o, n) = (otlp.spans_per_second(), native.spans_per_second());
    println!("\nOTLP / native: {:.2}x ({o:.0} vs {n:.0} spans/s)", o / n);
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// Serves a fresh store at `db`, posts every body to `path`, and checks that every span was
/// stored (so a refused request cannot pass for a fast one).
async fn serve_and_post(
    args: &OtlpBenchArgs,
    db: &Path,
    path: &str,
    content_type: &'static str,
    bodies: Vec<Vec<u8>>,
) -> anyhow::Result<Figures> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let store = open(db)?;
    let server = LocalServer::start(
        Arc::clone(&store) as Arc<dyn Store>,
        ServerConfig::default(),
    )
    .await?;
    let url = format!("{}{path}", server.base());
    let payload = bodies.iter().map(Vec::len).sum();
    let posting = post_all(args.producers, bodies, url, content_type);
    let figures = measure(args.spans, payload, posting).await?;
    let stored = store.overview(StatsScope::default()).await?.totals.spans;
    server.stop().await?;
    anyhow::ensure!(
        stored as usize == args.spans,
        "{path}: {stored} spans stored of {} sent",
        args.spans
    );
    Ok(figures)
}

/// Checks, on a sample, that both paths stored the same spans.
async fn same_spans(dir: &Path, spans: usize) -> anyhow::Result<()> {
    let (native, otlp) = (open(&dir.join("native.db"))?, open(&dir.join("otlp.db"))?);
    for i in (0..spans).step_by(spans / 16 + 1) {
        let (session, span) = (session_id(i), hex_id(i));
        let a = serde_json::to_value(native.span(&session, &span).await?)?;
        let b = serde_json::to_value(otlp.span(&session, &span).await?)?;
        anyhow::ensure!(
            a == b && !a.is_null(),
            "span {span} differs between the paths:\nnative {a}\nOTLP   {b}"
        );
    }
    native.close().await?;
    otlp.close().await?;
    println!("\nboth paths stored the same spans (checked on a sample)");
    Ok(())
}

fn session_id(i: usize) -> String {
    format!("bench-{}", i / SPANS_PER_SESSION)
}

/// The span id of span `i`, as OTLP bytes and as the hex the store keeps.
fn id_bytes(i: usize) -> Vec<u8> {
    (i as u64 + 1).to_be_bytes().to_vec()
}

fn hex_id(i: usize) -> String {
    format!("{:016x}", i as u64 + 1)
}

/// The parent of span `i` (none for the first).
fn parent_of(i: usize) -> Option<usize> {
    let p = i.saturating_sub(1 + i % 7);
    (p != i).then_some(p)
}

const RESOURCE: [(&str, &str); 4] = [
    ("service.name", "bench-crew"),
    ("telemetry.sdk.language", "python"),
    ("telemetry.sdk.name", "opentelemetry"),
    ("telemetry.sdk.version", "1.45.2"),
];
const SCOPE: (&str, &str) = ("opentelemetry.instrumentation.openai_v2", "2.4b0");

/// The same spans as native NDJSON bodies and as OTLP export requests, `batch` per body.
fn generate(spans: usize, batch: usize) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut rng = Rng::new(7);
    let (mut native, mut otlp) = (Vec::new(), Vec::new());
    let indices: Vec<usize> = (0..spans).collect();
    for chunk in indices.chunks(batch.max(1)) {
        let mut ndjson = String::new();
        let mut otlp_spans = Vec::with_capacity(chunk.len());
        for &i in chunk {
            let line = llm_span(&mut rng, i / SPANS_PER_SESSION, i);
            let value: Value = serde_json::from_str(&line).expect("generated JSON");
            otlp_spans.push(as_otlp(&value, i));
            ndjson.push_str(&as_native(value, i).to_string());
            ndjson.push('\n');
        }
        native.push(ndjson.into_bytes());
        otlp.push(request(otlp_spans).encode_to_vec());
    }
    (native, otlp)
}

/// A `bench ingest` span with what the OTLP one also carries: hex ids, the provider, the
/// answer as a message, the resource and scope as attributes.
fn as_native(mut v: Value, i: usize) -> Value {
    let mut attributes: serde_json::Map<String, Value> = RESOURCE
        .iter()
        .map(|(k, val)| (format!("resource.{k}"), json!(val)))
        .collect();
    attributes.insert("otel.scope.name".into(), json!(SCOPE.0));
    attributes.insert("otel.scope.version".into(), json!(SCOPE.1));
    attributes.insert("otel.span_kind".into(), json!("client"));
    attributes.insert("gen_ai.operation.name".into(), json!("chat"));
    v["span_id"] = json!(hex_id(i));
    v["parent_id"] = json!(parent_of(i).map(hex_id));
    v["name"] = json!(format!("chat {}", v["model"].as_str().unwrap_or_default()));
    v["provider"] = json!("openai");
    v["output"] = json!({"role": "assistant", "content": v["output"]});
    v["attributes"] = Value::Object(attributes);
    v
}

fn request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: RESOURCE.iter().map(|(k, v)| text(k, v)).collect(),
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: SCOPE.0.into(),
                    version: SCOPE.1.into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A native `span` message (from `llm_span`) as the OTel GenAI instrumentation would send it.
fn as_otlp(native: &Value, i: usize) -> Span {
    let session = i / SPANS_PER_SESSION;
    let str_of = |k: &str| native[k].as_str().unwrap_or_default();
    let parts = |role: &str, content: &Value| json!({"role": role, "parts": [{"type": "text", "content": content}]});
    let input = &native["input"];
    let number = |k: &str, v: &Value| KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(match v.as_i64() {
                Some(n) => V::IntValue(n),
                None => V::DoubleValue(v.as_f64().unwrap_or_default()),
            }),
        }),
        ..Default::default()
    };
    let attributes = vec![
        text("gen_ai.operation.name", "chat"),
        text("gen_ai.provider.name", "openai"),
        text("gen_ai.request.model", str_of("model")),
        text("gen_ai.agent.name", str_of("agent")),
        text("gen_ai.conversation.id", str_of("session_id")),
        number(
            "gen_ai.request.temperature",
            &native["params"]["temperature"],
        ),
        number("gen_ai.request.max_tokens", &native["params"]["max_tokens"]),
        number(
            "gen_ai.usage.input_tokens",
            &native["usage"]["input_tokens"],
        ),
        number(
            "gen_ai.usage.output_tokens",
            &native["usage"]["output_tokens"],
        ),
        text(
            "gen_ai.system_instructions",
            &json!([{"type": "text", "content": input[0]["content"]}]).to_string(),
        ),
        text(
            "gen_ai.input.messages",
            &json!([parts("user", &input[1]["content"])]).to_string(),
        ),
        text(
            "gen_ai.output.messages",
            &json!([parts("assistant", &native["output"])]).to_string(),
        ),
    ];
    let mut trace_id = [0u8; 16];
    trace_id[8..].copy_from_slice(&(session as u64 + 1).to_be_bytes());
    Span {
        trace_id: trace_id.to_vec(),
        span_id: id_bytes(i),
        parent_span_id: parent_of(i).map(id_bytes).unwrap_or_default(),
        name: format!("chat {}", str_of("model")),
        kind: SpanKind::Client as i32,
        start_time_unix_nano: native["started_at"].as_u64().unwrap_or_default(),
        end_time_unix_nano: native["ended_at"].as_u64().unwrap_or_default(),
        attributes,
        ..Default::default()
    }
}

fn text(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(V::StringValue(v.into())),
        }),
        ..Default::default()
    }
}
