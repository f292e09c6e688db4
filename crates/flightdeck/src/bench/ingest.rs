//! `flightdeck bench ingest`: sustained spans per second into SQLite, through the store and
//! through HTTP on loopback, with realistic LLM spans, beside a bare rusqlite loop over the
//! same spans in the same run (`bare.rs`). Prints spans/s, the ratio to the bare loop,
//! payload MB/s, CPU per span, and disk bytes written per span (from /proc/self/io), which
//! is what bounds SQLite ingest.

use super::LocalServer;
use super::text::{Rng, llm_span};
use crate::cli::IngestBenchArgs;
use flightdeck_model::{Limits, Message, decode_batch};
use flightdeck_server::ServerConfig;
use flightdeck_store::Store;
use flightdeck_store_sqlite::{SqliteOptions, SqliteStore};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Spans per session in the generated data.
pub(super) const SPANS_PER_SESSION: usize = 500;

pub async fn run(args: IngestBenchArgs) -> anyhow::Result<()> {
    let tmp = tempfile_dir(&args)?;
    println!(
        "flightdeck bench ingest: {} LLM spans, {} per batch, {} producers, {} cores",
        args.load.spans,
        args.load.batch,
        args.load.producers,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let bodies = generate(args.load.spans, args.load.batch);
    let payload: usize = bodies.iter().map(String::len).sum();
    println!(
        "generated {:.1} MB of NDJSON ({:.0} bytes per span)",
        payload as f64 / 1e6,
        payload as f64 / args.load.spans as f64
    );

    let batches: Vec<Vec<Message>> = bodies
        .iter()
        .map(|b| decode_batch(b.as_bytes(), &Limits::default()))
        .collect::<Result<_, _>>()?;
    let bare = super::bare::spans_per_second(&tmp.join("bare.db"), &batches)?;
    println!(
        "\nbaseline: a bare rusqlite loop over the same spans (WAL, synchronous=FULL, 1,000 per transaction)"
    );
    println!("  {bare:>12.0} spans/s");

    let store = open(&tmp.join("store.db"))?;
    let target = Arc::clone(&store);
    let append = move |batch: Vec<Message>| {
        let store = Arc::clone(&target);
        async move { store.append(batch).await.map_err(anyhow::Error::from) }
    };
    let figures = measure(
        args.load.spans,
        payload,
        drain(args.load.producers, batches, append),
    )
    .await?;
    store.close().await?;
    figures.print("through the store (Store::append)", &tmp.join("store.db"));
    println!(
        "  {:>12.2}x the bare rusqlite loop",
        figures.spans_per_second() / bare
    );

    let store = open(&tmp.join("http.db"))?;
    let server = LocalServer::start(
        Arc::clone(&store) as Arc<dyn Store>,
        ServerConfig::default(),
    )
    .await?;
    let url = format!("{}/api/v1/events", server.base());
    let posting = post_all(args.load.producers, bodies, url, "application/x-ndjson");
    let figures = measure(args.load.spans, payload, posting).await?;
    server.stop().await?;
    figures.print(
        "through HTTP on loopback (POST /api/v1/events)",
        &tmp.join("http.db"),
    );
    println!(
        "  {:>12.2}x the bare rusqlite loop",
        figures.spans_per_second() / bare
    );
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(())
}

fn tempfile_dir(args: &IngestBenchArgs) -> anyhow::Result<std::path::PathBuf> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("flightdeck-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir)?;
    for f in ["bare.db", "store.db", "http.db"] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.join(format!("{f}{suffix}")));
        }
    }
    Ok(dir)
}

pub(super) fn open(path: &Path) -> anyhow::Result<Arc<SqliteStore>> {
    Ok(Arc::new(SqliteStore::open(SqliteOptions::new(path))?))
}

/// NDJSON bodies of `batch` spans each.
pub(super) fn generate(spans: usize, batch: usize) -> Vec<String> {
    let mut rng = Rng::new(7);
    (0..spans)
        .collect::<Vec<_>>()
        .chunks(batch.max(1))
        .map(|chunk| {
            let mut body = String::new();
            for &i in chunk {
                body.push_str(&llm_span(&mut rng, i / SPANS_PER_SESSION, i));
                body.push('\n');
            }
            body
        })
        .collect()
}

/// Runs `producers` tasks that take items off `items` until none is left.
/// POSTs every body to `url` from `producers` concurrent tasks; any non-2xx answer fails.
pub(super) async fn post_all<B>(
    producers: usize,
    bodies: Vec<B>,
    url: String,
    content_type: &'static str,
) -> anyhow::Result<()>
where
    B: Into<reqwest::Body> + Send + 'static,
{
    let client = reqwest::Client::new();
    let post = move |body: B| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let r = client
                .post(&url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await?;
            anyhow::ensure!(r.status().is_success(), "HTTP {}", r.status());
            Ok(())
        }
    };
    drain(producers, bodies, post).await
}

pub(super) async fn drain<T, F, Fut>(producers: usize, items: Vec<T>, send: F) -> anyhow::Result<()>
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let queue = Arc::new(Mutex::new(items));
    let mut tasks = Vec::new();
    for _ in 0..producers.max(1) {
        let (queue, send) = (Arc::clone(&queue), send.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().expect("queue lock").pop();
                match next {
                    Some(item) => send(item).await?,
                    None => return Ok::<_, anyhow::Error>(()),
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

pub(super) struct Figures {
    spans: usize,
    payload: usize,
    seconds: f64,
    written: Option<u64>,
    /// CPU seconds of the whole process and of the writer thread during the run.
    cpu: Option<(f64, f64)>,
}

pub(super) async fn measure(
    spans: usize,
    payload: usize,
    work: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<Figures> {
    let before = written_bytes();
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    work.await?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(Figures {
        spans,
        payload,
        seconds,
        written: written_bytes()
            .zip(before)
            .map(|(a, b)| a.saturating_sub(b)),
        cpu: cpu_seconds()
            .zip(cpu_before)
            .map(|(after, before)| cpu_used(&before, &after)),
    })
}

impl Figures {
    pub(super) fn spans_per_second(&self) -> f64 {
        self.spans as f64 / self.seconds
    }

    /// CPU of the whole process per span, in microseconds, where /proc tells it.
    pub(super) fn cpu_us_per_span(&self) -> Option<f64> {
        self.cpu
            .map(|(process, _)| process * 1e6 / self.spans as f64)
    }

    pub(super) fn print(&self, what: &str, db: &Path) {
        let size: u64 = ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
            .map(|m| m.len())
            .sum();
        println!("\n{what}");
        println!(
            "  {:>12.0} spans/s   ({} spans in {:.2} s)",
            self.spans_per_second(),
            self.spans,
            self.seconds
        );
        println!(
            "  {:>12.1} MB/s of request payload",
            self.payload as f64 / self.seconds / 1e6
        );
        if let Some((process, writer)) = self.cpu {
            println!(
                "  {:>12.1} us CPU per span in all, {:.1} us in the writer thread (writer-bound ceiling {:.0} spans/s)",
                self.cpu_us_per_span()
                    .unwrap_or(process * 1e6 / self.spans as f64),
                writer * 1e6 / self.spans as f64,
                self.spans as f64 / writer.max(1e-9)
            );
        }
        if let Some(w) = self.written {
            println!(
                "  {:>12.0} bytes written to disk per span ({:.1} MB in all)",
                w as f64 / self.spans as f64,
                w as f64 / 1e6
            );
        }
        println!(
            "  {:>12.0} bytes of database per span ({:.1} MB file)",
            size as f64 / self.spans as f64,
            size as f64 / 1e6
        );
    }
}

/// CPU seconds (user + system) of this process, and of each writer thread by thread id,
/// from /proc (Linux only): figures that other load on the machine does not inflate, unlike
/// wall time.
pub(super) fn cpu_seconds() -> Option<(f64, BTreeMap<String, f64>)> {
    // Fields 14 and 15 of /proc/.../stat, in clock ticks (100 per second on Linux).
    let ticks = |stat: &str| -> Option<(String, f64)> {
        let (head, rest) = stat.rsplit_once(')')?;
        let comm = head.split_once('(')?.1.to_owned();
        let f: Vec<&str> = rest.split_whitespace().collect();
        let t = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
        Some((comm, t / 100.0))
    };
    let process = ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)?.1;
    let writers = std::fs::read_dir("/proc/self/task")
        .ok()?
        .filter_map(|t| {
            let t = t.ok()?;
            let (comm, secs) = ticks(&std::fs::read_to_string(t.path().join("stat")).ok()?)?;
            comm.starts_with("flightdeck-writ")
                .then(|| (t.file_name().to_string_lossy().into_owned(), secs))
        })
        .collect();
    Some((process, writers))
}

/// CPU used between two readings: the process's, and that of the writer threads alive at
/// the end (a thread that ended in between is not counted against this run).
fn cpu_used(
    before: &(f64, BTreeMap<String, f64>),
    after: &(f64, BTreeMap<String, f64>),
) -> (f64, f64) {
    let writer = after
        .1
        .iter()
        .map(|(tid, t)| t - before.1.get(tid).copied().unwrap_or(0.0))
        .sum();
    (after.0 - before.0, writer)
}

/// Bytes this process caused to be written to storage, from /proc/self/io (Linux only).
fn written_bytes() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .and_then(|v| v.trim().parse().ok())
}
