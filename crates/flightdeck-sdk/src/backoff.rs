//! Capped exponential backoff between delivery attempts, with jitter.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Waits `initial`, then twice as long after every further failure, never more than `max`.
/// Each wait is jittered into its upper half, so that many clients cut off by the same outage
/// do not all come back in the same instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backoff {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
}

impl Backoff {
    /// The wait before retry number `attempt` (0 for the first retry).
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.min(20);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// [`Backoff::delay`] scaled into `[delay / 2, delay]` by a random draw.
    pub(crate) fn jittered(&self, attempt: u32) -> Duration {
        half_to_whole(self.delay(attempt), random_unit())
    }
}

/// `d` scaled by `0.5 + unit / 2`, `unit` in `[0, 1)`.
fn half_to_whole(d: Duration, unit: f64) -> Duration {
    d.mul_f64(0.5 + unit / 2.0)
}

/// A uniform draw in `[0, 1)`. Std's `RandomState` is seeded from the OS and keyed anew for
/// each instance: enough randomness for spreading retries, without a dependency.
fn random_unit() -> f64 {
    let bits = RandomState::new().build_hasher().finish();
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
        };
        let delays: Vec<u64> = (0..8).map(|a| b.delay(a).as_millis() as u64).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(5));
    }

    #[test]
    fn jitter_stays_in_the_upper_half_and_varies() {
        let d = Duration::from_millis(800);
        assert_eq!(half_to_whole(d, 0.0), Duration::from_millis(400));
        assert_eq!(half_to_whole(d, 0.5), Duration::from_millis(600));
        let b = Backoff { initial: d, max: d };
        let draws: Vec<Duration> = (0..64).map(|_| b.jittered(0)).collect();
        assert!(draws.iter().all(|j| (d / 2..=d).contains(j)), "{draws:?}");
        assert!(draws.iter().any(|j| *j != draws[0]), "the draws differ");
    }
}
