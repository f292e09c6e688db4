//! `flightdeck bench`: benchmarks that print figures and assert nothing about time.

mod ingest;
mod otlp;
mod text;

use crate::cli::{BenchArgs, BenchTarget};

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.what {
        BenchTarget::Ingest(a) => ingest::run(a).await,
        BenchTarget::Otlp(a) => otlp::run(a).await,
    }
}
