//! When a chat's customer was last seen, across nodes. Each node sees only the requests
//! that reach it; the node that ends a chat for its customer's silence (the one counting it)
//! must also count the requests other nodes served. On a shared store every lifecycle pass
//! first records, in one batch, the chats whose customer was seen here since the last pass
//! (a request, or a live CometD watch here), then asks the store for the latest time any
//! node recorded before ending a chat that looks abandoned from here. A pass costs one store
//! call, plus one read per chat about to be ended; on a store one process owns, nothing.

use super::{ChatEngine, Slot, lock};
use crate::ids::ChatId;
use std::sync::Arc;
use std::sync::atomic::Ordering;

impl ChatEngine {
    /// Records in the shared store the chats whose customer was seen here since the last
    /// call. Chats watched by a live client here count as seen now.
    pub(super) async fn share_seen(&self) {
        let now = self.now_ms();
        let slots: Vec<Arc<Slot>> = {
            let map = self
                .sessions
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            map.values().cloned().collect()
        };
        let mut batch: Vec<(ChatId, i64)> = Vec::new();
        let mut marks = Vec::new();
        for slot in slots {
            let chat = {
                let s = lock(&slot.state);
                if s.ended() {
                    continue;
                }
                s.record.chat_id.clone()
            };
            if self.watched(&chat) {
                slot.client_seen_ms.fetch_max(now, Ordering::Relaxed);
            }
            let seen = slot.client_seen_ms.load(Ordering::Relaxed);
            if seen > slot.seen_shared_ms.load(Ordering::Relaxed) {
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
                    slot.seen_shared_ms.fetch_max(seen, Ordering::Relaxed);
                }
            }
            Err(e) => {
                tracing::warn!(%e, chats = batch.len(), "cannot record when customers were last seen; retried next pass")
            }
        }
    }
}
