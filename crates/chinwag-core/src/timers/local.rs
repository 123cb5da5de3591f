//! [`LocalTimers`]: timers in this process's memory (the memory store's; engines sharing
//! one in tests share them). Indexed by when each becomes claimable (its due time, or its
//! claim's end while claimed), so a claim reads only what is ready.

use super::{Claim, DueTimer, MAX_CLAIM, Schedule, TimerKey, Timers};
use crate::error::StoreError;
use crate::lease::Holder;
use async_trait::async_trait;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

#[derive(Debug)]
struct Entry {
    due_ms: i64,
    claim: Option<Claim>,
}

impl Entry {
    /// When the timer can be claimed: its due time, or when its claim lapses.
    fn ready(&self) -> i64 {
        self.claim.as_ref().map_or(self.due_ms, |c| c.until_ms)
    }
}

#[derive(Debug, Default)]
struct Table {
    timers: HashMap<TimerKey, Entry>,
    /// `(ready, key)` of every timer.
    ready: BTreeSet<(i64, TimerKey)>,
}

impl Table {
    fn put(&mut self, key: TimerKey, entry: Entry) {
        self.remove(&key);
        self.ready.insert((entry.ready(), key.clone()));
        self.timers.insert(key, entry);
    }

    fn remove(&mut self, key: &TimerKey) -> Option<Entry> {
        let old = self.timers.remove(key)?;
        self.ready.remove(&(old.ready(), key.clone()));
        Some(old)
    }

    /// Whether `key`'s timer is under `claim`.
    fn claimed_by(&self, key: &TimerKey, claim: &Claim) -> bool {
        self.timers
            .get(key)
            .is_some_and(|e| e.claim.as_ref() == Some(claim))
    }
}

/// Timers held in memory; lost when the process ends.
#[derive(Debug, Default)]
pub struct LocalTimers {
    table: Mutex<Table>,
}

#[async_trait]
impl Timers for LocalTimers {
    async fn schedule(&self, timers: &[(TimerKey, i64)], mode: Schedule) -> Result<(), StoreError> {
        let mut t = crate::engine::lock(&self.table);
        for (key, due_ms) in timers {
            if mode == Schedule::KeepExisting && t.timers.contains_key(key) {
                continue;
            }
            let entry = Entry {
                due_ms: *due_ms,
                claim: None,
            };
            t.put(key.clone(), entry);
        }
        Ok(())
    }

    async fn cancel(&self, keys: &[TimerKey]) -> Result<(), StoreError> {
        let mut t = crate::engine::lock(&self.table);
        for key in keys {
            t.remove(key);
        }
        Ok(())
    }

    async fn due(&self, key: &TimerKey) -> Result<Option<i64>, StoreError> {
        Ok(crate::engine::lock(&self.table)
            .timers
            .get(key)
            .map(|e| e.due_ms))
    }

    async fn claim_due(
        &self,
        now_ms: i64,
        holder: &Holder,
        max: usize,
        claim_ms: i64,
    ) -> Result<Vec<DueTimer>, StoreError> {
        let mut t = crate::engine::lock(&self.table);
        let ready: Vec<TimerKey> = t
            .ready
            .iter()
            .take_while(|(at, _)| *at <= now_ms)
            .take(max.min(MAX_CLAIM))
            .map(|(_, k)| k.clone())
            .collect();
        let claim = Claim {
            holder: holder.clone(),
            until_ms: now_ms.saturating_add(claim_ms),
        };
        let mut out = Vec::with_capacity(ready.len());
        for key in ready {
            let Some(mut entry) = t.remove(&key) else {
                continue;
            };
            entry.claim = Some(claim.clone());
            out.push(DueTimer {
                key: key.clone(),
                due_ms: entry.due_ms,
                claim: claim.clone(),
            });
            t.put(key, entry);
        }
        Ok(out)
    }

    async fn complete(&self, timer: &DueTimer) -> Result<bool, StoreError> {
        let mut t = crate::engine::lock(&self.table);
        if !t.claimed_by(&timer.key, &timer.claim) {
            return Ok(false);
        }
        t.remove(&timer.key);
        Ok(true)
    }

    async fn reschedule(&self, timer: &DueTimer, due_ms: i64) -> Result<bool, StoreError> {
        let mut t = crate::engine::lock(&self.table);
        if !t.claimed_by(&timer.key, &timer.claim) {
            return Ok(false);
        }
        let entry = Entry {
            due_ms,
            claim: None,
        };
        t.put(timer.key.clone(), entry);
        Ok(true)
    }
}
