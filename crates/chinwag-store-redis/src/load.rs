//! Reading chats back: one on demand (one script call; or only its events after a given one,
//! for a reader catching up), its revision alone (one `HGET`), every live one's header at
//! start (per partition, so per cluster slot: one call listing its open and recently ended
//! chats, then one script call per [`HEAD_CHUNK`] headers, no event read, each batch handed
//! on as it arrives), every live one
//! whole (tools and tests: one call per [`CHUNK`] chats), and purging ended ones.

use crate::RedisStore;
use crate::decode;
use crate::scripts::{HEADERS, LOAD, PURGE};
use chinwag_core::StoreError;
use chinwag_core::ids::{ChatId, EventIndex};
use chinwag_core::ports::{HeaderSink, Headers, Loaded, StoredSession};
use futures_util::{StreamExt, TryStreamExt, stream};
use redis::Value;
use std::collections::BTreeSet;

/// Chats read by one load script call (bounded by the engine's per-chat limits, this keeps
/// one call's reply within a few megabytes).
const CHUNK: usize = 16;
/// Headers read by one headers script call (a header is a few kilobytes at most).
const HEAD_CHUNK: usize = 256;
/// Partitions worked on at once.
pub(crate) const PARALLEL: usize = 8;
/// Ended chats deleted by one purge call.
const PURGE_BATCH: usize = 100;

/// Reads `ids` whole, or, with `after`, the one chat of `ids` from the event after `after`.
async fn read_chats(
    store: &RedisStore,
    ids: &[ChatId],
    after: Option<EventIndex>,
) -> Result<Vec<Value>, StoreError> {
    let mut inv = LOAD.prepare_invoke();
    for id in ids {
        let k = store.layout.chat_keys(id);
        inv.key(k.head).key(k.events);
    }
    if let Some(after) = after {
        inv.arg(format!("{}-0", after.0.saturating_add(1)));
    }
    let replies: Vec<Value> = store
        .conn
        .run(store.deadline, |mut c| async move {
            inv.invoke_async(&mut c).await
        })
        .await?;
    if replies.len() != ids.len() {
        return Err(StoreError::Backend("load script answered badly".into()));
    }
    Ok(replies)
}

pub(crate) async fn load(
    store: &RedisStore,
    id: &ChatId,
) -> Result<Option<StoredSession>, StoreError> {
    load_from(store, id, None).await
}

/// The chat with only the events after `after` (one script call reading only those).
pub(crate) async fn load_since(
    store: &RedisStore,
    id: &ChatId,
    after: EventIndex,
) -> Result<Option<StoredSession>, StoreError> {
    load_from(store, id, Some(after)).await
}

async fn load_from(
    store: &RedisStore,
    id: &ChatId,
    after: Option<EventIndex>,
) -> Result<Option<StoredSession>, StoreError> {
    let replies = read_chats(store, std::slice::from_ref(id), after).await?;
    let reply = replies.first().unwrap_or(&Value::Nil);
    decode::chat(reply).map_err(|why| StoreError::Corrupt {
        chat: id.clone(),
        why,
    })
}

/// The chat's stored revision: one `HGET`.
pub(crate) async fn revision(store: &RedisStore, id: &ChatId) -> Result<Option<u64>, StoreError> {
    let head = store.layout.chat_keys(id).head;
    let rev: Option<String> = store
        .conn
        .run(store.deadline, |mut c| async move {
            redis::cmd("HGET")
                .arg(head)
                .arg("rev")
                .query_async(&mut c)
                .await
        })
        .await?;
    rev.map(|r| {
        r.parse::<u64>()
            .map_err(|_| StoreError::Backend(format!("corrupt chat {id}: revision: {r}")))
    })
    .transpose()
}

/// The ids of partition `p`'s open chats and of those ended at or after `since`.
async fn live_ids(store: &RedisStore, p: usize, since: i64) -> Result<Vec<ChatId>, StoreError> {
    let keys = store.layout.part_keys(p);
    let mut pipe = redis::pipe();
    pipe.cmd("SMEMBERS")
        .arg(&keys.open)
        .cmd("ZRANGE")
        .arg(&keys.ended)
        .arg(since)
        .arg("+inf")
        .arg("BYSCORE");
    let (open, ended): (Vec<String>, Vec<String>) = store
        .conn
        .run(store.deadline, |mut c| async move {
            pipe.query_async(&mut c).await
        })
        .await?;
    let ids: BTreeSet<String> = open.into_iter().chain(ended).collect();
    Ok(ids.into_iter().map(ChatId::new).collect())
}

async fn load_partition(store: &RedisStore, p: usize, since: i64) -> Result<Loaded, StoreError> {
    let ids = live_ids(store, p, since).await?;
    let mut loaded = Loaded::default();
    for chunk in ids.chunks(CHUNK) {
        let replies = read_chats(store, chunk, None).await?;
        for (id, reply) in chunk.iter().zip(&replies) {
            match decode::chat(reply) {
                Ok(Some(s)) => loaded.sessions.push(s),
                Ok(None) => loaded
                    .quarantined
                    .push((id.clone(), "session header: missing".into())),
                Err(why) => loaded.quarantined.push((id.clone(), why)),
            }
        }
    }
    Ok(loaded)
}

pub(crate) async fn load_live(store: &RedisStore, since: i64) -> Result<Loaded, StoreError> {
    let parts: Vec<Loaded> = stream::iter(0..store.layout.partitions())
        .map(|p| load_partition(store, p, since))
        .buffer_unordered(PARALLEL)
        .try_collect()
        .await?;
    let mut all = Loaded::default();
    for l in parts {
        all.sessions.extend(l.sessions);
        all.quarantined.extend(l.quarantined);
    }
    Ok(all)
}

/// The headers of `chunk`, chats of one partition (one cluster slot: every key has its tag).
async fn headers_of(store: &RedisStore, chunk: Vec<ChatId>) -> Result<Headers, StoreError> {
    let mut inv = HEADERS.prepare_invoke();
    for id in &chunk {
        inv.key(store.layout.chat_keys(id).head);
    }
    let replies: Vec<Value> = store
        .conn
        .run(store.deadline, |mut c| async move {
            inv.invoke_async(&mut c).await
        })
        .await?;
    if replies.len() != chunk.len() {
        return Err(StoreError::Backend("headers script answered badly".into()));
    }
    let mut found = Headers::default();
    for (id, reply) in chunk.into_iter().zip(&replies) {
        match decode::header(reply) {
            Ok(h) => found.headers.push(h),
            Err(why) => found.quarantined.push((id, why)),
        }
    }
    Ok(found)
}

/// Partition by partition, [`PARALLEL`] chunks at once, each handed to `sink` as it comes.
pub(crate) async fn load_headers(
    store: &RedisStore,
    since: i64,
    sink: &mut HeaderSink<'_>,
) -> Result<(), StoreError> {
    for p in 0..store.layout.partitions() {
        let ids = live_ids(store, p, since).await?;
        let chunks: Vec<Vec<ChatId>> = ids.chunks(HEAD_CHUNK).map(<[ChatId]>::to_vec).collect();
        let mut chunks = stream::iter(chunks)
            .map(|chunk| headers_of(store, chunk))
            .buffer_unordered(PARALLEL);
        while let Some(found) = chunks.next().await {
            sink(found?);
        }
    }
    Ok(())
}

async fn purge_partition(store: &RedisStore, p: usize, before: i64) -> Result<u64, StoreError> {
    let keys = store.layout.part_keys(p);
    let mut total = 0;
    loop {
        let list = redis::cmd("ZRANGE")
            .arg(&keys.ended)
            .arg("-inf")
            .arg(format!("({before}"))
            .arg("BYSCORE")
            .arg("LIMIT")
            .arg(0)
            .arg(PURGE_BATCH)
            .clone();
        let ids: Vec<String> = store
            .conn
            .run(store.deadline, |mut c| async move {
                list.query_async(&mut c).await
            })
            .await?;
        if ids.is_empty() {
            return Ok(total);
        }
        let mut inv = PURGE.prepare_invoke();
        inv.key(&keys.ended).arg(before);
        for id in &ids {
            let k = store.layout.chat_keys(&ChatId::new(id.as_str()));
            inv.key(k.head).key(k.events).arg(id);
        }
        let n: u64 = store
            .conn
            .run(store.deadline, |mut c| async move {
                inv.invoke_async(&mut c).await
            })
            .await?;
        total += n;
        if ids.len() < PURGE_BATCH || n == 0 {
            return Ok(total);
        }
    }
}

pub(crate) async fn purge_ended(store: &RedisStore, before: i64) -> Result<u64, StoreError> {
    let counts: Vec<u64> = stream::iter(0..store.layout.partitions())
        .map(|p| purge_partition(store, p, before))
        .buffer_unordered(PARALLEL)
        .try_collect()
        .await?;
    Ok(counts.into_iter().sum())
}
