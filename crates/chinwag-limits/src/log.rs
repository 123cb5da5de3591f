//! [`LogLimiter`]: lets one log line through per period and counts the ones it held back, so
//! a flood (refused connections, descriptors running out) cannot fill the disk with logs or
//! spend the CPU on them, while the log still says how much happened.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// At most one line per period.
#[derive(Debug)]
pub struct LogLimiter {
    period_ms: u64,
    epoch: Instant,
    /// Milliseconds since `epoch` when the next line may go out.
    next_ms: AtomicU64,
    suppressed: AtomicU64,
}

impl LogLimiter {
    /// One line per `period`.
    pub fn new(period: Duration) -> Self {
        Self {
            period_ms: u64::try_from(period.as_millis()).unwrap_or(u64::MAX),
            epoch: Instant::now(),
            next_ms: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(n)` when a line may be written now, `n` being how many were held back since the
    /// last one; `None` (and counted) otherwise.
    pub fn allow(&self) -> Option<u64> {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let next = self.next_ms.load(Ordering::Relaxed);
        if now >= next
            && self
                .next_ms
                .compare_exchange(
                    next,
                    now.saturating_add(self.period_ms),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::AcqRel));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_period_with_the_rest_counted() {
        let l = LogLimiter::new(Duration::from_millis(50));
        assert_eq!(l.allow(), Some(0));
        for _ in 0..5 {
            assert_eq!(l.allow(), None);
        }
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(l.allow(), Some(5));
        assert_eq!(l.allow(), None);
    }
}
