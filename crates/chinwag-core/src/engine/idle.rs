//! Idle open chats leave memory (and a node starts with every stored chat out of memory,
//! entered here from its header by [`ChatEngine::open`]): an open chat nobody used on this node for the idle time
//! (`server.idle_chat_eviction_secs`) is dropped from the session map and read back from the
//! store when next asked for ([`ChatEngine::slot_or_load`]). What the slot knew beyond the
//! store stays behind in a compact [`Evicted::Open`] entry (a few words per chat): whether
//! this node counts the chat (its service's open count, decremented once when it ends), the
//! customer's last request and fetch position, a device the push provider called gone, and
//! whether it has a push subscription (for the shutdown notices).
//!
//! Never evicted: a chat something on this node follows through the bus, since another
//! node's commits reach this node's bus only for the chats it holds (catch-up): a chat with
//! an agent or supervisor present (their event streams may be connected here; bounded by the
//! agents' capacity), and a chat a live CometD client watches here. A chat in use (some
//! request holds its slot) is never evicted either. On a shared store a chat is evicted only
//! once the lifecycle pass has recorded what this node saw of its customer there.
//!
//! Abandonment needs nothing here: a chat's abandon timer is in the store (`abandon.rs`);
//! when it fires, the chat is loaded like for any request, and its customer's last request
//! comes back from the entry (on a shared store it was recorded there before eviction).

use super::{ChatEngine, Slot, lock};
use crate::ids::ChatId;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A chat that left memory and is still stored.
#[derive(Debug, Clone)]
pub(crate) enum Evicted {
    /// Ended at (epoch ms); forgotten once past its retention.
    Ended(i64),
    /// Open and idle.
    Open(Idle),
}

/// What an evicted open chat's slot knew beyond the store.
#[derive(Debug, Clone)]
pub(crate) struct Idle {
    /// See `Slot::counted`.
    counted: bool,
    /// Its service's place in the settings (`u16::MAX`: not configured), so the open count
    /// can be corrected when the chat is quarantined out of memory.
    service: u16,
    /// The chat has a push subscription (it gets a shutdown notice).
    subscribed: bool,
    /// See `Slot::client_seen_ms` (on a shared store also recorded there).
    client_seen_ms: i64,
    /// See `Slot::client_next` (on a shared store also recorded there).
    client_next: u64,
    /// See `Slot::push_gone`.
    push_gone: Option<Box<str>>,
}

impl Idle {
    /// The entry of an open chat found in the store at start: its customer's silence counts
    /// from now (it could not reach a node that was down), nothing else known yet.
    pub(super) fn at_start(service: u16, counted: bool, subscribed: bool, now_ms: i64) -> Self {
        Self {
            counted,
            service,
            subscribed,
            client_seen_ms: now_ms,
            client_next: 0,
            push_gone: None,
        }
    }

    /// Puts the kept knowledge back into a slot just loaded from the store.
    fn restore(self, slot: &Slot) {
        slot.counted.store(self.counted, Ordering::Relaxed);
        slot.client_seen_ms
            .store(self.client_seen_ms, Ordering::Relaxed);
        slot.seen_shared_ms
            .store(self.client_seen_ms, Ordering::Relaxed);
        slot.client_next.store(self.client_next, Ordering::Relaxed);
        slot.fetched_shared
            .store(self.client_next, Ordering::Relaxed);
        *lock(&slot.push_gone) = self.push_gone.map(String::from);
    }
}

impl Evicted {
    /// The entry of an open chat this node counts.
    pub(super) fn counted_open(&self) -> bool {
        matches!(self, Self::Open(i) if i.counted)
    }

    /// The service place (in the settings) of an open chat this node counts.
    pub(super) fn counted_service(&self) -> Option<u16> {
        match self {
            Self::Open(i) if i.counted => Some(i.service),
            _ => None,
        }
    }
}

impl ChatEngine {
    /// Evicts the open chats nobody used for `idle_ms` (see the module header); returns how
    /// many left memory.
    pub fn evict_idle(&self, idle_ms: i64) -> usize {
        self.evict_unused_before(self.now_ms().saturating_sub(idle_ms))
    }

    fn evict_unused_before(&self, before: i64) -> usize {
        let shared = self.store.shared();
        let candidates: Vec<ChatId> = {
            let map = self
                .sessions
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            map.iter()
                .filter(|(_, slot)| evictable(slot, before, shared))
                .map(|(id, _)| id.clone())
                .collect()
        };
        // Asked outside every lock (another component's).
        let candidates: Vec<ChatId> = candidates
            .into_iter()
            .filter(|id| !self.watched(id))
            .collect();
        if candidates.is_empty() {
            return 0;
        }
        let mut map = self
            .sessions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Remembered before the map lets go, so no reader finds it in neither.
        let mut evicted = lock(&self.evicted);
        let mut n = 0;
        for id in candidates {
            let Some(slot) = map.get(&id) else { continue };
            // Checked again: a request may have taken the slot since (it cannot now: the
            // map is locked for writing, and a slot held only by the map is unused).
            if Arc::strong_count(slot) != 1 || !evictable(slot, before, shared) {
                continue;
            }
            let idle = self.idle_of(slot);
            if idle.counted || !shared {
                evicted.insert(id.clone(), Evicted::Open(idle));
            }
            map.remove(&id);
            n += 1;
        }
        n
    }

    /// The compact entry of `slot`.
    fn idle_of(&self, slot: &Slot) -> Idle {
        let s = lock(&slot.state);
        Idle {
            counted: slot.counted.load(Ordering::Relaxed),
            service: service_index(&self.settings, &s.record.service),
            subscribed: self.settings.push.subscription(&s.record).is_some(),
            client_seen_ms: slot.client_seen_ms.load(Ordering::Relaxed),
            client_next: slot.client_next.load(Ordering::Relaxed),
            push_gone: lock(&slot.push_gone).as_deref().map(Box::from),
        }
    }

    /// What the evicted entry of `chat` knew of its customer: (last request, fetch position).
    pub(super) fn idle_customer(&self, chat: &ChatId) -> Option<(i64, u64)> {
        match lock(&self.evicted).get(chat) {
            Some(Evicted::Open(i)) => Some((i.client_seen_ms, i.client_next)),
            _ => None,
        }
    }

    /// Marks `device` gone in the evicted entry of `chat`; `false` if there is none.
    pub(super) fn idle_push_gone(&self, chat: &ChatId, device: &str) -> bool {
        match lock(&self.evicted).get_mut(chat) {
            Some(Evicted::Open(i)) => {
                i.push_gone = Some(device.into());
                true
            }
            _ => false,
        }
    }

    /// The evicted entry of `chat`, if it left memory open.
    pub(super) fn evicted_open(&self, chat: &ChatId) -> bool {
        matches!(lock(&self.evicted).get(chat), Some(Evicted::Open(_)))
    }

    /// A slot just loaded from the store goes into the map (unless a concurrent load put one
    /// there first, which is returned instead), taking back what its evicted entry kept.
    /// Returns the slot, whether it was inserted, and whether this node counted it.
    pub(super) fn insert_loaded(&self, chat: &ChatId, slot: Arc<Slot>) -> (Arc<Slot>, bool, bool) {
        use std::collections::hash_map::Entry;
        let mut map = self
            .sessions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.entry(chat.clone()) {
            Entry::Occupied(o) => (o.get().clone(), false, false),
            Entry::Vacant(v) => {
                let mut evicted = lock(&self.evicted);
                let counted = match evicted.get(chat) {
                    Some(Evicted::Open(_)) => match evicted.remove(chat) {
                        Some(Evicted::Open(idle)) => {
                            let counted = idle.counted;
                            idle.restore(&slot);
                            counted
                        }
                        _ => false,
                    },
                    _ => false,
                };
                (v.insert(slot).clone(), true, counted)
            }
        }
    }

    /// An idle chat found ended past its retention (elsewhere, on a shared store, while it
    /// was out of memory): forgotten, and one open chat less for its service if counted.
    pub(super) fn drop_idle(&self, chat: &ChatId, service: &crate::ids::ServiceName) {
        let counted = {
            let mut evicted = lock(&self.evicted);
            match evicted.get(chat) {
                Some(Evicted::Open(i)) => {
                    let counted = i.counted;
                    evicted.remove(chat);
                    counted
                }
                _ => false,
            }
        };
        if counted && let Some(svc) = self.services.get(service) {
            let _ = svc
                .open
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        }
    }

    /// A chat found unreadable while out of memory: its entry is forgotten, and it is one
    /// open chat less for its service if this node counted it.
    pub(super) fn drop_quarantined(&self, chat: &ChatId) {
        let entry = lock(&self.evicted).remove(chat);
        let Some(Evicted::Open(idle)) = entry else {
            return;
        };
        let svc = self.settings.services.get(usize::from(idle.service));
        if idle.counted
            && let Some(svc) = svc.and_then(|s| self.services.get(&s.name))
        {
            let _ = svc
                .open
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        }
    }

    /// Loads back the evicted chats with a push subscription (for the shutdown notices).
    pub(super) async fn load_subscribed_idle(&self) {
        let subscribed: Vec<ChatId> = lock(&self.evicted)
            .iter()
            .filter(|(_, e)| matches!(e, Evicted::Open(i) if i.subscribed))
            .map(|(id, _)| id.clone())
            .collect();
        for id in subscribed {
            if let Err(err) = self.slot_or_load(&id).await {
                tracing::warn!(chat = %id.as_str(), %err, "cannot load an idle chat for its shutdown notice");
            }
        }
    }
}

/// The place of the service `name` in `settings` (`u16::MAX`: not configured).
pub(super) fn service_index(
    settings: &crate::settings::EngineSettings,
    name: &crate::ids::ServiceName,
) -> u16 {
    settings
        .services
        .iter()
        .position(|s| &s.name == name)
        .and_then(|i| u16::try_from(i).ok())
        .unwrap_or(u16::MAX)
}

/// Whether `slot` may leave memory: open, unused since `before`, unused right now, nobody
/// present but its customer, and (on a shared store) its customer's latest known there.
fn evictable(slot: &Arc<Slot>, before: i64, shared: bool) -> bool {
    if Arc::strong_count(slot) > 1 || slot.used_ms.load(Ordering::Relaxed) >= before {
        return false;
    }
    if shared
        && (slot.client_seen_ms.load(Ordering::Relaxed)
            > slot.seen_shared_ms.load(Ordering::Relaxed)
            || slot.client_next.load(Ordering::Relaxed)
                > slot.fetched_shared.load(Ordering::Relaxed))
    {
        return false;
    }
    let s = lock(&slot.state);
    !s.ended() && s.present_accounts().is_empty()
}
