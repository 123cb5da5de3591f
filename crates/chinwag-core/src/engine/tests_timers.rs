//! Abandonment on durable timers, with two engines on one shared store (two nodes) and a
//! manual clock: a chat whose creating node is gone is ended by another node's timers pass,
//! once; a customer active through another node keeps it open (recorded or not yet); a
//! timer claimed by a node that died is fired by another once its claim lapses; chats
//! stored without a timer get one at start; a chat's timer goes when the chat ends.

use super::limits_tests::ManualClock;
use super::tests_shared_store::{creds_of, open_chat, settings};
use super::*;
use crate::event::EventKind;
use crate::ids::EventIndex;
use crate::memstore::MemoryStore;
use crate::settings::ServiceLimits;
use crate::timers::{TimerKey, TimerKind, Timers};
use std::sync::atomic::AtomicI64;

const LIMIT_MS: i64 = 10_000;
const T0: i64 = 1_000_000;

fn limited(alias: u32) -> EngineSettings {
    let mut s = settings(alias);
    s.services[0].limits = ServiceLimits {
        abandon_after_ms: Some(LIMIT_MS),
        ..ServiceLimits::default()
    };
    s
}

async fn node(
    alias: u32,
    store: &Arc<MemoryStore>,
    clock: &Arc<ManualClock>,
) -> Result<Arc<ChatEngine>, CoreError> {
    ChatEngine::open(limited(alias), store.clone(), clock.clone()).await
}

fn shared() -> (Arc<MemoryStore>, Arc<ManualClock>) {
    (
        Arc::new(MemoryStore::new_shared()),
        Arc::new(ManualClock(AtomicI64::new(T0))),
    )
}

fn abandon_key(view: &ChatView) -> TimerKey {
    TimerKey::new(TimerKind::Abandon, view.chat_id.clone())
}

/// The chat's whole transcript as its customer reads it through `e`: (ended, kinds, notices).
async fn read(
    e: &ChatEngine,
    view: &ChatView,
) -> Result<(bool, Vec<EventKind>, Vec<String>), CoreError> {
    let all = e
        .read(creds_of(view), None, Selection::From(EventIndex(1)))
        .await?;
    let kinds = all.events.iter().map(|e| e.kind).collect();
    let notices = all
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Notice)
        .filter_map(|e| e.text.as_deref().map(str::to_owned))
        .collect();
    Ok((all.ended, kinds, notices))
}

#[tokio::test]
async fn a_chat_whose_node_is_gone_is_abandoned_by_another_once() -> Result<(), CoreError> {
    let (store, clock) = shared();
    let a = node(1, &store, &clock).await?;
    let b = node(2, &store, &clock).await?;
    let chat = open_chat(&a, Selection::Nothing).await?;
    drop(a); // A dies: it never runs a timers pass again
    clock.0.fetch_add(LIMIT_MS, Ordering::Relaxed);
    assert_eq!(b.end_abandoned().await, 0, "not silent past the limit yet");
    clock.0.fetch_add(1, Ordering::Relaxed);
    assert_eq!(b.end_abandoned().await, 1, "B ends A's chat");
    assert_eq!(b.end_abandoned().await, 0, "once");
    let c = node(3, &store, &clock).await?;
    assert_eq!(
        c.end_abandoned().await,
        0,
        "nor by a node that starts later"
    );
    let (ended, kinds, notices) = read(&b, &chat).await?;
    assert!(ended);
    assert_eq!(
        kinds,
        [
            EventKind::ParticipantJoined,
            EventKind::Notice,
            EventKind::ParticipantLeft
        ]
    );
    assert_eq!(notices, [ABANDONED]);
    assert_eq!(store.due(&abandon_key(&chat)).await?, None, "timer gone");
    Ok(())
}

#[tokio::test]
async fn a_customer_active_through_another_node_keeps_the_chat_open() -> Result<(), CoreError> {
    let (store, clock) = shared();
    let a = node(1, &store, &clock).await?;
    let b = node(2, &store, &clock).await?;
    let chat = open_chat(&a, Selection::Nothing).await?;
    drop(a);
    // The customer's requests reach B, whose lifecycle pass records them.
    for _ in 0..4 {
        clock.0.fetch_add(6_000, Ordering::Relaxed);
        b.read(creds_of(&chat), None, Selection::Nothing).await?;
        assert_eq!(
            b.end_abandoned().await,
            0,
            "seen through B within the limit"
        );
    }
    // A request B has not recorded yet counts too (the firing node's own sighting).
    clock.0.fetch_add(6_000, Ordering::Relaxed);
    b.read(creds_of(&chat), None, Selection::Nothing).await?;
    clock.0.fetch_add(6_000, Ordering::Relaxed);
    assert_eq!(b.fire_timers().await, 0, "seen 6 s ago on B, not recorded");
    clock.0.fetch_add(LIMIT_MS, Ordering::Relaxed);
    assert_eq!(
        b.end_abandoned().await,
        1,
        "silent everywhere past the limit"
    );
    assert!(read(&b, &chat).await?.0);
    Ok(())
}

#[tokio::test]
async fn a_timer_claimed_by_a_node_that_died_fires_once_its_claim_lapses() -> Result<(), CoreError>
{
    let (store, clock) = shared();
    let a = node(1, &store, &clock).await?;
    let b = node(2, &store, &clock).await?;
    let chat = open_chat(&a, Selection::Nothing).await?;
    drop(a);
    clock.0.fetch_add(LIMIT_MS + 1, Ordering::Relaxed);
    // A node claims the due timer and dies before firing it.
    let dead = crate::lease::Holder::for_run(9);
    let now = clock.0.load(Ordering::Relaxed);
    assert_eq!(store.claim_due(now, &dead, 10, CLAIM_MS).await?.len(), 1);
    assert_eq!(b.end_abandoned().await, 0, "the claim holds");
    clock.0.fetch_add(CLAIM_MS, Ordering::Relaxed);
    assert_eq!(b.end_abandoned().await, 1, "lapsed: B fires it");
    assert_eq!(read(&b, &chat).await?.2, [ABANDONED]);
    Ok(())
}

#[tokio::test]
async fn chats_stored_without_a_timer_get_one_at_start() -> Result<(), CoreError> {
    let (store, clock) = shared();
    let a = node(1, &store, &clock).await?;
    let chat = open_chat(&a, Selection::Nothing).await?;
    drop(a);
    // As stored by a version before timers.
    store.cancel(&[abandon_key(&chat)]).await?;
    clock.0.fetch_add(LIMIT_MS + 1, Ordering::Relaxed);
    let b = node(2, &store, &clock).await?;
    let due = store.due(&abandon_key(&chat)).await?;
    assert_eq!(due, Some(T0 + 2 * LIMIT_MS + 2), "counted from B's start");
    assert_eq!(b.end_abandoned().await, 0);
    // A node starting later keeps the timer as it is.
    let c = node(3, &store, &clock).await?;
    clock.0.fetch_add(LIMIT_MS + 1, Ordering::Relaxed);
    assert_eq!(store.due(&abandon_key(&chat)).await?, due, "kept");
    assert_eq!(c.end_abandoned().await + b.end_abandoned().await, 1);
    Ok(())
}

#[tokio::test]
async fn a_chat_that_ends_drops_its_timer() -> Result<(), CoreError> {
    let (store, clock) = shared();
    let a = node(1, &store, &clock).await?;
    let chat = open_chat(&a, Selection::Nothing).await?;
    assert_eq!(
        store.due(&abandon_key(&chat)).await?,
        Some(T0 + LIMIT_MS + 1),
        "set when the chat was created"
    );
    a.customer(creds_of(&chat), CustomerOp::Disconnect, Selection::Nothing)
        .await?;
    assert_eq!(store.due(&abandon_key(&chat)).await?, None, "cancelled");
    Ok(())
}

#[tokio::test]
async fn a_service_that_never_abandons_sets_no_timer() -> Result<(), CoreError> {
    let store = Arc::new(MemoryStore::new_shared());
    let clock = Arc::new(ManualClock(AtomicI64::new(T0)));
    let mut s = settings(1);
    s.services[0].limits.abandon_after_ms = None;
    let a = ChatEngine::open(s, store.clone(), clock.clone()).await?;
    let chat = open_chat(&a, Selection::Nothing).await?;
    assert_eq!(store.due(&abandon_key(&chat)).await?, None);
    clock.0.fetch_add(3_600_000, Ordering::Relaxed);
    assert_eq!(a.end_abandoned().await, 0);
    Ok(())
}
