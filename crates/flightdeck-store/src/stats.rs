//! Percentiles of latency samples, for the LLM and tool statistics, and the headline
//! figures' derived parts.

use flightdeck_model::record::OverviewStats;

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
