//! Abandonment across nodes: no node ends a chat while its customer is served by another
//! node (requests or a live CometD watch there), and one does end it once the customer is
//! silent everywhere.

use super::limits_tests::ManualClock;
use super::tests_shared_store::{creds_of, open_chat, settings};
use super::*;
use crate::ids::ChatId;
use crate::memstore::MemoryStore;
use crate::ports::Presence;
use crate::settings::ServiceLimits;
use std::sync::atomic::AtomicI64;

const LIMIT_MS: i64 = 10_000;

async fn two_nodes(
    store: Arc<MemoryStore>,
) -> Result<(Arc<ChatEngine>, Arc<ChatEngine>, Arc<ManualClock>), CoreError> {
    let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
    let mut s = settings(1);
    s.services[0].limits = ServiceLimits {
        abandon_after_ms: Some(LIMIT_MS),
        ..ServiceLimits::default()
    };
    let a = ChatEngine::open(s.clone(), store.clone(), clock.clone()).await?;
    s.alias = crate::ids::NodeAlias(2);
    let b = ChatEngine::open(s, store, clock.clone()).await?;
    Ok((a, b, clock))
}

#[tokio::test]
async fn a_customer_served_by_another_node_is_not_abandoned() -> Result<(), CoreError> {
    let (a, b, clock) = two_nodes(Arc::new(MemoryStore::new_shared())).await?;
    let chat = open_chat(&a, Selection::Nothing).await?;
    // The customer's requests all reach B from now on; A counts the chat.
    for _ in 0..3 {
        clock.0.fetch_add(6_000, Ordering::Relaxed);
        b.read(creds_of(&chat), None, Selection::Nothing).await?;
        // B's pass records what it saw (and may fire the timer: it must not end the chat).
        assert_eq!(b.end_abandoned().await, 0, "seen through B");
        assert_eq!(
            a.end_abandoned().await,
            0,
            "seen through B within the limit"
        );
    }
    assert_eq!(a.open_sessions(), 1);
    // Silent everywhere past the limit: A ends it.
    clock.0.fetch_add(LIMIT_MS + 1, Ordering::Relaxed);
    assert_eq!(
        b.end_abandoned().await + a.end_abandoned().await,
        1,
        "ended once, by whichever node fires its timer"
    );
    let end = b
        .read(
            creds_of(&chat),
            None,
            Selection::From(crate::ids::EventIndex(1)),
        )
        .await?;
    assert!(end.ended);
    Ok(())
}

#[tokio::test]
async fn a_request_not_yet_recorded_is_caught_by_the_reader() -> Result<(), CoreError> {
    // Without B's record, A ends the chat: the test above fails if the store is not asked.
    let (a, b, clock) = two_nodes(Arc::new(MemoryStore::new_shared())).await?;
    let chat = open_chat(&a, Selection::Nothing).await?;
    clock.0.fetch_add(LIMIT_MS + 1, Ordering::Relaxed);
    b.read(creds_of(&chat), None, Selection::Nothing).await?;
    assert_eq!(
        a.end_abandoned().await,
        1,
        "B has not recorded its request yet"
    );
    Ok(())
}

struct Watching(ChatId);

impl Presence for Watching {
    fn is_watched(&self, chat: &ChatId) -> bool {
        chat == &self.0
    }
}

#[tokio::test]
async fn a_chat_watched_on_another_node_is_not_abandoned() -> Result<(), CoreError> {
    let (a, b, clock) = two_nodes(Arc::new(MemoryStore::new_shared())).await?;
    let chat = open_chat(&a, Selection::Nothing).await?;
    // B serves the customer's CometD session: it holds the chat and watches it.
    b.read(creds_of(&chat), None, Selection::Nothing).await?;
    b.set_presence(Arc::new(Watching(chat.chat_id.clone())));
    for _ in 0..3 {
        clock.0.fetch_add(LIMIT_MS, Ordering::Relaxed);
        b.end_abandoned().await;
        assert_eq!(a.end_abandoned().await, 0, "watched on B");
    }
    Ok(())
}

#[tokio::test]
async fn a_store_of_one_process_records_nothing() -> Result<(), CoreError> {
    let store = MemoryStore::default();
    let seen = crate::ports::Seen {
        at_ms: 5,
        fetched: 3,
        watched_ms: 5,
    };
    store.record_seen(&[(ChatId::new("x"), seen)]).await?;
    assert_eq!(store.last_seen(&ChatId::new("x")).await?, None);
    assert_eq!(store.seen_record(&ChatId::new("x")).await?, None);
    Ok(())
}
