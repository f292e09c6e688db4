//! `flightdeck bench footprint`: the real binary as a user starts it (`flightdeck serve`, a
//! child process): milliseconds from exec to serving, on a fresh database and on an existing
//! one; resident memory when idle; and peak resident memory under full native ingest and
//! proxy load at once. Memory is read from the child's `/proc/PID/status` (`VmRSS`, `VmHWM`).

use super::ingest::{generate, post_all};
use super::proxy::throughput;
use crate::cli::FootprintBenchArgs;
use flightdeck_fake_llm::{FakeLlm, Options};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// Proxy callers kept busy during the load phase.
const PROXY_CALLERS: usize = 64;

pub async fn run(args: FootprintBenchArgs) -> anyhow::Result<()> {
    let dir =
        std::env::temp_dir().join(format!("flightdeck-bench-footprint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let fake = FakeLlm::start(Options {
        latency: Duration::from_millis(20),
        ..Options::default()
    })
    .await?;
    let config = dir.join("flightdeck.toml");
    std::fs::write(
        &config,
        format!(
            "[proxy.upstreams.slow]\nbase_url = \"{}\"\nkind = \"openai\"\n",
            fake.url()
        ),
    )?;
    let db = dir.join("footprint.db");
    println!(
        "flightdeck bench footprint: `flightdeck serve` as a child process, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let mut starts = Vec::new();
    for fresh in [true, false, false, false] {
        let (mut server, ms) = Server::start(&config, &db).await?;
        starts.push((fresh, ms));
        server.child.kill().await?;
    }
    let existing: Vec<f64> = starts.iter().filter(|s| !s.0).map(|s| s.1).collect();
    println!(
        "start to serving: {:.0} ms on a fresh database, {:.0}–{:.0} ms on an existing one",
        starts[0].1,
        existing.iter().copied().fold(f64::INFINITY, f64::min),
        existing.iter().copied().fold(0.0, f64::max),
    );

    let (mut server, _) = Server::start(&config, &db).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!("idle: {:.1} MB resident", server.memory("VmRSS")?);

    let bodies = generate(args.load.spans, args.load.batch);
    let url = format!("{}/api/v1/events", server.base);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(PROXY_CALLERS)
        .build()?;
    let proxy_target = (
        format!("{}/proxy/slow/v1", server.base),
        "gpt-4o".to_owned(),
    );
    let window = Duration::from_secs(args.seconds);
    let started = Instant::now();
    let (ingested, proxied) = tokio::join!(
        post_all(args.load.producers, bodies, url, "application/x-ndjson"),
        throughput(&client, &proxy_target, PROXY_CALLERS, window),
    );
    ingested?;
    let rate = proxied?;
    println!(
        "under load ({} spans through POST /api/v1/events from {} clients, and {} proxy \
         callers at {:.0} req/s for {} s; {:.1} s in all): peak {:.1} MB resident",
        args.load.spans,
        args.load.producers,
        PROXY_CALLERS,
        rate,
        args.seconds,
        started.elapsed().as_secs_f64(),
        server.memory("VmHWM")?
    );
    println!("after the load: {:.1} MB resident", server.memory("VmRSS")?);
    server.child.kill().await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The child `flightdeck serve`.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts the server and waits until `/healthz` answers; returns it and the time taken.
    async fn start(config: &Path, db: &Path) -> anyhow::Result<(Server, f64)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let health = format!("{base}/healthz");
        let client = reqwest::Client::new();
        let started = Instant::now();
        let child = Command::new(std::env::current_exe()?)
            .args(["serve", "--no-otlp-grpc", "--addr"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--db")
            .arg(db)
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let server = Server { child, base };
        while started.elapsed() < Duration::from_secs(10) {
            if client
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok((server, started.elapsed().as_secs_f64() * 1e3));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        anyhow::bail!("flightdeck serve did not answer on {health} within 10 s")
    }

    /// A memory figure of the child's `/proc/PID/status`, in MB.
    fn memory(&self, field: &str) -> anyhow::Result<f64> {
        let pid = self
            .child
            .id()
            .ok_or_else(|| anyhow::anyhow!("the server exited"))?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no {field} in /proc/{pid}/status"))?;
        Ok(kb / 1024.0)
    }
}
