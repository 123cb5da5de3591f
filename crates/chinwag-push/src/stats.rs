//! Delivery counters (also logged at shutdown and served on `/health`).

use std::sync::atomic::{AtomicU64, Ordering};

/// What the worker did so far.
#[derive(Debug, Default)]
pub struct PushStats {
    /// Accepted by the provider.
    pub sent: AtomicU64,
    /// Attempts that failed (each retry counts).
    pub failed: AtomicU64,
    /// Failed attempts scheduled to be tried again (the others were given up on).
    pub retried: AtomicU64,
    /// Given up on (rejected, out of tries, device gone, chat gone).
    pub dropped: AtomicU64,
    /// Reliable pushes sent again because the client did not refresh in time.
    pub resent: AtomicU64,
    /// Reliable pushes acknowledged by a client refresh.
    pub acknowledged: AtomicU64,
    /// Not sent because a CometD client was connected (`to_active_client`).
    pub skipped: AtomicU64,
}

impl PushStats {
    pub(crate) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A JSON snapshot.
    pub fn snapshot(&self) -> serde_json::Value {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        serde_json::json!({
            "sent": g(&self.sent),
            "failed": g(&self.failed),
            "retried": g(&self.retried),
            "dropped": g(&self.dropped),
            "resent": g(&self.resent),
            "acknowledged": g(&self.acknowledged),
            "skipped": g(&self.skipped),
        })
    }
}
