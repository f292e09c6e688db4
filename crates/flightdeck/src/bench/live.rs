//! `flightdeck bench live`: event-to-client latency of the live hub.
//!
//! A real server on loopback over a durable SQLite store, N WebSocket clients watching one
//! session (see `watchers`), and ingest over HTTP at a target rate: `span.start`,
//! `span.update` and `span.end` messages, each stamped with the time its request is sent.
//! Latency is receive time minus that stamp, so it covers HTTP, decoding, the durable group
//! commit, the hub and the socket (`--no-fsync` leaves the disk out). The rate steps up; a rate
//! is held when every event reached every client, ingest kept the pace, and p99 stayed under
//! the budget. The same steps run first against a bare broadcast (`bare_hub`), the same-run
//! baseline that tells a slow machine from a slow Flightdeck.

use super::LocalServer;
use super::bare_hub::BareHub;
use super::watchers::{self, Record, SENT_NS};
use crate::cli::LiveBenchArgs;
use flightdeck_server::ServerConfig;
use flightdeck_store::Store;
use flightdeck_store_sqlite::{SqliteOptions, SqliteStore};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The session every client watches.
pub(super) const SESSION: &str = "bench-live";
/// Ingest requests in flight at once; more events wait and go in the next, larger batch.
const IN_FLIGHT: u32 = 16;
/// The most events in one request.
const MAX_BATCH: u64 = 2_000;
/// How long to wait for the last events of a step to arrive.
const DRAIN: Duration = Duration::from_secs(10);
/// Ingest before the measured steps, to warm connections and caches.
const WARM_UP: Duration = Duration::from_secs(1);

pub async fn run(args: LiveBenchArgs) -> anyhow::Result<()> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("flightdeck-bench-live-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("live.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    println!(
        "flightdeck bench live: {} WebSocket clients on one session, events over HTTP on \
         loopback, SQLite {}, {} cores",
        args.clients,
        if args.no_fsync {
            "without fsync"
        } else {
            "durable (fsync per commit)"
        },
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let clock = Instant::now();

    println!(
        "\nbaseline: a bare broadcast (each request's body to every client, no store, no hub)"
    );
    let bare = BareHub::start().await?;
    let baseline = steps(bare.addr, &args, clock).await?;
    bare.stop().await?;
    print_steps(&baseline, None, args.p99_budget_ms);

    let mut opts = SqliteOptions::new(&db);
    opts.durable = !args.no_fsync;
    let store = Arc::new(SqliteStore::open(opts)?);
    let server = LocalServer::start(store as Arc<dyn Store>, ServerConfig::default()).await?;
    println!("\nFlightdeck (durable store, live hub)");
    let measured = steps(server.addr, &args, clock).await?;
    print_steps(&measured, Some(&baseline), args.p99_budget_ms);
    let hub = server.app.hub.stats();
    println!(
        "\nhub: {} frames queued, {} resyncs (queue full), {} hub lags",
        hub.frames_queued, hub.resyncs.queue_full, hub.hub_lags
    );
    match measured.iter().rev().find(|s| s.held).map(|s| s.rate) {
        Some(rate) => println!(
            "highest rate held with p99 < {} ms: {rate} events/s",
            args.p99_budget_ms
        ),
        None => println!("no rate held with p99 < {} ms", args.p99_budget_ms),
    }
    server.stop().await?;
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// What one rate step measured.
struct Step {
    rate: u64,
    ingested: f64,
    delivered: f64,
    p50: f64,
    p99: f64,
    max: f64,
    resynced: u64,
    held: bool,
}

/// Connects the clients to the server at `addr`, warms up, and runs every rate step.
async fn steps(
    addr: SocketAddr,
    args: &LiveBenchArgs,
    clock: Instant,
) -> anyhow::Result<Vec<Step>> {
    let mut clients = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        clients.push(watchers::watch(addr, SESSION, clock).await?);
    }
    let url = format!("http://{addr}/api/v1/events");
    let http = reqwest::Client::new();
    // Warm up (connections, caches, allocator) at the first rate; not reported.
    let first = args.rates.first().copied().unwrap_or(1_000);
    let (sent, _) = ingest(&http, &url, "warm", first, WARM_UP, clock).await?;
    drain(&clients, sent * args.clients as u64).await;
    for c in &clients {
        c.take();
    }
    let mut steps = Vec::with_capacity(args.rates.len());
    for (step, &rate) in args.rates.iter().enumerate() {
        let before = resyncs(&clients);
        let seconds = Duration::from_secs(args.seconds);
        let (sent, took) = ingest(&http, &url, &format!("r{step}"), rate, seconds, clock).await?;
        let expected = sent * args.clients as u64;
        drain(&clients, expected).await;
        let mut latencies: Vec<u32> = clients.iter().flat_map(|c| c.take()).collect();
        latencies.sort_unstable();
        let resynced = resyncs(&clients) - before;
        let ingested = sent as f64 / took.as_secs_f64();
        let p99 = ms(&latencies, 0.99);
        steps.push(Step {
            rate,
            ingested,
            delivered: latencies.len() as f64 / expected.max(1) as f64,
            p50: ms(&latencies, 0.5),
            p99,
            max: ms(&latencies, 1.0),
            resynced,
            held: resynced == 0
                && latencies.len() as u64 == expected
                && ingested >= 0.95 * rate as f64
                && p99 < args.p99_budget_ms,
        });
    }
    Ok(steps)
}

/// The table of a run's steps; beside a baseline, each p99 also as a multiple of its own.
fn print_steps(steps: &[Step], baseline: Option<&[Step]>, budget_ms: f64) {
    println!(
        "{:>10} {:>11} {:>10} {:>8} {:>8} {:>8} {:>8}  held (p99 < {budget_ms} ms){}",
        "target/s",
        "ingested/s",
        "delivered",
        "p50 ms",
        "p99 ms",
        "max ms",
        "resyncs",
        if baseline.is_some() {
            "  p99 vs bare"
        } else {
            ""
        }
    );
    for (i, s) in steps.iter().enumerate() {
        let versus = baseline
            .and_then(|b| b.get(i))
            .map(|b| format!("  {:+.2} ms ({:.1}x)", s.p99 - b.p99, s.p99 / b.p99))
            .unwrap_or_default();
        println!(
            "{:>10} {:>11.0} {:>9.1}% {:>8.2} {:>8.2} {:>8.2} {:>8}  {:<4}{versus}",
            s.rate,
            s.ingested,
            s.delivered * 100.0,
            s.p50,
            s.p99,
            s.max,
            s.resynced,
            if s.held { "yes" } else { "no" }
        );
    }
}

/// Waits until the clients have received `expected` events (or `DRAIN` passed), then sets
/// their counters back to zero for the next step.
pub(super) async fn drain(clients: &[Arc<Record>], expected: u64) {
    let deadline = Instant::now() + DRAIN;
    while received(clients) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for c in clients {
        c.events.store(0, Ordering::Relaxed);
    }
}

/// Sends `rate` events per second for `duration`, as spans named after `label`; returns how
/// many were sent and how long it took until every request was answered.
pub(super) async fn ingest(
    http: &reqwest::Client,
    url: &str,
    label: &str,
    rate: u64,
    duration: Duration,
    clock: Instant,
) -> anyhow::Result<(u64, Duration)> {
    let total = (rate as f64 * duration.as_secs_f64()) as u64;
    let slots = Arc::new(Semaphore::new(IN_FLIGHT as usize));
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let mut sent = 0;
    let mut requests = Vec::new();
    while sent < total {
        tick.tick().await;
        let due = ((rate as f64 * start.elapsed().as_secs_f64()) as u64).min(total);
        if due <= sent {
            continue;
        }
        let slot = Arc::clone(&slots).acquire_owned().await?;
        let n = (due - sent).min(MAX_BATCH);
        let body = events(label, sent, n, clock.elapsed().as_nanos() as u64);
        let post = http
            .post(url)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send();
        requests.push(tokio::spawn(async move {
            let answer = post.await;
            drop(slot);
            anyhow::ensure!(answer?.status().is_success(), "ingest refused a batch");
            Ok(())
        }));
        sent += n;
    }
    for r in requests {
        r.await??;
    }
    Ok((sent, start.elapsed()))
}

/// Events `first..first + n` of a step as NDJSON: each span is started, updated and ended.
pub(super) fn events(label: &str, first: u64, n: u64, sent_ns: u64) -> String {
    let mut body = String::with_capacity(n as usize * 220);
    for k in first..first + n {
        let span = format!("{label}-{}", k / 3);
        let at = format!(r#""attributes":{{"{SENT_NS}":{sent_ns}}}"#);
        let line = match k % 3 {
            0 => format!(
                r#"{{"type":"span.start","session_id":"{SESSION}","span_id":"{span}","kind":"llm","name":"chat","agent":"agent-{}","model":"gpt-4o-mini",{at}}}"#,
                k / 3 % 4
            ),
            1 => format!(
                r#"{{"type":"span.update","session_id":"{SESSION}","span_id":"{span}","seq":0,"output_delta":"tokens","usage":{{"input_tokens":120,"output_tokens":1}},{at}}}"#
            ),
            _ => format!(
                r#"{{"type":"span.end","session_id":"{SESSION}","span_id":"{span}","status":"ok","output":"tokens","usage":{{"input_tokens":120,"output_tokens":40}},{at}}}"#
            ),
        };
        body.push_str(&line);
        body.push('\n');
    }
    body
}

fn received(clients: &[Arc<Record>]) -> u64 {
    clients
        .iter()
        .map(|c| c.events.load(Ordering::Relaxed))
        .sum()
}

fn resyncs(clients: &[Arc<Record>]) -> u64 {
    clients
        .iter()
        .map(|c| c.resyncs.load(Ordering::Relaxed))
        .sum()
}

/// The `q` quantile of sorted microseconds, in milliseconds (nearest rank).
pub(super) fn ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted_us.len() as f64).ceil() as usize;
    f64::from(sorted_us[rank.clamp(1, sorted_us.len()) - 1]) / 1000.0
}
