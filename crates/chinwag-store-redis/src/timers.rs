//! The chats' timers on Redis ([`Timers`]): a timer lives in its chat's partition, in two
//! keys of the partition's slot — a ZSET of members `<kind>:<chatId>` scored by when each can
//! next be claimed (its due time, or its claim's end), and a HASH with each one's due time and
//! claim. Every operation on a partition is one run of `lua/timers.lua`, so of nodes claiming
//! at once each timer goes to one. A claim asks every partition (concurrently) for its share
//! of `max`; what comes back beyond `max` is put back at once.

use crate::RedisStore;
use crate::load::PARALLEL;
use crate::outbox::each_partition;
use crate::scripts::TIMERS;
use chinwag_core::StoreError;
use chinwag_core::ids::ChatId;
use chinwag_core::lease::Holder;
use chinwag_core::timers::{Claim, DueTimer, MAX_CLAIM, Schedule, TimerKey, TimerKind};
use futures_util::{StreamExt, TryStreamExt, stream};
use redis::Value;
use std::collections::BTreeMap;

/// Timers written by one script call.
const BATCH: usize = 500;

fn member(key: &TimerKey) -> String {
    format!("{}:{}", key.kind.as_str(), key.chat.as_str())
}

/// Runs the timers script on partition `p` with `args` (operation first).
async fn run<T: redis::FromRedisValue>(
    store: &RedisStore,
    p: usize,
    args: Vec<String>,
) -> Result<T, StoreError> {
    let keys = store.layout.part_keys(p);
    let mut inv = TIMERS.prepare_invoke();
    inv.key(&keys.timers).key(&keys.timer);
    for a in args {
        inv.arg(a);
    }
    store
        .conn
        .run(store.deadline, |mut c| async move {
            inv.invoke_async(&mut c).await
        })
        .await
}

fn ok(answer: &str) -> Result<(), StoreError> {
    match answer {
        "ok" => Ok(()),
        why => Err(StoreError::Backend(format!("timers: {why}"))),
    }
}

/// Groups per-key arguments by partition, in calls of at most [`BATCH`] keys, each call's
/// arguments led by `head`.
fn by_partition<'a>(
    store: &RedisStore,
    keys: impl Iterator<Item = (&'a TimerKey, Vec<String>)>,
    head: &[&str],
) -> Vec<(usize, Vec<String>)> {
    let mut parts: BTreeMap<usize, Vec<Vec<String>>> = BTreeMap::new();
    for (key, args) in keys {
        parts
            .entry(store.layout.partition_of(&key.chat))
            .or_default()
            .push(args);
    }
    let mut calls = Vec::new();
    for (p, all) in parts {
        for chunk in all.chunks(BATCH) {
            let mut args: Vec<String> = head.iter().map(|s| (*s).to_owned()).collect();
            args.extend(chunk.iter().flatten().cloned());
            calls.push((p, args));
        }
    }
    calls
}

async fn run_all(store: &RedisStore, calls: Vec<(usize, Vec<String>)>) -> Result<(), StoreError> {
    stream::iter(calls)
        .map(|(p, args)| async move { ok(&run::<String>(store, p, args).await?) })
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<()>>()
        .await
        .map(drop)
}

pub(crate) async fn schedule(
    store: &RedisStore,
    timers: &[(TimerKey, i64)],
    mode: Schedule,
) -> Result<(), StoreError> {
    let mode = match mode {
        Schedule::Replace => "replace",
        Schedule::KeepExisting => "keep",
    };
    let keys = timers
        .iter()
        .map(|(k, at)| (k, vec![member(k), at.to_string()]));
    run_all(store, by_partition(store, keys, &["put", mode])).await
}

pub(crate) async fn cancel(store: &RedisStore, keys: &[TimerKey]) -> Result<(), StoreError> {
    let keys = keys.iter().map(|k| (k, vec![member(k)]));
    run_all(store, by_partition(store, keys, &["cancel"])).await
}

pub(crate) async fn due(store: &RedisStore, key: &TimerKey) -> Result<Option<i64>, StoreError> {
    let hash = store
        .layout
        .part_keys(store.layout.partition_of(&key.chat))
        .timer;
    let m = member(key);
    let meta: Option<String> = store
        .conn
        .run(store.deadline, |mut c| async move {
            redis::cmd("HGET")
                .arg(hash)
                .arg(m)
                .query_async(&mut c)
                .await
        })
        .await?;
    meta.map(|v| {
        v.split(' ')
            .next()
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| StoreError::Backend(format!("corrupt timer {key:?}: {v}")))
    })
    .transpose()
}

/// One claimed timer as the script answers it, `None` (logged) for a member this version
/// cannot read: it stays claimed, and lapses for a node that can.
fn parse_claimed(holder: &Holder, m: &str, due: &str, until: &str) -> Option<DueTimer> {
    let key = m
        .split_once(':')
        .and_then(|(kind, chat)| Some(TimerKey::new(TimerKind::parse(kind)?, ChatId::new(chat))));
    let (Some(key), Ok(due_ms), Ok(until_ms)) = (key, due.parse(), until.parse()) else {
        tracing::warn!(timer = %m, "timer this version cannot read left alone");
        return None;
    };
    Some(DueTimer {
        key,
        due_ms,
        claim: Claim {
            holder: holder.clone(),
            until_ms,
        },
    })
}

pub(crate) async fn claim_due(
    store: &RedisStore,
    now_ms: i64,
    holder: &Holder,
    max: usize,
    claim_ms: i64,
) -> Result<Vec<DueTimer>, StoreError> {
    let max = max.min(MAX_CLAIM);
    if max == 0 {
        return Ok(Vec::new());
    }
    let share = max.div_ceil(store.layout.partitions()).max(1);
    let parts: Vec<Vec<String>> = each_partition(store, |p| {
        let args = vec![
            "claim".to_owned(),
            now_ms.to_string(),
            holder.as_str().to_owned(),
            share.to_string(),
            claim_ms.to_string(),
        ];
        async move { run::<Vec<String>>(store, p, args).await }
    })
    .await?;
    let mut got: Vec<DueTimer> = parts
        .iter()
        .flat_map(|flat| flat.chunks_exact(3))
        .filter_map(|t| parse_claimed(holder, &t[0], &t[1], &t[2]))
        .collect();
    got.sort_by_key(|t| t.due_ms);
    if got.len() > max {
        // Beyond `max`: back to be claimed, as they were.
        for extra in got.split_off(max) {
            settle(store, &extra, Some(extra.due_ms)).await?;
        }
    }
    Ok(got)
}

/// Completes (`again`: `None`) or reschedules `timer`, under its claim.
pub(crate) async fn settle(
    store: &RedisStore,
    timer: &DueTimer,
    again: Option<i64>,
) -> Result<bool, StoreError> {
    let mut args = vec![
        if again.is_some() { "again" } else { "done" }.to_owned(),
        member(&timer.key),
        timer.claim.holder.as_str().to_owned(),
        timer.claim.until_ms.to_string(),
    ];
    if let Some(at) = again {
        args.push(at.to_string());
    }
    let p = store.layout.partition_of(&timer.key.chat);
    match run::<Value>(store, p, args).await? {
        Value::Int(n) => Ok(n == 1),
        other => Err(StoreError::Backend(format!("timers: {other:?}"))),
    }
}
