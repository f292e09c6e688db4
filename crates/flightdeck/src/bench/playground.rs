//! `flightdeck bench playground`: what the playground adds to the first streamed token of
//! an LLM call. Against a fake upstream on loopback that answers at once, in the same run and
//! interleaved call by call: the upstream called directly, an A/A control (the direct call
//! again, so the machine's noise shows as what it "adds"), and a playground run of a
//! recorded span through `POST /api/v1/playground/runs` (read the span, rebuild its request,
//! send it through the proxy's client and recorder, re-emit the text as events).

use super::LocalServer;
use super::percentile;
use crate::cli::PlaygroundBenchArgs;
use flightdeck_fake_llm::{FakeLlm, Options};
use flightdeck_server::ServerConfig;
use flightdeck_server::proxy::config::{ApiKind, ProxyConfig, Upstream};
use flightdeck_store::Store;
use flightdeck_store_sqlite::{SqliteOptions, SqliteStore};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub async fn run(args: PlaygroundBenchArgs) -> anyhow::Result<()> {
    let fake = FakeLlm::start(Options::default()).await?;
    let dir = std::env::temp_dir().join(format!("flightdeck-bench-pg-{}", std::process::id()));
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(SqliteOptions::new(dir.join("pg.db")))?);
    let config = ServerConfig {
        proxy: ProxyConfig {
            upstreams: BTreeMap::from([(
                "fake".into(),
                Upstream::new(fake.url(), ApiKind::Openai),
            )]),
            ..ProxyConfig::default()
        },
        ..ServerConfig::default()
    };
    let server = LocalServer::start(Arc::clone(&store), config).await?;
    let base = server.base();
    let client = reqwest::Client::builder().tcp_nodelay(true).build()?;

    // The recorded call the playground runs again: the request the direct path sends too.
    let request = json!({"model": "gpt-4o", "temperature": 0.2,
        "messages": [{"role": "system", "content": "You plan heists."},
                     {"role": "user", "content": "Plan the job at the vault."}]});
    let span = record(&client, &base, store.as_ref(), &request).await?;
    let mut direct_body = request.clone();
    direct_body["stream"] = true.into();
    direct_body["stream_options"] = json!({"include_usage": true});
    let direct = client
        .post(format!("{}/v1/chat/completions", fake.url()))
        .header("content-type", "application/json")
        .body(direct_body.to_string());
    let playground = client
        .post(format!("{base}/api/v1/playground/runs"))
        .header("content-type", "application/json")
        .body(json!({"session_id": "bench-pg", "span_id": span, "stream": true}).to_string());
    let is_text = |_: &str, d: &Value| {
        d.pointer("/choices/0/delta/content")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty())
    };
    let is_delta = |name: &str, _: &Value| name == "delta";

    println!(
        "flightdeck bench playground: {} calls per path, one at a time, interleaved",
        args.calls
    );
    // Warm the connections and the store's first reads.
    for _ in 0..5 {
        first(direct.try_clone().expect("a body of bytes"), is_text).await?;
        first(playground.try_clone().expect("a body of bytes"), is_delta).await?;
    }
    let (mut d, mut aa, mut pg, mut whole) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.calls {
        d.push(
            first(direct.try_clone().expect("a body of bytes"), is_text)
                .await?
                .0,
        );
        let (t, all) = first(playground.try_clone().expect("a body of bytes"), is_delta).await?;
        pg.push(t);
        whole.push(all);
        aa.push(
            first(direct.try_clone().expect("a body of bytes"), is_text)
                .await?
                .0,
        );
    }
    for s in [&mut d, &mut aa, &mut pg, &mut whole] {
        s.sort_by(f64::total_cmp);
    }
    let q = |s: &[f64]| (percentile(s, 0.5), percentile(s, 0.99));
    let ((d50, d99), (a50, a99), (p50, p99), (w50, w99)) = (q(&d), q(&aa), q(&pg), q(&whole));
    println!("\ntime to the first streamed token, ms (p50 / p99)");
    println!("  direct      {d50:>8.3} / {d99:>8.3}");
    println!(
        "  A/A         {a50:>8.3} / {a99:>8.3}   (+{:.3} / +{:.3}: the noise floor)",
        a50 - d50,
        a99 - d99
    );
    println!(
        "  playground  {p50:>8.3} / {p99:>8.3}   (+{:.3} / +{:.3} over direct, {:.2}x / {:.2}x)",
        p50 - d50,
        p99 - d99,
        p50 / d50,
        p99 / d99
    );
    println!(
        "\na whole playground run (to the `run` event: the run stored and read back, diffed): \
         {w50:.3} / {w99:.3} ms"
    );

    // CPU per call, path by path (this process holds the caller, the server with its store,
    // and the fake upstream): what other load on the machine does not inflate.
    let mut cpu = Vec::new();
    for (request, wanted) in [
        (&direct, &is_text as &dyn Fn(&str, &Value) -> bool),
        (&playground, &is_delta),
    ] {
        let before = super::ingest::cpu_seconds();
        for _ in 0..args.calls {
            first(request.try_clone().expect("a body of bytes"), wanted).await?;
        }
        let after = super::ingest::cpu_seconds();
        cpu.push(
            before
                .zip(after)
                .map(|(b, a)| (a.0 - b.0) * 1e3 / args.calls as f64),
        );
    }
    if let [Some(d), Some(p)] = cpu[..] {
        println!(
            "CPU per call (caller, server, store and upstream together): direct {d:.3} ms, \
             playground {p:.3} ms ({:.1}x)",
            p / d
        );
    }
    server.stop().await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Sends `body` through the proxy as session `bench-pg`; returns the recorded span's id.
async fn record(
    client: &reqwest::Client,
    base: &str,
    store: &dyn Store,
    body: &Value,
) -> anyhow::Result<String> {
    let r = client
        .post(format!("{base}/proxy/fake/v1/chat/completions"))
        .header("x-flightdeck-session", "bench-pg")
        .json(body)
        .send()
        .await?;
    anyhow::ensure!(
        r.status().is_success(),
        "recording call: HTTP {}",
        r.status()
    );
    r.bytes().await?;
    for _ in 0..500 {
        if let Some(s) = store.spans("bench-pg").await?.first()
            && s.ended_at.is_some()
        {
            return Ok(s.span_id.clone());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::bail!("the recording call was not stored")
}

/// Sends `request`; returns the ms to the first SSE event that `wanted(name, data)` accepts,
/// and to the end of the body (read whole, so the connection is reused).
async fn first(
    request: reqwest::RequestBuilder,
    wanted: impl Fn(&str, &Value) -> bool,
) -> anyhow::Result<(f64, f64)> {
    let start = Instant::now();
    let r = request.send().await?;
    anyhow::ensure!(r.status().is_success(), "HTTP {}", r.status());
    let mut body = r.bytes_stream();
    let (mut buf, mut at) = (String::new(), None);
    while let Some(chunk) = body.next().await {
        buf.push_str(std::str::from_utf8(&chunk?)?);
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if at.is_some() {
                continue;
            }
            let (mut name, mut data) = ("", None);
            for line in event.lines() {
                if let Some(n) = line.strip_prefix("event:") {
                    name = n.trim();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data = serde_json::from_str::<Value>(d.trim()).ok();
                }
            }
            if data.as_ref().is_some_and(|d| wanted(name, d)) {
                at = Some(start.elapsed());
            }
        }
    }
    let at = at.ok_or_else(|| anyhow::anyhow!("no token came"))?;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    Ok((ms(at), ms(start.elapsed())))
}
