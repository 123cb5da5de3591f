//! How a provider's answer is classified, and the jittered backoff between tries.

use std::time::Duration;

/// The result of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted.
    Delivered,
    /// Worth trying again (transport error, timeout, 429, 5xx), after at least `after`
    /// when the provider said so (`Retry-After`).
    Retry {
        /// What went wrong.
        reason: String,
        /// The provider's `Retry-After`.
        after: Option<Duration>,
    },
    /// Refused for good (400 and the like): retrying would not help.
    Rejected(String),
    /// The device is gone (unregistered token): drop its subscription's pushes.
    Unregistered(String),
}

/// Classifies an HTTP status (customhttp: any 2xx is success).
pub fn from_status(status: u16, retry_after: Option<Duration>) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        408 | 429 | 500..=599 => Outcome::Retry {
            reason: format!("HTTP {status}"),
            after: retry_after,
        },
        _ => Outcome::Rejected(format!("HTTP {status}")),
    }
}

/// `Retry-After` in seconds (the HTTP-date form is treated as absent).
pub fn retry_after(value: Option<&str>) -> Option<Duration> {
    value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(3600)))
}

/// The `Retry-After` of a provider's answer.
pub fn retry_after_of(resp: &reqwest::Response) -> Option<Duration> {
    retry_after(
        resp.headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
    )
}

/// Delay before try `tries + 1`: exponential from `base`, capped at `max`, with "full
/// jitter" (uniform in [d/2, d]) so that many devices failing together do not retry in
/// lockstep; never less than the provider's `Retry-After`.
pub fn backoff(tries: u32, base: Duration, max: Duration, after: Option<Duration>) -> Duration {
    let exp = base.saturating_mul(1u32 << tries.min(16)).min(max);
    let mut b = [0u8; 4];
    let r = if getrandom::fill(&mut b).is_ok() {
        u32::from_le_bytes(b)
    } else {
        u32::MAX / 2
    };
    let half = exp / 2;
    let jitter = half.mul_f64(f64::from(r) / f64::from(u32::MAX));
    (half + jitter).max(after.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        assert_eq!(from_status(204, None), Outcome::Delivered);
        assert!(matches!(from_status(503, None), Outcome::Retry { .. }));
        assert!(matches!(from_status(429, None), Outcome::Retry { .. }));
        assert!(matches!(from_status(400, None), Outcome::Rejected(_)));
        assert_eq!(retry_after(Some(" 7 ")), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
    }

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let (base, max) = (Duration::from_millis(100), Duration::from_secs(2));
        for tries in 0..20 {
            let d = backoff(tries, base, max, None);
            let full = base.saturating_mul(1 << tries.min(16)).min(max);
            assert!(d >= full / 2 && d <= full, "try {tries}: {d:?}");
        }
        let d = backoff(0, base, max, Some(Duration::from_secs(5)));
        assert_eq!(d, Duration::from_secs(5));
    }
}
