//! [`KeyedLimiter`]: one token bucket per key (a client address, say) in a table that never
//! holds more than its capacity. When the table is full, buckets that have refilled are
//! forgotten (a refilled bucket is the same as a new one); if none has, new keys share one
//! overflow bucket until room comes back, so a flood of fresh addresses is limited as a whole
//! instead of growing the table.

use crate::rate::{Limited, Rate, admit, refilled, since};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

#[derive(Debug)]
struct Table<K> {
    buckets: HashMap<K, u64>,
    overflow: u64,
    /// No sweep before this time (ns): a sweep that found nothing to drop is not repeated
    /// on every new key.
    next_sweep: u64,
}

/// Buckets by key, bounded.
#[derive(Debug)]
pub struct KeyedLimiter<K> {
    rate: Rate,
    capacity: usize,
    epoch: Instant,
    table: Mutex<Table<K>>,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// A limiter of `rate` per key, tracking at most `capacity` keys (at least 1).
    pub fn new(rate: Rate, capacity: usize) -> Self {
        Self {
            rate,
            capacity: capacity.max(1),
            epoch: Instant::now(),
            table: Mutex::new(Table {
                buckets: HashMap::new(),
                overflow: 0,
                next_sweep: 0,
            }),
        }
    }

    /// The rate each key gets.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// Admits one request for `key`, or says how long to wait.
    pub fn check(&self, key: &K) -> Result<(), Limited> {
        if self.rate.is_unlimited() {
            return Ok(());
        }
        let now = since(self.epoch);
        let mut t = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tat) = t.buckets.get_mut(key) {
            return admit(&self.rate, tat, now);
        }
        if t.buckets.len() >= self.capacity && now >= t.next_sweep {
            t.buckets.retain(|_, tat| !refilled(*tat, now));
            if t.buckets.len() >= self.capacity {
                // Everyone is busy: look again after one interval at the earliest.
                t.next_sweep = now.saturating_add((1e9 / self.rate.per_sec) as u64);
            }
        }
        if t.buckets.len() >= self.capacity {
            let Table { overflow, .. } = &mut *t;
            return admit(&self.rate, overflow, now);
        }
        let mut tat = 0;
        let r = admit(&self.rate, &mut tat, now);
        t.buckets.insert(key.clone(), tat);
        r
    }

    /// Keys tracked right now (for tests and diagnostics).
    pub fn tracked(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .buckets
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_own_bucket() {
        let l = KeyedLimiter::new(Rate::new(0.001, 2), 100);
        assert!(l.check(&1).is_ok());
        assert!(l.check(&1).is_ok());
        assert!(l.check(&1).is_err());
        assert!(
            l.check(&2).is_ok(),
            "another key is not limited by the first"
        );
    }

    #[test]
    fn the_table_never_exceeds_its_capacity_and_overflow_is_limited_as_one() {
        let l = KeyedLimiter::new(Rate::new(0.001, 1), 10);
        for k in 0..10 {
            assert!(l.check(&k).is_ok());
        }
        assert_eq!(l.tracked(), 10);
        // The table is full of busy buckets: new keys share the overflow bucket.
        assert!(l.check(&100).is_ok());
        assert!(l.check(&101).is_err());
        for k in 1000..2000 {
            let _ = l.check(&k);
        }
        assert_eq!(l.tracked(), 10);
    }

    #[test]
    fn refilled_buckets_make_room() {
        let l = KeyedLimiter::new(Rate::new(1_000_000.0, 1), 4);
        for k in 0..4 {
            assert!(l.check(&k).is_ok());
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(l.check(&9).is_ok());
        assert!(l.tracked() <= 4);
        assert!(l.tracked() >= 1);
    }

    #[test]
    fn unlimited_tracks_nothing() {
        let l = KeyedLimiter::new(Rate::UNLIMITED, 4);
        for k in 0..100 {
            assert!(l.check(&k).is_ok());
        }
        assert_eq!(l.tracked(), 0);
    }
}
