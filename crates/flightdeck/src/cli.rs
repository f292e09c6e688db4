//! The command line: what a user types, with `--help` texts. Values given here win over
//! environment variables, which win over the config file, which wins over the defaults.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Flightdeck: watch your multi-agent LLM system work, live.
///
/// Send traces to the native API (POST /api/v1/events) and read them back through the
/// query API under /api/v1. See the README for a quick start.
#[derive(Parser, Debug)]
#[command(
    name = "flightdeck",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server: ingest, store and query API.
    Serve(ServeCommand),
    /// Run the server with a simulated crew of agents feeding it, to see Flightdeck at work.
    Demo(DemoArgs),
    /// Measure ingest throughput, live latency or proxy overhead and print the figures.
    Bench(BenchArgs),
    /// Write sessions out as trace files (native JSONL, or OTLP/JSON).
    Export(ExportArgs),
    /// Read trace files into the database (or into a running server with --server).
    Import(ImportArgs),
    /// Write one session as a self-contained HTML file that opens offline, read-only.
    Share(ShareArgs),
    /// Follow trace files as they grow and ingest each line as it is appended: into a running
    /// server (--server), or into a server of its own.
    Watch(WatchArgs),
}

/// `flightdeck serve`: the server's options, and files to watch beside.
#[derive(Args, Debug, Default)]
pub struct ServeCommand {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Also follow these trace files, folders or globs and ingest what is appended
    /// (repeatable; see `flightdeck watch`)
    #[arg(long = "watch", value_name = "PATH")]
    pub watch: Vec<PathBuf>,
    #[command(flatten)]
    pub watching: WatchOptions,
}

/// How watched files are read.
#[derive(Args, Debug, Default)]
pub struct WatchOptions {
    /// The format of the watched files, when their first lines cannot tell: native,
    /// otlp-json, trace-events, claude-code
    #[arg(long = "watch-format", value_name = "FORMAT")]
    pub format: Option<flightdeck_server::files::Format>,
    /// Where the offsets read so far are kept, to resume after a restart
    /// [default: watch-state.json beside the database]
    #[arg(long = "watch-state", value_name = "FILE")]
    pub state: Option<PathBuf>,
}

/// Options of `flightdeck watch`.
#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Files, folders (every file below, new ones included) or globs (quote them:
    /// 'logs/**/*.jsonl')
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub watching: WatchOptions,
    #[command(flatten)]
    pub target: Target,
}

/// Where the file commands read and write: a running server, or a database of their own.
#[derive(Args, Debug)]
pub struct Target {
    /// A running Flightdeck to talk to (http://HOST:PORT) instead of opening the database;
    /// use it while a server has the database open. Its token: FLIGHTDECK_TOKEN
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Store options (without --server): the database, config file and limits
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Options of `flightdeck export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The sessions to export, by id
    #[arg(required = true, value_name = "SESSION")]
    pub sessions: Vec<String>,
    /// `native` (the protocol's messages: imports back exactly) or `otlp` (OTLP/JSON lines,
    /// spans only)
    #[arg(long, default_value = "native", value_name = "FORMAT")]
    pub format: flightdeck_server::files::export::ExportFormat,
    /// Write to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub target: Target,
}

/// Options of `flightdeck share`.
#[derive(Args, Debug)]
pub struct ShareArgs {
    /// The session to share, by id
    #[arg(value_name = "SESSION")]
    pub session: String,
    /// The HTML file to write
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub target: Target,
}

/// Options of `flightdeck import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Trace files: native JSONL, OTLP/JSON lines, OTLP protobuf, seed-002 trace events,
    /// Claude Code transcripts (told apart per file)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The format of every file, when its first line cannot tell: native, otlp-json,
    /// otlp-proto, trace-events, claude-code
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<flightdeck_server::files::Format>,
    /// No progress bar (it is shown only on a terminal anyway)
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub target: Target,
}

/// Options of `flightdeck serve`.
#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:7329]
    #[arg(long, env = "FLIGHTDECK_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<SocketAddr>,
    /// SQLite database file, or a PostgreSQL URL (postgres://user@host:port/db)
    /// [default: $XDG_DATA_HOME/flightdeck/flightdeck.db]
    #[arg(long, env = "FLIGHTDECK_DB", value_name = "FILE|URL")]
    pub db: Option<PathBuf>,
    /// Configuration file (TOML); see flightdeck.example.toml
    #[arg(long, env = "FLIGHTDECK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Delete ended sessions older than this many days (kept forever if unset)
    #[arg(long, env = "FLIGHTDECK_RETAIN_DAYS", value_name = "DAYS")]
    pub retain_days: Option<u32>,
    /// Largest request body accepted, in bytes [default: 16 MiB]
    #[arg(long, env = "FLIGHTDECK_MAX_BODY_BYTES", value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Largest single field (input, output, message ...) accepted, in bytes [default: 4 MiB]
    #[arg(long, env = "FLIGHTDECK_MAX_FIELD_BYTES", value_name = "BYTES")]
    pub max_field_bytes: Option<usize>,
    /// Deepest nesting of arrays and objects in a JSON field (input, output, params, data)
    /// [default: 64]
    #[arg(long, env = "FLIGHTDECK_MAX_JSON_DEPTH", value_name = "LEVELS")]
    pub max_json_depth: Option<usize>,
    /// Also let pages from this origin open the live socket (/ws); repeatable. The served
    /// origin is always allowed
    #[arg(
        long = "allow-origin",
        env = "FLIGHTDECK_ALLOW_ORIGIN",
        value_name = "SCHEME://HOST[:PORT]",
        value_delimiter = ','
    )]
    pub allow_origin: Vec<String>,
    /// Messages a live client may fall behind by before it is told to resync [default: 1024]
    #[arg(long, env = "FLIGHTDECK_LIVE_QUEUE", value_name = "FRAMES")]
    pub live_queue: Option<usize>,
    /// Seconds between heartbeats to live clients [default: 15]
    #[arg(long, env = "FLIGHTDECK_HEARTBEAT_SECS", value_name = "SECS")]
    pub heartbeat_secs: Option<u64>,
    /// Seconds after its last status report that an agent shows as offline [default: 30]
    #[arg(long, env = "FLIGHTDECK_AGENT_OFFLINE_SECS", value_name = "SECS")]
    pub agent_offline_secs: Option<u64>,
    /// Seconds an OTLP session with every span ended stays quiet before it is completed
    /// (a later span reopens it) [default: 60]
    #[arg(long, env = "FLIGHTDECK_OTLP_SESSION_IDLE_SECS", value_name = "SECS")]
    pub otlp_session_idle_secs: Option<u64>,
    /// Seconds between samples of the host, its GPUs and Flightdeck's own process; 0 turns
    /// sampling off [default: 5]
    #[arg(long, env = "FLIGHTDECK_SYSTEM_METRICS_SECS", value_name = "SECS")]
    pub system_metrics_secs: Option<u64>,
    /// Hours metric samples are kept as sampled; older ones become one mean a minute
    /// [default: 24]
    #[arg(long, env = "FLIGHTDECK_METRICS_RAW_HOURS", value_name = "HOURS")]
    pub metrics_raw_hours: Option<u64>,
    /// Days metric series are kept (as minute means past the raw hours) [default: 30]
    #[arg(long, env = "FLIGHTDECK_METRICS_RETAIN_DAYS", value_name = "DAYS")]
    pub metrics_retain_days: Option<u64>,
    /// Seconds a pending review may go without an agent waiting for it before it is marked
    /// abandoned [default: 90]
    #[arg(long, env = "FLIGHTDECK_REVIEW_ABANDON_SECS", value_name = "SECS")]
    pub review_abandon_secs: Option<u64>,
    /// The longest single wait for a review decision (GET /api/v1/reviews/{id}?wait=), 1 to
    /// 59 seconds [default: 50]
    #[arg(long, env = "FLIGHTDECK_REVIEW_MAX_WAIT_SECS", value_name = "SECS")]
    pub review_max_wait_secs: Option<u64>,
    /// Address of the OTLP/gRPC listener (OTLP/HTTP is on the main address)
    /// [default: 127.0.0.1:4317]
    #[arg(long, env = "FLIGHTDECK_OTLP_GRPC_ADDR", value_name = "HOST:PORT")]
    pub otlp_grpc_addr: Option<SocketAddr>,
    /// Do not listen for OTLP/gRPC
    #[arg(
        long,
        env = "FLIGHTDECK_NO_OTLP_GRPC",
        conflicts_with = "otlp_grpc_addr"
    )]
    pub no_otlp_grpc: bool,
    /// Access token that clients must send (`Authorization: Bearer`); required with
    /// --password or alone to listen beyond loopback. Prefer the environment variable: flags
    /// show in the process list
    #[arg(
        long,
        env = "FLIGHTDECK_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Password of the web page's login (/login). Prefer the environment variable
    #[arg(
        long,
        env = "FLIGHTDECK_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
}

/// Options of `flightdeck demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Sessions to simulate (default: keep starting new ones until Ctrl-C)
    #[arg(long, value_name = "N")]
    pub sessions: Option<usize>,
    /// Simulated time per real time: 1 is real time, 10 is ten times faster
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub speed: f64,
    /// Seed of every random choice: the same seed plays the same sessions [default: random]
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Sessions running at once
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub concurrency: usize,
    /// Seconds the heist's vault and the pipeline's `git push` wait for a person on the
    /// page before they go on by themselves; 0 turns the review gates off
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    pub review_timeout: f64,
    /// Drive a Flightdeck that already runs at URL instead of starting one
    #[arg(long, value_name = "URL")]
    pub no_serve: Option<String>,
    /// Server options (used unless --no-serve is given); the database defaults to demo.db
    /// beside the default database
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Options of `flightdeck bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchTarget,
}

#[derive(Subcommand, Debug)]
pub enum BenchTarget {
    /// Spans per second into SQLite, through the store and through HTTP on loopback.
    Ingest(IngestBenchArgs),
    /// Event-to-client latency of the live hub, stepping the event rate up.
    Live(LiveBenchArgs),
    /// Latency the LLM proxy adds, and the request rate it holds, against a fake upstream.
    Proxy(ProxyBenchArgs),
    /// Latency of a call answered from a replay's recording, against a direct call.
    Replay(ReplayBenchArgs),
    /// What a playground run adds to the first streamed token, against a fake upstream.
    Playground(PlaygroundBenchArgs),
    /// OTLP/HTTP protobuf ingest in spans per second, beside native ingest of the same spans.
    Otlp(OtlpBenchArgs),
    /// Start time and memory of `flightdeck serve`: idle, and under ingest and proxy load.
    Footprint(FootprintBenchArgs),
    /// Review gates: decision-to-agent latency (long-poll and socket) with reviews pending,
    /// and ingest with 10,000 reviews pending against none.
    Reviews(ReviewsBenchArgs),
    /// Metric points per second into SQLite through the store, beside a bare rusqlite loop.
    Metrics(MetricsBenchArgs),
    /// Trace files: import spans per second from a native JSONL file beside the bare decode
    /// loop, and append-to-browser latency of a watched file beside HTTP ingest.
    Import(ImportBenchArgs),
    /// Spans per second into PostgreSQL through the store, beside a bare COPY of the same rows.
    Postgres(PostgresBenchArgs),
}

/// Options of `flightdeck bench postgres`.
#[derive(Args, Debug)]
pub struct PostgresBenchArgs {
    #[command(flatten)]
    pub load: IngestLoad,
    /// The server, as a URL whose user may create databases (`scripts/postgres.sh start`
    /// prints one); each run makes its own and drops it
    #[arg(long, value_name = "URL")]
    pub db: String,
}

/// Options of `flightdeck bench metrics`.
#[derive(Args, Debug)]
pub struct MetricsBenchArgs {
    /// Points to write
    #[arg(long, default_value_t = 500_000)]
    pub points: usize,
    /// Points per batch (per append call)
    #[arg(long, default_value_t = 5_000)]
    pub batch: usize,
    /// Concurrent producers
    #[arg(long, default_value_t = 4)]
    pub producers: usize,
}

/// Options of `flightdeck bench import`.
#[derive(Args, Debug)]
pub struct ImportBenchArgs {
    /// Spans in the imported file
    #[arg(long, default_value_t = 100_000)]
    pub spans: usize,
    /// Events per second appended to the watched file (and posted, for the baseline)
    #[arg(long, default_value_t = 1_000)]
    pub rate: u64,
    /// Seconds of appending (and of posting)
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Where to put the benchmark files [default: a temporary directory]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Options of `flightdeck bench reviews`.
#[derive(Args, Debug)]
pub struct ReviewsBenchArgs {
    /// Reviews pending, each with an agent waiting, while decisions are timed
    #[arg(long, default_value_t = 100)]
    pub pending: usize,
    /// Decisions timed per way of waiting
    #[arg(long, default_value_t = 1_000)]
    pub decisions: usize,
    /// Reviews pending (nobody waiting) during the ingest runs
    #[arg(long, default_value_t = 10_000)]
    pub ingest_pending: usize,
    /// Ingest runs of each kind (with and without pending reviews), alternating
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    #[command(flatten)]
    pub load: IngestLoad,
    /// Where to put the benchmark databases [default: a temporary directory]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Options of `flightdeck bench footprint`.
#[derive(Args, Debug)]
pub struct FootprintBenchArgs {
    #[command(flatten)]
    pub load: IngestLoad,
    /// Seconds of proxy load (64 callers, 20 ms upstream) alongside the ingest
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
}

/// Options of `flightdeck bench proxy`.
#[derive(Args, Debug)]
pub struct ProxyBenchArgs {
    /// Calls per latency measurement (per path, concurrency and mode)
    #[arg(long, default_value_t = 2_000)]
    pub calls: usize,
    /// Seconds of each request-rate measurement
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Concurrent callers in the request-rate measurement
    #[arg(long, default_value_t = 256)]
    pub rate_concurrency: usize,
    /// The `litellm` executable, to measure LiteLLM's proxy in the same run
    /// (scripts/bench-proxy.sh installs it)
    #[arg(long, value_name = "PATH")]
    pub litellm: Option<std::path::PathBuf>,
}

/// Options of `flightdeck bench replay`.
#[derive(Args, Debug)]
pub struct ReplayBenchArgs {
    /// Calls per latency measurement (per path, concurrency and mode)
    #[arg(long, default_value_t = 2_000)]
    pub calls: usize,
}

/// Options of `flightdeck bench playground`.
#[derive(Args, Debug)]
pub struct PlaygroundBenchArgs {
    /// Calls per path (direct, A/A, playground), interleaved
    #[arg(long, default_value_t = 500)]
    pub calls: usize,
}

/// Options of `flightdeck bench otlp`.
#[derive(Args, Debug)]
pub struct OtlpBenchArgs {
    /// Spans to send in each measured run
    #[arg(long, default_value_t = 100_000)]
    pub spans: usize,
    /// Spans per request (512 is the OTel SDKs' default export batch)
    #[arg(long, default_value_t = 512)]
    pub batch: usize,
    /// Concurrent HTTP clients
    #[arg(long, default_value_t = 4)]
    pub producers: usize,
    /// Where to put the benchmark databases [default: a temporary directory]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Also write the OTLP request bodies there (NNNNN.pb), to send the same payloads to
    /// another receiver (scripts/bench-phoenix.sh)
    #[arg(long, value_name = "DIR")]
    pub save_payloads: Option<PathBuf>,
}

/// The generated ingest load of `bench ingest` and `bench footprint`.
#[derive(Args, Debug)]
pub struct IngestLoad {
    /// Spans to write in each measured run
    #[arg(long, default_value_t = 200_000)]
    pub spans: usize,
    /// Spans per batch (per append call or HTTP request)
    #[arg(long, default_value_t = 1_000)]
    pub batch: usize,
    /// Concurrent producers (tasks calling the store, or HTTP clients)
    #[arg(long, default_value_t = 4)]
    pub producers: usize,
}

/// Options of `flightdeck bench ingest`.
#[derive(Args, Debug)]
pub struct IngestBenchArgs {
    #[command(flatten)]
    pub load: IngestLoad,
    /// Where to put the benchmark databases [default: a temporary directory]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Options of `flightdeck bench live`.
#[derive(Args, Debug)]
pub struct LiveBenchArgs {
    /// WebSocket clients watching the session
    #[arg(long, default_value_t = 20)]
    pub clients: usize,
    /// Event rates to try in turn, in events per second
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "2000,5000,10000,20000,40000"
    )]
    pub rates: Vec<u64>,
    /// Seconds of ingest at each rate
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// A rate counts as held when every event reaches every client with p99 under this
    #[arg(long, default_value_t = 50.0, value_name = "MS")]
    pub p99_budget_ms: f64,
    /// Commit without fsync, to see the hub's share of the latency apart from the disk's
    #[arg(long)]
    pub no_fsync: bool,
    /// Where to put the benchmark database [default: a temporary directory]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}
