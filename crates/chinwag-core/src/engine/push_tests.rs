//! Push job numbering on a store several engines share: seqs come from blocks the store
//! reserves, so two engines never hand out the same one, and jobs carry their node's owner.

use super::super::tests_shared_store::{creds_of, send, settings};
use super::*;
use crate::engine::{NewChat, Selection};
use crate::lease::{LocalLeases, NodeLease};
use crate::memstore::MemoryStore;
use crate::ports::{PushOutbox, SystemClock};
use crate::push::DeviceType;
use std::collections::BTreeSet;
use std::time::Duration;

fn push_settings(alias: u32) -> crate::settings::EngineSettings {
    let mut s = settings(alias);
    s.push.enabled = vec![DeviceType::CustomHttp];
    s.push.on_join = true;
    s.push.shutdown_notify = true;
    s
}

/// A chat whose customer subscribed device `dev` and asked for their own events too.
async fn subscribed(e: &ChatEngine, dev: &str) -> Result<ChatView, CoreError> {
    let mut chat = NewChat {
        service: "svc".into(),
        nickname: Some("Bob".into()),
        ..NewChat::default()
    };
    for (k, v) in [
        ("GCTI_Chat_PushSubscribe", "true"),
        ("GCTI_GMS_PushDeviceId", dev),
        ("GCTI_GMS_PushDeviceType", "customhttp"),
        ("GCTI_GMS_NotifyRequestor", "true"),
    ] {
        chat.user_data.insert(k.into(), v.into());
    }
    e.request_chat(chat, Selection::Nothing).await
}

#[tokio::test]
async fn two_engines_on_one_store_never_hand_out_the_same_seq() -> Result<(), CoreError> {
    let store = Arc::new(MemoryStore::new_shared());
    let a = ChatEngine::open(push_settings(1), store.clone(), Arc::new(SystemClock)).await?;
    let b = ChatEngine::open(push_settings(2), store.clone(), Arc::new(SystemClock)).await?;
    let (mut fa, mut fb) = (
        a.take_push_feed().ok_or(CoreError::Unavailable)?,
        b.take_push_feed().ok_or(CoreError::Unavailable)?,
    );
    let mut views = Vec::new();
    for i in 0..4 {
        let (e, other) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let v = subscribed(e, &format!("dev-{i}")).await?;
        // Written through both engines: each commit's pushes are numbered where it runs.
        e.customer(creds_of(&v), send("one"), Selection::Nothing)
            .await?;
        other
            .customer(creds_of(&v), send("two"), Selection::Nothing)
            .await?;
        views.push(v);
    }
    assert_eq!(a.queue_shutdown_notices().await?, 4);
    assert_eq!(b.queue_shutdown_notices().await?, 4);
    let mut seqs = Vec::new();
    while let Ok(j) = fa.try_recv() {
        seqs.push(j.seq);
    }
    while let Ok(j) = fb.try_recv() {
        seqs.push(j.seq);
    }
    // Per chat: the join, two messages; per engine and chat: one notice.
    assert_eq!(seqs.len(), 4 * 3 + 8, "{seqs:?}");
    let unique: BTreeSet<u64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), seqs.len(), "a seq handed out twice: {seqs:?}");
    assert_eq!(store.pending().await?.len(), seqs.len());
    Ok(())
}

#[tokio::test]
async fn seqs_are_reserved_a_block_at_a_time_and_jobs_carry_the_owner() -> Result<(), CoreError> {
    let store = Arc::new(MemoryStore::new_shared());
    let e = ChatEngine::open(push_settings(1), store.clone(), Arc::new(SystemClock)).await?;
    let lease =
        NodeLease::acquire(Arc::new(LocalLeases::default()), 1, Duration::from_secs(5)).await?;
    e.set_push_owner(lease.clone());
    let v = subscribed(&e, "dev").await?;
    for _ in 0..3 {
        e.customer(creds_of(&v), send("m"), Selection::Nothing)
            .await?;
    }
    let jobs = store.pending().await?;
    assert_eq!(jobs.len(), 4);
    assert!(
        jobs.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "{jobs:?}"
    );
    assert!(
        jobs.iter()
            .all(|j| j.owner.as_ref() == Some(&lease.holder()))
    );
    // Another reservation starts after the whole block this engine holds.
    let next = store.reserve_seqs(1).await?;
    assert!(next > jobs[0].seq + 1000, "{next}");
    Ok(())
}
