//! The seeded randomness of the demo: every choice and every id comes from a [`Dice`], so
//! the same seed gives the same sessions.
//!
//! ChaCha8 is a fixed, portable algorithm. Concurrent work never shares a `Dice`: each task
//! gets its own, forked from its parent in a fixed order, so what it draws does not depend
//! on how tasks interleave.

use rand::rngs::ChaCha8Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{RngExt, SeedableRng};
use std::ops::RangeInclusive;

/// A seeded random source.
pub(crate) struct Dice(ChaCha8Rng);

impl Dice {
    pub(crate) fn new(seed: u64) -> Self {
        Dice(ChaCha8Rng::seed_from_u64(seed))
    }

    /// An independent source for a new task, drawn from this one.
    pub(crate) fn fork(&mut self) -> Dice {
        Dice::new(self.0.random())
    }

    /// A UUID-shaped id (version 4 layout, random bits from the seed).
    pub(crate) fn id(&mut self) -> String {
        uuid::Builder::from_random_bytes(self.0.random())
            .into_uuid()
            .to_string()
    }

    /// A short hex tag, for tool-call ids and commit hashes.
    pub(crate) fn hex(&mut self, digits: usize) -> String {
        let bits: u64 = self.0.random();
        format!("{bits:016x}")[..digits.min(16)].to_owned()
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.0.random_bool(p.clamp(0.0, 1.0))
    }

    /// A whole number in `range`.
    pub(crate) fn int(&mut self, range: RangeInclusive<u64>) -> u64 {
        self.0.random_range(range)
    }

    /// A number between `lo` and `hi`.
    pub(crate) fn between(&mut self, lo: f64, hi: f64) -> f64 {
        if hi <= lo {
            return lo;
        }
        self.0.random_range(lo..hi)
    }

    /// One of `items`, which must not be empty.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        items
            .choose(&mut self.0)
            .expect("pick from a non-empty list")
    }

    /// `n` distinct items of `items` (all of them when `n` is larger), in random order.
    pub(crate) fn sample<T: Clone>(&mut self, items: &[T], n: usize) -> Vec<T> {
        let mut all = items.to_vec();
        all.shuffle(&mut self.0);
        all.truncate(n);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_and_forks_are_independent() {
        let draw = |seed| {
            let mut d = Dice::new(seed);
            let mut child = d.fork();
            (
                d.id(),
                d.int(0..=1000),
                child.id(),
                d.sample(&[1, 2, 3, 4], 2),
                d.hex(7),
            )
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        let (parent_id, _, child_id, _, hex) = draw(7);
        assert_ne!(parent_id, child_id);
        assert_eq!(
            uuid::Uuid::parse_str(&parent_id).unwrap().get_version_num(),
            4
        );
        assert_eq!(hex.len(), 7);
    }
}
