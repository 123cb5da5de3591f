//! The engine's side of push: planning jobs for committed events, handing them to the
//! delivery worker, tracking what the customer has fetched (which acknowledges reliable
//! pushes), and the shutdown notice.

use super::{ChatEngine, Slot, lock};
use crate::error::CoreError;
use crate::event::Event;
use crate::ids::{ChatId, EventIndex};
use crate::lease::NodeLease;
use crate::push::{JobKind, PushClaims, PushJob, Subscription, plan};
use crate::session::SessionRecord;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

use super::view::ChatView;

/// Seqs reserved from the store at a time: one store call per this many push jobs.
const SEQ_BLOCK: u64 = 1024;

/// Jobs on their way from the engine to the delivery worker, after their commit; and the
/// block of seqs reserved from the store they are numbered from (seqs unique across every
/// process sharing the store).
#[derive(Debug)]
pub(super) struct Feed {
    /// Seqs not handed out yet, `next..end`, from one or more reserved blocks in order.
    seqs: Mutex<std::collections::VecDeque<(u64, u64)>>,
    /// The node lease whose holder owns the jobs planned here (none: no owner recorded).
    owner: std::sync::OnceLock<Arc<NodeLease>>,
    tx: mpsc::UnboundedSender<PushJob>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<PushJob>>>,
}

impl Feed {
    pub(super) fn new() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            seqs: Mutex::new(std::collections::VecDeque::new()),
            owner: std::sync::OnceLock::new(),
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }

    /// Takes one seq from the reserved blocks.
    fn take(&self) -> Option<u64> {
        let mut seqs = lock(&self.seqs);
        let (next, end) = seqs.front_mut()?;
        let seq = *next;
        *next += 1;
        if *next >= *end {
            seqs.pop_front();
        }
        Some(seq)
    }

    fn left(&self) -> u64 {
        lock(&self.seqs).iter().map(|(a, b)| b - a).sum()
    }

    /// Gives `jobs` their seqs (reserving another block from `store` when the one held runs
    /// short) and their owner. Called outside every chat's state lock.
    pub(super) async fn stamp(
        &self,
        store: &dyn PushClaims,
        jobs: &mut [PushJob],
    ) -> Result<(), crate::StoreError> {
        if jobs.is_empty() {
            return Ok(());
        }
        let need = u64::try_from(jobs.len()).unwrap_or(u64::MAX);
        if self.left() < need {
            let n = need.max(SEQ_BLOCK);
            let first = store.reserve_seqs(n).await?;
            lock(&self.seqs).push_back((first, first + n));
        }
        let owner = self.owner.get().map(|l| l.holder());
        for job in jobs.iter_mut() {
            // Another writer may have taken seqs meanwhile: take what is left, then more.
            job.seq = match self.take() {
                Some(seq) => seq,
                None => {
                    let first = store.reserve_seqs(SEQ_BLOCK).await?;
                    lock(&self.seqs).push_back((first + 1, first + SEQ_BLOCK));
                    first
                }
            };
            job.owner.clone_from(&owner);
        }
        Ok(())
    }

    /// Hands committed jobs over. Nobody listening (push delivery not running) is fine:
    /// the jobs are in the outbox and the worker reads them at start.
    pub(super) fn send(&self, jobs: Vec<PushJob>) {
        for job in jobs {
            if self.tx.send(job).is_err() {
                return;
            }
        }
    }
}

impl Slot {
    /// The subscription of `record`, unless its device was reported gone.
    pub(super) fn live_subscription(
        &self,
        settings: &crate::push::PushSettings,
        record: &SessionRecord,
    ) -> Option<Subscription> {
        let sub = settings.subscription(record)?;
        let gone = lock(&self.push_gone);
        (gone.as_deref() != Some(sub.device_key().as_str())).then_some(sub)
    }

    /// Notes what a customer-side view handed out: everything before its `nextPosition`.
    pub(super) fn fetched(&self, view: &ChatView) {
        if let Some(next) = view.next_position {
            self.client_next.fetch_max(next, Ordering::Relaxed);
        }
    }
}

/// What the delivery side needs to build one push.
#[derive(Debug, Clone)]
pub struct PushView {
    /// The session header (ids, `userData` with the subscription).
    pub record: SessionRecord,
    /// The subscription, as it is now (`None`: it was withdrawn or its channel turned off).
    pub subscription: Option<Subscription>,
    /// The event announced (`None` for a shutdown notice, or a purged transcript).
    pub event: Option<Event>,
    /// The chat has ended.
    pub ended: bool,
    /// A supervisor is present.
    pub monitored: bool,
    /// Position after the last event.
    pub next_position: u64,
    /// First position the customer has not fetched (0: unknown).
    pub client_next: u64,
}

impl ChatEngine {
    /// Plans the push jobs for `events` about to be committed on `slot`.
    pub(super) fn plan_pushes(
        &self,
        slot: &Slot,
        record: &SessionRecord,
        events: &[Event],
    ) -> Vec<PushJob> {
        let now = self.now_ms();
        // On a shared store the customer's requests may reach other nodes: the push timeout
        // is checked when the push is delivered, against what every node saw
        // (`push_timed_out` after `learn_customer`), never with a store read here.
        let seen = if self.store.shared() {
            now
        } else {
            slot.client_seen_ms.load(Ordering::Relaxed)
        };
        if slot
            .live_subscription(&self.settings.push, record)
            .is_none()
        {
            return Vec::new();
        }
        let Some((device, picked)) = plan(&self.settings.push, record, events, seen, now) else {
            return Vec::new();
        };
        picked
            .into_iter()
            .map(|e| PushJob {
                seq: 0, // numbered by `Feed::stamp` before the commit
                device: device.clone(),
                chat_id: record.chat_id.clone(),
                index: e.index,
                kind: JobKind::Event,
                attempt: 0,
                due_ms: now,
                sent: false,
                owner: None,
            })
            .collect()
    }

    /// Numbers `jobs` (seqs unique among every process sharing the store) and stamps them
    /// with this node's owner; outside every state lock.
    pub(super) async fn stamp_pushes(&self, jobs: &mut [PushJob]) -> Result<(), CoreError> {
        Ok(self.pushes.stamp(self.store.as_ref(), jobs).await?)
    }

    /// Records the node lease whose holder owns the push jobs this engine plans from now on
    /// (a node sharing its store with others); the first call wins.
    pub fn set_push_owner(&self, lease: Arc<NodeLease>) {
        let _ = self.pushes.owner.set(lease);
    }

    /// The node lease set by [`Self::set_push_owner`].
    pub(crate) fn push_owner(&self) -> Option<&Arc<NodeLease>> {
        self.pushes.owner.get()
    }

    /// The numbering and ownership side of the outbox (the store's).
    pub(crate) fn push_claims(&self) -> Arc<dyn PushClaims> {
        self.store.clone()
    }

    /// The stream of jobs committed from now on; `None` after the first call.
    pub(crate) fn take_push_feed(&self) -> Option<mpsc::UnboundedReceiver<PushJob>> {
        lock(&self.pushes.rx).take()
    }

    /// The push settings.
    pub fn push_settings(&self) -> &crate::push::PushSettings {
        &self.settings.push
    }

    /// The outbox (the store's).
    pub(crate) fn outbox(&self) -> Arc<dyn crate::ports::PushOutbox> {
        self.store.clone()
    }

    /// Everything needed to build the push for `index` of `chat_id` (loaded from the store
    /// when not in memory); `Ok(None)` once the chat is gone.
    pub(crate) async fn push_view(
        &self,
        chat_id: &ChatId,
        index: EventIndex,
    ) -> Result<Option<PushView>, CoreError> {
        let Some(slot) = self.fresh_slot(chat_id).await? else {
            return Ok(None);
        };
        let s = lock(&slot.state);
        Ok(Some(PushView {
            subscription: slot.live_subscription(&self.settings.push, &s.record),
            record: s.record.clone(),
            event: s
                .events_from(index)
                .first()
                .filter(|e| e.index == index)
                .cloned(),
            ended: s.ended(),
            monitored: s.monitored(),
            next_position: s.next_index().0,
            client_next: slot.client_next.load(Ordering::Relaxed),
        }))
    }

    /// The provider said `device` (`type:id`) is unregistered: `chat_id` gets no more
    /// pushes until its subscription names another device. (Kept in memory: after a
    /// restart the first push to the device finds out again.)
    pub(crate) fn drop_push_device(&self, chat_id: &ChatId, device: &str) {
        let marked = match self.slot(chat_id) {
            Some(slot) => {
                *lock(&slot.push_gone) = Some(device.to_owned());
                true
            }
            None => self.idle_push_gone(chat_id, device),
        };
        if marked {
            tracing::info!(chat = %chat_id.as_str(), device, "push device unregistered; subscription dropped");
        }
    }

    /// On a shared store: whether `chat_id`'s customer had made no request for the push
    /// timeout (`flex-push-timeout`) at `at_ms`, as far as this node knows (call
    /// [`Self::learn_customer`] before trusting a `true`). Always `false` on a store one
    /// process owns: the timeout was applied when the push was planned.
    pub(crate) fn push_timed_out(&self, chat_id: &ChatId, at_ms: i64) -> bool {
        if !self.store.shared() {
            return false;
        }
        let seen = match self.slot(chat_id) {
            Some(slot) => slot.client_seen_ms.load(Ordering::Relaxed),
            None => match self.idle_customer(chat_id) {
                Some((seen, _)) => seen,
                None => return false,
            },
        };
        self.settings
            .push
            .timeout_ms
            .is_some_and(|t| at_ms.saturating_sub(seen) > t)
    }

    /// First position the customer of `chat_id` has not fetched (0 when unknown); `None`
    /// when this node neither holds the chat nor keeps it as an idle open chat.
    pub(crate) fn client_position(&self, chat_id: &ChatId) -> Option<u64> {
        match self.slot(chat_id) {
            Some(s) => Some(s.client_next.load(Ordering::Relaxed)),
            None => self.idle_customer(chat_id).map(|(_, next)| next),
        }
    }

    /// On a managed shutdown with `shutdown-notify-flex-push`: queues a "reconnect" notice
    /// for every open session with a subscription. Returns how many were queued.
    pub async fn queue_shutdown_notices(&self) -> Result<usize, CoreError> {
        if !self.settings.push.shutdown_notify {
            return Ok(0);
        }
        self.load_subscribed_idle().await;
        let now = self.now_ms();
        let slots: Vec<Arc<Slot>> = self
            .sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let mut jobs = Vec::new();
        for slot in slots {
            let s = lock(&slot.state);
            if s.ended() {
                continue;
            }
            if let Some(sub) = self.settings.push.subscription(&s.record) {
                jobs.push(PushJob {
                    seq: 0,
                    device: sub.device_key(),
                    chat_id: s.record.chat_id.clone(),
                    index: EventIndex(s.next_index().0.saturating_sub(1)),
                    kind: JobKind::Shutdown,
                    attempt: 0,
                    due_ms: now,
                    sent: false,
                    owner: None,
                });
            }
        }
        let n = jobs.len();
        if n > 0 {
            self.pushes.stamp(self.store.as_ref(), &mut jobs).await?;
            self.store.enqueue(jobs.clone()).await?;
            self.pushes.send(jobs);
        }
        Ok(n)
    }
}

#[cfg(test)]
#[path = "push_tests.rs"]
mod tests;
