//! [`PushWorker`]: drains the outbox through the schedule (`sched`: each device in order,
//! many devices at once, up to `concurrency`). One attempt builds and sends a push and
//! decides what follows: transport failures retry with jittered backoff, keeping the
//! device's place; reliable pushes wait for the client's refresh and are resent on the
//! `flex-push-resend-*` schedule; a chat watched over CometD is looked at again after
//! `presence_grace`. On a store several nodes share, what other nodes saw of the customer
//! (`elsewhere`: its fetch position, a live CometD watch, its last request) is read from the
//! store when a decision needs it and the local answer is not enough. On stop, what is ready or due to retry is still delivered for a few
//! seconds (the shutdown notices). Which jobs are this node's (several nodes sharing the
//! outbox) is `takeover`'s business.

use crate::body::{self, Push};
use crate::channels::{Channels, Route};
use crate::config::PushConfig;
use crate::elsewhere::Elsewhere;
use crate::error::PushError;
use crate::finisher::Finisher;
use crate::outcome::{Outcome, backoff};
use crate::sched::{Next, Sched};
use crate::stats::PushStats;
use crate::takeover::Takeover;
use chinwag_core::ids::ChatId;
use chinwag_core::ports::PushOutbox;
use chinwag_core::push::{JobKind, PushJob};
use chinwag_core::roles::Customers;
use chinwag_gms_wire::comet_key::CometKeys;
use std::collections::HashSet;
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

/// `d` in milliseconds, for the engine's epoch-ms clock.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// How long a stopping worker keeps delivering what is queued (the shutdown notices).
const DRAIN: Duration = Duration::from_secs(5);

/// How often a worker whose node lease lapsed looks whether it may deliver again.
const PAUSED: Duration = Duration::from_millis(200);

/// The push delivery worker.
pub struct PushWorker {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    customers: Customers,
    outbox: Arc<dyn PushOutbox>,
    pub(crate) cfg: PushConfig,
    channels: Channels,
    /// customhttp and FCM (HTTP/1.1 or HTTP/2 as negotiated).
    client: reqwest::Client,
    /// APNs (HTTP/2 only).
    h2: reqwest::Client,
    pub(crate) stats: Arc<PushStats>,
    presence: Option<Arc<dyn Presence>>,
    pub(crate) finisher: Finisher,
    keys: Arc<CometKeys>,
}

impl PushWorker {
    /// A worker delivering for the engine's `customers` with `cfg`; `presence` answers "is a CometD client
    /// connected" when `to_active_client` is on; `keys` seal the CometD keys pushes carry.
    pub fn new(
        customers: Customers,
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
                outbox: customers.outbox(),
                channels: Channels::new(&cfg),
                customers,
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

    /// Runs until `stop`, then for a few seconds (`DRAIN`) keeps delivering what is queued
    /// and retrying what fails, after its backoff (the shutdown notices).
    pub async fn run(self, stop: CancellationToken) {
        let Some(mut feed) = self.shared.customers.take_push_feed() else {
            tracing::error!("push worker: the engine's push feed is already taken");
            return;
        };
        self.shared.finisher.start(self.shared.outbox.clone());
        let mut own = Takeover::new(self.shared.customers.clone());
        let mut s = Sched::default();
        let mut loaded = HashSet::new();
        let start = own.at_start().await;
        tracing::info!(jobs = start.len(), "push worker: outbox loaded");
        for j in start {
            loaded.insert(j.seq);
            s.push(j);
        }
        // Jobs taken over never come through this engine's feed: not noted in `loaded`.
        for j in own.scan().await {
            s.push(j);
        }
        let mut scan = tokio::time::interval(own.every());
        scan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let mut drain_until: Option<tokio::time::Instant> = None;
        loop {
            if own.lost() {
                // Our jobs went to a dead holder: someone takes them over, maybe us.
                s.forget_all();
                loaded.clear();
            }
            if drain_until.is_some() {
                // Jobs committed before the stop (the shutdown notices) may still be in
                // the feed: take them before deciding that nothing is left.
                while let Ok(job) = feed.try_recv() {
                    if !loaded.remove(&job.seq) && own.is_mine(&job) {
                        s.push(job);
                    }
                }
            }
            let acting = own.may_act();
            if acting {
                s.dispatch(&self.shared, &done_tx);
            }
            let now = self.shared.customers.now_ms();
            if let Some(t) = drain_until {
                // Keep going while a push is ready, in flight or due to retry (after its
                // backoff) before the drain window closes.
                let left = t.saturating_duration_since(tokio::time::Instant::now());
                if left.is_zero() || s.drained(now.saturating_add(millis(left))) {
                    break;
                }
            }
            let wait = s.next_due().map(|due| {
                Duration::from_millis(u64::try_from(due.saturating_sub(now)).unwrap_or(0))
            });
            // Not acting (the node lease lapsed): look again shortly, fire nothing.
            let wait = if acting { wait } else { Some(PAUSED) };
            tokio::select! {
                () = stop.cancelled(), if drain_until.is_none() => {
                    drain_until = Some(tokio::time::Instant::now() + DRAIN);
                    s.stop();
                }
                Some(job) = feed.recv() => {
                    if !loaded.remove(&job.seq) && own.is_mine(&job) {
                        s.push(job);
                    }
                }
                Some((job, next)) = done_rx.recv() => {
                    if own.is_mine(&job) {
                        s.complete(&self.shared, job, next);
                    } else {
                        s.forget(&job);
                    }
                }
                () = async { match wait { Some(w) => tokio::time::sleep(w).await, None => std::future::pending().await } } => {
                    if acting {
                        s.fire(&self.shared, self.shared.customers.now_ms()).await;
                    }
                }
                _ = scan.tick(), if drain_until.is_none() => {
                    for j in own.scan().await {
                        s.push(j);
                    }
                }
                () = tokio::time::sleep(Duration::from_millis(100)), if drain_until.is_some() => {}
            }
        }
        self.shared.finisher.flush().await;
        tracing::info!(stats = %self.shared.stats.snapshot(), "push worker stopped");
        // Dropping `own` lets the node lease go: other nodes take over what is left.
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
    pub(crate) async fn attempt(&self, mut job: PushJob, tries: u32) -> Next {
        let now = self.customers.now_ms();
        let next = self.deliver(&mut job, tries, now).await;
        match &next {
            Next::Finished | Next::DeviceGone => self.finish(&job),
            Next::Recheck(_) => {} // still in the outbox, unchanged
            Next::Await(j) | Next::Retry(j) => {
                if let Err(e) = self.outbox.update(j).await {
                    tracing::error!(%e, seq = j.seq, "push outbox: cannot update a job");
                }
            }
        }
        next
    }

    async fn deliver(&self, job: &mut PushJob, tries: u32, now: i64) -> Next {
        let view = match self.customers.push_view(&job.chat_id, job.index).await {
            Ok(Some(view)) => view,
            Ok(None) | Err(chinwag_core::CoreError::ChatNotFound) => {
                return self.drop_job(job, "the chat is gone");
            }
            Err(e) => {
                // The store did not answer (or the chat cannot be read): a try like a failed
                // delivery, with the same backoff and limit.
                if tries + 1 >= self.cfg.retry.max_tries {
                    return self.drop_job(job, &format!("out of tries: cannot read the chat: {e}"));
                }
                let r = self.cfg.retry;
                let wait = backoff(tries, r.base, r.max, None);
                tracing::warn!(%e, seq = job.seq, ?wait, "push: cannot read the chat; will retry");
                job.due_ms = now.saturating_add(millis(wait));
                return Next::Retry(job.clone());
            }
        };
        let Some(sub) = view.subscription.clone() else {
            return self.drop_job(job, "no subscription");
        };
        let mut elsewhere = Elsewhere::new(&self.customers, &job.chat_id);
        let event_ms = view.event.as_ref().map_or(job.due_ms, |e| e.utc_time_ms);
        if job.kind == JobKind::Event
            && job.attempt == 0
            && self.customers.push_timed_out(&job.chat_id, event_ms)
        {
            elsewhere.read().await;
            if self.customers.push_timed_out(&job.chat_id, event_ms) {
                return self.drop_job(job, "the customer made no request for the push timeout");
            }
        }
        if let Some(next) = self.watched(job, event_ms, &mut elsewhere, now).await {
            return next;
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
        let answered = self.customers.now_ms();
        match outcome {
            Outcome::Delivered => {
                PushStats::add(&self.stats.sent);
                if sub.resend && job.kind == JobKind::Event {
                    job.sent = true;
                    job.due_ms = answered.saturating_add(millis(self.cfg.resend_delay));
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
                PushStats::add(&self.stats.retried);
                let r = self.cfg.retry;
                let wait = backoff(tries, r.base, r.max, after);
                job.due_ms = answered.saturating_add(millis(wait));
                tracing::debug!(seq = job.seq, %reason, ?wait, "push failed; will retry");
                Next::Retry(job.clone())
            }
            Outcome::Rejected(reason) => self.drop_job(job, &reason),
            Outcome::Unregistered(reason) => {
                self.drop_job(job, &reason);
                self.customers.drop_push_device(&job.chat_id, &job.device);
                Next::DeviceGone
            }
        }
    }

    /// `to_active_client`: `None` when the push goes out. A chat watched over CometD (here,
    /// or on another node sharing the store: `elsewhere`, read only when not watched here)
    /// is looked at again `presence_grace` after the event (a client lost without a
    /// `/meta/disconnect` is watched until its Bayeux session expires); watched then, the
    /// client had the event and the push is skipped. Shutdown notices are decided at once.
    async fn watched(
        &self,
        job: &PushJob,
        event_ms: i64,
        elsewhere: &mut Elsewhere<'_>,
        now: i64,
    ) -> Option<Next> {
        if !self.cfg.to_active_client {
            return None;
        }
        let here = self.presence.as_ref()?.is_live(&job.chat_id);
        if !here && !elsewhere.read().await.is_some_and(|s| s.watched_at(now)) {
            return None;
        }
        let decide_at = event_ms.saturating_add(millis(self.cfg.presence_grace));
        if job.kind == JobKind::Event && now < decide_at {
            return Some(Next::Recheck(decide_at));
        }
        PushStats::add(&self.stats.skipped);
        Some(Next::Finished)
    }

    /// A reliable push's wait is over: acknowledged (done), or sent again as the next
    /// attempt, or out of attempts.
    pub(crate) async fn after_wait(&self, mut job: PushJob, superseded: bool) -> Option<PushJob> {
        let fetched_past = |customers: &Customers| {
            customers
                .client_position(&job.chat_id)
                .is_none_or(|next| next > job.index.0)
        };
        let mut acked = fetched_past(&self.customers);
        if !acked && !superseded {
            // Not acknowledged here: the customer may have fetched through another node.
            let known = Elsewhere::new(&self.customers, &job.chat_id).read().await;
            acked = known.is_some() && fetched_past(&self.customers);
        }
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
        job.due_ms = self.customers.now_ms();
        PushStats::add(&self.stats.resent);
        if let Err(e) = self.outbox.update(&job).await {
            tracing::error!(%e, seq = job.seq, "push outbox: cannot update a job");
        }
        Some(job)
    }
}
