//! The LLM and tool statistics, from the spans in scope that a store reads: counts, tokens,
//! costs and latency percentiles, by model or by tool; and the headline figures' derived
//! parts.

use flightdeck_model::SpanKind;
use flightdeck_model::record::{LlmStats, OverviewStats, ToolStats, cost_unknown, known_cost};
use std::collections::BTreeMap;

/// Fills the figures derived from the counts: the completion rate (completed over ended
/// sessions) and the spans per session.
pub fn headline(counts: OverviewStats) -> OverviewStats {
    let ended = counts.completed + counts.failed;
    OverviewStats {
        completion_rate: (ended > 0).then(|| counts.completed as f64 / ended as f64),
        avg_spans_per_session: if counts.sessions > 0 {
            counts.totals.spans as f64 / counts.sessions as f64
        } else {
            0.0
        },
        ..counts
    }
}

/// The `q` quantile (0 to 1) of `sorted` by the nearest-rank method.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// One span in the scope of a statistics query, as a store reads it.
pub struct ScopedSpan {
    /// The model (LLM calls) or the name (tools); "unknown" when it has none.
    pub key: String,
    pub status: Option<String>,
    pub duration_ms: Option<f64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: Option<f64>,
    pub has_usage: bool,
}

impl ScopedSpan {
    /// A span from its stored columns.
    pub fn new(
        key: Option<String>,
        status: Option<String>,
        started: Option<i64>,
        ended: Option<i64>,
        input_tokens: Option<i64>,
        output_tokens: Option<i64>,
        cost_usd: Option<f64>,
    ) -> Self {
        ScopedSpan {
            key: key.unwrap_or_else(|| "unknown".into()),
            status,
            duration_ms: started.zip(ended).map(|(s, e)| (e - s).max(0) as f64 / 1e6),
            has_usage: input_tokens.is_some(),
            input_tokens: input_tokens.unwrap_or(0),
            output_tokens: output_tokens.unwrap_or(0),
            cost_usd,
        }
    }

    fn cost_unknown(&self) -> bool {
        cost_unknown(
            Some(SpanKind::Llm),
            self.cost_usd,
            self.has_usage,
            self.status.as_deref() == Some("ok"),
        )
    }
}

fn grouped(spans: Vec<ScopedSpan>) -> BTreeMap<String, Vec<ScopedSpan>> {
    let mut groups: BTreeMap<String, Vec<ScopedSpan>> = BTreeMap::new();
    for s in spans {
        groups.entry(s.key.clone()).or_default().push(s);
    }
    groups
}

fn latencies(spans: &[ScopedSpan]) -> Vec<f64> {
    let mut l: Vec<f64> = spans.iter().filter_map(|s| s.duration_ms).collect();
    l.sort_by(f64::total_cmp);
    l
}

fn count(spans: &[ScopedSpan], status: &str) -> usize {
    spans
        .iter()
        .filter(|s| s.status.as_deref() == Some(status))
        .count()
}

/// LLM calls by model, most requested first.
pub fn llm_stats(spans: Vec<ScopedSpan>) -> Vec<LlmStats> {
    let mut out: Vec<LlmStats> = grouped(spans)
        .into_iter()
        .map(|(model, spans)| {
            let l = latencies(&spans);
            let unpriced = spans.iter().filter(|s| s.cost_unknown()).count() as i64;
            let cost: f64 = spans.iter().filter_map(|s| s.cost_usd).sum();
            LlmStats {
                model,
                requests: spans.len() as i64,
                errors: count(&spans, "error") as i64,
                input_tokens: spans.iter().map(|s| s.input_tokens).sum(),
                output_tokens: spans.iter().map(|s| s.output_tokens).sum(),
                cost_usd: known_cost(cost, unpriced),
                unpriced_requests: unpriced,
                latency_p50_ms: quantile(&l, 0.5),
                latency_p95_ms: quantile(&l, 0.95),
            }
        })
        .collect();
    out.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.model.cmp(&b.model)));
    out
}

/// Tool calls by tool name, most called first.
pub fn tool_stats(spans: Vec<ScopedSpan>) -> Vec<ToolStats> {
    let mut out: Vec<ToolStats> = grouped(spans)
        .into_iter()
        .map(|(tool, spans)| {
            let l = latencies(&spans);
            let (ok, errors) = (count(&spans, "ok"), count(&spans, "error"));
            ToolStats {
                tool,
                calls: spans.len() as i64,
                errors: errors as i64,
                success_rate: (ok + errors > 0).then(|| ok as f64 / (ok + errors) as f64),
                latency_p50_ms: quantile(&l, 0.5),
                latency_p95_ms: quantile(&l, 0.95),
            }
        })
        .collect();
    out.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.tool.cmp(&b.tool)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), Some(50.0));
        assert_eq!(quantile(&v, 0.95), Some(95.0));
        assert_eq!(quantile(&[7.0], 0.95), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
