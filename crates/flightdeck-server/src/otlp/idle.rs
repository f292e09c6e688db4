//! The end of OTLP sessions: OpenTelemetry has no "session ended", so a task asks the store,
//! now and then, to end the sessions of traces that have all ended and stayed quiet for the
//! idle time (`Store::end_idle`: at their last span's end, `failed` when their last root
//! failed; a later span reopens them).

use flightdeck_model::Timestamp;
use flightdeck_store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// The idle time after which a quiet OTLP session is completed, by default.
pub const SESSION_IDLE: Duration = Duration::from_secs(60);

/// How often the rule runs: a tenth of the idle time, within 100 ms and 10 s.
fn every(idle: Duration) -> Duration {
    (idle / 10).clamp(Duration::from_millis(100), Duration::from_secs(10))
}

/// Starts the task; it stops when the store closes.
pub fn spawn(store: Arc<dyn Store>, idle: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every(idle));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let quiet_before = Timestamp(Timestamp::now().0 - idle.as_nanos() as i64);
            match store.end_idle(quiet_before).await {
                Ok(_) => {}
                Err(StoreError::Unavailable(_)) => break,
                Err(e) => tracing::warn!(error = %e, "ending idle OTLP sessions failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_runs_often_enough_but_not_too_often() {
        assert_eq!(every(SESSION_IDLE), Duration::from_secs(6));
        assert_eq!(
            every(Duration::from_millis(200)),
            Duration::from_millis(100)
        );
        assert_eq!(every(Duration::from_secs(3600)), Duration::from_secs(10));
    }
}
