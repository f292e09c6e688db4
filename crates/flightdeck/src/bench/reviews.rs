//! `flightdeck bench reviews`: what review gates cost.
//!
//! 1. Decision to agent: with `--pending` reviews pending (100), each with an agent waiting
//!    (`review_agents`), the benchmark decides one at a time, picked at random, and measures
//!    from just before it sends `POST /api/v1/reviews/{id}/decision` to the instant the agent
//!    sees the decision: HTTP, the durable commit, the feed, the keeper or the hub, and the
//!    agent's own HTTP or socket. A new review replaces each decided one, so the number
//!    pending stays put, and the next decision waits 2 ms for the news of it to reach every
//!    agent. Once with agents long-polling, once with agents on `/ws` (every agent's socket
//!    hears of every review, as the protocol says). The agents run in the benchmark's own
//!    process, on the server's cores.
//! 2. Ingest beside pending reviews: the spans of `bench ingest` over HTTP into a server with
//!    none pending and into one with `--ingest-pending` (10,000), alternating over
//!    `--rounds`, each on a fresh database, and the ratio of their spans/s.
//!
//! It prints figures and asserts none about time.

use super::LocalServer;
use super::ingest::{Figures, drain, generate, measure, open, post_all};
use super::percentile;
use super::review_agents::{Seen, Wait, open_review, open_waiting, review_id};
use super::text::Rng;
use crate::cli::ReviewsBenchArgs;
use flightdeck_server::ServerConfig;
use flightdeck_server::reviews::ReviewConfig;
use flightdeck_store::{StatsScope, Store};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Decisions before the measured ones, to warm connections and caches.
const WARM_UP: usize = 50;
/// The pause between opening a review and timing the next decision.
const SETTLE: Duration = Duration::from_millis(2);
/// Requests in flight while the pending reviews of the ingest runs are opened.
const OPENERS: usize = 16;

pub async fn run(args: ReviewsBenchArgs) -> anyhow::Result<()> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            std::env::temp_dir().join(format!("flightdeck-bench-reviews-{}", std::process::id()))
        }
    };
    std::fs::create_dir_all(&dir)?;
    println!(
        "flightdeck bench reviews: SQLite durable (fsync per commit), loopback, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "\ndecision to agent, {} reviews pending, {} decisions one at a time (after {WARM_UP} to warm up)",
        args.pending, args.decisions
    );
    println!(
        "{:<48} {:>8} {:>8} {:>8}   {:>14}",
        "agents wait by", "p50 ms", "p99 ms", "max ms", "POST p50 ms"
    );
    for wait in [Wait::LongPoll, Wait::Socket] {
        let db = fresh(&dir, &format!("latency-{wait:?}"));
        let server = start(&db).await?;
        let (seen, posted) = latency(&server, wait, args.pending, args.decisions).await?;
        server.stop().await?;
        println!(
            "{:<48} {:>8.2} {:>8.2} {:>8.2}   {:>14.2}",
            wait.describe(),
            percentile(&seen, 0.50),
            percentile(&seen, 0.99),
            seen.last().copied().unwrap_or(0.0),
            percentile(&posted, 0.50),
        );
    }
    println!("(budget: p99 < 20 ms on loopback)");

    println!(
        "\ningest over HTTP: {} LLM spans, {} per request, {} clients; {} rounds, alternating",
        args.load.spans, args.load.batch, args.load.producers, args.rounds
    );
    let bodies = generate(args.load.spans, args.load.batch);
    let payload: usize = bodies.iter().map(String::len).sum();
    let (mut none, mut many) = (Vec::new(), Vec::new());
    for round in 0..args.rounds {
        let order = if round % 2 == 0 {
            [0, args.ingest_pending]
        } else {
            [args.ingest_pending, 0]
        };
        for pending in order {
            let db = fresh(&dir, &format!("ingest-{round}-{pending}"));
            let figures = ingest(&db, pending, &args, bodies.clone(), payload).await?;
            println!(
                "  round {} with {:>6} pending: {:>9.0} spans/s, {}",
                round + 1,
                pending,
                figures.spans_per_second(),
                figures
                    .cpu_us_per_span()
                    .map_or("CPU not known".to_owned(), |us| format!(
                        "{us:.1} us CPU per span"
                    ))
            );
            if pending == 0 { &mut none } else { &mut many }.push(figures);
        }
    }
    let best = |runs: &[Figures]| {
        runs.iter()
            .map(Figures::spans_per_second)
            .fold(0.0, f64::max)
    };
    let (a, b) = (best(&many), best(&none));
    println!(
        "with {} pending / with none: {:.3}x (best of {} each: {a:.0} vs {b:.0} spans/s; budget >= 0.95)",
        args.ingest_pending,
        a / b,
        args.rounds
    );
    let cpu = |runs: &[Figures]| {
        let us: Vec<f64> = runs.iter().filter_map(Figures::cpu_us_per_span).collect();
        (!us.is_empty()).then(|| us.iter().sum::<f64>() / us.len() as f64)
    };
    if let (Some(a), Some(b)) = (cpu(&many), cpu(&none)) {
        println!(
            "CPU per span, with pending / with none: {:.3}x ({a:.1} vs {b:.1} us)",
            a / b
        );
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// A database path under `dir`, its files removed.
fn fresh(dir: &Path, name: &str) -> std::path::PathBuf {
    let db = dir.join(format!("{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    db
}

/// A server over a fresh store at `db` where pending reviews are never abandoned (socket
/// agents do not count as waiting, and the ingest runs' reviews have no agent at all).
async fn start(db: &Path) -> anyhow::Result<LocalServer> {
    let config = ServerConfig {
        reviews: ReviewConfig {
            abandon_after: Duration::from_secs(24 * 3600),
            ..ReviewConfig::default()
        },
        ..ServerConfig::default()
    };
    LocalServer::start(open(db)? as Arc<dyn Store>, config).await
}

/// Decision-to-agent latencies and decision-POST answer times, in milliseconds, sorted.
async fn latency(
    server: &LocalServer,
    wait: Wait,
    pending: usize,
    decisions: usize,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(pending * 2)
        .build()?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Seen>();
    let mut waiting: Vec<usize> = Vec::with_capacity(pending);
    for n in 0..pending.max(2) {
        open_waiting(&http, server.addr, wait, n, tx.clone()).await?;
        waiting.push(n);
    }
    let first_new = waiting.len();
    let mut rng = Rng::new(11);
    let (mut seen, mut posted) = (Vec::new(), Vec::new());
    for k in 0..WARM_UP + decisions {
        let next = first_new + k;
        // Any but the newest, whose agent may still be on its way to waiting.
        let n = waiting.swap_remove(rng.range(0, waiting.len() - 1));
        let id = review_id(n);
        let url = format!("{}/api/v1/reviews/{id}/decision", server.base());
        let sent = Instant::now();
        let r = http
            .post(&url)
            .json(&serde_json::json!({"decision": "continue"}))
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "deciding {id}: HTTP {}",
            r.status()
        );
        let answered = sent.elapsed();
        let (got, at) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .map_err(|_| anyhow::anyhow!("the agent of {id} never saw its decision"))?
            .ok_or_else(|| anyhow::anyhow!("every agent is gone"))?;
        anyhow::ensure!(got == id, "decided {id}, but {got} was released");
        if k >= WARM_UP {
            seen.push(at.duration_since(sent).as_secs_f64() * 1e3);
            posted.push(answered.as_secs_f64() * 1e3);
        }
        open_waiting(&http, server.addr, wait, next, tx.clone()).await?;
        waiting.push(next);
        // Lets the news of that review reach every agent before the next decision is timed.
        tokio::time::sleep(SETTLE).await;
    }
    seen.sort_by(f64::total_cmp);
    posted.sort_by(f64::total_cmp);
    Ok((seen, posted))
}

/// Opens `pending` reviews nobody waits for, then ingests `bodies` over HTTP, measured;
/// checks that every span was stored and the reviews are still pending.
async fn ingest(
    db: &Path,
    pending: usize,
    args: &ReviewsBenchArgs,
    bodies: Vec<String>,
    payload: usize,
) -> anyhow::Result<Figures> {
    let server = start(db).await?;
    let http = reqwest::Client::new();
    let addr = server.addr;
    drain(OPENERS, (0..pending).collect(), move |n| {
        let http = http.clone();
        async move { open_review(&http, addr, n).await }
    })
    .await?;
    let url = format!("{}/api/v1/events", server.base());
    let posting = post_all(args.load.producers, bodies, url, "application/x-ndjson");
    let figures = measure(args.load.spans, payload, posting).await?;
    let store = Arc::clone(&server.app.store);
    let stored = store.overview(StatsScope::default()).await?.totals.spans;
    let query = flightdeck_store::ReviewQuery {
        state: Some(flightdeck_model::review::ReviewState::Pending),
        session_id: None,
        limit: Some(pending + 1),
    };
    let still = store.reviews(query).await?.len();
    server.stop().await?;
    anyhow::ensure!(
        stored as usize == args.load.spans + pending,
        "{stored} spans stored of {} sent and {pending} review spans",
        args.load.spans
    );
    anyhow::ensure!(still == pending, "{still} reviews pending of {pending}");
    Ok(figures)
}
