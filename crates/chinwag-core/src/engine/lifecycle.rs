//! Chats the system ends by itself: abandoned by their customer (no request for the
//! service's `abandon_after`, or the push timeout for push-subscribed chats, and not watched
//! by a live CometD client; decided by the chat's durable timer, `abandon.rs`), or waiting
//! in a queue past its maximum wait. Each ends with a system `Notice` saying why and the
//! customer's `ParticipantLeft`, exactly as if the customer had left: agents are told,
//! pushes go out, the chat is freed from its service's count.

use super::{ChatEngine, Slot};
use crate::error::CoreError;
use crate::ids::ChatId;
use crate::ports::Presence;
use std::sync::Arc;

/// The notice of a chat closed for its customer's silence.
pub const ABANDONED: &str = "The chat was closed because the customer was inactive.";
/// The notice of a chat closed after waiting too long for an agent.
pub const NO_AGENT: &str = "The chat was closed because no agent became available.";

impl ChatEngine {
    /// Sets who tells whether a chat is watched by a live client (the CometD adapter); set
    /// once, before serving. Without it no chat counts as watched.
    pub fn set_presence(&self, presence: Arc<dyn Presence>) {
        let _ = self.presence.set(presence);
    }

    pub(super) fn watched(&self, chat: &ChatId) -> bool {
        self.presence.get().is_some_and(|p| p.is_watched(chat))
    }

    /// One lifecycle pass by hand: records what this node saw of its customers (on a shared
    /// store, see `seen.rs`), then fires the due timers, ending the chats their customers
    /// abandoned (see `abandon.rs`). Returns how many chats were ended.
    pub async fn end_abandoned(&self) -> usize {
        self.record_seen_pass().await;
        self.fire_timers().await
    }

    /// The lifecycle worker's pass: on a store other processes share, records in one batch
    /// what this node saw of each chat's customer since the last pass, which the node firing
    /// a chat's abandon timer reads. Nothing on a store of one process.
    pub async fn record_seen_pass(&self) {
        if self.store.shared() {
            self.share_seen().await;
        }
    }

    /// Ends `chat` with a system notice saying `why` (if it is still open here).
    /// On a shared store the chat may be another node's (the routing worker ends any chat
    /// that waited too long): it is loaded first.
    pub async fn end_chat(&self, chat: &ChatId, why: &str) -> Result<bool, CoreError> {
        match self.slot_anywhere(chat).await? {
            Some(slot) => self.close(&slot, why).await,
            None => Ok(false),
        }
    }

    /// Ends a chat on the system's initiative; `false` when it had already ended.
    pub(super) async fn close(&self, slot: &Slot, why: &str) -> Result<bool, CoreError> {
        let now = self.now_ms();
        let mut closed = false;
        let (service, chat, agents) = self
            .write(
                slot,
                |s| {
                    closed = !s.ended();
                    if !closed {
                        return Ok(crate::session::Change::default());
                    }
                    Ok(s.close_by_system(why, now))
                },
                |s| {
                    (
                        s.record.service.clone(),
                        s.record.chat_id.clone(),
                        s.present_accounts(),
                    )
                },
            )
            .await?;
        if closed {
            self.on_ended(&service, &chat, agents).await;
        }
        Ok(closed)
    }
}
