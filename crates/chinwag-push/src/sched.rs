//! The worker's schedule: one queue per device with at most one push in flight (so a device
//! receives its pushes in order), the timers of pushes waiting to retry, to be looked at
//! again (a chat watched over CometD) or for a reliable push's acknowledgement, and what a
//! stopping worker still waits for.

use crate::stats::PushStats;
use crate::worker::Shared;
use chinwag_core::ids::ChatId;
use chinwag_core::push::PushJob;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use tokio::sync::mpsc;

/// What a finished attempt leads to (the outbox is already updated).
pub(crate) enum Next {
    /// Done with this job.
    Finished,
    /// Delivered reliably: wait for the client's refresh.
    Await(PushJob),
    /// Try again at `job.due_ms`.
    Retry(PushJob),
    /// The chat is watched over CometD: look again at this time (epoch ms). The job stays
    /// in the outbox meanwhile and its device waits.
    Recheck(i64),
    /// The device is gone: drop everything queued for it.
    DeviceGone,
}

enum Timer {
    Retry(PushJob),
    Recheck(PushJob),
    Await(PushJob),
}

#[derive(Default)]
pub(crate) struct Sched {
    queues: HashMap<String, VecDeque<PushJob>>,
    /// Devices with a push in flight or waiting to retry.
    busy: HashSet<String>,
    /// Devices with queued pushes and nothing in flight.
    ready: VecDeque<String>,
    timers: BTreeMap<(i64, u64), Timer>,
    /// Newest reliable push delivered, per chat: it supersedes older ones' resends.
    latest_sent: HashMap<ChatId, u64>,
    /// Failed tries so far, per job.
    tries: HashMap<u64, u32>,
    in_flight: usize,
    /// The worker is stopping: presence re-checks are left in the outbox.
    stopping: bool,
}

impl Sched {
    pub(crate) fn push(&mut self, job: PushJob) {
        if job.sent {
            // Loaded or taken over already sent: the newest sent of its chat supersedes the
            // older ones' resends, as if this worker had sent them.
            let latest = self.latest_sent.entry(job.chat_id.clone()).or_default();
            *latest = (*latest).max(job.seq);
            self.timers.insert((job.due_ms, job.seq), Timer::Await(job));
            return;
        }
        let device = job.device.clone();
        let q = self.queues.entry(device.clone()).or_default();
        q.push_back(job);
        if q.len() == 1 && !self.busy.contains(&device) {
            self.ready.push_back(device);
        }
    }

    fn release(&mut self, device: &str) {
        self.busy.remove(device);
        if self.queues.get(device).is_some_and(|q| !q.is_empty()) {
            self.ready.push_back(device.to_owned());
        } else {
            self.queues.remove(device);
        }
    }

    /// When the next timer is due (epoch ms).
    pub(crate) fn next_due(&self) -> Option<i64> {
        self.timers.first_key_value().map(|((due, _), _)| *due)
    }

    /// Nothing ready, nothing in flight, and no retry due by `until_ms`: a stopping worker
    /// has nothing left to deliver in its drain window (what remains stays in the outbox).
    pub(crate) fn drained(&self, until_ms: i64) -> bool {
        self.ready.is_empty()
            && self.in_flight == 0
            && !self
                .timers
                .range(..=(until_ms, u64::MAX))
                .any(|(_, t)| matches!(t, Timer::Retry(_)))
    }

    /// The worker is stopping: pushes waiting to look at a watched chat again stay in the
    /// outbox for the next start, and their devices go on with what is queued (the
    /// shutdown notices).
    pub(crate) fn stop(&mut self) {
        self.stopping = true;
        let waiting: Vec<(i64, u64)> = self
            .timers
            .iter()
            .filter(|(_, t)| matches!(t, Timer::Recheck(_)))
            .map(|(k, _)| *k)
            .collect();
        for k in waiting {
            if let Some(Timer::Recheck(job)) = self.timers.remove(&k) {
                self.tries.remove(&job.seq);
                self.release(&job.device);
            }
        }
    }

    /// Drops everything held (the node lost its lease: the jobs are another holder's now);
    /// pushes in flight are forgotten as they complete.
    pub(crate) fn forget_all(&mut self) {
        let in_flight = self.in_flight;
        let busy = std::mem::take(&mut self.busy);
        *self = Self {
            in_flight,
            busy,
            stopping: self.stopping,
            ..Self::default()
        };
    }

    /// A push that completed after [`Self::forget_all`]: only its place is freed.
    pub(crate) fn forget(&mut self, job: &PushJob) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.release(&job.device);
    }

    pub(crate) fn dispatch(
        &mut self,
        shared: &Arc<Shared>,
        done: &mpsc::UnboundedSender<(PushJob, Next)>,
    ) {
        while self.in_flight < shared.cfg.concurrency.max(1) {
            let Some(device) = self.ready.pop_front() else {
                return;
            };
            let Some(job) = self.queues.get_mut(&device).and_then(VecDeque::pop_front) else {
                continue;
            };
            self.busy.insert(device);
            self.in_flight += 1;
            let tries = self.tries.get(&job.seq).copied().unwrap_or(0);
            let (shared, done) = (shared.clone(), done.clone());
            tokio::spawn(async move {
                let next = shared.attempt(job.clone(), tries).await;
                let _ = done.send((job, next));
            });
        }
    }

    pub(crate) fn complete(&mut self, shared: &Shared, job: PushJob, next: Next) {
        self.in_flight -= 1;
        match next {
            Next::Retry(j) => {
                *self.tries.entry(j.seq).or_default() += 1;
                self.timers.insert((j.due_ms, j.seq), Timer::Retry(j));
                return; // the device stays busy: its later pushes wait their turn
            }
            Next::Recheck(at) if !self.stopping => {
                self.timers.insert((at, job.seq), Timer::Recheck(job));
                return; // as for a retry
            }
            Next::Recheck(_) => {} // stopping: left in the outbox
            Next::Await(j) => {
                let latest = self.latest_sent.entry(j.chat_id.clone()).or_default();
                *latest = (*latest).max(j.seq);
                self.timers.insert((j.due_ms, j.seq), Timer::Await(j));
            }
            Next::DeviceGone => {
                let dropped: Vec<u64> = self
                    .queues
                    .remove(&job.device)
                    .into_iter()
                    .flatten()
                    .map(|j| j.seq)
                    .collect();
                for _ in &dropped {
                    PushStats::add(&shared.stats.dropped);
                }
                shared.finisher.done(&dropped);
            }
            Next::Finished => {}
        }
        self.tries.remove(&job.seq);
        self.release(&job.device);
    }

    /// Handles every timer due at `now`.
    pub(crate) async fn fire(&mut self, shared: &Shared, now: i64) {
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                return;
            }
            match entry.remove() {
                Timer::Retry(job) | Timer::Recheck(job) => {
                    let device = job.device.clone();
                    self.queues
                        .entry(device.clone())
                        .or_default()
                        .push_front(job);
                    self.release(&device);
                }
                Timer::Await(job) => {
                    let superseded = self
                        .latest_sent
                        .get(&job.chat_id)
                        .is_some_and(|s| *s > job.seq);
                    if let Some(j) = shared.after_wait(job, superseded).await {
                        self.push(j);
                    }
                }
            }
        }
    }
}
