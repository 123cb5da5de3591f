//! When customers were last seen (`record_seen`, `last_seen`): on a store other processes
//! share, the latest time per chat is kept, whatever order batches arrive in, for chats of
//! every partition; a chat not stored is not brought into being. A store one process owns
//! may record nothing (the default), and then answers `None`.

use crate::sample;
use chinwag_core::ids::ChatId;
use chinwag_core::ports::ChatStore;

async fn last(store: &dyn ChatStore, chat: &ChatId) -> Option<i64> {
    store
        .last_seen(chat)
        .await
        .unwrap_or_else(|e| panic!("last_seen failed: {e}"))
}

async fn record(store: &dyn ChatStore, seen: &[(ChatId, i64)]) {
    store
        .record_seen(seen)
        .await
        .unwrap_or_else(|e| panic!("record_seen failed: {e}"));
}

pub(crate) async fn last_seen_keeps_the_latest(store: &dyn ChatStore) {
    let chats: Vec<ChatId> = (0..40).map(|i| ChatId::new(format!("seen-{i}"))).collect();
    for c in &chats {
        let (create, _) = sample(c.as_str(), 1);
        assert!(store.commit(create).await.is_ok(), "create {c}");
    }
    let batch: Vec<(ChatId, i64)> = chats.iter().cloned().zip(100..).collect();
    record(store, &batch).await;
    let ghost = ChatId::new("seen-never-stored");
    if !store.shared() {
        assert_eq!(last(store, &chats[0]).await, None, "nothing recorded");
        return;
    }
    for (c, t) in &batch {
        assert_eq!(last(store, c).await, Some(*t), "{c}: the recorded time");
    }
    record(store, &[(chats[0].clone(), 50), (ghost.clone(), 7)]).await;
    assert_eq!(
        last(store, &chats[0]).await,
        Some(100),
        "an older time is ignored"
    );
    record(store, &[(chats[0].clone(), 500)]).await;
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
