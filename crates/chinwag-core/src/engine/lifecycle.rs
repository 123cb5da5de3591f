//! Chats the system ends by itself: abandoned by their customer (no request for the
//! service's `abandon_after`, or the push timeout for push-subscribed chats, and not watched
//! by a live CometD client), or waiting in a queue past its maximum wait. Each ends with a
//! system `Notice` saying why and the customer's `ParticipantLeft`, exactly as if the
//! customer had left: agents are told, pushes go out, the chat is freed from its service's
//! count.

use super::{ChatEngine, Slot, lock};
use crate::error::CoreError;
use crate::ids::ChatId;
use crate::ports::Presence;
use std::sync::Arc;
use std::sync::atomic::Ordering;

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

    /// Ends every chat its customer abandoned; returns how many.
    pub async fn end_abandoned(&self) -> usize {
        let shared = self.store.shared();
        if shared {
            self.share_seen().await;
        }
        let now = self.now_ms();
        // Idle chats out of memory whose deadline passed are checked as held ones (with
        // abandonment on durable store timers, this goes).
        self.load_due_idle(now).await;
        let candidates: Vec<Arc<Slot>> = {
            let map = self
                .sessions
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            map.values()
                .filter(|slot| self.silent_too_long(slot, now))
                .cloned()
                .collect()
        };
        let mut ended = 0;
        for slot in candidates {
            let chat = lock(&slot.state).record.chat_id.clone();
            if self.watched(&chat) {
                continue;
            }
            // Another node may have served the customer meanwhile.
            if shared && !(self.learn_seen(&slot, &chat).await && self.silent_too_long(&slot, now))
            {
                continue;
            }
            match self.close(&slot, ABANDONED).await {
                Ok(true) => ended += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(chat = %chat.as_str(), %e, "cannot end an abandoned chat"),
            }
        }
        if ended > 0 {
            tracing::info!(ended, "abandoned chats ended");
        }
        ended
    }

    /// Whether `slot`'s customer has been silent past its limit (cheap: no store access).
    fn silent_too_long(&self, slot: &Slot, now: i64) -> bool {
        if !slot.counted.load(Ordering::Relaxed) {
            return false; // another node's chat: its customer's requests are seen there
        }
        let silent = now.saturating_sub(slot.client_seen_ms.load(Ordering::Relaxed));
        let s = lock(&slot.state);
        if s.ended() {
            return false;
        }
        let limit = if slot
            .live_subscription(&self.settings.push, &s.record)
            .is_some()
        {
            self.settings.push.timeout_ms
        } else {
            self.service(s.record.service.as_str())
                .and_then(|svc| svc.limits.abandon_after_ms)
        };
        limit.is_some_and(|l| silent > l)
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
    async fn close(&self, slot: &Slot, why: &str) -> Result<bool, CoreError> {
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
                        s.present_agents(),
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
