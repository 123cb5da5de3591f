//! The engine's side of push: planning jobs for committed events, handing them to the
//! delivery worker, tracking what the customer has fetched (which acknowledges reliable
//! pushes), and the shutdown notice.

use super::{ChatEngine, Slot, lock};
use crate::error::CoreError;
use crate::event::Event;
use crate::ids::{ChatId, EventIndex};
use crate::push::{JobKind, PushJob, Subscription, plan};
use crate::session::SessionRecord;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

use super::view::ChatView;

/// Jobs on their way from the engine to the delivery worker, after their commit.
#[derive(Debug)]
pub(super) struct Feed {
    seq: AtomicU64,
    tx: mpsc::UnboundedSender<PushJob>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<PushJob>>>,
}

impl Feed {
    pub(super) fn new(last_seq: u64) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            seq: AtomicU64::new(last_seq),
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }

    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
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
        let seen = slot.client_seen_ms.load(Ordering::Relaxed);
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
                seq: self.pushes.next_seq(),
                device: device.clone(),
                chat_id: record.chat_id.clone(),
                index: e.index,
                kind: JobKind::Event,
                attempt: 0,
                due_ms: now,
                sent: false,
            })
            .collect()
    }

    /// The stream of jobs committed from now on; `None` after the first call.
    pub fn take_push_feed(&self) -> Option<mpsc::UnboundedReceiver<PushJob>> {
        lock(&self.pushes.rx).take()
    }

    /// The push settings.
    pub fn push_settings(&self) -> &crate::push::PushSettings {
        &self.settings.push
    }

    /// The outbox (the store's).
    pub fn outbox(&self) -> Arc<dyn crate::ports::PushOutbox> {
        self.store.clone()
    }

    /// Everything needed to build the push for `index` of `chat_id` (loaded from the store
    /// when not in memory); `Ok(None)` once the chat is gone.
    pub async fn push_view(
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
    pub fn drop_push_device(&self, chat_id: &ChatId, device: &str) {
        if let Some(slot) = self.slot(chat_id) {
            *lock(&slot.push_gone) = Some(device.to_owned());
            tracing::info!(chat = %chat_id.as_str(), device, "push device unregistered; subscription dropped");
        }
    }

    /// First position the customer of `chat_id` has not fetched (0 when unknown).
    pub fn client_position(&self, chat_id: &ChatId) -> Option<u64> {
        self.slot(chat_id)
            .map(|s| s.client_next.load(Ordering::Relaxed))
    }

    /// On a managed shutdown with `shutdown-notify-flex-push`: queues a "reconnect" notice
    /// for every open session with a subscription. Returns how many were queued.
    pub async fn queue_shutdown_notices(&self) -> Result<usize, CoreError> {
        if !self.settings.push.shutdown_notify {
            return Ok(0);
        }
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
                    seq: self.pushes.next_seq(),
                    device: sub.device_key(),
                    chat_id: s.record.chat_id.clone(),
                    index: EventIndex(s.next_index().0.saturating_sub(1)),
                    kind: JobKind::Shutdown,
                    attempt: 0,
                    due_ms: now,
                    sent: false,
                });
            }
        }
        let n = jobs.len();
        if n > 0 {
            self.store.enqueue(jobs.clone()).await?;
            self.pushes.send(jobs);
        }
        Ok(n)
    }
}
