//! [`Seen`]: what the nodes sharing a store tell each other about a chat's customer, in one
//! record per chat ([`crate::ports::ChatStore::record_seen`], `seen_record`): when it was
//! last seen, how far it has fetched, and when a live CometD client last watched the chat.
//! Each node's lifecycle pass writes what it saw since its last pass; a store keeps, field
//! by field, the largest value any node wrote.

/// How long a "watched" mark stays true: two lifecycle passes (5 s each, written by the node
/// that owns the watching client's session every pass) and two seconds of slack. A node that
/// stopped watching (the client left, or the node died) stops counting after this.
pub const WATCH_FRESH_MS: i64 = 12_000;

/// One node's (or, read back, every node's latest) knowledge of a chat's customer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    /// The customer's last request, or a live CometD watch (epoch ms; 0: never).
    pub at_ms: i64,
    /// First transcript position the customer has not fetched (0: unknown): it only rises,
    /// and acknowledges the reliable pushes before it.
    pub fetched: u64,
    /// When a live CometD client last watched the chat (epoch ms; 0: never). A REST request
    /// does not count: only a CometD watch makes the customer an "active client".
    pub watched_ms: i64,
}

impl Seen {
    /// Field by field, the larger of the two.
    #[must_use]
    pub fn max(self, other: Self) -> Self {
        Self {
            at_ms: self.at_ms.max(other.at_ms),
            fetched: self.fetched.max(other.fetched),
            watched_ms: self.watched_ms.max(other.watched_ms),
        }
    }

    /// Whether some node's live CometD client watched the chat recently enough, at `now_ms`,
    /// to count as watching it still (see [`WATCH_FRESH_MS`]).
    pub fn watched_at(&self, now_ms: i64) -> bool {
        self.watched_ms > 0 && now_ms.saturating_sub(self.watched_ms) <= WATCH_FRESH_MS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_is_per_field_and_watched_fades() {
        let a = Seen {
            at_ms: 5,
            fetched: 9,
            watched_ms: 0,
        };
        let b = Seen {
            at_ms: 7,
            fetched: 3,
            watched_ms: 100,
        };
        assert_eq!(
            a.max(b),
            Seen {
                at_ms: 7,
                fetched: 9,
                watched_ms: 100
            }
        );
        assert!(!a.watched_at(1));
        assert!(b.watched_at(100 + WATCH_FRESH_MS));
        assert!(!b.watched_at(101 + WATCH_FRESH_MS));
    }
}
