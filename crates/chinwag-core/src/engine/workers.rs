//! The engine's background workers: offer timers (routing), retention of ended chats, the
//! lifecycle pass recording what this node saw of customers (on a shared store), the durable
//! timers (ending abandoned chats), and catching up with other nodes' commits. Each runs
//! until the shared cancellation token fires.

use super::{ChatEngine, lock};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the routing worker of a node sharing its routing state checks the stored state
/// at least: deadlines set by other nodes (one that died, say) fire within this of falling
/// due, and a failed pass is retried after it.
pub const SHARED_POLL: Duration = Duration::from_secs(1);

/// Withdraws lapsed offers, ends chats that waited past their queue's maximum wait, and
/// re-dispatches; sleeps until the next deadline (on a shared router, at most
/// [`SHARED_POLL`]).
#[derive(Debug)]
pub struct RoutingWorker {
    engine: Arc<ChatEngine>,
    passes: Arc<AtomicU64>,
}

impl RoutingWorker {
    /// The worker for `engine`.
    pub fn new(engine: Arc<ChatEngine>) -> Self {
        Self {
            engine,
            passes: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many passes the worker has made (one per wake-up or deadline).
    pub fn passes(&self) -> Arc<AtomicU64> {
        self.passes.clone()
    }

    /// Worker name for logs and health.
    pub fn name(&self) -> &'static str {
        "routing"
    }

    /// One pass; returns how long until the next deadline.
    pub async fn pass(&self) -> Duration {
        self.pass_with(true).await
    }

    /// One pass. On a shared router, `fresh` first brings the state up to the stored version
    /// (deadlines set by other nodes, or left behind by a node that died); without it the
    /// pass trusts this node's copy (it was woken by its own routing, which just saved it).
    async fn pass_with(&self, fresh: bool) -> Duration {
        let e = &self.engine;
        self.passes.fetch_add(1, Ordering::Relaxed);
        match self.expire(fresh).await {
            Ok(overdue) => {
                for w in overdue {
                    if let Err(err) = e.end_chat(&w.chat_id, super::NO_AGENT).await {
                        tracing::warn!(chat = %w.chat_id.as_str(), %err, "cannot end a chat that waited too long");
                    }
                }
            }
            Err(err) => {
                tracing::warn!(%err, "routing pass failed: trying again");
                return SHARED_POLL;
            }
        }
        let wait = e
            .known_routing_deadline()
            .map_or(Duration::from_secs(3600), |d| {
                Duration::from_millis(u64::try_from(d - e.now_ms()).unwrap_or(0))
            });
        if e.routing_is_shared() {
            wait.min(SHARED_POLL)
        } else {
            wait
        }
    }

    /// Withdraws lapsed offers and takes out overdue chats (returned, to be ended). On a
    /// shared router nothing is saved unless something lapsed; when two nodes' workers both
    /// see a deadline pass, the compare-and-set lets one of them act.
    async fn expire(
        &self,
        fresh: bool,
    ) -> Result<Vec<super::super::routing::Waiting>, crate::CoreError> {
        let e = &self.engine;
        if e.routing_is_shared() {
            let due = if fresh {
                e.read_routing(crate::routing::RouterState::next_deadline)
                    .await?
            } else {
                e.known_routing_deadline()
            };
            if due.is_none_or(|d| d > e.now_ms()) {
                return Ok(Vec::new());
            }
        }
        // Overdue chats leave the queue before the dispatch that follows `expire`.
        e.route_quietly(|r, now| {
            let events = r.expire(now);
            (r.overdue(now), events)
        })
        .await
    }

    /// Runs until cancelled.
    pub async fn run(self, cancel: CancellationToken) {
        let e = self.engine.clone();
        let mut fresh = true;
        loop {
            let wait = self.pass_with(fresh).await;
            fresh = tokio::select! {
                () = cancel.cancelled() => break,
                () = e.router_wake.notified() => false,
                () = tokio::time::sleep(wait) => true,
            };
        }
    }
}

/// Drops ended chats from memory and from the store once their retention has passed, and
/// (when set) idle open chats from memory.
#[derive(Debug)]
pub struct RetentionWorker {
    engine: Arc<ChatEngine>,
    period: Duration,
    idle_after: Option<Duration>,
}

impl RetentionWorker {
    /// The worker for `engine`, checking every `period`.
    pub fn new(engine: Arc<ChatEngine>, period: Duration) -> Self {
        Self {
            engine,
            period,
            idle_after: None,
        }
    }

    /// Also evicts open chats nobody used on this node for `idle` (see `idle.rs`).
    #[must_use]
    pub fn evict_idle_after(mut self, idle: Duration) -> Self {
        self.idle_after = Some(idle);
        self
    }

    /// Worker name for logs and health.
    pub fn name(&self) -> &'static str {
        "retention"
    }

    /// Runs until cancelled.
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(self.period) => {}
            }
            if let Err(err) = self.sweep().await {
                tracing::warn!(%err, "retention sweep failed");
            }
        }
    }

    /// One sweep: chats that ended more than [`super::EVICT_ENDED_AFTER_MS`] ago leave
    /// memory (still read from the store on demand until their retention is over), and chats
    /// past their retention are purged from the store; with [`Self::evict_idle_after`], idle
    /// open chats leave memory too. Returns how many left memory.
    pub async fn sweep(&self) -> Result<usize, crate::CoreError> {
        let e = &self.engine;
        let mut dropped = match self.idle_after {
            Some(idle) => {
                let ms = i64::try_from(idle.as_millis()).unwrap_or(i64::MAX);
                e.evict_idle(ms)
            }
            None => 0,
        };
        let now = e.now_ms();
        let cutoff = now - e.settings.ended_retention_ms;
        let evict = cutoff.max(now - super::EVICT_ENDED_AFTER_MS);
        {
            let mut map = e
                .sessions
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Remembered as evicted before the map lets go, so no reader finds it in neither.
            let mut evicted = lock(&e.evicted);
            map.retain(|id, slot| match lock(&slot.state).record.ended_ms {
                Some(t) if t < evict => {
                    if t >= cutoff {
                        evicted.insert(id.clone(), super::idle::Evicted::Ended(t));
                    }
                    dropped += 1;
                    false
                }
                _ => true,
            });
            evicted.retain(|_, e| !matches!(e, super::idle::Evicted::Ended(t) if *t < cutoff));
        }
        e.store.purge_ended(cutoff).await?;
        Ok(dropped)
    }
}

/// Records, every `period`, what this node saw of each chat's customer (on a shared store:
/// one batch per pass), for the node that fires the chat's abandon timer.
#[derive(Debug)]
pub struct LifecycleWorker {
    engine: Arc<ChatEngine>,
    period: Duration,
}

impl LifecycleWorker {
    /// The worker for `engine`, checking every `period`.
    pub fn new(engine: Arc<ChatEngine>, period: Duration) -> Self {
        Self { engine, period }
    }

    /// Worker name for logs and health.
    pub fn name(&self) -> &'static str {
        "lifecycle"
    }

    /// Runs until cancelled.
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(self.period) => {}
            }
            self.engine.record_seen_pass().await;
        }
    }
}

/// Claims the durable timers that fell due — set by any node, a dead one's included — and
/// fires them (ending abandoned chats), every `period`.
#[derive(Debug)]
pub struct TimersWorker {
    engine: Arc<ChatEngine>,
    period: Duration,
}

impl TimersWorker {
    /// The worker for `engine`, claiming every `period`.
    pub fn new(engine: Arc<ChatEngine>, period: Duration) -> Self {
        Self { engine, period }
    }

    /// Worker name for logs and health.
    pub fn name(&self) -> &'static str {
        "timers"
    }

    /// Runs until cancelled.
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(self.period) => {}
            }
            self.engine.fire_timers().await;
        }
    }
}

/// Keeps the chats this node holds up to date with what other nodes commit to the shared
/// store: each announcement catches up one chat; a lag or a resync checks them all.
pub struct CatchUpWorker {
    engine: Arc<ChatEngine>,
    rx: tokio::sync::broadcast::Receiver<crate::ports::FeedEvent>,
}

impl CatchUpWorker {
    /// The worker for `engine`, listening to `feed` from now on (not from when it runs).
    pub fn new(engine: Arc<ChatEngine>, feed: &dyn crate::ports::ChangeFeed) -> Self {
        let rx = feed.subscribe();
        Self { engine, rx }
    }

    /// Worker name for logs and health.
    pub fn name(&self) -> &'static str {
        "catch-up"
    }

    /// Runs until cancelled or until the feed closes.
    pub async fn run(self, cancel: CancellationToken) {
        use crate::ports::FeedEvent;
        use tokio::sync::broadcast::error::RecvError;
        let mut rx = self.rx;
        loop {
            let next = tokio::select! {
                () = cancel.cancelled() => break,
                next = rx.recv() => next,
            };
            let done = match next {
                Ok(FeedEvent::Changed { chat_id, rev }) => {
                    self.engine.catch_up(&chat_id, rev).await.map(|_| ())
                }
                Ok(FeedEvent::Resync) | Err(RecvError::Lagged(_)) => {
                    self.engine.catch_up_all().await.map(|n| {
                        tracing::info!(behind = n, "caught up after missed announcements");
                    })
                }
                Err(RecvError::Closed) => break,
            };
            if let Err(err) = done {
                tracing::warn!(%err, "catch-up failed; the chat is read fresh on its next request");
            }
        }
    }
}
