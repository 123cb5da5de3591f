//! The Redis store's [`ChangeFeed`]: every node hears of the commits other nodes make.
//!
//! The commit script announces `<rev>:<chatId>` on its partition's channel after its writes
//! (`SPUBLISH` on a cluster: the channel carries the partition's hash tag, so it is in the
//! script's slot; `PUBLISH` on a single server), so announcing costs no extra round trip. A
//! [`FeedWorker`] subscribes to every partition's channel and forwards the announcements to
//! the feed's bounded broadcast channel. Pub/sub is at most once and only a wake-up: after
//! every (re)subscription — the first one included, since commits made before it were not
//! heard — the worker sends [`FeedEvent::Resync`], and the engine compares the chats it holds
//! with the store. A subscription that is lost (disconnection, a `sunsubscribe` the server
//! sends after a failover or slot move, a full inbox, or a probe the feed published to itself
//! that did not come back within [`FeedOptions::probe_every`]) is rebuilt with backoff.
//!
//! The same subscription also hears the shared routing state's channel (`routing.rs`): its
//! announcements go to the routing receivers ([`RoutingNews`]), with a
//! [`RoutingNews::Resync`] wherever the chats get a [`FeedEvent::Resync`]; probes cover it
//! like the partitions' channels.

mod link;
mod session;
pub(crate) mod wire;

use crate::RedisOptions;
use crate::RedisStore;
use crate::conn::{Conn, Target};
use crate::layout::Layout;
use chinwag_core::ports::{ChangeFeed, FeedEvent, RoutingNews};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use tokio_util::sync::{CancellationToken, DropGuard};

/// First wait before resubscribing; doubled after each failed attempt.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A session that lasted this long resets the backoff.
const HEALTHY: Duration = Duration::from_secs(10);

/// The command the commit script announces with.
pub(crate) fn publish_command(cluster: bool) -> &'static str {
    if cluster { "SPUBLISH" } else { "PUBLISH" }
}

/// Sizes and periods of a feed.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// Announcements a slow receiver may fall behind by before it lags (and resyncs).
    pub capacity: usize,
    /// Messages buffered between the connection and the worker; past it they are dropped
    /// and the worker sends a resync.
    pub inbox: usize,
    /// How often the worker publishes a probe to each channel; a probe not heard back by the
    /// next one ends the session (a subscription that silently stopped delivering). At
    /// least 100 ms.
    pub probe_every: Duration,
}

impl Default for FeedOptions {
    fn default() -> Self {
        Self {
            capacity: 4096,
            inbox: 4096,
            probe_every: Duration::from_secs(15),
        }
    }
}

/// A node's view of the announcements: subscribe to it. Dropping it stops its worker.
pub struct RedisFeed {
    tx: broadcast::Sender<FeedEvent>,
    routing: broadcast::Sender<RoutingNews>,
    subscribed: Arc<AtomicBool>,
    _stop: DropGuard,
}

impl std::fmt::Debug for RedisFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisFeed")
            .field("subscribed", &self.is_subscribed())
            .finish_non_exhaustive()
    }
}

impl RedisFeed {
    /// The worker is subscribed to every partition's channel right now.
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    /// Where the worker sends the routing channel's announcements.
    pub(crate) fn routing_sender(&self) -> broadcast::Sender<RoutingNews> {
        self.routing.clone()
    }

    /// A handle that reads [`Self::is_subscribed`] (for health reports), which does not keep
    /// the feed alive.
    pub fn status(&self) -> FeedStatus {
        FeedStatus(self.subscribed.clone())
    }
}

/// Whether a feed's worker is subscribed right now; see [`RedisFeed::status`].
#[derive(Debug, Clone)]
pub struct FeedStatus(Arc<AtomicBool>);

impl FeedStatus {
    /// The worker is subscribed to every partition's channel right now.
    pub fn is_subscribed(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

impl ChangeFeed for RedisFeed {
    fn subscribe(&self) -> broadcast::Receiver<FeedEvent> {
        self.tx.subscribe()
    }
}

/// The background work of a [`RedisFeed`]: run it (as the worker `redis-feed`) until the
/// process's cancellation token fires; it also ends when its feed is dropped.
pub struct FeedWorker {
    target: Target,
    store: RedisOptions,
    options: FeedOptions,
    /// The store's connection, for probes.
    conn: Conn,
    layout: Layout,
    /// Every partition's channel, then the routing channel.
    channels: Arc<[String]>,
    /// Each channel's place in `channels`.
    partitions: HashMap<Vec<u8>, usize>,
    tx: broadcast::Sender<FeedEvent>,
    routing: broadcast::Sender<RoutingNews>,
    subscribed: Arc<AtomicBool>,
    stop: CancellationToken,
    /// Tells this feed's probes from other nodes'.
    id: u64,
    /// The last session failed (so a new failure is logged quietly).
    failing: bool,
}

impl std::fmt::Debug for FeedWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedWorker")
            .field("channels", &self.channels.len())
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// The store's change feed and the worker that feeds it (not started: run it).
    pub fn feed(&self, options: FeedOptions) -> (RedisFeed, FeedWorker) {
        let (tx, _) = broadcast::channel(options.capacity.max(1));
        let (routing, _) = broadcast::channel(options.capacity.max(1));
        let stop = CancellationToken::new();
        let subscribed = Arc::new(AtomicBool::new(false));
        let channels: Arc<[String]> = (0..self.layout.partitions())
            .map(|p| self.layout.channel(p))
            .chain([self.layout.routing_channel()])
            .collect();
        let partitions = channels
            .iter()
            .enumerate()
            .map(|(p, c)| (c.clone().into_bytes(), p))
            .collect();
        let worker = FeedWorker {
            target: self.target.clone(),
            store: self.options.clone(),
            options,
            conn: self.conn.clone(),
            layout: self.layout.clone(),
            channels,
            partitions,
            tx: tx.clone(),
            routing: routing.clone(),
            subscribed: subscribed.clone(),
            stop: stop.clone(),
            id: std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish(),
            failing: false,
        };
        let feed = RedisFeed {
            tx,
            routing,
            subscribed,
            _stop: stop.drop_guard(),
        };
        (feed, worker)
    }
}

impl FeedWorker {
    /// Tells the chats' and the routing's receivers that announcements may be missing.
    fn resync(&self) {
        let _ = self.tx.send(FeedEvent::Resync);
        let _ = self.routing.send(RoutingNews::Resync);
    }

    /// Worker name for logs and health.
    pub fn name(&self) -> &'static str {
        "redis-feed"
    }

    /// Subscribes, forwards, and resubscribes with backoff, until `cancel` fires or the feed
    /// is dropped.
    pub async fn run(mut self, cancel: CancellationToken) {
        let mut backoff = MIN_BACKOFF;
        loop {
            let began = Instant::now();
            match self.session(&cancel).await {
                session::Ended::Stop => break,
                session::Ended::Lost(why) => {
                    if self.failing {
                        tracing::debug!(%why, ?backoff, "change feed: still not subscribed");
                    } else {
                        tracing::warn!(%why, "change feed lost its subscription: resubscribing");
                    }
                    self.failing = true;
                }
            }
            if began.elapsed() >= HEALTHY {
                backoff = MIN_BACKOFF;
            }
            tokio::select! {
                () = stopped(&cancel, &self.stop) => break,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        self.subscribed.store(false, Ordering::Release);
    }
}

/// Resolves when either token fires.
async fn stopped(a: &CancellationToken, b: &CancellationToken) {
    tokio::select! {
        () = a.cancelled() => {}
        () = b.cancelled() => {}
    }
}
