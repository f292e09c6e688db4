//! `flightdeck demo`: starts the server (unless `--no-serve URL`) and a simulated crew of
//! agents that drives it only through the public SDK, exactly as a user's agents would.

use crate::cli::DemoArgs;
use crate::config::{self, Config};
use crate::serve;
use flightdeck_demo::{DemoOptions, Gates};
use flightdeck_fake_llm::{FakeLlm, Options as FakeOptions};
use flightdeck_sdk::{Flightdeck, Reviewer};
use flightdeck_server::proxy::config::{ApiKind, Upstream};
use std::time::Duration;

pub async fn run(mut args: DemoArgs) -> anyhow::Result<()> {
    let seed = args.seed.unwrap_or_else(random_seed);
    let gate_timeout = gate_timeout(args.review_timeout)?;
    let options = DemoOptions {
        sessions: args.sessions,
        speed: args.speed,
        seed,
        concurrency: args.concurrency,
        ..DemoOptions::default()
    };
    // The simulated agents present the server's token, when it has one.
    let mut fake = None;
    let mut token = args.serve.token.clone();
    let (url, grpc, server) = match args.no_serve.take() {
        Some(url) => (url.trim_end_matches('/').to_owned(), None, None),
        None => {
            if args.serve.db.is_none() {
                args.serve.db = Some(config::default_db().with_file_name("demo.db"));
            }
            let mut config = Config::resolve(args.serve)?;
            fake_upstreams(&mut config, &mut fake).await?;
            anyhow::ensure!(
                config.auth.token.is_some() || config.auth.password.is_none(),
                "the demo's agents send through the API, which then needs a token: set \
                 FLIGHTDECK_TOKEN as well as the password"
            );
            token = config.auth.token.clone();
            let bound = serve::bind(config).await?;
            let url = format!("http://{}", bound.addr);
            // The server stops only after the simulated agents have flushed what they sent.
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let grpc = bound.grpc_addr;
            let task = tokio::spawn(bound.run(async {
                let _ = stopped.await;
            }));
            (url, grpc, Some((stop, task)))
        }
    };
    println!("Flightdeck demo, seed {seed} (replay it with --seed {seed})");
    println!("  open:      {url}/");
    println!("  API:       {url}/api/v1/sessions");
    match grpc {
        Some(grpc) => println!("  OTLP:      {url}/v1/traces, or gRPC on {grpc}"),
        None => println!("  OTLP:      {url}/v1/traces"),
    }
    if let Some(f) = &fake {
        println!(
            "  playground: upstreams {FAKE} and {FAKE_ANTHROPIC} answer from a fake LLM at {}",
            f.url()
        );
    }
    println!("Press Ctrl-C to stop.");

    let mut builder = Flightdeck::builder(url.as_str());
    if let Some(token) = &token {
        builder = builder.token(token.clone());
    }
    let options = DemoOptions {
        gates: match gate_timeout {
            Some(timeout) => Some(Gates {
                reviewer: Reviewer::new(&url, token)?,
                timeout,
            }),
            None => None,
        },
        ..options
    };
    let client = builder.build()?;
    let interrupted = std::sync::atomic::AtomicBool::new(false);
    let stop = async {
        serve::shutdown_signal().await;
        interrupted.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let report = flightdeck_demo::run_until(client.clone(), options, stop).await?;
    println!(
        "simulated {} sessions ({} failed): {} spans, {} LLM calls, {} tool calls, {} failed spans",
        report.sessions.len(),
        report.failed_sessions(),
        report.spans,
        report.llm_calls,
        report.tool_calls,
        report.failed_spans
    );
    client.shutdown().await?;
    let stats = client.stats();
    if stats.dropped + stats.rejected > 0 {
        tracing::warn!(
            dropped = stats.dropped,
            rejected = stats.rejected,
            "some demo messages were not delivered"
        );
    }
    if let Some((stop, task)) = server {
        if !interrupted.load(std::sync::atomic::Ordering::SeqCst) {
            println!("The simulation is over; the server keeps serving until Ctrl-C.");
            serve::shutdown_signal().await;
        }
        let _ = stop.send(());
        task.await??;
    }
    Ok(())
}

/// How long the demo's review gates wait for a person; `None` (0) turns them off.
fn gate_timeout(timeout_s: f64) -> anyhow::Result<Option<Duration>> {
    let (lo, hi) = flightdeck_sdk::model::review::TIMEOUT_MS_RANGE;
    if timeout_s == 0.0 {
        return Ok(None);
    }
    anyhow::ensure!(
        timeout_s.is_finite() && (lo as f64..=hi as f64).contains(&(timeout_s * 1000.0)),
        "--review-timeout must be 0 (no gates) or between {} and {} seconds, not {timeout_s}",
        lo as f64 / 1000.0,
        hi / 1000
    );
    Ok(Some(Duration::from_secs_f64(timeout_s)))
}

/// A seed that differs from run to run, from the clock.
/// The demo's upstreams for the playground, answered by a local fake LLM: the demo has no
/// real upstream, and its LLM spans should open and run in the playground out of the box.
const FAKE: &str = "fake";
const FAKE_ANTHROPIC: &str = "fake-anthropic";

/// Starts the fake LLM and adds it as upstreams `fake` (OpenAI) and `fake-anthropic`, unless
/// the config names upstreams so.
async fn fake_upstreams(config: &mut Config, fake: &mut Option<FakeLlm>) -> anyhow::Result<()> {
    let upstreams = &mut config.proxy.upstreams;
    if upstreams.contains_key(FAKE) || upstreams.contains_key(FAKE_ANTHROPIC) {
        return Ok(());
    }
    let started = FakeLlm::start(FakeOptions {
        // Slow enough that the answer is seen streaming in (a tenth of this between chunks).
        latency: Duration::from_millis(400),
        unique_ids: true,
        ..FakeOptions::default()
    })
    .await?;
    for (name, kind) in [
        (FAKE, ApiKind::Openai),
        (FAKE_ANTHROPIC, ApiKind::Anthropic),
    ] {
        let mut upstream = Upstream::new(started.url(), kind);
        upstream.api_key = Some("fake-key".into());
        upstreams.insert(name.to_owned(), upstream);
    }
    *fake = Some(started);
    Ok(())
}

fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (nanos as u64) % 1_000_000
}
