//! [`PushWorker`]: drains the outbox. Each device has a queue and at most one push in flight
//! (so a device receives its pushes in order); many devices are served at once, up to
//! `concurrency`. Transport failures retry with jittered backoff, keeping the device's
//! place; reliable pushes wait for the client's refresh and are resent on the
//! `flex-push-resend-*` schedule.

use crate::body::{self, Push};
use crate::channels::{Channels, Route};
use crate::config::PushConfig;
use crate::error::PushError;
use crate::finisher::Finisher;
use crate::outcome::{Outcome, backoff};
use crate::stats::PushStats;
use chinwag_core::ChatEngine;
use chinwag_core::ids::ChatId;
use chinwag_core::ports::PushOutbox;
use chinwag_core::push::{JobKind, PushJob};
use chinwag_gms_wire::comet_key::CometKeys;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Tells whether a chat's customer is connected over CometD right now
/// (`push_notification_to_active_client`).
pub trait Presence: Send + Sync + 'static {
    /// The chat is watched by a live CometD client.
    fn is_live(&self, chat_id: &ChatId) -> bool;
}

/// How long a stopping worker keeps delivering what is queued (the shutdown notices).
const DRAIN: Duration = Duration::from_secs(5);

/// The push delivery worker.
pub struct PushWorker {
    shared: Arc<Shared>,
}

struct Shared {
    engine: Arc<ChatEngine>,
    outbox: Arc<dyn PushOutbox>,
    cfg: PushConfig,
    channels: Channels,
    /// customhttp and FCM (HTTP/1.1 or HTTP/2 as negotiated).
    client: reqwest::Client,
    /// APNs (HTTP/2 only).
    h2: reqwest::Client,
    stats: Arc<PushStats>,
    presence: Option<Arc<dyn Presence>>,
    finisher: Finisher,
    keys: Arc<CometKeys>,
}

/// What a finished attempt leads to (the outbox is already updated).
enum Next {
    /// Done with this job.
    Finished,
    /// Delivered reliably: wait for the client's refresh.
    Await(PushJob),
    /// Try again at `job.due_ms`.
    Retry(PushJob),
    /// The device is gone: drop everything queued for it.
    DeviceGone,
}

enum Timer {
    Retry(PushJob),
    Await(PushJob),
}

impl PushWorker {
    /// A worker delivering for `engine` with `cfg`; `presence` answers "is a CometD client
    /// connected" when `to_active_client` is on; `keys` seal the CometD keys pushes carry.
    pub fn new(
        engine: Arc<ChatEngine>,
        cfg: PushConfig,
        presence: Option<Arc<dyn Presence>>,
        keys: Arc<CometKeys>,
    ) -> Result<Self, PushError> {
        crate::error::init_crypto();
        let client = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .pool_max_idle_per_host(cfg.concurrency)
            .build()?;
        let h2 = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .http2_prior_knowledge()
            .http2_keep_alive_interval(Duration::from_secs(60))
            .http2_keep_alive_while_idle(true)
            .build()?;
        Ok(Self {
            shared: Arc::new(Shared {
                outbox: engine.outbox(),
                channels: Channels::new(&cfg),
                engine,
                cfg,
                client,
                h2,
                stats: Arc::new(PushStats::default()),
                presence,
                finisher: Finisher::new(),
                keys,
            }),
        })
    }

    /// Its counters.
    pub fn stats(&self) -> Arc<PushStats> {
        self.shared.stats.clone()
    }

    /// Runs until `stop`, then keeps delivering what is queued for a few seconds.
    pub async fn run(self, stop: CancellationToken) {
        let Some(mut feed) = self.shared.engine.take_push_feed() else {
            tracing::error!("push worker: the engine's push feed is already taken");
            return;
        };
        self.shared.finisher.start(self.shared.outbox.clone());
        let mut s = Sched::default();
        let mut loaded = HashSet::new();
        match self.shared.outbox.pending().await {
            Ok(jobs) => {
                tracing::info!(jobs = jobs.len(), "push worker: outbox loaded");
                for j in jobs {
                    loaded.insert(j.seq);
                    s.push(j);
                }
            }
            Err(e) => tracing::error!(%e, "push worker: cannot read the outbox"),
        }
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let mut drain_until = None;
        loop {
            if drain_until.is_some() {
                // Jobs committed before the stop (the shutdown notices) may still be in
                // the feed: take them before deciding that nothing is left.
                while let Ok(job) = feed.try_recv() {
                    if !loaded.remove(&job.seq) {
                        s.push(job);
                    }
                }
            }
            s.dispatch(&self.shared, &done_tx);
            if let Some(t) = drain_until
                && (tokio::time::Instant::now() >= t || (s.ready.is_empty() && s.in_flight == 0))
            {
                break;
            }
            let now = self.shared.engine.now_ms();
            let wait = s.timers.first_key_value().map(|((due, _), _)| {
                Duration::from_millis(u64::try_from(due.saturating_sub(now)).unwrap_or(0))
            });
            tokio::select! {
                () = stop.cancelled(), if drain_until.is_none() => {
                    drain_until = Some(tokio::time::Instant::now() + DRAIN);
                }
                Some(job) = feed.recv() => {
                    if !loaded.remove(&job.seq) {
                        s.push(job);
                    }
                }
                Some((job, next)) = done_rx.recv() => s.complete(&self.shared, job, next),
                () = async { match wait { Some(w) => tokio::time::sleep(w).await, None => std::future::pending().await } } => {
                    s.fire(&self.shared, now).await;
                }
                () = tokio::time::sleep(Duration::from_millis(100)), if drain_until.is_some() => {}
            }
        }
        self.shared.finisher.flush().await;
        tracing::info!(stats = %self.shared.stats.snapshot(), "push worker stopped");
    }
}

#[derive(Default)]
struct Sched {
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
}

impl Sched {
    fn push(&mut self, job: PushJob) {
        if job.sent {
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

    fn dispatch(&mut self, shared: &Arc<Shared>, done: &mpsc::UnboundedSender<(PushJob, Next)>) {
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

    fn complete(&mut self, shared: &Shared, job: PushJob, next: Next) {
        self.in_flight -= 1;
        match next {
            Next::Retry(j) => {
                *self.tries.entry(j.seq).or_default() += 1;
                self.timers.insert((j.due_ms, j.seq), Timer::Retry(j));
                return; // the device stays busy: its later pushes wait their turn
            }
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
    async fn fire(&mut self, shared: &Shared, now: i64) {
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                return;
            }
            match entry.remove() {
                Timer::Retry(job) => {
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

impl Shared {
    fn finish(&self, job: &PushJob) {
        self.finisher.done(&[job.seq]);
    }

    fn drop_job(&self, job: &PushJob, why: &str) -> Next {
        PushStats::add(&self.stats.dropped);
        tracing::warn!(seq = job.seq, device = %job.device, chat = %job.chat_id.as_str(), why, "push dropped");
        Next::Finished
    }

    /// One delivery attempt, with the outbox updated to match its result.
    async fn attempt(&self, mut job: PushJob, tries: u32) -> Next {
        let now = self.engine.now_ms();
        let next = self.deliver(&mut job, tries, now).await;
        match &next {
            Next::Finished | Next::DeviceGone => self.finish(&job),
            Next::Await(j) | Next::Retry(j) => {
                if let Err(e) = self.outbox.update(j).await {
                    tracing::error!(%e, seq = j.seq, "push outbox: cannot update a job");
                }
            }
        }
        next
    }

    async fn deliver(&self, job: &mut PushJob, tries: u32, now: i64) -> Next {
        let Some(view) = self.engine.push_view(&job.chat_id, job.index) else {
            return self.drop_job(job, "the chat is gone");
        };
        let Some(sub) = view.subscription.clone() else {
            return self.drop_job(job, "no subscription");
        };
        if self.cfg.to_active_client
            && self
                .presence
                .as_ref()
                .is_some_and(|p| p.is_live(&job.chat_id))
        {
            PushStats::add(&self.stats.skipped);
            return Next::Finished;
        }
        let Some(route) = self.channels.route(&sub) else {
            return self.drop_job(job, "no channel configured for this device type");
        };
        let push = Push {
            job,
            view: &view,
            sub: &sub,
            keys: &self.keys,
        };
        let outcome = match route {
            Route::CustomHttp(channel) => {
                let Some(body) = body::customhttp(&self.cfg, channel, push, now) else {
                    return self.drop_job(job, "the event is gone");
                };
                crate::customhttp::send(&self.client, channel, body).await
            }
            Route::Fcm(fcm) => {
                let templates = self.channels.templates(&sub);
                let Some(note) = body::note(&self.cfg, templates, push, now) else {
                    return self.drop_job(job, "the event is gone");
                };
                fcm.send(&self.client, sub.debug, &sub.device_id, &note)
                    .await
            }
            Route::Apns(apns) => {
                let templates = self.channels.templates(&sub);
                let Some(note) = body::note(&self.cfg, templates, push, now) else {
                    return self.drop_job(job, "the event is gone");
                };
                apns.send(&self.h2, sub.debug, &sub.device_id, &note).await
            }
        };
        // Delays count from the answer, not from when the request was built.
        let answered = self.engine.now_ms();
        match outcome {
            Outcome::Delivered => {
                PushStats::add(&self.stats.sent);
                if sub.resend && job.kind == JobKind::Event {
                    job.sent = true;
                    job.due_ms = answered
                        + i64::try_from(self.cfg.resend_delay.as_millis()).unwrap_or(i64::MAX);
                    Next::Await(job.clone())
                } else {
                    Next::Finished
                }
            }
            Outcome::Retry { reason, after } => {
                PushStats::add(&self.stats.failed);
                if tries + 1 >= self.cfg.retry.max_tries {
                    return self.drop_job(job, &format!("out of tries: {reason}"));
                }
                let r = self.cfg.retry;
                let wait = backoff(tries, r.base, r.max, after);
                job.due_ms = answered + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                tracing::debug!(seq = job.seq, %reason, ?wait, "push failed; will retry");
                Next::Retry(job.clone())
            }
            Outcome::Rejected(reason) => self.drop_job(job, &reason),
            Outcome::Unregistered(reason) => {
                self.drop_job(job, &reason);
                self.engine.drop_push_device(&job.chat_id, &job.device);
                Next::DeviceGone
            }
        }
    }

    /// A reliable push's wait is over: acknowledged (done), or sent again as the next
    /// attempt, or out of attempts.
    async fn after_wait(&self, mut job: PushJob, superseded: bool) -> Option<PushJob> {
        let fetched = self.engine.client_position(&job.chat_id);
        let acked = fetched.is_none_or(|next| next > job.index.0);
        if acked || superseded {
            PushStats::add(&self.stats.acknowledged);
            self.finish(&job);
            return None;
        }
        if job.attempt >= self.cfg.resend_attempts {
            self.drop_job(&job, "no refresh after the last resend");
            self.finish(&job);
            return None;
        }
        job.attempt += 1;
        job.sent = false;
        job.due_ms = self.engine.now_ms();
        PushStats::add(&self.stats.resent);
        if let Err(e) = self.outbox.update(&job).await {
            tracing::error!(%e, seq = job.seq, "push outbox: cannot update a job");
        }
        Some(job)
    }
}
