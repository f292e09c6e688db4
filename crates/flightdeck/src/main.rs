//! The `flightdeck` binary: parses the command line and hands over to a command module.
//!
//! - `serve`: run the server (see [`serve`]);
//! - `demo`: the server plus a simulated crew driving it through the SDK (see [`demo`]);
//! - `bench`: print throughput figures (see [`bench`]).

mod bench;
mod cli;
mod config;
mod demo;
mod serve;

use clap::Parser;
use std::io::IsTerminal;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            cli::Command::Serve(args) => serve::run(config::Config::resolve(args)?).await,
            cli::Command::Demo(args) => demo::run(args).await,
            cli::Command::Bench(args) => bench::run(args).await,
        }
    })
}
