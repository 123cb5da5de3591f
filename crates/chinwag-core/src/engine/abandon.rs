//! Abandonment on durable timers ([`crate::timers`]): every chat of a service that can
//! abandon chats has an `abandon` timer in the store, set when the chat is created (and, at
//! start, for open chats that have none: chats from before timers existed), due when its
//! customer will have been silent past the limit. Every node's `timers` worker claims the due
//! timers, whichever node created the chat (a dead node's chats included), and for each reads
//! when the customer was last active — the latest of the chat's creation, what every node
//! recorded in the store (`ChatStore::last_seen`, written by each node's lifecycle pass), and
//! a request this node saw and has not recorded yet — then ends the chat if the customer was
//! silent past the limit and no live client watches it here, or moves the timer to when the
//! silence would reach it. An ended chat's timer is cancelled (or completed when it fires).
//! Nothing is held in memory per timer, and nothing is written on a request's path.

use super::{ABANDONED, ChatEngine, Slot};
use crate::error::CoreError;
use crate::ids::{ChatId, ServiceName};
use crate::timers::{DueTimer, Schedule, TimerKey, TimerKind};
use std::sync::atomic::Ordering;

/// How long a claimed timer is this node's: if the node has neither completed nor moved it
/// by then (it died), another node's worker takes it.
pub const CLAIM_MS: i64 = 20_000;
/// Timers claimed per store call.
const BATCH: usize = 64;
/// Most claims per pass (a larger backlog drains over the next passes).
const ROUNDS: usize = 16;

impl ChatEngine {
    /// The shortest silence after which a chat of `service` may be ended: the service's
    /// abandon limit or, with push on, the push timeout (a chat may subscribe later).
    /// `None`: its chats are never abandoned (and get no timer).
    fn abandon_check_ms(&self, service: &ServiceName) -> Option<i64> {
        let svc = self.services.get(service)?;
        let push = &self.settings.push;
        let push = push.enabled().then_some(push.timeout_ms).flatten();
        [svc.settings.limits.abandon_after_ms, push]
            .into_iter()
            .flatten()
            .min()
    }

    /// The silence that ends `slot`'s chat now: the push timeout for a push-subscribed chat,
    /// else its service's abandon limit (`None`: never, as things stand).
    fn abandon_limit_ms(&self, slot: &Slot) -> Option<i64> {
        let s = super::lock(&slot.state);
        if slot
            .live_subscription(&self.settings.push, &s.record)
            .is_some()
        {
            self.settings.push.timeout_ms
        } else {
            self.service(s.record.service.as_str())
                .and_then(|svc| svc.limits.abandon_after_ms)
        }
    }

    /// The abandon timer of a chat of `service` whose customer was last active at `at_ms`.
    fn abandon_timer(
        &self,
        chat: &ChatId,
        service: &ServiceName,
        at_ms: i64,
    ) -> Option<(TimerKey, i64)> {
        let check = self.abandon_check_ms(service)?;
        let key = TimerKey::new(TimerKind::Abandon, chat.clone());
        Some((key, at_ms.saturating_add(check).saturating_add(1)))
    }

    /// The timers of a chat of `service` whose customer was last active at `at_ms`: its
    /// abandon timer and its inactivity-control timer (`inactivity.rs`), each if its service
    /// has one.
    fn chat_timers(
        &self,
        chat: &ChatId,
        service: &ServiceName,
        at_ms: i64,
    ) -> impl Iterator<Item = (TimerKey, i64)> {
        let abandon = self.abandon_timer(chat, service, at_ms);
        let idle = self.idle_timer(chat, service, at_ms);
        abandon.into_iter().chain(idle)
    }

    /// Sets the timers of a chat being created at `now_ms`, in one store call (before its
    /// first commit: a chat is never stored without its timers; a timer whose chat never got
    /// stored is dropped when it fires).
    pub(super) async fn schedule_timers(
        &self,
        chat: &ChatId,
        service: &ServiceName,
        now_ms: i64,
    ) -> Result<(), CoreError> {
        let timers: Vec<_> = self.chat_timers(chat, service, now_ms).collect();
        if !timers.is_empty() {
            self.store.schedule(&timers, Schedule::Replace).await?;
        }
        Ok(())
    }

    /// Gives the open chats found in the store at start (entered out of memory, counted by
    /// this node) the timers they lack (chats from before timers existed, or from before
    /// their service turned inactivity control on), counting their silence from now (the
    /// customer could not reach a node that was down). One store call per 1000 timers.
    pub(super) async fn restore_timers(&self) -> Result<(), CoreError> {
        const PER_CALL: usize = 1000;
        let now = self.now_ms();
        let timers: Vec<(TimerKey, i64)> = {
            let evicted = super::lock(&self.evicted);
            evicted
                .iter()
                .filter_map(|(chat, e)| {
                    let svc = self
                        .settings
                        .services
                        .get(usize::from(e.counted_service()?))?;
                    Some(self.chat_timers(chat, &svc.name, now))
                })
                .flatten()
                .collect()
        };
        for batch in timers.chunks(PER_CALL) {
            self.store.schedule(batch, Schedule::KeepExisting).await?;
        }
        Ok(())
    }

    /// Drops `chat`'s timers (one store call): it ended. A failure only leaves a timer to
    /// fire, find the chat ended and complete itself.
    pub(super) async fn cancel_timers(&self, chat: &ChatId) {
        let keys = [TimerKind::Abandon, TimerKind::Idle].map(|k| TimerKey::new(k, chat.clone()));
        if let Err(e) = self.store.cancel(&keys).await {
            tracing::debug!(chat = %chat.as_str(), %e, "timer of an ended chat not cancelled; dropped when it fires");
        }
    }

    /// Claims the timers that fell due (whichever node set them) and fires each; returns how
    /// many chats were ended (abandoned, or closed by inactivity control). One pass of the `timers` worker.
    pub async fn fire_timers(&self) -> usize {
        let mut ended = 0;
        for _ in 0..ROUNDS {
            let due = match self
                .store
                .claim_due(self.now_ms(), &self.timer_holder, BATCH, CLAIM_MS)
                .await
            {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(%e, "cannot claim due timers; trying again next pass");
                    break;
                }
            };
            let full = due.len() >= BATCH;
            for timer in due {
                match self.fire(&timer).await {
                    Ok(true) => ended += 1,
                    Ok(false) => {}
                    // The claim lapses and the timer is claimed again (here or elsewhere).
                    Err(e) => {
                        tracing::warn!(chat = %timer.key.chat.as_str(), %e, "timer not fired; tried again when its claim lapses");
                    }
                }
            }
            if !full {
                break;
            }
        }
        if ended > 0 {
            tracing::info!(ended, "chats ended by their timers (abandoned or inactive)");
        }
        ended
    }

    async fn fire(&self, timer: &DueTimer) -> Result<bool, CoreError> {
        match timer.key.kind {
            TimerKind::Abandon => self.fire_abandon(timer).await,
            TimerKind::Idle => self.fire_idle(timer).await,
            TimerKind::Files => self.fire_files(timer).await.map(|()| false),
        }
    }

    /// Ends the chat if its customer abandoned it, else moves its timer; `true`: ended here.
    async fn fire_abandon(&self, timer: &DueTimer) -> Result<bool, CoreError> {
        let chat = &timer.key.chat;
        let slot = self.fresh_slot(chat).await?;
        let open = slot.as_ref().and_then(|slot| {
            let s = super::lock(&slot.state);
            (!s.ended()).then(|| (s.record.service.clone(), s.record.created_ms))
        });
        let (Some(slot), Some((service, created_ms))) = (slot, open) else {
            self.store.complete(timer).await?; // ended, purged, or never stored
            return Ok(false);
        };
        let Some(check) = self.abandon_check_ms(&service) else {
            self.store.complete(timer).await?; // its service no longer abandons chats
            return Ok(false);
        };
        let now = self.now_ms();
        let last = if self.watched(chat) {
            now
        } else {
            self.last_activity(&slot, chat, created_ms).await?
        };
        let next = match self.abandon_limit_ms(&slot) {
            Some(limit) if now.saturating_sub(last) > limit => {
                let ended = self.close(&slot, ABANDONED).await?;
                self.store.complete(timer).await?; // already gone when the end cancelled it
                return Ok(ended);
            }
            Some(limit) => last.saturating_add(limit).saturating_add(1),
            // Subscribed to push without a push timeout: checked again later, in case the
            // subscription goes.
            None => now.saturating_add(check),
        };
        self.store.reschedule(timer, next).await?;
        Ok(false)
    }

    /// When `chat`'s customer was last active, as far as any node knows: its creation, the
    /// latest time recorded in the store by any node, and a request seen here that the
    /// lifecycle pass has not recorded yet (on a store of one process, every request seen
    /// here, or this node's start for chats restored then). A store that cannot answer is an
    /// error: a chat is never ended on a guess.
    async fn last_activity(
        &self,
        slot: &Slot,
        chat: &ChatId,
        created_ms: i64,
    ) -> Result<i64, CoreError> {
        let local = slot.client_seen_ms.load(Ordering::Relaxed);
        if !self.store.shared() {
            return Ok(local.max(created_ms));
        }
        // A chat loaded on demand starts with its load time, which is no sighting: only a
        // request seen since (above what was recorded) counts.
        let unrecorded = local > slot.seen_shared_ms.load(Ordering::Relaxed);
        let mut last = created_ms;
        if unrecorded {
            last = last.max(local);
        }
        if let Some(t) = self.store.last_seen(chat).await? {
            last = last.max(t);
        }
        Ok(last)
    }
}
