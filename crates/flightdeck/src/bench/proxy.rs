//! `flightdeck bench proxy`: what the recording proxy adds to an LLM call. Against a fake
//! upstream on loopback, it measures the direct path, an A/A control (the direct path again,
//! so the noise of the machine shows as what it "adds"), Flightdeck's proxy (recording on)
//! and, when given its executable, LiteLLM's proxy, in the same run:
//! - added latency, p50 and p99, at concurrency 1, 16 and 64, for plain calls (whole
//!   response) and streamed ones (time to the first chunk), with an instant upstream;
//! - the request rate held against an upstream that takes 20 ms, and for Flightdeck the
//!   rate at which calls were recorded (stored as spans) and the records lost.

use super::LocalServer;
use super::percentile;
use crate::cli::ProxyBenchArgs;
use flightdeck_fake_llm::{FakeLlm, Options};
use flightdeck_server::ServerConfig;
use flightdeck_server::proxy::config::{ApiKind, ProxyConfig, Upstream};
use flightdeck_store::Store;
use flightdeck_store_sqlite::{SqliteOptions, SqliteStore};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where a target sends its calls: base URL (ending in /v1) and model name, for the instant
/// upstream and the 20 ms one.
struct Target {
    name: &'static str,
    fast: (String, String),
    slow: (String, String),
}

pub async fn run(args: ProxyBenchArgs) -> anyhow::Result<()> {
    let fast = FakeLlm::start(Options::default()).await?;
    let slow = FakeLlm::start(Options {
        latency: Duration::from_millis(20),
        ..Options::default()
    })
    .await?;
    let dir = std::env::temp_dir().join(format!("flightdeck-bench-proxy-{}", std::process::id()));
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(SqliteOptions::new(dir.join("proxy.db")))?);
    let upstream = |fake: &FakeLlm| Upstream::new(fake.url(), ApiKind::Openai);
    let config = ServerConfig {
        proxy: ProxyConfig {
            upstreams: BTreeMap::from([
                ("fast".into(), upstream(&fast)),
                ("slow".into(), upstream(&slow)),
            ]),
            ..ProxyConfig::default()
        },
        ..ServerConfig::default()
    };
    let server = LocalServer::start(Arc::clone(&store), config).await?;
    let base = server.base();

    let model = "gpt-4o".to_owned();
    let mut targets = vec![
        Target {
            name: "direct",
            fast: (format!("{}/v1", fast.url()), model.clone()),
            slow: (format!("{}/v1", slow.url()), model.clone()),
        },
        Target {
            name: "A/A",
            fast: (format!("{}/v1", fast.url()), model.clone()),
            slow: (format!("{}/v1", slow.url()), model.clone()),
        },
        Target {
            name: "flightdeck",
            fast: (format!("{base}/proxy/fast/v1"), model.clone()),
            slow: (format!("{base}/proxy/slow/v1"), model.clone()),
        },
    ];
    let litellm = match &args.litellm {
        Some(bin) => Some(super::litellm::start(bin, &fast.url(), &slow.url()).await?),
        None => None,
    };
    if let Some(l) = &litellm {
        targets.push(Target {
            name: "litellm",
            fast: (format!("{}/v1", l.url), "fast".into()),
            slow: (format!("{}/v1", l.url), "slow".into()),
        });
    }

    println!(
        "flightdeck bench proxy: {} calls per latency run, {} s per rate run at concurrency {}",
        args.calls, args.seconds, args.rate_concurrency
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .tcp_nodelay(true)
        .build()?;
    let mut latency: BTreeMap<(&str, bool, usize), (f64, f64)> = BTreeMap::new();
    for stream in [false, true] {
        for concurrency in [1usize, 16, 64] {
            for t in &targets {
                let mut samples =
                    measure(&client, &t.fast, stream, concurrency, args.calls).await?;
                samples.sort_by(f64::total_cmp);
                latency.insert(
                    (t.name, stream, concurrency),
                    (percentile(&samples, 0.5), percentile(&samples, 0.99)),
                );
            }
        }
    }
    print_latency(&targets, &latency);

    println!("\nrequest rate held, upstream answering in 20 ms");
    let mut direct_rate = None;
    for t in &targets {
        let recorded_before = recorded_calls(store.as_ref()).await?;
        let lost_before = server.app.proxy.records_lost();
        let start = Instant::now();
        let rate = throughput(
            &client,
            &t.slow,
            args.rate_concurrency,
            Duration::from_secs(args.seconds),
        )
        .await?;
        let ratio = direct_rate
            .map(|d: f64| format!("  ({:.2}x direct)", rate / d))
            .unwrap_or_default();
        direct_rate.get_or_insert(rate);
        println!("  {:<11} {:>9.0} req/s forwarded{ratio}", t.name, rate);
        if t.name == "flightdeck" {
            let calls = rate * start.elapsed().as_secs_f64();
            let (recorded, lag) = settle_recording(store.as_ref(), recorded_before).await?;
            let lost = server.app.proxy.records_lost() - lost_before;
            println!(
                "  {:<11} {:>9.0} req/s recorded ({recorded} of {calls:.0} calls stored as spans, \
                 the last {lag:.0} ms after the run; {lost} records lost)",
                "",
                recorded as f64 / start.elapsed().as_secs_f64(),
            );
        }
    }

    drop(litellm);
    server.stop().await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// LLM calls stored so far, across sessions.
async fn recorded_calls(store: &dyn Store) -> anyhow::Result<i64> {
    let all = flightdeck_store::StatsScope {
        session_id: None,
        from: None,
        to: None,
    };
    Ok(store.overview(all).await?.totals.llm_calls)
}

/// Waits until the recorder has stored all it will (the count stops moving); returns the
/// calls recorded since `before` and how long after the run the last one landed, in ms.
async fn settle_recording(store: &dyn Store, before: i64) -> anyhow::Result<(i64, f64)> {
    let start = Instant::now();
    let (mut last, mut moved) = (recorded_calls(store).await?, Instant::now());
    while moved.elapsed() < Duration::from_millis(500) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = recorded_calls(store).await?;
        if now != last {
            (last, moved) = (now, Instant::now());
        }
    }
    let lag = moved.saturating_duration_since(start).as_secs_f64() * 1e3;
    Ok((last - before, lag))
}

pub(super) fn body(model: &str, stream: bool) -> String {
    serde_json::json!({
        "model": model, "stream": stream,
        "messages": [{"role": "system", "content": "You plan heists."},
                     {"role": "user", "content": "Plan the job at the vault."}]
    })
    .to_string()
}

/// Latency in ms of `calls` calls at `concurrency`: whole response, or first chunk.
pub(super) async fn measure(
    client: &reqwest::Client,
    (url, model): &(String, String),
    stream: bool,
    concurrency: usize,
    calls: usize,
) -> anyhow::Result<Vec<f64>> {
    let url = format!("{url}/chat/completions");
    let body = body(model, stream);
    // Warm the connections first.
    one(client, &url, &body, stream).await?;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, body, next) =
            (client.clone(), url.clone(), body.clone(), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < calls {
                samples.push(one(&client, &url, &body, stream).await?);
            }
            anyhow::Ok(samples)
        }));
    }
    let mut all = Vec::with_capacity(calls);
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

/// One call: ms to the whole plain response, or to the first streamed chunk (the rest is
/// read too, so the connection is reused).
async fn one(client: &reqwest::Client, url: &str, body: &str, stream: bool) -> anyhow::Result<f64> {
    let start = Instant::now();
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .bearer_auth(super::litellm::KEY)
        .body(body.to_owned())
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "{url}: HTTP {}", r.status());
    let mut chunks = r.bytes_stream();
    let mut first = None;
    while let Some(chunk) = chunks.next().await {
        chunk?;
        first.get_or_insert_with(|| start.elapsed());
    }
    let elapsed = if stream {
        first.unwrap_or_else(|| start.elapsed())
    } else {
        start.elapsed()
    };
    Ok(elapsed.as_secs_f64() * 1e3)
}

/// Calls per second completed by `concurrency` callers in `window`.
pub(super) async fn throughput(
    client: &reqwest::Client,
    target: &(String, String),
    concurrency: usize,
    window: Duration,
) -> anyhow::Result<f64> {
    let url = format!("{}/chat/completions", target.0);
    let body = body(&target.1, false);
    let until = Instant::now() + window;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < until {
                one(&client, &url, &body, false).await?;
                done += 1;
            }
            anyhow::Ok(done)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

fn print_latency(targets: &[Target], latency: &BTreeMap<(&str, bool, usize), (f64, f64)>) {
    for stream in [false, true] {
        println!(
            "\n{} latency in ms (p50 / p99), and what a proxy adds to the direct path",
            if stream {
                "streamed: time to first chunk,"
            } else {
                "plain: whole response,"
            }
        );
        for concurrency in [1usize, 16, 64] {
            let (d50, d99) = latency[&("direct", stream, concurrency)];
            let mut line = format!("  c={concurrency:<3} direct {d50:>7.3} / {d99:>7.3}");
            for t in targets.iter().filter(|t| t.name != "direct") {
                let (p50, p99) = latency[&(t.name, stream, concurrency)];
                line.push_str(&format!(
                    "   {} {p50:>7.3} / {p99:>7.3} (+{:.3} / +{:.3})",
                    t.name,
                    p50 - d50,
                    p99 - d99
                ));
            }
            println!("{line}");
        }
    }
    if targets.iter().any(|t| t.name == "litellm") {
        println!();
        for stream in [false, true] {
            for concurrency in [1usize, 16, 64] {
                let (f50, f99) = latency[&("flightdeck", stream, concurrency)];
                let (l50, l99) = latency[&("litellm", stream, concurrency)];
                println!(
                    "  {} c={concurrency:<3} through LiteLLM takes {:.0}x (p50) and {:.0}x (p99) as long as through Flightdeck",
                    if stream { "streamed" } else { "plain   " },
                    l50 / f50.max(1e-6),
                    l99 / f99.max(1e-6)
                );
            }
        }
    }
}
