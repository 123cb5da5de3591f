//! Sign-in failures counted per account id (never per address, which an attacker changes at
//! will), and the lock-out they lead to: after [`FREE_FAILURES`] failures with no more than
//! [`WINDOW`] between one and the next, the id is locked for [`FIRST_LOCK`], doubled by each
//! further failure up to [`MAX_LOCK`]. A success forgets the id.
//!
//! Ids that name no account are counted the same way (so the answers do not tell which ids
//! exist), in a table of at most [`MAX_UNKNOWN`] entries: when it is full, the entry whose
//! last failure is oldest makes room. Configured accounts have their own table, bounded by
//! the configuration, so a flood of made-up ids cannot push a real account's count out.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Failures allowed before the first lock-out.
pub(crate) const FREE_FAILURES: u32 = 5;
/// Failures further apart than this start the count again.
pub(crate) const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The first lock-out's length.
pub(crate) const FIRST_LOCK: Duration = Duration::from_secs(30);
/// The longest lock-out.
pub(crate) const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
/// Most unknown ids remembered.
pub(crate) const MAX_UNKNOWN: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// The failure tables.
#[derive(Debug, Default)]
pub(crate) struct Lockout {
    known: HashMap<String, Record>,
    unknown: HashMap<String, Record>,
}

impl Lockout {
    fn table(&mut self, known: bool) -> &mut HashMap<String, Record> {
        if known {
            &mut self.known
        } else {
            &mut self.unknown
        }
    }

    /// How long `id` is still locked out at `now`, if it is.
    pub(crate) fn locked(&mut self, id: &str, known: bool, now: Instant) -> Option<Duration> {
        let until = self.table(known).get(id)?.locked_until?;
        (until > now).then(|| until - now)
    }

    /// Counts a failure of `id` at `now`; the lock-out it starts, if any.
    pub(crate) fn fail(&mut self, id: &str, known: bool, now: Instant) -> Option<Duration> {
        if !known && !self.unknown.contains_key(id) && self.unknown.len() >= MAX_UNKNOWN {
            self.make_room(now);
        }
        let rec = self.table(known).entry(id.to_owned()).or_insert(Record {
            failures: 0,
            last: now,
            locked_until: None,
        });
        if now.saturating_duration_since(rec.last) > WINDOW {
            rec.failures = 0;
        }
        rec.failures = rec.failures.saturating_add(1);
        rec.last = now;
        let over = rec.failures.checked_sub(FREE_FAILURES)?;
        let lock = FIRST_LOCK
            .saturating_mul(2u32.saturating_pow(over.min(16)))
            .min(MAX_LOCK);
        rec.locked_until = Some(now + lock);
        Some(lock)
    }

    /// Forgets `id` (it signed in).
    pub(crate) fn succeed(&mut self, id: &str) {
        self.known.remove(id);
    }

    /// Drops the unknown ids whose count has lapsed, or else the one failed longest ago.
    fn make_room(&mut self, now: Instant) {
        self.unknown.retain(|_, r| {
            now.saturating_duration_since(r.last) <= WINDOW
                || r.locked_until.is_some_and(|u| u > now)
        });
        if self.unknown.len() < MAX_UNKNOWN {
            return;
        }
        if let Some(oldest) = self
            .unknown
            .iter()
            .min_by_key(|(_, r)| r.last)
            .map(|(k, _)| k.clone())
        {
            self.unknown.remove(&oldest);
        }
    }

    /// Unknown ids remembered (for tests).
    #[cfg(test)]
    fn unknown_len(&self) -> usize {
        self.unknown.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_are_free_then_the_lock_doubles_up_to_its_cap() {
        let mut l = Lockout::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            assert_eq!(l.fail("a", true, t0), None);
        }
        assert_eq!(
            l.fail("a", true, t0),
            Some(FIRST_LOCK),
            "the 5th failure locks"
        );
        assert_eq!(l.locked("a", true, t0), Some(FIRST_LOCK));
        let t1 = t0 + FIRST_LOCK;
        assert_eq!(l.locked("a", true, t1), None, "the lock lapses");
        assert_eq!(l.fail("a", true, t1), Some(FIRST_LOCK * 2), "and grows");
        let mut t = t1;
        let mut last = Duration::ZERO;
        for _ in 0..20 {
            t += Duration::from_secs(60);
            last = l.fail("a", true, t).unwrap_or_default();
        }
        assert_eq!(last, MAX_LOCK, "capped");
        assert_eq!(l.locked("b", true, t), None, "per id");
    }

    #[test]
    fn a_quiet_window_or_a_success_starts_again() {
        let mut l = Lockout::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            l.fail("a", true, t0);
        }
        let later = t0 + WINDOW + Duration::from_secs(1);
        assert_eq!(l.fail("a", true, later), None, "count started again");
        for _ in 0..3 {
            l.fail("a", true, later);
        }
        l.succeed("a");
        assert_eq!(l.fail("a", true, later), None, "a success forgets");
    }

    #[test]
    fn unknown_ids_are_bounded_and_cannot_evict_a_known_count() {
        let mut l = Lockout::default();
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES {
            l.fail("alice", true, t0);
        }
        for i in 0..(MAX_UNKNOWN + 50) {
            l.fail(
                &format!("ghost{i}"),
                false,
                t0 + Duration::from_millis(i as u64),
            );
        }
        assert_eq!(l.unknown_len(), MAX_UNKNOWN);
        assert!(l.locked("alice", true, t0).is_some());
        assert_eq!(l.locked("ghost0", false, t0), None, "the oldest made room");
    }
}
