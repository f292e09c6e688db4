//! Flightdeck samples its host, its GPUs and its own process on a timer, and stores the
//! samples as metric points of no session (names after the OpenTelemetry system, process
//! and GPU conventions: `system.cpu.utilization`, `process.memory.usage`,
//! `gpu.utilization`, ...), so the System page charts them like any other series.
//!
//! - `host`: CPU, memory, swap, load, disk and network, and the process, with `sysinfo`;
//! - `gpu`: NVIDIA devices through NVML, or the reason there are none.

mod gpu;
mod host;

use flightdeck_model::message::Metric;
use flightdeck_model::{Message, Timestamp};
use flightdeck_store::Store;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The shortest interval between samples: CPU use is a difference between two reads, and
/// `sysinfo` needs them this far apart to be meaningful.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// One point, before it becomes a metric message.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: &'static str,
    pub value: f64,
    pub unit: &'static str,
    pub labels: BTreeMap<String, String>,
}

impl Sample {
    pub fn new(name: &'static str, value: f64, unit: &'static str) -> Sample {
        Sample {
            name,
            value,
            unit,
            labels: BTreeMap::new(),
        }
    }

    pub fn label(mut self, key: &str, value: impl Into<String>) -> Sample {
        self.labels.insert(key.to_owned(), value.into());
        self
    }

    fn into_message(self, at: Timestamp) -> Message {
        Message::Metric(Metric {
            session_id: None,
            name: self.name.to_owned(),
            value: self.value,
            at: Some(at),
            unit: Some(self.unit.to_owned()),
            labels: self.labels,
        })
    }
}

/// What the sampler knows of the machine, for `GET /api/v1/system`.
pub struct SystemInfo {
    interval: Option<Duration>,
    described: Mutex<serde_json::Value>,
}

impl SystemInfo {
    /// The sampling interval (none: off), the host and the GPUs, or why there are none.
    pub fn describe(&self) -> serde_json::Value {
        let mut out = self.described.lock().map(|d| d.clone()).unwrap_or_default();
        out["interval_secs"] = self.interval.map(|d| d.as_secs_f64()).into();
        out
    }
}

/// Starts sampling every `interval` (none: never) into `store`. Needs a tokio runtime.
pub fn start(store: Arc<dyn Store>, interval: Option<Duration>) -> Arc<SystemInfo> {
    let info = Arc::new(SystemInfo {
        interval,
        described: Mutex::new(serde_json::json!({
            "sampling": interval.is_some(),
            "gpu": {"available": false, "reason": "system metrics are off"},
        })),
    });
    let Some(interval) = interval.map(|i| i.max(MIN_INTERVAL)) else {
        return info;
    };
    let shared = Arc::clone(&info);
    tokio::spawn(async move {
        let opened = tokio::task::spawn_blocking(|| (host::Host::new(), gpu::Gpus::open())).await;
        let Ok((Ok(mut host), gpus)) = opened else {
            tracing::warn!("system metrics are off: the host cannot be read");
            return;
        };
        if let Ok(mut d) = shared.described.lock() {
            *d = serde_json::json!({"sampling": true, "host": host.describe(), "gpu": gpus.describe()});
        }
        let gpus = Arc::new(gpus);
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let g = Arc::clone(&gpus);
            let read = tokio::task::spawn_blocking(move || {
                let mut samples = host.sample();
                samples.extend(g.sample());
                (host, samples)
            })
            .await;
            let Ok((back, samples)) = read else {
                tracing::warn!("system metrics stopped: a read panicked");
                return;
            };
            host = back;
            let at = Timestamp::now();
            let batch = samples.into_iter().map(|s| s.into_message(at)).collect();
            if let Err(e) = store.append(batch).await {
                tracing::warn!(error = %e, "system metrics could not be stored");
            }
        }
    });
    info
}
