//! The fake LLM as a process of its own, for tests outside Rust (the browser tests): starts
//! on a free loopback port (or `--port N`), prints its URL on one line, and serves until it
//! is killed.

use flightdeck_fake_llm::{FakeLlm, Options};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port = match (args.next().as_deref(), args.next()) {
        (None, _) => 0,
        (Some("--port"), Some(p)) => p.parse().map_err(|_| {
            std::io::Error::other(format!("fake-llm: --port takes a number, not {p:?}"))
        })?,
        _ => return Err(std::io::Error::other("usage: fake-llm [--port N]")),
    };
    let fake = FakeLlm::start_at(([127, 0, 0, 1], port).into(), Options::default()).await?;
    println!("{}", fake.url());
    std::future::pending::<()>().await;
    Ok(())
}
