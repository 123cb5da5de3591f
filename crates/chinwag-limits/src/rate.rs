//! A rate with a burst, and the generic cell rate algorithm (GCRA) for one bucket: the
//! bucket is one number, the "theoretical arrival time" of the next request, so checking it
//! is a comparison and an addition.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A sustained rate (requests per second) with a burst allowed on top of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per second in the long run; `0` turns the limit off.
    pub per_sec: f64,
    /// Requests allowed at once after a quiet period (at least 1).
    pub burst: u32,
}

impl Rate {
    /// No limit.
    pub const UNLIMITED: Rate = Rate {
        per_sec: 0.0,
        burst: 0,
    };

    /// `per_sec` with a burst of `burst`.
    pub const fn new(per_sec: f64, burst: u32) -> Self {
        Self { per_sec, burst }
    }

    /// Whether the limit is off.
    pub fn is_unlimited(&self) -> bool {
        // NaN counts as off, like zero.
        self.per_sec.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
    }

    /// Nanoseconds between two requests at the sustained rate.
    fn interval_ns(&self) -> u64 {
        // Float to int: saturating, and `per_sec` is positive when this is called.
        (1e9 / self.per_sec).ceil() as u64
    }
}

/// A request over its limit, with how long until one would be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// Wait before retrying.
    pub retry_after: Duration,
}

impl Limited {
    /// The wait in whole seconds, at least 1 (for `Retry-After`).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0)
    }
}

/// Checks one request against a bucket whose theoretical arrival time is `tat` (nanoseconds
/// on the limiter's clock), updating it when the request is allowed.
pub(crate) fn admit(rate: &Rate, tat: &mut u64, now: u64) -> Result<(), Limited> {
    if rate.is_unlimited() {
        return Ok(());
    }
    let interval = rate.interval_ns();
    let tolerance = interval.saturating_mul(u64::from(rate.burst.max(1)));
    let next = (*tat).max(now).saturating_add(interval);
    let ahead = next - now;
    if ahead > tolerance {
        return Err(Limited {
            retry_after: Duration::from_nanos(ahead - tolerance),
        });
    }
    *tat = next;
    Ok(())
}

/// Whether a bucket with `tat` is full again at `now` (it then says nothing a fresh bucket
/// would not).
pub(crate) fn refilled(tat: u64, now: u64) -> bool {
    tat <= now
}

/// Nanoseconds since `epoch`, saturating.
pub(crate) fn since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// One bucket shared by every caller (a per-service limit).
#[derive(Debug)]
pub struct SharedLimiter {
    rate: Rate,
    epoch: Instant,
    tat: Mutex<u64>,
}

impl SharedLimiter {
    /// A full bucket for `rate`.
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            epoch: Instant::now(),
            tat: Mutex::new(0),
        }
    }

    /// Admits one request or says how long to wait.
    pub fn check(&self) -> Result<(), Limited> {
        if self.rate.is_unlimited() {
            return Ok(());
        }
        let now = since(self.epoch);
        let mut tat = self
            .tat
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        admit(&self.rate, &mut tat, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let rate = Rate::new(2.0, 3);
        let mut tat = 0;
        for _ in 0..3 {
            assert!(admit(&rate, &mut tat, 10 * SEC).is_ok());
        }
        let refused = admit(&rate, &mut tat, 10 * SEC);
        assert_eq!(
            refused,
            Err(Limited {
                retry_after: Duration::from_millis(500)
            })
        );
        // Half a second later one more fits, not two.
        assert!(admit(&rate, &mut tat, 10 * SEC + SEC / 2).is_ok());
        assert!(admit(&rate, &mut tat, 10 * SEC + SEC / 2).is_err());
        // After a long pause the whole burst is back.
        let later = 100 * SEC;
        assert!(refilled(tat, later));
        for _ in 0..3 {
            assert!(admit(&rate, &mut tat, later).is_ok());
        }
        assert!(admit(&rate, &mut tat, later).is_err());
    }

    #[test]
    fn unlimited_never_refuses_and_retry_after_rounds_up() {
        let mut tat = 0;
        for _ in 0..10_000 {
            assert!(admit(&Rate::UNLIMITED, &mut tat, 0).is_ok());
        }
        let l = Limited {
            retry_after: Duration::from_millis(1),
        };
        assert_eq!(l.retry_after_secs(), 1);
        let l = Limited {
            retry_after: Duration::from_secs(2),
        };
        assert_eq!(l.retry_after_secs(), 2);
    }

    #[test]
    fn a_shared_limiter_counts_every_caller() {
        let l = SharedLimiter::new(Rate::new(0.001, 2));
        assert!(l.check().is_ok());
        assert!(l.check().is_ok());
        assert!(l.check().is_err());
    }
}
