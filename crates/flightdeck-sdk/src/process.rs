//! The agent process's own figures, as the Python SDK's `process_metrics()` sends them
//! (docs/protocol.md, "Process figures"): a thread samples every interval and sends
//!
//! - `process.cpu.utilization`: CPU time over wall time since the previous sample, in cores
//!   (`/proc/self/schedstat`);
//! - `process.memory.usage`: resident memory in bytes (`VmRSS` of `/proc/self/status`);
//! - `process.thread.count`: the process's threads (`Threads` of `/proc/self/status`);
//!
//! labelled `pid` and, when given, `agent`; in a session with
//! [`SessionHandle::process_metrics`](crate::SessionHandle::process_metrics), else of no session
//! with [`Client::process_metrics`](crate::Client::process_metrics). A figure the system does
//! not give (no `/proc` outside Linux) is left out.
//!
//! ```no_run
//! # fn demo(session: &flightdeck_sdk::SessionHandle) {
//! let sampler = session.process_metrics(std::time::Duration::from_secs(10), Some("coder"));
//! // ... the agent works ...
//! sampler.stop(); // a last sample, then the thread ends
//! # }
//! ```

use crate::metric::MetricBuilder;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where a sample goes: a metric of a session or of no session.
pub(crate) type Sink = Box<dyn Fn(&str, f64) -> MetricBuilder + Send>;

/// The sampling thread; [`stop`](ProcessMetrics::stop) (or dropping it) takes a last sample
/// and ends it.
#[derive(Debug)]
pub struct ProcessMetrics {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// CPU seconds this process has run, from `/proc/self/schedstat` (nanoseconds on a CPU).
fn cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

/// A field of `/proc/self/status` ("VmRSS:   1234 kB"), its first number.
fn status_field(status: &str, field: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

impl ProcessMetrics {
    pub(crate) fn start(sink: Sink, interval: Duration, agent: Option<&str>) -> ProcessMetrics {
        let (stop, stopped) = mpsc::channel::<()>();
        let mut labels = vec![("pid", std::process::id().to_string())];
        if let Some(agent) = agent {
            labels.push(("agent", agent.to_owned()));
        }
        let thread = std::thread::Builder::new()
            .name("flightdeck-process-metrics".into())
            .spawn(move || {
                let send = |name: &str, value: f64, unit: &str| {
                    let mut m = sink(name, value).unit(unit);
                    for (k, v) in &labels {
                        m = m.label(*k, v.clone());
                    }
                    m.send();
                };
                let (mut cpu, mut wall) = (cpu_seconds(), Instant::now());
                loop {
                    // A message or a dropped sender stops it, after a last sample.
                    let last = !matches!(
                        stopped.recv_timeout(interval),
                        Err(RecvTimeoutError::Timeout)
                    );
                    let (cpu_now, wall_now) = (cpu_seconds(), Instant::now());
                    if let (Some(a), Some(b)) = (cpu, cpu_now) {
                        let secs = (wall_now - wall).as_secs_f64().max(1e-9);
                        send("process.cpu.utilization", (b - a) / secs, "1");
                    }
                    (cpu, wall) = (cpu_now, wall_now);
                    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
                        if let Some(kib) = status_field(&status, "VmRSS:") {
                            send("process.memory.usage", kib * 1024.0, "By");
                        }
                        if let Some(n) = status_field(&status, "Threads:") {
                            send("process.thread.count", n, "{thread}");
                        }
                    }
                    if last {
                        break;
                    }
                }
            })
            .expect("spawning the process metrics thread");
        ProcessMetrics {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Takes a last sample and ends the thread.
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ProcessMetrics {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::metrics_of;
    use crate::{Flightdeck, MemorySink};
    use std::time::Duration;

    #[tokio::test]
    async fn a_sample_names_the_pid_and_agent_and_belongs_to_the_session() {
        let sink = MemorySink::new();
        let client = Flightdeck::with_transport(sink.clone()).build().unwrap();
        let session = client.session("process").start();
        session
            .process_metrics(Duration::from_secs(3600), Some("coder"))
            .stop();
        client
            .process_metrics(Duration::from_secs(3600), None)
            .stop();
        session.end();
        client.flush().await.unwrap();
        let metrics = metrics_of(&sink);
        let pid = std::process::id().to_string();
        let of = |name: &str, session: bool| {
            metrics
                .iter()
                .find(|m| m.name == name && m.session_id.is_some() == session)
                .unwrap_or_else(|| panic!("{name} (session {session}) in {metrics:?}"))
        };
        for session in [true, false] {
            let memory = of("process.memory.usage", session);
            assert!(memory.value > 1e6, "{memory:?}");
            assert_eq!(memory.unit.as_deref(), Some("By"));
            assert_eq!(memory.labels.get("pid"), Some(&pid));
            assert!(of("process.thread.count", session).value >= 1.0);
            assert!(of("process.cpu.utilization", session).value >= 0.0);
        }
        assert_eq!(
            of("process.memory.usage", true)
                .labels
                .get("agent")
                .map(String::as_str),
            Some("coder")
        );
        assert_eq!(of("process.memory.usage", false).labels.get("agent"), None);
    }
}
