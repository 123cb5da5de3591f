//! When each chat's customer was last seen (`ChatStore::record_seen`, `last_seen`): field
//! `seen` of the chat's header hash, so it lives and is purged with the chat. A batch is
//! split by partition (one script per partition, the chats of one slot), partitions written
//! a few at once; a read is one `HGET`.

use crate::RedisStore;
use crate::load::PARALLEL;
use crate::scripts::SEEN;
use chinwag_core::StoreError;
use chinwag_core::ids::ChatId;
use futures_util::{StreamExt, TryStreamExt, stream};
use std::collections::BTreeMap;

/// Chats written by one script call.
const BATCH: usize = 500;

pub(crate) async fn record(store: &RedisStore, seen: &[(ChatId, i64)]) -> Result<(), StoreError> {
    // Owned (key, time) lists, one per script call: the chats of one partition.
    let mut parts: BTreeMap<usize, Vec<(String, i64)>> = BTreeMap::new();
    for (chat, at) in seen {
        let head = store.layout.chat_keys(chat).head;
        parts
            .entry(store.layout.partition_of(chat))
            .or_default()
            .push((head, *at));
    }
    let calls: Vec<Vec<(String, i64)>> = parts
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

async fn record_one(store: &RedisStore, chunk: Vec<(String, i64)>) -> Result<(), StoreError> {
    let mut inv = SEEN.prepare_invoke();
    for (head, at) in chunk {
        inv.key(head).arg(at);
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

pub(crate) async fn last(store: &RedisStore, chat: &ChatId) -> Result<Option<i64>, StoreError> {
    let head = store.layout.chat_keys(chat).head;
    let at: Option<String> = store
        .conn
        .run(store.deadline, |mut c| async move {
            redis::cmd("HGET")
                .arg(head)
                .arg("seen")
                .query_async(&mut c)
                .await
        })
        .await?;
    at.map(|t| {
        t.parse::<i64>()
            .map_err(|_| StoreError::Backend(format!("corrupt chat {chat}: seen: {t}")))
    })
    .transpose()
}
