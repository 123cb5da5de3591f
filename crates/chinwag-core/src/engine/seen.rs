//! What nodes know of a chat's customer, across nodes. Each node sees only the requests that
//! reach it; the node that ends a chat for its customer's silence (whichever fires its
//! abandon timer, `abandon.rs`) must also count the requests other nodes served, and the
//! node deciding a push must know what the customer fetched elsewhere (reliable-push
//! acknowledgement) and whether a live CometD client watches the chat through another node
//! (`push_notification_to_active_client`). On a shared store every lifecycle pass first
//! records, in one batch, what this node saw since the last pass ([`Seen`]: the customer's
//! last request or live CometD watch here, its fetch position, the watch itself); readers
//! ask the store only when a decision needs it: when a chat's abandon timer fires, and when
//! a push is decided ([`ChatEngine::learn_customer`]). A pass costs one store call; on a
//! store one process owns, nothing.

use super::{ChatEngine, Slot, lock};
use crate::error::CoreError;
use crate::ids::ChatId;
use crate::ports::Seen;
use std::sync::Arc;
use std::sync::atomic::Ordering;

impl ChatEngine {
    /// Records in the shared store what this node saw of each chat's customer since the last
    /// call. Chats watched by a live client here count as seen, and as watched, now.
    pub(super) async fn share_seen(&self) {
        let now = self.now_ms();
        let slots: Vec<Arc<Slot>> = {
            let map = self
                .sessions
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            map.values().cloned().collect()
        };
        let mut batch: Vec<(ChatId, Seen)> = Vec::new();
        let mut marks = Vec::new();
        for slot in slots {
            let chat = {
                let s = lock(&slot.state);
                if s.ended() {
                    continue;
                }
                s.record.chat_id.clone()
            };
            let watched = self.watched(&chat);
            if watched {
                slot.client_seen_ms.fetch_max(now, Ordering::Relaxed);
            }
            let seen = Seen {
                at_ms: slot.client_seen_ms.load(Ordering::Relaxed),
                fetched: slot.client_next.load(Ordering::Relaxed),
                watched_ms: if watched { now } else { 0 },
            };
            if watched
                || seen.at_ms > slot.seen_shared_ms.load(Ordering::Relaxed)
                || seen.fetched > slot.fetched_shared.load(Ordering::Relaxed)
            {
                batch.push((chat, seen));
                marks.push((slot, seen));
            }
        }
        if batch.is_empty() {
            return;
        }
        match self.store.record_seen(&batch).await {
            Ok(()) => {
                for (slot, seen) in marks {
                    slot.seen_shared_ms.fetch_max(seen.at_ms, Ordering::Relaxed);
                    slot.fetched_shared
                        .fetch_max(seen.fetched, Ordering::Relaxed);
                }
            }
            Err(e) => {
                tracing::warn!(%e, chats = batch.len(), "cannot record what was seen of customers; retried next pass")
            }
        }
    }

    /// What every node sharing the store recorded of `chat_id`'s customer (one store read),
    /// taken into this node's knowledge: the fetch position (which acknowledges reliable
    /// pushes) and the last request (the push timeout) rise to it. `None` on a store one
    /// process owns (this node saw everything), or when nothing was recorded. The push
    /// worker calls it when a decision needs it, never on a request's path; what a node saw
    /// reaches the store with its next lifecycle pass.
    pub(crate) async fn learn_customer(&self, chat_id: &ChatId) -> Result<Option<Seen>, CoreError> {
        if !self.store.shared() {
            return Ok(None);
        }
        let seen = self.store.seen_record(chat_id).await?;
        if let (Some(seen), Some(slot)) = (seen, self.slot(chat_id)) {
            learn(&slot, seen);
        }
        Ok(seen)
    }
}

/// Raises `slot`'s knowledge of its customer to what the store holds (already recorded
/// there: not written again).
fn learn(slot: &Slot, seen: Seen) {
    slot.client_seen_ms.fetch_max(seen.at_ms, Ordering::Relaxed);
    slot.seen_shared_ms.fetch_max(seen.at_ms, Ordering::Relaxed);
    slot.client_next.fetch_max(seen.fetched, Ordering::Relaxed);
    slot.fetched_shared
        .fetch_max(seen.fetched, Ordering::Relaxed);
}
