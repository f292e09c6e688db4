//! Records a small two-agent run into a Flightdeck server.
//!
//! Start a server (`flightdeck serve`), then:
//!
//! ```sh
//! cargo run -p flightdeck-sdk --example quickstart
//! FLIGHTDECK_URL=http://127.0.0.1:7329 cargo run -p flightdeck-sdk --example quickstart
//! ```
//!
//! Without a server it still runs: the client keeps retrying in the background, and the
//! final shutdown reports what could not be delivered.

use flightdeck_sdk::{AgentState, EdgeKind, Flightdeck, Level, SpanKind};
use serde_json::json;
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("FLIGHTDECK_URL").unwrap_or_else(|_| "http://127.0.0.1:7329".into());
    let client = Flightdeck::builder(&url)
        .flush_timeout(Duration::from_secs(5))
        .build()?;

    // A session is a guard: it ends itself when dropped (failed if the thread panics).
    let session = client
        .session("heist #1")
        .tags(["quickstart", "heist"])
        .metadata("target", "First Bank of Rust")
        .budget_usd(0.50)
        .start();

    // Agents report their state; a heartbeat keeps them "alive" while they work.
    let planner = session
        .agent("planner")
        .role("planner")
        .model("gpt-4o")
        .status(AgentState::Active)
        .send();
    let hacker = session
        .agent("hacker")
        .role("hacker")
        .model("gpt-4o-mini")
        .status(AgentState::Idle)
        .send();
    let _heartbeat = planner.heartbeat(Duration::from_secs(5));

    // Spans nest; each one is a guard that ends itself when dropped.
    let plan = planner.span(SpanKind::Agent, "plan the job").start();
    let llm = plan
        .child(SpanKind::Llm, "decompose")
        .model("gpt-4o")
        .provider("openai")
        .input(&json!([
            {"role": "system", "content": "You are the planner of a heist crew."},
            {"role": "user", "content": "Plan the First Bank job in three steps."}
        ]))
        .params(&json!({"temperature": 0.3, "max_tokens": 256}))
        .start();
    let answer = "1. Loop the cameras. 2. Crack the vault. 3. Leave by the loading dock.";
    for word in answer.split_inclusive(' ') {
        llm.chunk(word); // streamed output; numbered so a retry never doubles it
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    llm.usage(42, 19);
    llm.score("relevance", 0.92);
    llm.set_output(&json!({"role": "assistant", "content": answer}));
    llm.end();

    // Agents talk through edges; decisions and logs are events.
    session
        .edge(EdgeKind::Delegation)
        .from_agent("planner")
        .to_agent("hacker")
        .from_span(plan.id())
        .label("loop the cameras")
        .send();
    session.decision(
        "plan_revision",
        "switch the exit to the loading dock",
        &json!({"from": "front door", "to": "loading dock"}),
    );
    plan.end();

    hacker.active("loop the camera feed");
    let work = hacker.span(SpanKind::Agent, "loop cameras").start();
    let tool = work
        .child(SpanKind::Tool, "scan_cameras")
        .input(&json!({"floor": 1}))
        .start();
    let scan: Result<u32, String> = Ok(6); // your tool call here
    let cameras = tool.record(scan)?; // an Err would mark the span failed
    work.log(Level::Info, format!("{cameras} cameras looped"));
    work.end();
    hacker.status(AgentState::Idle);

    session.metric("crew.size", 2.0).unit("agents").send();
    session.end();

    // Deliver everything before exiting.
    let delivered = client.shutdown().await;
    println!("{:?}", client.stats());
    delivered?;
    println!("recorded; open {url} to see it");
    Ok(())
}
