//! The session map is a cache: an ended chat leaves memory a minute after it ended and is
//! still served from the store (to its customer, to its agent's reads, to the push worker)
//! until its retention is over.

use super::limits_tests::ManualClock;
use super::tests_shared_store::{creds_of, open_chat, send, settings};
use super::*;
use crate::ids::EventIndex;
use crate::memstore::MemoryStore;
use crate::ports::SystemClock;
use std::sync::atomic::AtomicI64;

#[tokio::test]
async fn an_ended_chat_leaves_memory_and_is_still_read_from_the_store() -> Result<(), CoreError> {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
    let mut cfg = settings(1);
    cfg.ended_retention_ms = 3_600_000;
    let e = ChatEngine::open(cfg, store.clone(), clock.clone()).await?;
    let view = open_chat(&e, Selection::Nothing).await?;
    let creds = creds_of(&view);
    e.customer(creds, send("hello"), Selection::Nothing).await?;
    e.customer(creds, CustomerOp::Disconnect, Selection::Nothing)
        .await?;
    let retention = RetentionWorker::new(e.clone(), std::time::Duration::from_secs(60));
    assert_eq!(
        retention.sweep().await?,
        0,
        "kept for a minute after it ended"
    );
    assert_eq!(e.cached_chats(), 1);
    clock
        .0
        .fetch_add(EVICT_ENDED_AFTER_MS + 1, Ordering::Relaxed);
    assert_eq!(retention.sweep().await?, 1, "then it leaves memory");
    assert_eq!(e.cached_chats(), 0);
    let read = e.read(creds, None, Selection::From(EventIndex(1))).await?;
    assert!(read.ended, "the customer still reads it, ended");
    assert_eq!(
        read.events.len(),
        3,
        "whole transcript read back from the store"
    );
    let pv = e.push_view(&view.chat_id, EventIndex(2)).await?;
    let text = pv.and_then(|p| p.event).and_then(|ev| ev.text);
    assert_eq!(
        text.as_deref(),
        Some("hello"),
        "the push worker reads it back"
    );
    assert_eq!(e.cached_chats(), 1, "read back into the cache");
    // Past its retention it is gone from the store and from every reader.
    clock.0.fetch_add(3_600_000, Ordering::Relaxed);
    retention.sweep().await?;
    assert!(e.push_view(&view.chat_id, EventIndex(2)).await?.is_none());
    let gone = e.read(creds, None, Selection::Nothing).await;
    assert!(matches!(gone, Err(CoreError::ChatNotFound)), "{gone:?}");
    Ok(())
}

#[tokio::test]
async fn on_its_own_store_an_engine_never_reads_the_store_for_ids_it_does_not_know()
-> Result<(), CoreError> {
    // A store no other process writes to (the SQLite default): the engine's memory names
    // every stored chat, so an id it does not know is answered without a store read. Shown
    // here with a chat another engine wrote behind its back, which it must not see.
    let store = Arc::new(MemoryStore::default());
    let a = ChatEngine::open(settings(1), store.clone(), Arc::new(SystemClock)).await?;
    let b = ChatEngine::open(settings(2), store.clone(), Arc::new(SystemClock)).await?;
    let view = open_chat(&b, Selection::Nothing).await?;
    let on_a = a
        .customer(creds_of(&view), send("x"), Selection::Nothing)
        .await;
    assert!(matches!(on_a, Err(CoreError::ChatNotFound)), "{on_a:?}");
    Ok(())
}

#[tokio::test]
async fn a_chat_loaded_from_another_engine_is_not_counted_there_and_is_abandoned_once()
-> Result<(), CoreError> {
    let store = Arc::new(MemoryStore::new_shared());
    let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
    let a = ChatEngine::open(settings(1), store.clone(), clock.clone()).await?;
    let b = ChatEngine::open(settings(2), store.clone(), clock.clone()).await?;
    let view = open_chat(&a, Selection::Nothing).await?;
    b.read(creds_of(&view), None, Selection::Nothing).await?;
    assert_eq!(
        (a.open_sessions(), b.open_sessions()),
        (1, 0),
        "A's chat, counted by A"
    );
    clock.0.fetch_add(3_600_000, Ordering::Relaxed);
    assert_eq!(
        b.end_abandoned().await,
        1,
        "silent everywhere: B fires its timer"
    );
    assert_eq!(a.end_abandoned().await, 0, "once");
    b.customer(creds_of(&view), send("late"), Selection::Nothing)
        .await
        .err()
        .ok_or(CoreError::Unavailable)?;
    // A learns of the end when the chat is next read there (or announced).
    assert!(
        a.read(creds_of(&view), None, Selection::Nothing)
            .await?
            .ended
    );
    assert_eq!((a.open_sessions(), b.open_sessions()), (0, 0));
    Ok(())
}
