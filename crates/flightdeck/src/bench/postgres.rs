//! `flightdeck bench postgres`: spans per second into PostgreSQL through the store
//! (`Store::append`, group commit, one multi-row statement per table), beside a bare binary
//! `COPY` of the same span rows into a table of the same shape on the same server, in the
//! same run. The bare rows' payloads are compressed before its clock starts, so the ratio is
//! against the best a client could do. Each run gets a database of its own, dropped after.

use super::ingest::{drain, generate, measure};
use crate::cli::PostgresBenchArgs;
use flightdeck_model::{Limits, Message, decode_batch};
use flightdeck_store::Store;
use flightdeck_store::codec;
use flightdeck_store_postgres::{PostgresOptions, PostgresStore};
use std::sync::Arc;
use std::time::Instant;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, NoTls};

pub async fn run(args: PostgresBenchArgs) -> anyhow::Result<()> {
    let load = &args.load;
    println!(
        "flightdeck bench postgres: {} LLM spans, {} per batch, {} producers, {} cores",
        load.spans,
        load.batch,
        load.producers,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let bodies = generate(load.spans, load.batch);
    let payload: usize = bodies.iter().map(String::len).sum();
    let batches: Vec<Vec<Message>> = bodies
        .iter()
        .map(|b| decode_batch(b.as_bytes(), &Limits::default()))
        .collect::<Result<_, _>>()?;
    let admin = connect(&args.db).await?;

    let bare_db = Scratch::create(&admin, &args.db, "copy").await?;
    let bare = bare_copy(&bare_db.url, &batches).await?;
    println!("\nbaseline: a bare binary COPY of the same span rows (payloads compressed before)");
    println!("  {bare:>12.0} spans/s");

    let store_db = Scratch::create(&admin, &args.db, "store").await?;
    let store = Arc::new(PostgresStore::open(PostgresOptions::new(&store_db.url)).await?);
    let target = Arc::clone(&store);
    let append = move |batch: Vec<Message>| {
        let store = Arc::clone(&target);
        async move { store.append(batch).await.map_err(anyhow::Error::from) }
    };
    let figures = measure(load.spans, payload, drain(load.producers, batches, append)).await?;
    store.close().await?;
    println!("\nthrough the store (Store::append)");
    println!(
        "  {:>12.0} spans/s   ({} spans in {:.2} s)",
        figures.spans_per_second(),
        load.spans,
        load.spans as f64 / figures.spans_per_second()
    );
    if let Some(cpu) = figures.cpu_us_per_span() {
        println!("  {cpu:>12.1} us CPU per span in this process");
    }
    println!(
        "  {:>12.2}x the bare COPY (budget: >= 0.3x)",
        figures.spans_per_second() / bare
    );
    drop(store);
    bare_db.drop(&admin).await?;
    store_db.drop(&admin).await?;
    Ok(())
}

async fn connect(url: &str) -> anyhow::Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to {url}: {e}"))?;
    tokio::spawn(connection);
    Ok(client)
}

/// A database of the benchmark's own on the server.
struct Scratch {
    name: String,
    url: String,
}

impl Scratch {
    async fn create(admin: &Client, server: &str, what: &str) -> anyhow::Result<Scratch> {
        let name = format!("flightdeck_bench_{what}_{}", std::process::id());
        // Two statements: CREATE DATABASE cannot run in the transaction of a multi-statement
        // query.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin.batch_execute(&sql).await.map_err(|e| {
                let why = e
                    .as_db_error()
                    .map_or(e.to_string(), |d| d.message().to_owned());
                anyhow::anyhow!("cannot create database {name}: {why}")
            })?;
        }
        let base = server.rsplit_once('/').map_or(server, |(b, _)| b);
        Ok(Scratch {
            url: format!("{base}/{name}"),
            name,
        })
    }

    async fn drop(self, admin: &Client) -> anyhow::Result<()> {
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await?;
        Ok(())
    }
}

/// The span rows of the batches, as the baseline writes them.
type Row = (
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);

/// Spans per second of a binary COPY of every batch (one COPY, one transaction, per batch).
async fn bare_copy(url: &str, batches: &[Vec<Message>]) -> anyhow::Result<f64> {
    let client = connect(url).await?;
    client
        .batch_execute(
            "CREATE TABLE spans (session_id TEXT NOT NULL, span_id TEXT NOT NULL, name TEXT,
                model TEXT, started_at BIGINT, ended_at BIGINT, input BYTEA, output BYTEA,
                PRIMARY KEY (session_id, span_id))",
        )
        .await?;
    let rows: Vec<Vec<Row>> = batches
        .iter()
        .map(|b| {
            b.iter()
                .filter_map(|m| match m {
                    Message::Span(s) => Some((
                        s.session_id.clone(),
                        s.span_id.clone(),
                        s.name.clone(),
                        s.model.clone(),
                        s.started_at.0,
                        s.ended_at.0,
                        s.input
                            .as_ref()
                            .map(|v| codec::encode(v.get().as_bytes(), None)),
                        s.output
                            .as_ref()
                            .map(|v| codec::encode(v.get().as_bytes(), None)),
                    )),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let spans: usize = rows.iter().map(Vec::len).sum();
    let types = [
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::INT8,
        Type::BYTEA,
        Type::BYTEA,
    ];
    let started = Instant::now();
    for batch in &rows {
        let sink = client
            .copy_in("COPY spans (session_id, span_id, name, model, started_at, ended_at, input, output) FROM STDIN BINARY")
            .await?;
        let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &types));
        for r in batch {
            writer
                .as_mut()
                .write(&[&r.0, &r.1, &r.2, &r.3, &r.4, &r.5, &r.6, &r.7])
                .await?;
        }
        writer.finish().await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(spans as f64 / seconds)
}
