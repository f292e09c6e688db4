//! `GET /readyz` (can this server take writes now: the store's writer runs, its last commit
//! succeeded, its queue has room, the database's disk has space) and `GET /metrics`
//! (Flightdeck's own counters in the Prometheus text format, for teams that scrape).
//! `/healthz` (the process answers) is in the router.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::fmt::Write;
use std::path::Path;

/// Below this much free space where the database lives, the server is not ready.
const MIN_FREE_DISK: u64 = 64 * 1024 * 1024;

/// Free bytes on the file system holding `path` (the mount with the longest matching
/// prefix), when it can be told.
fn free_disk(path: &Path) -> Option<u64> {
    let path = std::fs::canonicalize(path).ok()?;
    let disks = sysinfo::Disks::new_with_refreshed_list().ok()?;
    disks
        .iter()
        .filter(|d| path.starts_with(d.mount_point()))
        .max_by_key(|d| d.mount_point().as_os_str().len())
        .map(|d| d.available_space())
}

pub async fn ready(State(app): State<AppState>) -> Response {
    let h = app.store.health();
    let free = match h.path.clone() {
        Some(p) => tokio::task::spawn_blocking(move || free_disk(&p))
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let checks = [
        ("writer_running", h.writer_running, json!(h.writer_running)),
        ("last_commit_ok", h.last_commit_ok, json!(h.last_commit_ok)),
        (
            "writer_queue",
            h.writer_queue < h.writer_queue_capacity,
            json!({"depth": h.writer_queue, "capacity": h.writer_queue_capacity}),
        ),
        (
            "free_disk",
            free.is_none_or(|f| f >= MIN_FREE_DISK),
            json!({"bytes": free, "at_least": MIN_FREE_DISK}),
        ),
    ];
    let failing: Vec<&str> = checks.iter().filter(|c| !c.1).map(|c| c.0).collect();
    let body = json!({
        "status": if failing.is_empty() { "ready" } else { "not ready" },
        "failing": failing,
        "checks": checks.iter().map(|c| (c.0.to_owned(), c.2.clone())).collect::<serde_json::Map<_, _>>(),
    });
    let status = if failing.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// The Prometheus text format, version 0.0.4: `# HELP`, `# TYPE`, then the samples (a
/// counter's name ends in `_total`, as the format's convention has it).
#[derive(Default)]
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str, samples: &[(&[(&str, &str)], f64)]) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = write!(self.0, "{name}");
            if !labels.is_empty() {
                let text: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                    .collect();
                let _ = write!(self.0, "{{{}}}", text.join(","));
            }
            let _ = writeln!(self.0, " {value}");
        }
    }

    fn one(&mut self, name: &str, kind: &str, help: &str, value: f64) {
        self.family(name, kind, help, &[(&[], value)]);
    }
}

/// A label value with `\`, `"` and newlines escaped, as the format asks.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub async fn metrics(State(app): State<AppState>) -> Response {
    let h = app.store.health();
    let hub = app.hub.stats();
    let mut out = Exposition::default();
    out.family(
        "flightdeck_build_info",
        "gauge",
        "The running Flightdeck's version.",
        &[(&[("version", env!("CARGO_PKG_VERSION"))], 1.0)],
    );
    out.one(
        "flightdeck_store_committed_messages_total",
        "counter",
        "Messages committed to the store (every source).",
        h.committed_messages as f64,
    );
    out.one(
        "flightdeck_store_commits_total",
        "counter",
        "Group commits of the store's writer.",
        h.commits as f64,
    );
    out.one(
        "flightdeck_store_failed_commits_total",
        "counter",
        "Commits that failed (their batches were refused).",
        h.failed_commits as f64,
    );
    out.one(
        "flightdeck_store_commit_seconds_total",
        "counter",
        "Time the writer spent committing.",
        h.commit_seconds,
    );
    out.one(
        "flightdeck_store_writer_queue",
        "gauge",
        "Writes waiting for the store's writer.",
        h.writer_queue as f64,
    );
    out.one(
        "flightdeck_store_writer_queue_capacity",
        "gauge",
        "Writes that may wait before appends wait too.",
        h.writer_queue_capacity as f64,
    );
    out.one(
        "flightdeck_hub_subscribers",
        "gauge",
        "Live subscriptions (pages, SSE clients) now.",
        hub.subscribers as f64,
    );
    out.one(
        "flightdeck_hub_frames_queued_total",
        "counter",
        "Frames queued to live subscribers.",
        hub.frames_queued as f64,
    );
    out.family(
        "flightdeck_hub_resyncs_total",
        "counter",
        "Live subscriptions told to resync, by cause.",
        &[
            (&[("cause", "queue_full")], hub.resyncs.queue_full as f64),
            (&[("cause", "hub_lagged")], hub.resyncs.hub_lagged as f64),
        ],
    );
    out.one(
        "flightdeck_proxy_calls_total",
        "counter",
        "LLM calls through the proxy.",
        app.proxy.calls() as f64,
    );
    out.one(
        "flightdeck_proxy_records_lost_total",
        "counter",
        "Proxy records dropped because recording fell behind.",
        app.proxy.records_lost() as f64,
    );
    let refused = app.refusals.summary();
    let labels: Vec<(String, String, String, u64)> = refused
        .iter()
        .map(|r| {
            let source = serde_json::to_value(r.source)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            (source, r.unit.to_owned(), r.reason.clone(), r.total)
        })
        .collect();
    let samples: Vec<([(&str, &str); 3], f64)> = labels
        .iter()
        .map(|(s, u, r, n)| {
            (
                [
                    ("source", s.as_str()),
                    ("unit", u.as_str()),
                    ("reason", r.as_str()),
                ],
                *n as f64,
            )
        })
        .collect();
    let samples: Vec<(&[(&str, &str)], f64)> = samples.iter().map(|(l, n)| (&l[..], *n)).collect();
    out.family(
        "flightdeck_refused_total",
        "counter",
        "Incoming items refused, by source, unit and reason.",
        &samples,
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out.0,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut e = Exposition::default();
        e.family(
            "x_total",
            "counter",
            "An x.",
            &[(&[("why", "a \"b\"\\\nc")], 2.0)],
        );
        assert_eq!(
            e.0,
            "# HELP x_total An x.\n# TYPE x_total counter\nx_total{why=\"a \\\"b\\\"\\\\\\nc\"} 2\n"
        );
    }
}
