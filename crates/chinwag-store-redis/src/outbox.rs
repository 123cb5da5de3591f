//! The push outbox: one ZSET per partition (job JSON scored by `seq`) and the highest `seq`
//! written there. Jobs live in their chat's partition, so a commit writes them in its own
//! script; reads and `finish` (which names only seqs) visit every partition, concurrently.

use crate::RedisStore;
use crate::load::PARALLEL;
use crate::scripts::OUTBOX;
use chinwag_core::StoreError;
use chinwag_core::push::PushJob;
use futures_util::{StreamExt, TryStreamExt, stream};
use std::collections::BTreeMap;

/// Seqs removed by one `finish` call on one partition.
const FINISH_BATCH: usize = 1000;

fn json(j: &PushJob) -> Result<String, StoreError> {
    serde_json::to_string(j).map_err(|e| StoreError::Backend(e.to_string()))
}

/// Runs the outbox script on partition `p` with `args` (operation first).
async fn run(store: &RedisStore, p: usize, args: Vec<String>) -> Result<(), StoreError> {
    let keys = store.layout.part_keys(p);
    let mut inv = OUTBOX.prepare_invoke();
    inv.key(&keys.outbox).key(&keys.seq).key(&keys.owners);
    for a in args {
        inv.arg(a);
    }
    let answer: String = store
        .conn
        .run(store.deadline, |mut c| async move {
            inv.invoke_async(&mut c).await
        })
        .await?;
    match answer.as_str() {
        "ok" => Ok(()),
        why => Err(StoreError::Backend(format!("push outbox: {why}"))),
    }
}

/// Runs `f` on every partition, a few at once, and collects the answers.
pub(crate) async fn each_partition<T, F, Fut>(
    store: &RedisStore,
    f: F,
) -> Result<Vec<T>, StoreError>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    stream::iter(0..store.layout.partitions())
        .map(f)
        .buffer_unordered(PARALLEL)
        .try_collect()
        .await
}

/// Adds jobs, one script call per partition touched (each partition's share is atomic).
pub(crate) async fn enqueue(store: &RedisStore, jobs: Vec<PushJob>) -> Result<(), StoreError> {
    let mut by_part: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for j in &jobs {
        let args = by_part
            .entry(store.layout.partition_of(&j.chat_id))
            .or_insert_with(|| vec!["add".to_owned()]);
        args.push(j.seq.to_string());
        args.push(json(j)?);
    }
    stream::iter(by_part)
        .map(|(p, args)| run(store, p, args))
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

pub(crate) async fn update(store: &RedisStore, job: &PushJob) -> Result<(), StoreError> {
    let p = store.layout.partition_of(&job.chat_id);
    run(
        store,
        p,
        vec!["update".into(), job.seq.to_string(), json(job)?],
    )
    .await
}

pub(crate) async fn finish(store: &RedisStore, seqs: &[u64]) -> Result<(), StoreError> {
    if seqs.is_empty() {
        return Ok(());
    }
    for batch in seqs.chunks(FINISH_BATCH) {
        let mut args = vec!["finish".to_owned()];
        args.extend(batch.iter().map(u64::to_string));
        each_partition(store, |p| run(store, p, args.clone())).await?;
    }
    Ok(())
}

/// Every job, in `seq` order. A job whose JSON cannot be read is logged and left in place.
pub(crate) async fn pending(store: &RedisStore) -> Result<Vec<PushJob>, StoreError> {
    let parts: Vec<Vec<Vec<u8>>> = each_partition(store, |p| async move {
        let key = store.layout.part_keys(p).outbox;
        store
            .conn
            .run(store.deadline, |mut c| async move {
                redis::cmd("ZRANGE")
                    .arg(key)
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut c)
                    .await
            })
            .await
    })
    .await?;
    let mut jobs = Vec::new();
    for raw in parts.into_iter().flatten() {
        match serde_json::from_slice::<PushJob>(&raw) {
            Ok(j) => jobs.push(j),
            Err(e) => {
                tracing::error!(%e, job = %String::from_utf8_lossy(&raw), "push outbox: unreadable job left in Redis")
            }
        }
    }
    jobs.sort_by_key(|j| j.seq);
    Ok(jobs)
}

pub(crate) async fn last_seq(store: &RedisStore) -> Result<u64, StoreError> {
    let all: Vec<Option<u64>> = each_partition(store, |p| async move {
        let key = store.layout.part_keys(p).seq;
        store
            .conn
            .run(store.deadline, |mut c| async move {
                redis::cmd("GET").arg(key).query_async(&mut c).await
            })
            .await
    })
    .await?;
    Ok(all.into_iter().flatten().max().unwrap_or(0))
}
