//! What nodes saw of each chat's customer (`ChatStore::record_seen`, `seen_record`): fields
//! `seen` (last seen, epoch ms), `fetched` (first position not fetched) and `watched` (last
//! live CometD watch, epoch ms) of the chat's header hash, so they live and are purged with
//! the chat. A batch is split by partition (one script per partition, the chats of one
//! slot), partitions written a few at once; a read is one `HMGET`.

use crate::RedisStore;
use crate::load::PARALLEL;
use crate::scripts::SEEN;
use chinwag_core::StoreError;
use chinwag_core::ids::ChatId;
use chinwag_core::ports::Seen;
use futures_util::{StreamExt, TryStreamExt, stream};
use std::collections::BTreeMap;

/// Chats written by one script call.
const BATCH: usize = 500;

pub(crate) async fn record(store: &RedisStore, seen: &[(ChatId, Seen)]) -> Result<(), StoreError> {
    // Owned (key, record) lists, one per script call: the chats of one partition.
    let mut parts: BTreeMap<usize, Vec<(String, Seen)>> = BTreeMap::new();
    for (chat, at) in seen {
        let head = store.layout.chat_keys(chat).head;
        parts
            .entry(store.layout.partition_of(chat))
            .or_default()
            .push((head, *at));
    }
    let calls: Vec<Vec<(String, Seen)>> = parts
        .into_values()
        .flat_map(|v| v.chunks(BATCH).map(<[_]>::to_vec).collect::<Vec<_>>())
        .collect();
    stream::iter(calls)
        .map(|chunk| record_one(store, chunk))
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

async fn record_one(store: &RedisStore, chunk: Vec<(String, Seen)>) -> Result<(), StoreError> {
    let mut inv = SEEN.prepare_invoke();
    for (head, at) in chunk {
        inv.key(head)
            .arg(at.at_ms)
            .arg(at.fetched)
            .arg(at.watched_ms);
    }
    let answer: String = store
        .conn
        .run(store.deadline, |mut c| async move {
            inv.invoke_async(&mut c).await
        })
        .await?;
    match answer.as_str() {
        "ok" => Ok(()),
        why => Err(StoreError::Backend(format!("record seen: {why}"))),
    }
}

pub(crate) async fn read(store: &RedisStore, chat: &ChatId) -> Result<Option<Seen>, StoreError> {
    let head = store.layout.chat_keys(chat).head;
    let (seen, fetched, watched): (Option<String>, Option<String>, Option<String>) = store
        .conn
        .run(store.deadline, |mut c| async move {
            redis::cmd("HMGET")
                .arg(head)
                .arg("seen")
                .arg("fetched")
                .arg("watched")
                .query_async(&mut c)
                .await
        })
        .await?;
    if seen.is_none() && fetched.is_none() && watched.is_none() {
        return Ok(None);
    }
    let corrupt =
        |what: &str, v: &str| StoreError::Backend(format!("corrupt chat {chat}: {what}: {v}"));
    let num = |what: &str, v: Option<String>| -> Result<i64, StoreError> {
        v.map_or(Ok(0), |t| t.parse::<i64>().map_err(|_| corrupt(what, &t)))
    };
    let fetched = match fetched {
        None => 0,
        Some(t) => t.parse::<u64>().map_err(|_| corrupt("fetched", &t))?,
    };
    Ok(Some(Seen {
        at_ms: num("seen", seen)?,
        fetched,
        watched_ms: num("watched", watched)?,
    }))
}
