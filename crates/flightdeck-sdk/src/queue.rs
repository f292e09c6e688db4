//! Queue helpers: jobs enqueued, started and done, reported as the protocol's queue
//! convention (docs/protocol.md, "Queues") has it, the same as the Python SDK's:
//!
//! - events of category `queue` named `job.enqueued` / `job.started` / `job.done`, with data
//!   `{"queue", "job_id", "wait_ms" (at start), "run_ms" and "status" (at done)}` and the
//!   event id `<queue>:<job_id>:<step>` (a step reported twice is stored once);
//! - metrics labelled `queue`: `queue.wait_ms` at each start, `queue.run_ms` and
//!   `queue.completed` (1, label `status`) at each done, and after each step this process's
//!   `queue.depth` (enqueued, not started) and `queue.processing` (started, not done).
//!
//! ```no_run
//! # fn demo(session: &flightdeck_sdk::SessionHandle) {
//! let jobs = session.queue("coding");
//! let id = jobs.enqueued(None);
//! jobs.started(&id);
//! jobs.done(&id, true);
//! # }
//! ```

use crate::payload::new_id;
use crate::session::SessionHandle;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One queue of a session; cheap to clone, shared between workers of one process.
#[derive(Clone, Debug)]
pub struct Queue {
    session: SessionHandle,
    name: String,
    state: Arc<Mutex<Jobs>>,
}

#[derive(Debug, Default)]
struct Jobs {
    enqueued: HashMap<String, Instant>,
    started: HashMap<String, Instant>,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

impl Queue {
    pub(crate) fn new(session: SessionHandle, name: String) -> Queue {
        Queue {
            session,
            name,
            state: Arc::default(),
        }
    }

    fn jobs(&self) -> std::sync::MutexGuard<'_, Jobs> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A job joined the queue; returns its id (a fresh one when `None`).
    pub fn enqueued(&self, job_id: Option<&str>) -> String {
        let id = job_id.map_or_else(new_id, str::to_owned);
        self.jobs().enqueued.insert(id.clone(), Instant::now());
        self.report(&id, "enqueued", json!({}));
        id
    }

    /// A worker took the job.
    pub fn started(&self, job_id: &str) {
        let since = {
            let mut jobs = self.jobs();
            jobs.started.insert(job_id.to_owned(), Instant::now());
            jobs.enqueued.remove(job_id)
        };
        let mut data = json!({});
        if let Some(since) = since {
            let wait = ms(since);
            data["wait_ms"] = wait.into();
            self.metric("queue.wait_ms", wait, "ms", None);
        }
        self.report(job_id, "started", data);
    }

    /// The job finished, well (`ok`) or not.
    pub fn done(&self, job_id: &str, ok: bool) {
        let since = {
            let mut jobs = self.jobs();
            jobs.enqueued.remove(job_id);
            jobs.started.remove(job_id)
        };
        let status = if ok { "ok" } else { "error" };
        let mut data = json!({"status": status});
        if let Some(since) = since {
            let run = ms(since);
            data["run_ms"] = run.into();
            self.metric("queue.run_ms", run, "ms", None);
        }
        self.metric("queue.completed", 1.0, "jobs", Some(status));
        self.report(job_id, "done", data);
    }

    fn report(&self, job_id: &str, step: &str, mut data: serde_json::Value) {
        data["queue"] = self.name.clone().into();
        data["job_id"] = job_id.into();
        self.session
            .event("queue")
            .id(format!("{}:{job_id}:{step}", self.name))
            .name(format!("job.{step}"))
            .message(format!("{}: job {job_id} {step}", self.name))
            .data(&data)
            .send();
        let (depth, processing) = {
            let jobs = self.jobs();
            (jobs.enqueued.len(), jobs.started.len())
        };
        self.metric("queue.depth", depth as f64, "jobs", None);
        self.metric("queue.processing", processing as f64, "jobs", None);
    }

    fn metric(&self, name: &str, value: f64, unit: &str, status: Option<&str>) {
        let mut m = self
            .session
            .metric(name, value)
            .unit(unit)
            .label("queue", self.name.clone());
        if let Some(s) = status {
            m = m.label("status", s);
        }
        m.send();
    }
}

#[cfg(test)]
mod tests {
    use crate::MemorySink;
    use crate::test_support::client_with;
    use flightdeck_model::Message;

    #[tokio::test]
    async fn a_job_reports_its_steps_waits_and_the_queue_depth() {
        let sink = MemorySink::new();
        let client = client_with(sink.clone());
        let session = client.session("pipeline").start();
        let jobs = session.queue("coding");
        let a = jobs.enqueued(Some("a"));
        let b = jobs.enqueued(None);
        jobs.started(&a);
        jobs.done(&a, false);
        drop(b);
        client.flush().await.unwrap();
        let messages = sink.messages();
        let events: Vec<(String, String)> = messages
            .iter()
            .filter_map(|m| match m {
                Message::Event(e) if e.category == "queue" => {
                    Some((e.event_id.clone().unwrap(), e.name.clone().unwrap()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            events[0],
            ("coding:a:enqueued".to_owned(), "job.enqueued".to_owned())
        );
        assert_eq!(
            events[2],
            ("coding:a:started".to_owned(), "job.started".to_owned())
        );
        assert_eq!(events[3].1, "job.done");
        let metric = |name: &str| -> Vec<(f64, Option<String>)> {
            messages
                .iter()
                .filter_map(|m| match m {
                    Message::Metric(x) if x.name == name => {
                        assert_eq!(x.labels["queue"], "coding");
                        Some((x.value, x.labels.get("status").cloned()))
                    }
                    _ => None,
                })
                .collect()
        };
        let depths: Vec<f64> = metric("queue.depth").iter().map(|d| d.0).collect();
        assert_eq!(
            depths,
            [1.0, 2.0, 1.0, 1.0],
            "enqueued, enqueued, started, done"
        );
        assert_eq!(metric("queue.processing").last().unwrap().0, 0.0);
        assert_eq!(metric("queue.completed"), [(1.0, Some("error".to_owned()))]);
        assert_eq!(metric("queue.wait_ms").len(), 1);
        assert_eq!(metric("queue.run_ms").len(), 1);
    }
}
