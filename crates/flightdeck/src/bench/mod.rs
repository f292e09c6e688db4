//! `flightdeck bench`: benchmarks that print figures and assert nothing about time.

mod ingest;
mod live;
mod text;
mod watchers;

use crate::cli::{BenchArgs, BenchTarget};

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.what {
        BenchTarget::Ingest(a) => ingest::run(a).await,
        BenchTarget::Live(a) => live::run(a).await,
    }
}
