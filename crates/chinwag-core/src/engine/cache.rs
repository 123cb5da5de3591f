//! The engine's session map as a cache of the store: chats loaded on demand, brought up to
//! the stored revision on a shared store, and caught up when another node announces a
//! change (`ChangeFeed`), publishing on this node's bus what this node had not seen.

use super::{ChatEngine, Slot, lock};
use crate::error::CoreError;
use crate::ids::ChatId;
use crate::session::Session;
use std::sync::Arc;
use std::sync::atomic::Ordering;

impl ChatEngine {
    /// The chat's slot, loaded from the store when this engine does not hold it (written by
    /// another engine on the same store, or not used since start, say). `None`: no such chat,
    /// a quarantined one (found unreadable now: see [`Self::quarantine`]), or one that ended
    /// longer ago than its retention (purged soon).
    pub(super) async fn slot_or_load(
        &self,
        chat_id: &ChatId,
    ) -> Result<Option<Arc<Slot>>, CoreError> {
        if let Some(slot) = self.slot(chat_id) {
            return Ok(Some(slot));
        }
        if lock(&self.quarantined).contains(chat_id) {
            return Ok(None);
        }
        if !self.store.shared() && !lock(&self.evicted).contains_key(chat_id) {
            return Ok(None); // this engine holds or remembers every chat of its own store
        }
        let stored = match self.store.load(chat_id).await {
            Ok(Some(stored)) => stored,
            Ok(None) => return Ok(None),
            Err(crate::StoreError::Corrupt { why, .. }) => {
                self.quarantine(chat_id, &why).await;
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let now = self.now_ms();
        let cutoff = now.saturating_sub(self.settings.ended_retention_ms);
        if stored.record.ended_ms.is_some_and(|t| t < cutoff) {
            self.drop_idle(chat_id, &stored.record.service);
            return Ok(None);
        }
        let rev = stored.rev;
        let slot = Slot::new(Session::new(stored.record, stored.events), rev, false, now);
        let ended = slot_ended(&slot);
        let (slot, inserted, counted) = self.insert_loaded(chat_id, slot);
        // An idle chat this node counts, ended elsewhere while out of memory (a shared store):
        // settled here now, as a reload would have.
        if counted && let Some((service, agents)) = ended {
            self.settle_ended(&service, chat_id, agents).await;
        }
        // A change announced while the chat was being loaded found no slot to catch up.
        if inserted
            && self.store.shared()
            && let Some(now_rev) = self.store.revision(chat_id).await?
            && now_rev > rev
        {
            self.catch_up(chat_id, now_rev).await?;
        }
        Ok(Some(slot))
    }

    /// `chat` cannot be read back (its header could be, at start; its events cannot): it is
    /// quarantined from now on, as an unreadable header is at start — logged once, counted in
    /// [`Self::quarantined`], left in the store for an operator, answered as not found, and
    /// forgotten by routing (so no agent is offered it), and no longer counted among its
    /// service's open chats.
    pub(super) async fn quarantine(&self, chat: &ChatId, why: &str) {
        if !lock(&self.quarantined).insert(chat.clone()) {
            return;
        }
        tracing::error!(chat = %chat.as_str(), %why, "unreadable chat quarantined: left in the store, not served");
        self.drop_quarantined(chat);
        if let Err(err) = self.route(|r, now| ((), r.chat_ended(chat, now))).await {
            tracing::warn!(chat = %chat.as_str(), %err, "routing did not forget a quarantined chat");
        }
    }

    /// The chat's slot if this engine holds it, or, on a store other processes write to, as
    /// loaded from the store (a chat another node created, say). On a store of its own the
    /// engine holds every chat an agent can act in, or remembers it as an idle open chat.
    pub(super) async fn slot_anywhere(
        &self,
        chat_id: &ChatId,
    ) -> Result<Option<Arc<Slot>>, CoreError> {
        match self.slot(chat_id) {
            Some(slot) => Ok(Some(slot)),
            None if self.store.shared() || self.evicted_open(chat_id) => {
                self.slot_or_load(chat_id).await
            }
            None => Ok(None),
        }
    }

    /// [`Self::slot_or_load`], and on a store other processes write to, brought up to the
    /// stored revision first (one revision read when nothing changed; a reload when it did).
    pub(super) async fn fresh_slot(
        &self,
        chat_id: &ChatId,
    ) -> Result<Option<Arc<Slot>>, CoreError> {
        let Some(slot) = self.slot(chat_id) else {
            return self.slot_or_load(chat_id).await;
        };
        if !self.store.shared() {
            return Ok(Some(slot));
        }
        match self.store.revision(chat_id).await? {
            Some(rev) if rev == slot.rev.load(Ordering::Acquire) => Ok(Some(slot)),
            Some(rev) => {
                self.catch_up(chat_id, rev).await?;
                Ok(Some(slot))
            }
            None => {
                self.forget(chat_id, &slot).await;
                Ok(None)
            }
        }
    }

    /// The chat is gone from the store (purged by another node): drop it here, settling it
    /// first if this node still had it open.
    async fn forget(&self, chat_id: &ChatId, slot: &Slot) {
        let _gate = slot.gate.lock().await;
        let open = {
            let s = lock(&slot.state);
            (!s.ended()).then(|| (s.record.service.clone(), s.present_accounts()))
        };
        if let Some((service, agents)) = open {
            self.settle_ended(&service, chat_id, agents).await;
        }
        self.sessions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(chat_id);
    }

    /// Replaces the slot's state with the stored chat (after a conflict: another writer
    /// committed first). Called under the slot's gate.
    ///
    /// The events this engine had not seen are published on its bus (they were committed by
    /// another engine, whose bus is not this one's), and a chat found ended here for the first
    /// time is settled (counters, routing, agents told) as if it had ended here.
    ///
    /// Only the events after the last one held are read, unless what the store answers does
    /// not continue the copy held here (a store that lost writes: Redis restarted from an
    /// older append-only file, say); then the chat is read whole and replaces the copy.
    pub(super) async fn reload(&self, slot: &Slot, chat_id: &ChatId) -> Result<(), CoreError> {
        let last = lock(&slot.state).events.last().map_or(0, |e| e.index.0);
        let held_rev = slot.rev.load(Ordering::Acquire);
        let newer = self
            .store
            .load_since(chat_id, crate::ids::EventIndex(last))
            .await?
            .ok_or(CoreError::ChatNotFound)?;
        let continues =
            newer.rev >= held_rev && newer.events.first().is_none_or(|e| e.index.0 == last + 1);
        let (stored, whole) = if continues {
            (newer, false)
        } else {
            tracing::warn!(chat = %chat_id.as_str(), held_rev, stored_rev = newer.rev, "the stored chat does not continue the copy held here: read whole");
            let whole = self.store.load(chat_id).await?;
            (whole.ok_or(CoreError::ChatNotFound)?, true)
        };
        let (published, ended_now) = {
            let mut s = lock(&slot.state);
            let (known, was_ended) = (s.events.len(), s.ended());
            let mut agents = s.present_accounts();
            let known = if whole {
                *s = Session::new(stored.record, stored.events);
                known.min(s.events.len())
            } else {
                s.apply(crate::session::Change {
                    record: Some(stored.record),
                    events: stored.events,
                });
                known
            };
            slot.rev.store(stored.rev, Ordering::Release);
            // Agents present before or after: one who left or ended it elsewhere still sees it.
            for a in s.present_accounts() {
                if !agents.contains(&a) {
                    agents.push(a);
                }
            }
            let agents: Arc<[_]> = agents.into();
            let published = super::transcript_events(&s, known, &agents);
            let ended_now = (s.ended() && !was_ended).then(|| (s.record.service.clone(), agents));
            (published, ended_now)
        };
        for e in published {
            self.bus.publish(e);
        }
        if let Some((service, agents)) = ended_now {
            self.settle_ended(&service, chat_id, agents.to_vec()).await;
        }
        Ok(())
    }

    /// Another node committed revision `rev` of `chat`: when this node holds an older copy,
    /// reload it (publishing the new events here). Chats this node does not hold are left
    /// alone: they are loaded, fresh, when first asked for.
    ///
    /// An idle chat this node counts is loaded back (fresh): it may have ended elsewhere, and
    /// this node's open count must learn it.
    pub async fn catch_up(&self, chat: &ChatId, rev: u64) -> Result<(), CoreError> {
        let Some(slot) = self.slot(chat) else {
            let counted = lock(&self.evicted)
                .get(chat)
                .is_some_and(super::idle::Evicted::counted_open);
            if counted {
                // Boxed: loading catches up a chat announced meanwhile, which lands here.
                Box::pin(self.slot_or_load(chat)).await?;
            }
            return Ok(());
        };
        if slot.rev.load(Ordering::Acquire) >= rev {
            return Ok(());
        }
        let _gate = slot.gate.lock().await;
        if slot.rev.load(Ordering::Acquire) >= rev {
            return Ok(()); // a writer here reloaded it meanwhile
        }
        self.reload(&slot, chat).await
    }

    /// (Idle chats out of memory are not compared: one that ended elsewhere is settled when
    /// it is next loaded, at the latest by the lifecycle pass when its abandonment is due.)
    ///
    /// Announcements may have been missed (the feed lagged or reconnected): compare every
    /// chat this node holds with the store and catch up the ones behind. Returns how many.
    pub async fn catch_up_all(&self) -> Result<usize, CoreError> {
        let held: Vec<(ChatId, Arc<Slot>)> = self
            .sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(id, slot)| (id.clone(), slot.clone()))
            .collect();
        let mut behind = 0;
        for (id, slot) in held {
            // One chat that cannot be read never stops the others from catching up.
            let done = match self.store.revision(&id).await {
                Ok(Some(rev)) if rev > slot.rev.load(Ordering::Acquire) => {
                    behind += 1;
                    self.catch_up(&id, rev).await
                }
                Ok(Some(_)) => Ok(()),
                Ok(None) => {
                    self.forget(&id, &slot).await;
                    Ok(())
                }
                Err(e) => Err(e.into()),
            };
            if let Err(err) = done {
                tracing::warn!(chat = %id.as_str(), %err, "cannot catch up a chat");
            }
        }
        Ok(behind)
    }
}

/// The service and present agents of `slot`'s chat if it has ended.
fn slot_ended(slot: &Slot) -> Option<(crate::ids::ServiceName, Vec<crate::ids::AgentId>)> {
    let s = lock(&slot.state);
    s.ended()
        .then(|| (s.record.service.clone(), s.present_accounts()))
}
