//! `flightdeck bench import`: trace files in, measured two ways in one run.
//!
//! 1. Import: spans per second from a native JSONL file of LLM spans (the spans of `bench
//!    ingest`) into a fresh store, through `files::import` (read, decode, batch,
//!    `Store::append`), beside the bare decode loop over the same file (read it, split lines,
//!    `decode_message` each): the floor of any importer using the protocol's decoder.
//! 2. Watch: append-to-browser latency: lines appended to a watched file at a steady rate,
//!    timed from the write to their arrival at a WebSocket client of the session, beside the
//!    same events posted over HTTP (`POST /api/v1/events`) to the same server.

use super::LocalServer;
use super::ingest::{drain as drain_all, measure};
use super::live::{SESSION, drain, events, ingest, ms};
use super::watchers;
use crate::cli::ImportBenchArgs;
use flightdeck_model::{Limits, decode_message};
use flightdeck_server::files::import::import_file;
use flightdeck_server::files::sink::Sink;
use flightdeck_server::files::watch::{WatchConfig, Watcher};
use flightdeck_server::{App, ServerConfig};
use flightdeck_store::Store;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub async fn run(args: ImportBenchArgs) -> anyhow::Result<()> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            std::env::temp_dir().join(format!("flightdeck-bench-import-{}", std::process::id()))
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    println!(
        "flightdeck bench import: {} LLM spans in a native JSONL file, {} cores",
        args.spans,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let file = dir.join("spans.jsonl");
    let body: String = super::ingest::generate(args.spans, 1_000).concat();
    std::fs::write(&file, &body)?;
    println!(
        "file: {:.1} MB ({:.0} bytes per span)",
        body.len() as f64 / 1e6,
        body.len() as f64 / args.spans as f64
    );
    drop(body);

    let limits = Limits::default();
    let start = Instant::now();
    let text = std::fs::read_to_string(&file)?;
    let mut decoded = 0usize;
    for line in text.lines().filter(|l| !l.is_empty()) {
        decode_message(line, &limits).map_err(|(_, e)| anyhow::anyhow!(e))?;
        decoded += 1;
    }
    let bare = decoded as f64 / start.elapsed().as_secs_f64();
    drop(text);
    println!("\nbaseline: the bare decode loop (read, split lines, decode_message)");
    println!("  {bare:>12.0} spans/s");

    // The store's own rate on the same spans, decoded beforehand: the ceiling of any import.
    let bodies = super::ingest::generate(args.spans, 1_000);
    let batches: Vec<Vec<flightdeck_model::Message>> = bodies
        .iter()
        .map(|b| flightdeck_model::decode_batch(b.as_bytes(), &limits))
        .collect::<Result<_, _>>()?;
    let payload: usize = bodies.iter().map(String::len).sum();
    drop(bodies);
    let store = super::ingest::open(&dir.join("append.db"))?;
    let target = Arc::clone(&store);
    let append = move |batch: Vec<flightdeck_model::Message>| {
        let store = Arc::clone(&target);
        async move { store.append(batch).await.map_err(anyhow::Error::from) }
    };
    let ceiling = measure(args.spans, payload, drain_all(4, batches, append)).await?;
    store.close().await?;
    ceiling.print(
        "baseline: Store::append of the same spans, decoded beforehand (4 producers)",
        &dir.join("append.db"),
    );

    let store = super::ingest::open(&dir.join("import.db"))?;
    let app = App::new(
        Arc::clone(&store) as Arc<dyn Store>,
        ServerConfig::default(),
    );
    let sink = Arc::new(Sink::Local(Arc::clone(&app)));
    let mut report = None;
    let figures = measure(args.spans, payload, async {
        report = Some(import_file(sink, &file, None, limits, |_| {}).await?.1);
        store.close().await?;
        Ok(())
    })
    .await?;
    let report = report.expect("measured above");
    anyhow::ensure!(
        report.spans as usize == args.spans && report.rejected_lines == 0,
        "import stored {} of {} spans",
        report.spans,
        args.spans
    );
    figures.print(
        "flightdeck import (files::import into SQLite, durable; budget >= 100,000 spans/s)",
        &dir.join("import.db"),
    );
    println!(
        "  {:>12.2}x the bare decode loop",
        figures.spans_per_second() / bare
    );
    println!(
        "  {:>12.2}x Store::append of decoded spans",
        figures.spans_per_second() / ceiling.spans_per_second()
    );

    watch_latency(&args, &dir).await?;
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// Append-to-browser latency of a watched file, beside HTTP ingest in the same run.
async fn watch_latency(args: &ImportBenchArgs, dir: &std::path::Path) -> anyhow::Result<()> {
    let store = super::ingest::open(&dir.join("watch.db"))?;
    let server = LocalServer::start(store as Arc<dyn Store>, ServerConfig::default()).await?;
    let watched = dir.join("watched.jsonl");
    std::fs::write(&watched, "")?;
    let watcher = Watcher::open(WatchConfig::new(vec![watched.clone()], Limits::default()))
        .map_err(anyhow::Error::msg)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(watcher.run(Sink::Local(Arc::clone(&server.app)), stopped));
    let clock = Instant::now();
    let client = watchers::watch(server.addr, SESSION, clock).await?;
    let seconds = Duration::from_secs(args.seconds);
    println!(
        "\nappend-to-browser latency: {} events/s for {} s, one WebSocket client, a 10 ms poll",
        args.rate, args.seconds
    );
    println!("{:>34} {:>8} {:>8} {:>8}", "", "p50 ms", "p99 ms", "max ms");

    let mut out = std::fs::OpenOptions::new().append(true).open(&watched)?;
    let total = args.rate * args.seconds;
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let mut sent = 0;
    while sent < total {
        tick.tick().await;
        let due = ((args.rate as f64 * start.elapsed().as_secs_f64()) as u64).min(total);
        if due > sent {
            let body = events("file", sent, due - sent, clock.elapsed().as_nanos() as u64);
            out.write_all(body.as_bytes())?;
            sent = due;
        }
    }
    drain(std::slice::from_ref(&client), sent).await;
    let mut file = client.take();
    file.sort_unstable();
    let row = |label: &str, l: &[u32]| {
        println!(
            "{label:>34} {:>8.2} {:>8.2} {:>8.2}",
            ms(l, 0.5),
            ms(l, 0.99),
            ms(l, 1.0)
        )
    };
    row("appended to a watched file", &file);
    println!("{:>34} {} of {sent} events arrived", "", file.len());

    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/events", server.base());
    let (posted, _) = ingest(&http, &url, "http", args.rate, seconds, clock).await?;
    drain(std::slice::from_ref(&client), posted).await;
    let mut posted_l = client.take();
    posted_l.sort_unstable();
    row("baseline: POST /api/v1/events", &posted_l);
    println!(
        "  p99 ratio (file / HTTP): {:.2}x (budget: file p99 < 50 ms)",
        ms(&file, 0.99) / ms(&posted_l, 0.99)
    );
    let _ = stop.send(true);
    server.stop().await?;
    Ok(())
}
