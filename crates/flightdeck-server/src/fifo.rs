//! A map that forgets its oldest entries beyond a capacity: the bounded memories of the OTLP
//! ingest (`otlp/recent.rs`) and of LLM calls waiting to be joined (`calls.rs`).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// A map that forgets its oldest entries beyond a capacity.
pub struct Fifo<K, V> {
    map: HashMap<K, V>,
    order: VecDeque<K>,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> Fifo<K, V> {
    pub fn new(capacity: usize) -> Self {
        Fifo {
            map: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    pub fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k)
    }

    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.map.get_mut(k)
    }

    /// Inserts or replaces; returns the entry forgotten to make room, if any.
    pub fn insert(&mut self, k: K, v: V) -> Option<(K, V)> {
        if let Some(slot) = self.map.get_mut(&k) {
            *slot = v;
            return None;
        }
        self.map.insert(k.clone(), v);
        self.order.push_back(k);
        if self.order.len() > self.capacity {
            let old = self.order.pop_front()?;
            return self.map.remove(&old).map(|v| (old, v));
        }
        None
    }

    pub fn insert_if_absent(&mut self, k: K, v: V) {
        if !self.map.contains_key(&k) {
            self.insert(k, v);
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }
}
