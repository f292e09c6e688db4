//! Simulated time: waits are given in simulated milliseconds and slept scaled by the speed.
//!
//! At high speeds most waits are far below the timer's 1 ms resolution, so they are summed
//! and slept in one go once they reach [`MIN_SLEEP`]; oversleeping is paid back from later
//! waits. Real time then tracks simulated time divided by the speed. Each task has its own
//! `Pace`, which also keeps that task's simulated clock.

use std::time::Duration;
use tokio::time::Instant;

/// The shortest real sleep taken; shorter waits accumulate.
const MIN_SLEEP: Duration = Duration::from_millis(2);

/// The speed and clock of one simulated task.
#[derive(Clone, Debug)]
pub(crate) struct Pace {
    speed: f64,
    /// Real seconds owed (positive) or overslept (negative).
    debt_s: f64,
    /// Simulated milliseconds since the task's session began.
    now_ms: f64,
}

impl Pace {
    pub(crate) fn new(speed: f64) -> Self {
        Pace {
            speed,
            debt_s: 0.0,
            now_ms: 0.0,
        }
    }

    /// A pace for a task started now: same speed, same clock, its own debt.
    pub(crate) fn fork(&self) -> Pace {
        Pace {
            debt_s: 0.0,
            ..self.clone()
        }
    }

    /// The simulated time since the session began, in milliseconds.
    pub(crate) fn now_ms(&self) -> f64 {
        self.now_ms
    }

    /// Counts `real` time spent outside the pace (waiting for a person) as simulated time
    /// that has passed.
    pub(crate) fn passed(&mut self, real: Duration) {
        self.now_ms += real.as_secs_f64() * 1000.0 * self.speed;
    }

    /// Lets `ms` of simulated time pass.
    pub(crate) async fn wait(&mut self, ms: f64) {
        let ms = ms.max(0.0);
        self.now_ms += ms;
        self.debt_s += ms / 1000.0 / self.speed;
        if self.debt_s < MIN_SLEEP.as_secs_f64() {
            return;
        }
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs_f64(self.debt_s)).await;
        self.debt_s -= started.elapsed().as_secs_f64();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_scale_by_speed_and_small_ones_add_up() {
        let mut pace = Pace::new(100.0);
        let started = Instant::now();
        for _ in 0..1000 {
            pace.wait(10.0).await; // 0.1 ms real each
        }
        assert_eq!(pace.now_ms(), 10_000.0);
        let real = started.elapsed().as_secs_f64();
        assert!((0.098..=0.102).contains(&real), "{real}");
        let mut fork = pace.fork();
        fork.wait(5.0).await;
        assert_eq!((fork.now_ms(), pace.now_ms()), (10_005.0, 10_000.0));
    }
}
