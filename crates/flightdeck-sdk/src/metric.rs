//! Metrics: points of named time series (queue depth, wait time, custom), of a session or
//! of none.

use crate::client::Client;
use crate::payload::now;
use flightdeck_model::{Message, Metric};
use std::collections::BTreeMap;

/// Describes a metric point; from [`Client::metric`] or
/// [`SessionHandle::metric`](crate::SessionHandle::metric).
#[must_use = "a metric is only recorded once `send` is called"]
pub struct MetricBuilder {
    client: Client,
    metric: Metric,
}

impl MetricBuilder {
    pub(crate) fn new(
        client: Client,
        session_id: Option<String>,
        name: String,
        value: f64,
    ) -> Self {
        MetricBuilder {
            client,
            metric: Metric {
                session_id,
                name,
                value,
                at: None,
                unit: None,
                labels: BTreeMap::new(),
            },
        }
    }

    /// Adds a label (`queue="jobs"`).
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metric.labels.insert(key.into(), value.into());
        self
    }

    /// The unit (`ms`, `jobs`, `bytes`).
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.metric.unit = Some(unit.into());
        self
    }

    /// Sends the point, timestamped now.
    pub fn send(mut self) {
        self.metric.at = now();
        self.client.send(Message::Metric(self.metric));
    }
}

#[cfg(test)]
mod tests {
    use crate::MemorySink;
    use crate::test_support::{client_with, metrics_of};

    #[tokio::test]
    async fn metrics_of_a_session_and_of_none() {
        let sink = MemorySink::new();
        let client = client_with(sink.clone());
        client.metric("system.cpu", 0.25).unit("ratio").send();
        let session = client.session("s").id("s1").start();
        session
            .metric("queue.depth", 3.0)
            .label("queue", "jobs")
            .unit("jobs")
            .send();
        client.flush().await.unwrap();
        let metrics = metrics_of(&sink);
        assert_eq!(metrics[0].session_id, None);
        assert_eq!(
            (metrics[0].name.as_str(), metrics[0].value),
            ("system.cpu", 0.25)
        );
        assert_eq!(metrics[1].session_id.as_deref(), Some("s1"));
        assert_eq!(metrics[1].labels["queue"], "jobs");
        assert_eq!(metrics[1].unit.as_deref(), Some("jobs"));
        assert!(metrics.iter().all(|m| m.at.is_some()));
    }
}
