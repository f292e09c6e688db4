//! OTLP metrics into metric points: each data point of a gauge or sum is one point under the
//! metric's name; a histogram (explicit or exponential) gives `<name>.count`, `<name>.sum`
//! and, when sent, `<name>.min` / `<name>.max`; a summary gives its count and sum and each
//! quantile as `<name>` with a `quantile` label. Labels are the point's attributes, with the
//! resource's `service.name`; a `session.id` attribute (of the point or the resource) files
//! the point in that session. Sums are stored as sent (cumulative or delta, named in the
//! `temporality` label), so a chart of a counter shows what the exporter counted.

use super::export::Rejections;
use super::value::attributes;
use super::{ExportError, Outcome};
use crate::App;
use flightdeck_model::message::Metric;
use flightdeck_model::{Attributes, Message, Timestamp, validate};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as Number;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// The attribute that files a point in a session.
const SESSION: &str = "session.id";

/// The points an export carries (a metric without data counts as one, to be refused).
pub fn count(r: &ExportMetricsServiceRequest) -> usize {
    r.resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| match &m.data {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Sum(s)) => s.data_points.len(),
            Some(Data::Histogram(h)) => h.data_points.len(),
            Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
            Some(Data::Summary(s)) => s.data_points.len(),
            None => 1,
        })
        .sum()
}

/// Where a point goes: its labels and session, from its attributes over the resource's.
struct Place {
    labels: BTreeMap<String, String>,
    session: Option<String>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn place(resource: &Attributes, point: &Attributes) -> Place {
    let mut labels = BTreeMap::new();
    if let Some(service) = resource.get("service.name") {
        labels.insert("service.name".to_owned(), text(service));
    }
    let mut session = resource.get(SESSION).map(text);
    for (k, v) in point {
        if k == SESSION {
            session = Some(text(v));
        } else {
            labels.insert(k.clone(), text(v));
        }
    }
    Place { labels, session }
}

fn at(time_unix_nano: u64) -> Option<Timestamp> {
    (time_unix_nano > 0).then_some(Timestamp(time_unix_nano as i64))
}

fn number(p: &NumberDataPoint) -> Option<f64> {
    match p.value? {
        Number::AsDouble(v) => Some(v),
        Number::AsInt(v) => Some(v as f64),
    }
}

/// The points of one metric, or why a point was left out.
fn points(
    metric: &opentelemetry_proto::tonic::metrics::v1::Metric,
    resource: &Attributes,
) -> Vec<Result<Metric, String>> {
    let unit = (!metric.unit.is_empty()).then(|| metric.unit.clone());
    let point = |name: String, value: f64, time: u64, place: &Place, extra: &[(&str, String)]| {
        let mut labels = place.labels.clone();
        for (k, v) in extra {
            labels.insert((*k).to_owned(), v.clone());
        }
        Metric {
            session_id: place.session.clone(),
            name,
            value,
            at: at(time),
            unit: unit.clone(),
            labels,
        }
    };
    let name = &metric.name;
    let mut out = Vec::new();
    match &metric.data {
        None => out.push(Err(format!("metric {name:?} has no data"))),
        Some(Data::Gauge(g)) => {
            for p in &g.data_points {
                let place = place(resource, &attributes(&p.attributes, ""));
                out.push(
                    number(p)
                        .map(|v| point(name.clone(), v, p.time_unix_nano, &place, &[]))
                        .ok_or_else(|| format!("a point of {name:?} has no value")),
                );
            }
        }
        Some(Data::Sum(s)) => {
            let temporality = match AggregationTemporality::try_from(s.aggregation_temporality) {
                Ok(AggregationTemporality::Delta) => "delta",
                _ => "cumulative",
            };
            for p in &s.data_points {
                let place = place(resource, &attributes(&p.attributes, ""));
                let extra = [("temporality", temporality.to_owned())];
                out.push(
                    number(p)
                        .map(|v| point(name.clone(), v, p.time_unix_nano, &place, &extra))
                        .ok_or_else(|| format!("a point of {name:?} has no value")),
                );
            }
        }
        Some(Data::Histogram(h)) => {
            for p in &h.data_points {
                out.extend(histogram(name, p, resource, &point));
            }
        }
        Some(Data::ExponentialHistogram(h)) => {
            for p in &h.data_points {
                out.extend(histogram(name, p, resource, &point));
            }
        }
        Some(Data::Summary(s)) => {
            for p in &s.data_points {
                let place = place(resource, &attributes(&p.attributes, ""));
                let t = p.time_unix_nano;
                out.push(Ok(point(
                    format!("{name}.count"),
                    p.count as f64,
                    t,
                    &place,
                    &[],
                )));
                out.push(Ok(point(format!("{name}.sum"), p.sum, t, &place, &[])));
                for q in &p.quantile_values {
                    let extra = [("quantile", q.quantile.to_string())];
                    out.push(Ok(point(name.clone(), q.value, t, &place, &extra)));
                }
            }
        }
    }
    out
}

/// A histogram point, explicit or exponential: what both kinds have.
trait HistogramPoint {
    fn attributes(&self) -> &[KeyValue];
    fn time(&self) -> u64;
    /// Count, sum, min and max, those sent.
    fn stats(&self) -> [(&'static str, Option<f64>); 4];
}

macro_rules! histogram_point {
    ($($t:ty),*) => {$(
        impl HistogramPoint for $t {
            fn attributes(&self) -> &[KeyValue] {
                &self.attributes
            }
            fn time(&self) -> u64 {
                self.time_unix_nano
            }
            fn stats(&self) -> [(&'static str, Option<f64>); 4] {
                [("count", Some(self.count as f64)), ("sum", self.sum), ("min", self.min), ("max", self.max)]
            }
        }
    )*};
}

histogram_point!(HistogramDataPoint, ExponentialHistogramDataPoint);

/// A histogram point's count, sum, min and max (those sent) as points of `<name>.<stat>`.
fn histogram(
    name: &str,
    p: &impl HistogramPoint,
    resource: &Attributes,
    point: &impl Fn(String, f64, u64, &Place, &[(&str, String)]) -> Metric,
) -> Vec<Result<Metric, String>> {
    let place = place(resource, &attributes(p.attributes(), ""));
    p.stats()
        .into_iter()
        .filter_map(|(stat, v)| {
            v.map(|v| Ok(point(format!("{name}.{stat}"), v, p.time(), &place, &[])))
        })
        .collect()
}

/// Maps and stores an OTLP metrics export; a point that breaks the rules is left out alone
/// and counted in the partial success.
pub async fn export_metrics(
    app: &App,
    request: ExportMetricsServiceRequest,
) -> Result<Outcome, ExportError> {
    let now = Timestamp::now();
    let mut messages = Vec::new();
    let mut rejections = Rejections::default();
    for rm in &request.resource_metrics {
        let resource = rm
            .resource
            .as_ref()
            .map_or_else(Attributes::new, |r| attributes(&r.attributes, ""));
        for m in rm.scope_metrics.iter().flat_map(|s| &s.metrics) {
            for p in points(m, &resource) {
                let checked = p.and_then(|mut point| {
                    point.at.get_or_insert(now);
                    let message = Message::Metric(point);
                    validate(&message, &app.config.limits)
                        .map(|()| message)
                        .map_err(|(field, e)| match field {
                            Some(f) => format!("metric point: {f}: {e}"),
                            None => format!("metric point: {e}"),
                        })
                });
                match checked {
                    Ok(message) => messages.push(message),
                    Err(why) => rejections.add(1, why.clone(), why),
                }
            }
        }
    }
    let stored = messages.len();
    if stored > 0 {
        app.store.append(messages).await?;
    }
    rejections.finish(stored, "data points")
}
