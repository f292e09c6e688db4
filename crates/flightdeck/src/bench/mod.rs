//! `flightdeck bench`: benchmarks that print figures and assert nothing about time.

mod bare;
mod bare_hub;
mod footprint;
mod import;
mod ingest;
mod litellm;
mod live;
mod local;
mod metrics;
mod otlp;
mod playground;
mod postgres;
mod proxy;
mod replay;
mod review_agents;
mod reviews;
mod text;
mod watchers;

use crate::cli::{BenchArgs, BenchTarget};
use local::LocalServer;

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.what {
        BenchTarget::Ingest(a) => ingest::run(a).await,
        BenchTarget::Live(a) => live::run(a).await,
        BenchTarget::Proxy(a) => proxy::run(a).await,
        BenchTarget::Replay(a) => replay::run(a).await,
        BenchTarget::Playground(a) => playground::run(a).await,
        BenchTarget::Otlp(a) => otlp::run(a).await,
        BenchTarget::Footprint(a) => footprint::run(a).await,
        BenchTarget::Reviews(a) => reviews::run(a).await,
        BenchTarget::Metrics(a) => metrics::run(a).await,
        BenchTarget::Import(a) => import::run(a).await,
        BenchTarget::Postgres(a) => postgres::run(a).await,
    }
}

/// The `q` quantile (0 to 1) of sorted samples, by nearest rank; 0 when there are none.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
