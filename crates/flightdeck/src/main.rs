//! The `flightdeck` binary: parses the command line and hands over to a command module.
//!
//! - `serve`: run the server (see [`serve`]);
//! - `demo`: the server plus a simulated crew driving it through the SDK (see [`demo`]);
//! - `bench`: print throughput figures (see [`bench`]);
//! - `export`, `import`, `watch`, `share`: trace files (see [`files`]).

mod bench;
mod cli;
mod config;
mod database;
mod demo;
mod files;
mod serve;

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // The file commands print their own summary; the store's opening news is noise there.
    let quiet = matches!(
        cli.command,
        cli::Command::Export(_) | cli::Command::Import(_)
    );
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(if quiet { "warn" } else { "info" })
            }),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line with the whole chain of causes, never a backtrace: what failed here is
            // the user's to fix (a flag, the config, a port in use, a database it cannot open).
            eprintln!("flightdeck: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: cli::Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            cli::Command::Serve(args) => files::serve(args).await,
            cli::Command::Demo(args) => demo::run(args).await,
            cli::Command::Bench(args) => bench::run(args).await,
            cli::Command::Export(args) => files::export(args).await,
            cli::Command::Import(args) => files::import(args).await,
            cli::Command::Watch(args) => files::watch(args).await,
            cli::Command::Share(args) => files::share(args).await,
        }
    })
}
