//! What nodes saw of customers (`record_seen`, `seen_record`, `last_seen`): on a store other
//! processes share, the largest value of each field (when seen, the fetch position, when
//! watched) is kept per chat, whatever order batches arrive in, for chats of every
//! partition; a chat not stored is not brought into being. A store one process owns may
//! record nothing (the default), and then answers `None`.

use crate::sample;
use chinwag_core::ids::ChatId;
use chinwag_core::ports::{ChatStore, Seen};

async fn last(store: &dyn ChatStore, chat: &ChatId) -> Option<i64> {
    store
        .last_seen(chat)
        .await
        .unwrap_or_else(|e| panic!("last_seen failed: {e}"))
}

async fn read(store: &dyn ChatStore, chat: &ChatId) -> Option<Seen> {
    store
        .seen_record(chat)
        .await
        .unwrap_or_else(|e| panic!("seen_record failed: {e}"))
}

async fn record(store: &dyn ChatStore, seen: &[(ChatId, Seen)]) {
    store
        .record_seen(seen)
        .await
        .unwrap_or_else(|e| panic!("record_seen failed: {e}"));
}

fn seen(at_ms: i64, fetched: u64, watched_ms: i64) -> Seen {
    Seen {
        at_ms,
        fetched,
        watched_ms,
    }
}

pub(crate) async fn last_seen_keeps_the_latest(store: &dyn ChatStore) {
    let chats: Vec<ChatId> = (0..40).map(|i| ChatId::new(format!("seen-{i}"))).collect();
    for c in &chats {
        let (create, _) = sample(c.as_str(), 1);
        assert!(store.commit(create).await.is_ok(), "create {c}");
    }
    let batch: Vec<(ChatId, Seen)> = chats
        .iter()
        .cloned()
        .zip(100..)
        .map(|(c, t)| (c, seen(t, 0, 0)))
        .collect();
    record(store, &batch).await;
    let ghost = ChatId::new("seen-never-stored");
    if !store.shared() {
        assert_eq!(last(store, &chats[0]).await, None, "nothing recorded");
        assert_eq!(read(store, &chats[0]).await, None, "nothing recorded");
        return;
    }
    for (c, t) in &batch {
        assert_eq!(
            last(store, c).await,
            Some(t.at_ms),
            "{c}: the recorded time"
        );
        assert_eq!(read(store, c).await, Some(*t), "{c}: the recorded record");
    }
    record(
        store,
        &[
            (chats[0].clone(), seen(50, 0, 0)),
            (ghost.clone(), seen(7, 3, 7)),
        ],
    )
    .await;
    assert_eq!(
        last(store, &chats[0]).await,
        Some(100),
        "an older time is ignored"
    );
    record(store, &[(chats[0].clone(), seen(500, 0, 0))]).await;
    assert_eq!(
        last(store, &chats[0]).await,
        Some(500),
        "a later time replaces it"
    );
    assert_eq!(
        last(store, &ghost).await,
        None,
        "a chat not stored records nothing"
    );
    assert_eq!(
        read(store, &ghost).await,
        None,
        "a chat not stored records nothing"
    );
    assert!(
        matches!(store.revision(&ghost).await, Ok(None)),
        "recording a chat not stored does not create it"
    );
    assert!(
        matches!(store.load(&ghost).await, Ok(None)),
        "nor can it be loaded"
    );
    let after = store.load(&chats[0]).await.ok().flatten();
    assert!(
        after.is_some_and(|s| s.rev == 1 && s.events.len() == 1),
        "recording changes neither revision nor transcript"
    );
}

/// The fetch position and the watch time ride in the same batch as the time seen, and each
/// field keeps its own maximum: a node that saw the customer later but knows an older fetch
/// position (or saw no watch) does not lower what another node recorded.
pub(crate) async fn each_field_keeps_its_largest(store: &dyn ChatStore) {
    let (a, b) = (ChatId::new("seen-fields-a"), ChatId::new("seen-fields-b"));
    for c in [&a, &b] {
        let (create, _) = sample(c.as_str(), 1);
        assert!(store.commit(create).await.is_ok(), "create {c}");
    }
    record(
        store,
        &[
            (a.clone(), seen(1_000, 7, 1_000)),
            (b.clone(), seen(900, 2, 0)),
        ],
    )
    .await;
    if !store.shared() {
        assert_eq!(read(store, &a).await, None, "nothing recorded");
        return;
    }
    assert_eq!(read(store, &a).await, Some(seen(1_000, 7, 1_000)));
    assert_eq!(
        read(store, &b).await,
        Some(seen(900, 2, 0)),
        "never watched: 0"
    );
    // Another node: a later request, an older fetch position, no watch.
    record(
        store,
        &[
            (a.clone(), seen(2_000, 4, 0)),
            (b.clone(), seen(800, 9, 850)),
        ],
    )
    .await;
    assert_eq!(
        read(store, &a).await,
        Some(seen(2_000, 7, 1_000)),
        "later seen, position and watch kept"
    );
    assert_eq!(
        read(store, &b).await,
        Some(seen(900, 9, 850)),
        "position and watch rise, seen kept"
    );
    assert_eq!(
        last(store, &b).await,
        Some(900),
        "last_seen reads the time seen"
    );
    // A fetch position near the top of what a transcript index can be is kept exactly.
    let big = (1u64 << 40) + 3;
    record(store, &[(b.clone(), seen(0, big, 0))]).await;
    assert_eq!(read(store, &b).await.map(|s| s.fetched), Some(big));
}
