//! The machines the simulated agents run on: every heartbeat period each agent's process
//! reports its CPU (in cores) and resident memory as metrics of no session, labelled with
//! the agent, the way an agent's SDK helper or OpenTelemetry's process metrics would. The
//! retriever embeds on a GPU and reports it too, under the GPU names the server's own
//! sampler and the Python SDK use (label `gpu`). The values wander (a bounded random walk,
//! with bursts while the agent "thinks"), so the System page's agent-process and GPU charts
//! and the sessions' resource lanes are alive in the demo.

use crate::dice::Dice;
use flightdeck_sdk::Client;
use std::time::Duration;

/// Every agent of the scenarios, each on a process of its own.
pub(crate) const AGENTS: [&str; 9] = [
    "planner",
    "hacker",
    "safecracker",
    "mole",
    "request_planner",
    "code_planner",
    "coder",
    "orchestrator",
    "retriever",
];

/// The agent whose process holds a GPU (an embedding model).
const ON_GPU: &str = "retriever";

/// One agent process's state between reports.
struct Process {
    agent: &'static str,
    cpu: f64,
    rss_mib: f64,
    /// GPU utilisation (0..1) and the memory held on it, for the agent on a GPU.
    gpu: Option<(f64, f64)>,
}

/// Reports every `period` until the task is dropped.
pub(crate) async fn report(client: Client, mut dice: Dice, period: Duration) {
    let mut processes: Vec<Process> = AGENTS
        .iter()
        .map(|&agent| Process {
            agent,
            cpu: dice.between(0.05, 0.4),
            rss_mib: dice.between(180.0, 420.0),
            gpu: (agent == ON_GPU).then(|| (0.1, dice.between(2_000.0, 3_000.0))),
        })
        .collect();
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        for p in &mut processes {
            let burst = if dice.chance(0.2) {
                dice.between(0.6, 1.6)
            } else {
                0.0
            };
            p.cpu = (p.cpu * 0.6 + dice.between(0.02, 0.3) + burst * 0.4).clamp(0.01, 2.0);
            p.rss_mib = (p.rss_mib + dice.between(-12.0, 15.0)).clamp(150.0, 1_200.0);
            client
                .metric("process.cpu.utilization", p.cpu)
                .unit("1")
                .label("agent", p.agent)
                .send();
            client
                .metric("process.memory.usage", p.rss_mib * 1024.0 * 1024.0)
                .unit("By")
                .label("agent", p.agent)
                .send();
            if let Some((util, mem_mib)) = &mut p.gpu {
                *util = (*util * 0.5 + dice.between(0.0, 0.15) + burst * 0.3).clamp(0.0, 1.0);
                *mem_mib = (*mem_mib + dice.between(-40.0, 48.0)).clamp(1_500.0, 6_000.0);
                client
                    .metric("gpu.utilization", *util)
                    .unit("1")
                    .label("agent", p.agent)
                    .label("gpu", "0")
                    .send();
                client
                    .metric("gpu.process.memory.usage", *mem_mib * 1024.0 * 1024.0)
                    .unit("By")
                    .label("agent", p.agent)
                    .label("gpu", "0")
                    .send();
            }
        }
    }
}
