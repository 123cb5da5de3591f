//! Push job numbering and ownership on Redis ([`PushClaims`]): seqs come from one counter
//! (`<prefix>:{c}:pushseq`, raised to the highest seq written before each reservation), and
//! each partition keeps the owners of its jobs (`owners` SET) beside its outbox; a claim is
//! one outbox script run per partition, so each job moves to exactly one claimer.

use crate::RedisStore;
use crate::outbox::{each_partition, last_seq};
use crate::scripts::{OUTBOX, RESERVE};
use chinwag_core::StoreError;
use chinwag_core::lease::Holder;
use chinwag_core::push::PushJob;
use std::collections::BTreeSet;

pub(crate) async fn reserve_seqs(store: &RedisStore, n: u64) -> Result<u64, StoreError> {
    let n = n.max(1);
    let floor = last_seq(store).await?;
    let mut inv = RESERVE.prepare_invoke();
    inv.key(store.layout.coord_key("pushseq")).arg(floor).arg(n);
    let last: u64 = store
        .conn
        .run(store.deadline, |mut c| async move {
            inv.invoke_async(&mut c).await
        })
        .await?;
    Ok(last + 1 - n)
}

pub(crate) async fn owners(store: &RedisStore) -> Result<Vec<Holder>, StoreError> {
    let parts: Vec<Vec<String>> = each_partition(store, |p| async move {
        let key = store.layout.part_keys(p).owners;
        store
            .conn
            .run(store.deadline, |mut c| async move {
                redis::cmd("SMEMBERS").arg(key).query_async(&mut c).await
            })
            .await
    })
    .await?;
    let all: BTreeSet<Holder> = parts
        .into_iter()
        .flatten()
        .filter_map(|o| Holder::parse(&o))
        .collect();
    Ok(all.into_iter().collect())
}

pub(crate) async fn claim(
    store: &RedisStore,
    from: Option<&Holder>,
    to: &Holder,
) -> Result<Vec<PushJob>, StoreError> {
    let from = from.map_or("", Holder::as_str);
    let parts: Vec<Vec<Vec<u8>>> = each_partition(store, |p| async move {
        let keys = store.layout.part_keys(p);
        let mut inv = OUTBOX.prepare_invoke();
        inv.key(&keys.outbox)
            .key(&keys.seq)
            .key(&keys.owners)
            .arg("claim")
            .arg(from)
            .arg(to.as_str());
        store
            .conn
            .run(store.deadline, |mut c| async move {
                inv.invoke_async(&mut c).await
            })
            .await
    })
    .await?;
    let mut jobs = Vec::new();
    for raw in parts.into_iter().flatten() {
        match serde_json::from_slice::<PushJob>(&raw) {
            Ok(j) => jobs.push(j),
            Err(e) => {
                tracing::error!(%e, job = %String::from_utf8_lossy(&raw), "push outbox: unreadable job claimed, left in Redis");
            }
        }
    }
    jobs.sort_by_key(|j| j.seq);
    Ok(jobs)
}
