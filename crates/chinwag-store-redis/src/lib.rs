//! Chinwag's shared store: Redis, a single server or a Redis Cluster, behind the core's
//! [`ChatStore`] and [`PushOutbox`] ports, so several Chinwag nodes can serve one set of
//! chats.
//!
//! Each commit is one Lua script run (checks first, then header, revision, events and push
//! jobs), so it is atomic and costs one round trip; loading a chat is one more. The key
//! layout (`layout.rs`) keeps a chat's keys and its partition's indexes in one cluster slot.
//! The commit script also announces the commit on its partition's pub/sub channel, and
//! [`RedisStore::feed`] gives the [`ChangeFeed`](chinwag_core::ports::ChangeFeed) that hears
//! those announcements (`feed/`), so nodes sharing the store catch up on each other's writes.
//! [`RedisStore::routing`] gives the shared routing state ([`RedisRouting`], one key saved by
//! a compare-and-set script that announces what changed on a channel the feed also hears).
//! Every call runs under a deadline (`conn.rs`): a Redis that is down or hung yields
//! [`StoreError::Unavailable`] within [`RedisOptions::deadline`], and the store reconnects by
//! itself when Redis is back. Durability is Redis's: see `docs/cluster.md`. Nodes also
//! share push job numbering and ownership (`claims.rs`), leases (`lease.rs`, the
//! [`Leases`](chinwag_core::lease::Leases) port) and the chats' timers (`timers.rs`, the
//! [`Timers`] port) through it.

mod claims;
mod commit;
mod conn;
mod decode;
mod feed;
mod layout;
mod lease;
mod load;
mod outbox;
mod routing;
mod scripts;
mod seen;
mod timers;

pub use conn::Target;
pub use feed::{FeedOptions, FeedStatus, FeedWorker, RedisFeed};
pub use layout::{MAX_PARTITIONS, slot};
pub use routing::RedisRouting;

use async_trait::async_trait;
use chinwag_core::StoreError;
use chinwag_core::ids::{ChatId, EventIndex};
use chinwag_core::lease::Holder;
use chinwag_core::ports::{ChatStore, Commit, HeaderSink, Loaded, PushOutbox, StoredSession};
use chinwag_core::push::{PushClaims, PushJob};
use chinwag_core::timers::{DueTimer, Schedule, TimerKey, Timers};
use conn::Conn;
use layout::Layout;
use std::time::Duration;

/// How the store talks to Redis and lays out its keys.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// Prefix of every key (no braces), so deployments can share a Redis.
    pub prefix: String,
    /// Partitions chats are folded into (1..=[`MAX_PARTITIONS`]); fixed when the store is
    /// first created, and recorded in Redis: a node configured otherwise refuses to start.
    pub partitions: u16,
    /// Longest wait for one reply from one server.
    pub response_timeout: Duration,
    /// Longest wait for a connection to be established.
    pub connect_timeout: Duration,
    /// Longest a whole store call may take, reconnects, retries and redirects included;
    /// past it the call fails with [`StoreError::Unavailable`] (its outcome then unknown).
    pub deadline: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            prefix: "chinwag".into(),
            partitions: 16,
            response_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_millis(500),
            deadline: Duration::from_secs(2),
        }
    }
}

/// The Redis-backed store. Cheap to share (`Arc` it); one multiplexed connection per server.
pub struct RedisStore {
    conn: Conn,
    layout: Layout,
    deadline: Duration,
    /// Where and how to connect, kept for the feed's own connections.
    target: Target,
    options: RedisOptions,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("cluster", &self.conn.is_cluster())
            .field("partitions", &self.layout.partitions())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port` or `redis+cluster://host:port[,host:port…]`),
    /// checks that a `redis://` server is not a cluster node, and records the layout (or
    /// checks it against the one recorded).
    pub async fn connect(url: &str, options: RedisOptions) -> Result<Self, StoreError> {
        let target = conn::parse(url)?;
        let layout = Layout::new(&options.prefix, options.partitions)?;
        let conn = Conn::open(&target, &options).await?;
        let store = Self {
            conn,
            layout,
            deadline: options.deadline,
            target,
            options,
        };
        if !store.conn.is_cluster() {
            let info: String = store
                .conn
                .run(store.deadline, |mut c| async move {
                    redis::cmd("INFO").arg("cluster").query_async(&mut c).await
                })
                .await?;
            if info.contains("cluster_enabled:1") {
                return Err(StoreError::Backend(
                    "this Redis is a cluster node: use a redis+cluster:// url".into(),
                ));
            }
        }
        store.check_layout().await?;
        Ok(store)
    }

    async fn check_layout(&self) -> Result<(), StoreError> {
        let (key, want) = (self.layout.layout_key(), self.layout.describe());
        let set = redis::cmd("SET")
            .arg(&key)
            .arg(&want)
            .arg("NX")
            .arg("GET")
            .clone();
        let got: Option<String> = self
            .conn
            .run(self.deadline, |mut c| async move {
                set.query_async(&mut c).await
            })
            .await?;
        match got {
            Some(have) if have != want => Err(StoreError::Backend(format!(
                "Redis key {key} says \"{have}\" but this node is configured for \"{want}\": \
                 every node must use the same partitions and prefix"
            ))),
            _ => Ok(()),
        }
    }

    /// Checks that Redis answers within the deadline: a `PING` to a single server; on a
    /// cluster, a keyed read in every partition (so every slot owner that holds chats, and a
    /// cluster that is down, are seen; a cluster `PING` only reaches the nodes the client
    /// still knows).
    pub async fn ping(&self) -> Result<(), StoreError> {
        if !self.conn.is_cluster() {
            return self
                .conn
                .run(self.deadline, |mut c| async move {
                    redis::cmd("PING").query_async::<()>(&mut c).await
                })
                .await;
        }
        outbox::each_partition(self, |p| async move {
            let key = self.layout.part_keys(p).seq;
            self.conn
                .run(self.deadline, |mut c| async move {
                    redis::cmd("EXISTS")
                        .arg(key)
                        .query_async::<u64>(&mut c)
                        .await
                })
                .await
        })
        .await
        .map(drop)
    }

    /// The hash tag of partition `p` (for operators and tests).
    pub fn partition_tag(&self, p: usize) -> Option<&str> {
        self.layout.tag(p)
    }

    /// The partition `chat` belongs to.
    pub fn partition_of(&self, chat: &ChatId) -> usize {
        self.layout.partition_of(chat)
    }
}

#[async_trait]
impl ChatStore for RedisStore {
    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        commit::commit(self, commit).await
    }

    async fn load_live(&self, ended_since_ms: i64) -> Result<Loaded, StoreError> {
        load::load_live(self, ended_since_ms).await
    }

    async fn load_headers(
        &self,
        ended_since_ms: i64,
        sink: &mut HeaderSink<'_>,
    ) -> Result<(), StoreError> {
        load::load_headers(self, ended_since_ms, sink).await
    }

    async fn load(&self, chat_id: &ChatId) -> Result<Option<StoredSession>, StoreError> {
        load::load(self, chat_id).await
    }

    async fn load_since(
        &self,
        chat_id: &ChatId,
        after: EventIndex,
    ) -> Result<Option<StoredSession>, StoreError> {
        load::load_since(self, chat_id, after).await
    }

    async fn revision(&self, chat_id: &ChatId) -> Result<Option<u64>, StoreError> {
        load::revision(self, chat_id).await
    }

    /// Every node using the same Redis writes to it.
    fn shared(&self) -> bool {
        true
    }

    async fn record_seen(
        &self,
        seen: &[(ChatId, chinwag_core::ports::Seen)],
    ) -> Result<(), StoreError> {
        seen::record(self, seen).await
    }

    async fn seen_record(
        &self,
        chat_id: &ChatId,
    ) -> Result<Option<chinwag_core::ports::Seen>, StoreError> {
        seen::read(self, chat_id).await
    }

    async fn purge_ended(&self, ended_before_ms: i64) -> Result<u64, StoreError> {
        load::purge_ended(self, ended_before_ms).await
    }
}

#[async_trait]
impl Timers for RedisStore {
    async fn schedule(&self, timers: &[(TimerKey, i64)], mode: Schedule) -> Result<(), StoreError> {
        timers::schedule(self, timers, mode).await
    }

    async fn cancel(&self, keys: &[TimerKey]) -> Result<(), StoreError> {
        timers::cancel(self, keys).await
    }

    async fn due(&self, key: &TimerKey) -> Result<Option<i64>, StoreError> {
        timers::due(self, key).await
    }

    async fn claim_due(
        &self,
        now_ms: i64,
        holder: &Holder,
        max: usize,
        claim_ms: i64,
    ) -> Result<Vec<DueTimer>, StoreError> {
        timers::claim_due(self, now_ms, holder, max, claim_ms).await
    }

    async fn complete(&self, timer: &DueTimer) -> Result<bool, StoreError> {
        timers::settle(self, timer, None).await
    }

    async fn reschedule(&self, timer: &DueTimer, due_ms: i64) -> Result<bool, StoreError> {
        timers::settle(self, timer, Some(due_ms)).await
    }
}

#[async_trait]
impl PushClaims for RedisStore {
    async fn reserve_seqs(&self, n: u64) -> Result<u64, StoreError> {
        claims::reserve_seqs(self, n).await
    }

    async fn owners(&self) -> Result<Vec<Holder>, StoreError> {
        claims::owners(self).await
    }

    async fn claim(&self, from: Option<&Holder>, to: &Holder) -> Result<Vec<PushJob>, StoreError> {
        claims::claim(self, from, to).await
    }
}

#[async_trait]
impl PushOutbox for RedisStore {
    async fn enqueue(&self, jobs: Vec<PushJob>) -> Result<(), StoreError> {
        outbox::enqueue(self, jobs).await
    }

    async fn pending(&self) -> Result<Vec<PushJob>, StoreError> {
        outbox::pending(self).await
    }

    async fn update(&self, job: &PushJob) -> Result<(), StoreError> {
        outbox::update(self, job).await
    }

    async fn finish(&self, seqs: &[u64]) -> Result<(), StoreError> {
        outbox::finish(self, seqs).await
    }

    async fn last_seq(&self) -> Result<u64, StoreError> {
        outbox::last_seq(self).await
    }
}
