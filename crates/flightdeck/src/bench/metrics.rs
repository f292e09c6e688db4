//! `flightdeck bench metrics`: metric points per second into SQLite through the store, beside
//! a bare rusqlite loop inserting the same points into a table of the same shape (primary
//! key, time index, WAL, `synchronous=FULL`, 5,000 rows a transaction) in the same run.
//! The load is what the System page charts: 50 series (names by labels), one point each
//! per tick, as a sampler, an SDK or an OTel metrics exporter sends them.

use super::ingest::{drain, measure, open};
use crate::cli::MetricsBenchArgs;
use flightdeck_model::message::Metric;
use flightdeck_model::{Message, Timestamp};
use flightdeck_store::Store;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Series in the load: names by label values.
const NAMES: [&str; 10] = [
    "system.cpu.utilization",
    "system.memory.usage",
    "system.network.io.rate",
    "process.cpu.utilization",
    "process.memory.usage",
    "gpu.utilization",
    "gpu.memory.usage",
    "queue.depth",
    "queue.wait",
    "workers.active",
];
const LABELS: usize = 5;
const PER_TRANSACTION: usize = 5_000;

fn points(n: usize) -> Vec<Metric> {
    let t0 = Timestamp::now().0 - n as i64 * 1_000_000;
    (0..n)
        .map(|i| {
            let series = i % (NAMES.len() * LABELS);
            Metric {
                session_id: None,
                name: NAMES[series % NAMES.len()].to_owned(),
                value: (i % 997) as f64 * 0.25,
                // One tick per round of the series, 5 s apart as the sampler's.
                at: Some(Timestamp(
                    t0 + (i / (NAMES.len() * LABELS)) as i64 * 5_000_000_000,
                )),
                unit: Some("1".to_owned()),
                labels: BTreeMap::from([(
                    "agent".to_owned(),
                    format!("agent-{}", series / NAMES.len()),
                )]),
            }
        })
        .collect()
}

/// Points per second of the bare loop.
fn bare(db: &std::path::Path, points: &[Metric]) -> anyhow::Result<f64> {
    let mut conn = rusqlite::Connection::open(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE metrics (name TEXT NOT NULL, labels TEXT NOT NULL, session_id TEXT NOT NULL,
           at INTEGER NOT NULL, value REAL NOT NULL, unit TEXT,
           PRIMARY KEY (name, labels, session_id, at)) WITHOUT ROWID;
         CREATE INDEX metrics_by_time ON metrics (at);",
    )?;
    let start = Instant::now();
    for chunk in points.chunks(PER_TRANSACTION) {
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO metrics (name, labels, session_id, at, value, unit)
                 VALUES (?1, ?2, '', ?3, ?4, ?5)",
            )?;
            for p in chunk {
                let labels = serde_json::to_string(&p.labels)?;
                insert.execute(rusqlite::params![
                    p.name,
                    labels,
                    p.at.map_or(0, |t| t.0),
                    p.value,
                    p.unit
                ])?;
            }
        }
        tx.commit()?;
    }
    Ok(points.len() as f64 / start.elapsed().as_secs_f64())
}

pub async fn run(args: MetricsBenchArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("flightdeck-bench-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    println!(
        "flightdeck bench metrics: {} points of {} series, {} per batch, {} producers",
        args.points,
        NAMES.len() * LABELS,
        args.batch,
        args.producers
    );
    let all = points(args.points);
    let bare = bare(&dir.join("bare.db"), &all)?;
    println!(
        "\nbaseline: a bare rusqlite loop over the same points ({PER_TRANSACTION} per transaction)"
    );
    println!("  {bare:>12.0} points/s");

    let batches: Vec<Vec<Message>> = all
        .chunks(args.batch.max(1))
        .map(|c| c.iter().cloned().map(Message::Metric).collect())
        .collect();
    let store = open(&dir.join("store.db"))?;
    let target = Arc::clone(&store);
    let append = move |batch: Vec<Message>| {
        let store = Arc::clone(&target);
        async move { store.append(batch).await.map_err(anyhow::Error::from) }
    };
    let figures = measure(args.points, 0, drain(args.producers, batches, append)).await?;
    store.close().await?;
    println!("\nthrough the store (Store::append)");
    println!(
        "  {:>12.0} points/s (budget >= 200,000)",
        figures.spans_per_second()
    );
    println!(
        "  {:>12.2}x the bare rusqlite loop",
        figures.spans_per_second() / bare
    );
    if let Some(cpu) = figures.cpu_us_per_span() {
        println!("  {cpu:>12.2} us CPU per point");
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
