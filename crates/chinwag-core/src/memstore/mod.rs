//! A non-durable [`ChatStore`] in memory (its timers: [`LocalTimers`]): for unit tests, and as
//! a second implementation that keeps the conformance suite honest. Its routing counterpart is in `routing.rs`,
//! its blob-store counterpart in `blobs.rs`.

mod blobs;
mod routing;

pub use blobs::MemoryBlobs;
pub use routing::MemoryRoutingStore;

use crate::error::StoreError;
use crate::ids::ChatId;
use crate::lease::Holder;
use crate::ports::{
    ChangeFeed, ChatStore, Commit, FeedEvent, HeaderSink, Headers, Loaded, PushOutbox, Seen,
    StoredHeader, StoredSession,
};
use crate::push::{PushClaims, PushJob};
use crate::timers::{DueTimer, LocalTimers, Schedule, TimerKey, Timers};
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

/// Sessions kept in a map; lost when the process ends.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<HashMap<ChatId, StoredSession>>,
    /// Whether engines sharing it should check revisions before reading (as on Redis).
    shared: bool,
    feed: Feed,
    outbox: Mutex<Outbox>,
    /// What was seen of each chat's customer ([`ChatStore::record_seen`]), when shared.
    seen: Mutex<HashMap<ChatId, Seen>>,
    timers: LocalTimers,
}

#[derive(Debug, Default)]
struct Outbox {
    jobs: BTreeMap<u64, PushJob>,
    last: u64,
    /// Highest seq reserved.
    reserved: u64,
}

/// Announces every commit, as the Redis store's pub/sub does.
#[derive(Debug)]
struct Feed(tokio::sync::broadcast::Sender<FeedEvent>);

impl Default for Feed {
    fn default() -> Self {
        Self(tokio::sync::broadcast::channel(1024).0)
    }
}

impl ChangeFeed for MemoryStore {
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<FeedEvent> {
        self.feed.0.subscribe()
    }
}

impl MemoryStore {
    /// Announces a resync to every subscriber (as a feed does after reconnecting).
    pub fn announce_resync(&self) {
        let _ = self.feed.0.send(FeedEvent::Resync);
    }

    /// A store that several engines share, like a Redis store: engines check the stored
    /// revision before serving a chat from their cache.
    pub fn new_shared() -> Self {
        Self {
            shared: true,
            ..Self::default()
        }
    }
}

impl Outbox {
    fn add(&mut self, jobs: Vec<PushJob>) {
        for j in jobs {
            self.last = self.last.max(j.seq);
            self.jobs.insert(j.seq, j);
        }
    }
}

#[async_trait]
impl PushOutbox for MemoryStore {
    async fn enqueue(&self, jobs: Vec<PushJob>) -> Result<(), StoreError> {
        crate::engine::lock(&self.outbox).add(jobs);
        Ok(())
    }

    async fn pending(&self) -> Result<Vec<PushJob>, StoreError> {
        Ok(crate::engine::lock(&self.outbox)
            .jobs
            .values()
            .cloned()
            .collect())
    }

    async fn update(&self, job: &PushJob) -> Result<(), StoreError> {
        if let Some(j) = crate::engine::lock(&self.outbox)
            .jobs
            .get_mut(&job.seq)
            .filter(|j| j.owner == job.owner)
        {
            j.attempt = job.attempt;
            j.due_ms = job.due_ms;
            j.sent = job.sent;
        }
        Ok(())
    }

    async fn finish(&self, seqs: &[u64]) -> Result<(), StoreError> {
        let mut o = crate::engine::lock(&self.outbox);
        for s in seqs {
            o.jobs.remove(s);
        }
        Ok(())
    }

    async fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(crate::engine::lock(&self.outbox).last)
    }
}

#[async_trait]
impl PushClaims for MemoryStore {
    async fn reserve_seqs(&self, n: u64) -> Result<u64, StoreError> {
        let mut o = crate::engine::lock(&self.outbox);
        let first = o.reserved.max(o.last) + 1;
        o.reserved = first + n.max(1) - 1;
        Ok(first)
    }

    async fn owners(&self) -> Result<Vec<Holder>, StoreError> {
        let o = crate::engine::lock(&self.outbox);
        let owners: BTreeSet<Holder> = o.jobs.values().filter_map(|j| j.owner.clone()).collect();
        Ok(owners.into_iter().collect())
    }

    async fn claim(&self, from: Option<&Holder>, to: &Holder) -> Result<Vec<PushJob>, StoreError> {
        let mut o = crate::engine::lock(&self.outbox);
        let mut claimed = Vec::new();
        for j in o.jobs.values_mut().filter(|j| j.owner.as_ref() == from) {
            j.owner = Some(to.clone());
            claimed.push(j.clone());
        }
        Ok(claimed)
    }
}

#[async_trait]
impl Timers for MemoryStore {
    async fn schedule(&self, timers: &[(TimerKey, i64)], mode: Schedule) -> Result<(), StoreError> {
        self.timers.schedule(timers, mode).await
    }

    async fn cancel(&self, keys: &[TimerKey]) -> Result<(), StoreError> {
        self.timers.cancel(keys).await
    }

    async fn due(&self, key: &TimerKey) -> Result<Option<i64>, StoreError> {
        self.timers.due(key).await
    }

    async fn claim_due(
        &self,
        now_ms: i64,
        holder: &Holder,
        max: usize,
        claim_ms: i64,
    ) -> Result<Vec<DueTimer>, StoreError> {
        self.timers.claim_due(now_ms, holder, max, claim_ms).await
    }

    async fn complete(&self, timer: &DueTimer) -> Result<bool, StoreError> {
        self.timers.complete(timer).await
    }

    async fn reschedule(&self, timer: &DueTimer, due_ms: i64) -> Result<bool, StoreError> {
        self.timers.reschedule(timer, due_ms).await
    }
}

#[async_trait]
impl ChatStore for MemoryStore {
    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        let mut map = crate::engine::lock(&self.inner);
        let existing = map.get(&commit.chat_id);
        if existing.map_or(0, |s| s.rev) != commit.base_rev {
            return Err(StoreError::Conflict);
        }
        let last = existing
            .and_then(|s| s.events.last())
            .map_or(0, |e| e.index.0);
        let mut prev = last;
        for e in &commit.events {
            if e.index.0 <= prev {
                return Err(StoreError::Backend(format!(
                    "duplicate or out-of-order index {}",
                    e.index.0
                )));
            }
            prev = e.index.0;
        }
        let record = match (commit.record, existing) {
            (Some(r), _) => r,
            (None, Some(s)) => s.record.clone(),
            (None, None) => {
                return Err(StoreError::Backend("events for an unknown session".into()));
            }
        };
        let entry = map
            .entry(commit.chat_id.clone())
            .or_insert_with(|| StoredSession {
                record: record.clone(),
                events: Vec::new(),
                rev: 0,
            });
        entry.record = record;
        entry.rev = commit.base_rev + 1;
        let changed = FeedEvent::Changed {
            chat_id: commit.chat_id.clone(),
            rev: entry.rev,
        };
        entry.events.extend(commit.events);
        drop(map);
        crate::engine::lock(&self.outbox).add(commit.pushes);
        let _ = self.feed.0.send(changed);
        Ok(())
    }

    async fn load_live(&self, ended_since_ms: i64) -> Result<Loaded, StoreError> {
        Ok(Loaded {
            sessions: crate::engine::lock(&self.inner)
                .values()
                .filter(|s| s.record.ended_ms.is_none_or(|t| t >= ended_since_ms))
                .cloned()
                .collect(),
            quarantined: Vec::new(),
        })
    }

    async fn load_headers(
        &self,
        ended_since_ms: i64,
        sink: &mut HeaderSink<'_>,
    ) -> Result<(), StoreError> {
        let headers: Vec<StoredHeader> = crate::engine::lock(&self.inner)
            .values()
            .filter(|s| s.record.ended_ms.is_none_or(|t| t >= ended_since_ms))
            .map(|s| StoredHeader {
                record: s.record.clone(),
                rev: s.rev,
            })
            .collect();
        // In batches of a few, like a real store's.
        for batch in headers.chunks(3) {
            sink(Headers {
                headers: batch.to_vec(),
                quarantined: Vec::new(),
            });
        }
        Ok(())
    }

    async fn load(&self, chat_id: &ChatId) -> Result<Option<StoredSession>, StoreError> {
        Ok(crate::engine::lock(&self.inner).get(chat_id).cloned())
    }

    async fn revision(&self, chat_id: &ChatId) -> Result<Option<u64>, StoreError> {
        Ok(crate::engine::lock(&self.inner).get(chat_id).map(|s| s.rev))
    }

    fn shared(&self) -> bool {
        self.shared
    }

    async fn record_seen(&self, seen: &[(ChatId, Seen)]) -> Result<(), StoreError> {
        if !self.shared {
            return Ok(());
        }
        let stored = crate::engine::lock(&self.inner);
        let mut map = crate::engine::lock(&self.seen);
        for (chat, at) in seen.iter().filter(|(c, _)| stored.contains_key(c)) {
            let t = map.entry(chat.clone()).or_default();
            *t = t.max(*at);
        }
        Ok(())
    }

    async fn seen_record(&self, chat_id: &ChatId) -> Result<Option<Seen>, StoreError> {
        Ok(crate::engine::lock(&self.seen).get(chat_id).copied())
    }

    async fn purge_ended(&self, ended_before_ms: i64) -> Result<u64, StoreError> {
        let mut map = crate::engine::lock(&self.inner);
        let before = map.len();
        map.retain(|_, s| s.record.ended_ms.is_none_or(|t| t >= ended_before_ms));
        crate::engine::lock(&self.seen).retain(|c, _| map.contains_key(c));
        Ok((before - map.len()) as u64)
    }
}
