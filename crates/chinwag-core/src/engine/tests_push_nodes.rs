//! Push decisions across nodes (two engines on one shared store, a manual clock): what the
//! customer fetched, when it was last seen and whether a live CometD client watches the
//! chat reach the other node through the store after the seeing node's lifecycle pass
//! (`share_seen`), and are taken in by `learn_customer` — not before the pass, and a watch
//! fades when no pass renews it.

use super::limits_tests::ManualClock;
use super::tests_shared_store::{creds_of, settings};
use super::*;
use crate::ids::EventIndex;
use crate::memstore::MemoryStore;
use crate::ports::{Presence, WATCH_FRESH_MS};
use std::sync::atomic::AtomicI64;

const TIMEOUT_MS: i64 = 10_000;

async fn two_nodes() -> Result<(Arc<ChatEngine>, Arc<ChatEngine>, Arc<ManualClock>), CoreError> {
    let store = Arc::new(MemoryStore::new_shared());
    let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
    let mut s = settings(1);
    s.push.enabled = vec![crate::push::DeviceType::CustomHttp];
    s.push.on_join = true;
    s.push.timeout_ms = Some(TIMEOUT_MS);
    let a = ChatEngine::open(s.clone(), store.clone(), clock.clone()).await?;
    s.alias = crate::ids::NodeAlias(2);
    let b = ChatEngine::open(s, store, clock.clone()).await?;
    Ok((a, b, clock))
}

/// A chat on `e` whose customer subscribed to reliable pushes, and said something.
async fn subscribed(e: &ChatEngine) -> Result<ChatView, CoreError> {
    let mut chat = NewChat {
        service: "svc".into(),
        nickname: Some("Bob".into()),
        ..NewChat::default()
    };
    for (k, v) in [
        ("GCTI_Chat_PushSubscribe", "true"),
        ("GCTI_GMS_PushDeviceId", "dev"),
        ("GCTI_GMS_PushDeviceType", "customhttp"),
        ("GCTI_GMS_PushResend", "true"),
    ] {
        chat.user_data.insert(k.into(), v.into());
    }
    let v = e.request_chat(chat, Selection::Nothing).await?;
    e.customer(
        creds_of(&v),
        super::tests_shared_store::send("hi"),
        Selection::Nothing,
    )
    .await?;
    Ok(v)
}

/// The customer fetches everything through `e`.
async fn fetch_all(e: &ChatEngine, v: &ChatView) -> Result<u64, CoreError> {
    let got = e
        .read(creds_of(v), None, Selection::From(EventIndex(0)))
        .await?;
    got.next_position.ok_or(CoreError::Unavailable)
}

struct Watching(ChatId);

impl Presence for Watching {
    fn is_watched(&self, chat: &ChatId) -> bool {
        chat == &self.0
    }
}

#[tokio::test]
async fn a_fetch_through_another_node_acknowledges_after_its_pass() -> Result<(), CoreError> {
    let (a, b, _clock) = two_nodes().await?;
    let chat = subscribed(&b).await?;
    let id = &chat.chat_id;
    assert_eq!(b.client_position(id), Some(0), "nothing fetched through B");
    let next = fetch_all(&a, &chat).await?;
    assert!(next >= 2, "{next}");
    // Not recorded before A's pass: B knows nothing yet.
    assert_eq!(b.learn_customer(id).await?, None);
    assert_eq!(b.client_position(id), Some(0));
    a.share_seen().await;
    let seen = b.learn_customer(id).await?.ok_or(CoreError::Unavailable)?;
    assert_eq!(seen.fetched, next);
    assert_eq!(b.client_position(id), Some(next), "B takes the position in");
    assert_eq!(
        seen.watched_ms, 0,
        "a REST refresh is not a live CometD client"
    );
    // An older position recorded later (B's own pass) lowers nothing.
    b.share_seen().await;
    assert_eq!(b.learn_customer(id).await?.map(|s| s.fetched), Some(next));
    Ok(())
}

#[tokio::test]
async fn a_chat_watched_through_another_node_counts_while_its_passes_renew_it()
-> Result<(), CoreError> {
    let (a, b, clock) = two_nodes().await?;
    let chat = subscribed(&b).await?;
    let id = chat.chat_id.clone();
    // A holds the chat (its CometD client asked for it) and watches it.
    fetch_all(&a, &chat).await?;
    a.set_presence(Arc::new(Watching(id.clone())));
    a.share_seen().await;
    let now = clock.now_ms();
    let seen = b.learn_customer(&id).await?.ok_or(CoreError::Unavailable)?;
    assert_eq!(seen.watched_ms, now);
    assert!(seen.watched_at(now));
    // Every pass renews the mark: still watched long after the first one.
    for _ in 0..5 {
        clock.0.fetch_add(5_000, Ordering::Relaxed);
        a.share_seen().await;
    }
    let later = clock.now_ms();
    assert!(
        b.learn_customer(&id)
            .await?
            .is_some_and(|s| s.watched_at(later))
    );
    // A stops passing (it died, or its client left): the mark fades.
    clock.0.fetch_add(WATCH_FRESH_MS + 1, Ordering::Relaxed);
    let faded = clock.now_ms();
    assert!(
        !b.learn_customer(&id)
            .await?
            .is_some_and(|s| s.watched_at(faded))
    );
    Ok(())
}

#[tokio::test]
async fn the_push_timeout_counts_requests_served_by_another_node() -> Result<(), CoreError> {
    let (a, b, clock) = two_nodes().await?;
    let chat = subscribed(&b).await?;
    let id = &chat.chat_id;
    clock.0.fetch_add(TIMEOUT_MS + 1, Ordering::Relaxed);
    let now = clock.now_ms();
    assert!(b.push_timed_out(id, now), "silent on B past the timeout");
    fetch_all(&a, &chat).await?;
    b.learn_customer(id).await?;
    assert!(
        b.push_timed_out(id, now),
        "A has not recorded its request yet"
    );
    a.share_seen().await;
    b.learn_customer(id).await?;
    assert!(!b.push_timed_out(id, now), "the request through A counts");
    Ok(())
}
