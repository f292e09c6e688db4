//! `flightdeck bench replay`: the latency of a call answered from a replay's recording,
//! against a direct call to the fake upstream (instant) and the recording proxy, in the same
//! run. For plain calls (whole response) and streamed ones (time to the first chunk), at
//! concurrency 1 and 16: a session of identical calls is recorded through the proxy, a replay
//! is forked at its last call, and every earlier call of the re-run is answered from the
//! recording (and recorded into the fork, as in real use). Also the process's CPU time per
//! call (the callers and the fake upstream run in this process too, so compare the ratio).

use super::LocalServer;
use super::ingest::cpu_seconds;
use super::percentile;
use super::proxy::measure;
use crate::cli::ReplayBenchArgs;
use flightdeck_fake_llm::{FakeLlm, Options};
use flightdeck_server::ServerConfig;
use flightdeck_server::proxy::config::{ApiKind, ProxyConfig, Upstream};
use flightdeck_store::Store;
use flightdeck_store_sqlite::{SqliteOptions, SqliteStore};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub async fn run(args: ReplayBenchArgs) -> anyhow::Result<()> {
    let fake = FakeLlm::start(Options::default()).await?;
    let dir = std::env::temp_dir().join(format!("flightdeck-bench-replay-{}", std::process::id()));
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(SqliteOptions::new(
        dir.join("replay.db"),
    ))?);
    let config = ServerConfig {
        proxy: ProxyConfig {
            upstreams: BTreeMap::from([(
                "fast".into(),
                Upstream::new(fake.url(), ApiKind::Openai),
            )]),
            ..ProxyConfig::default()
        },
        ..ServerConfig::default()
    };
    let server = LocalServer::start(Arc::clone(&store), config).await?;
    let base = server.base();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .tcp_nodelay(true)
        .build()?;
    let model = "gpt-4o".to_owned();
    println!(
        "flightdeck bench replay: {} calls per run; latency in ms (p50 / p99), CPU in µs per call \
         (whole process)",
        args.calls
    );
    for stream in [false, true] {
        println!(
            "\n{}",
            if stream {
                "streamed: time to first chunk"
            } else {
                "plain: whole response"
            }
        );
        for concurrency in [1usize, 16] {
            let direct = (format!("{}/v1", fake.url()), model.clone());
            let proxied = (format!("{base}/proxy/fast/v1"), model.clone());
            let session = format!("bench-replay-{stream}-{concurrency}");
            let replayed = (
                replay_base(&client, &base, store.as_ref(), &session, stream, args.calls).await?,
                model.clone(),
            );
            let mut line = format!("  c={concurrency:<3}");
            let mut direct_figures = None;
            for (name, target) in [
                ("direct", &direct),
                ("proxy", &proxied),
                ("replay", &replayed),
            ] {
                let cpu = cpu_seconds().map(|c| c.0);
                let mut samples = measure(&client, target, stream, concurrency, args.calls).await?;
                let cpu_us = cpu_seconds()
                    .map(|c| c.0)
                    .zip(cpu)
                    .map(|(after, before)| (after - before) * 1e6 / args.calls as f64);
                samples.sort_by(f64::total_cmp);
                let (p50, p99) = (percentile(&samples, 0.5), percentile(&samples, 0.99));
                let cpu = cpu_us
                    .map(|c| format!(", {c:.0} µs CPU"))
                    .unwrap_or_default();
                match direct_figures {
                    None => {
                        direct_figures = Some((p50, p99, cpu_us));
                        line.push_str(&format!(" direct {p50:.3} / {p99:.3}{cpu}"));
                    }
                    Some((d50, d99, dcpu)) => {
                        let ratio = cpu_us
                            .zip(dcpu)
                            .map(|(c, d)| format!(" ({:.2}x direct)", c / d.max(1e-9)))
                            .unwrap_or_default();
                        line.push_str(&format!(
                            "   {name} {p50:.3} / {p99:.3} (+{:.3} / +{:.3}){cpu}{ratio}",
                            p50 - d50,
                            p99 - d99
                        ));
                    }
                }
            }
            println!("{line}");
        }
    }
    server.stop().await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Records `calls + 1` identical calls into `session` through the proxy, forks a replay at
/// the last, and answers the replay's base URL (its first `calls` calls are served).
async fn replay_base(
    client: &reqwest::Client,
    base: &str,
    store: &dyn Store,
    session: &str,
    stream: bool,
    calls: usize,
) -> anyhow::Result<String> {
    let body = super::proxy::body("gpt-4o", stream);
    let url = format!("{base}/proxy/fast/v1/chat/completions");
    for _ in 0..=calls {
        let r = client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-flightdeck-session", session)
            .body(body.clone())
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "recording: HTTP {}", r.status());
        r.bytes().await?;
    }
    // The recorder stores in the background: wait for the last call's exchange.
    let last = loop {
        let spans = store.spans(session).await?;
        if spans.len() > calls
            && let Some(last) = spans.last()
            && store.exchange(session, &last.span_id).await?.is_some()
        {
            break last.span_id.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let r: serde_json::Value = client
        .post(format!("{base}/api/v1/replays"))
        .json(&serde_json::json!({"session_id": session, "span_id": last}))
        .send()
        .await?
        .json()
        .await?;
    let id = r["replay_id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("the replay was not created: {r}"))?;
    anyhow::ensure!(
        r["recorded_calls"] == calls,
        "not every call can be served: {r}"
    );
    Ok(format!("{base}/replay/{id}/fast/v1"))
}
