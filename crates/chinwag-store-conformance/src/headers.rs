//! `load_headers`: the chats `load_live` would return, headers only, in creation order (ties
//! by chat id), open ones always and ended ones from the cutoff on, each with its revision.

use chinwag_core::ids::ChatId;
use chinwag_core::ports::{ChatStore, Commit, StoredHeader};

/// The headers `load_headers(since)` returns, asserting nothing was quarantined.
async fn headers(store: &dyn ChatStore, since: i64) -> Vec<StoredHeader> {
    let found = store
        .load_headers(since)
        .await
        .unwrap_or_else(|e| panic!("load_headers failed: {e}"));
    assert!(
        found.quarantined.is_empty(),
        "well-formed headers are never quarantined"
    );
    let keys: Vec<(i64, ChatId)> = found
        .headers
        .iter()
        .map(|h| (h.record.created_ms, h.record.chat_id.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "headers come in creation order, ties by chat id"
    );
    found.headers
}

/// Ids of `headers` that start with `hdr-`, in the order given.
fn ours(headers: &[StoredHeader]) -> Vec<String> {
    headers
        .iter()
        .map(|h| h.record.chat_id.to_string())
        .filter(|id| id.starts_with("hdr-"))
        .collect()
}

/// Open chats created in an order their ids do not follow, one with a later commit, one ended.
pub(crate) async fn headers_list_live_chats_in_creation_order(store: &dyn ChatStore) {
    for (id, created) in [("hdr-c", 10), ("hdr-a", 30), ("hdr-b", 20), ("hdr-d", 20)] {
        let (mut commit, record) = crate::sample(id, 2);
        commit.record = Some(chinwag_core::session::SessionRecord {
            created_ms: created,
            ..record
        });
        assert!(store.commit(commit).await.is_ok());
    }
    let (_, record) = crate::sample("hdr-d", 0);
    let again = Commit {
        chat_id: ChatId::new("hdr-a"),
        base_rev: 1,
        record: None,
        events: vec![crate::event(3, "more")],
        pushes: Vec::new(),
    };
    assert!(store.commit(again).await.is_ok());
    let ended = Commit {
        chat_id: ChatId::new("hdr-d"),
        base_rev: 1,
        record: Some(chinwag_core::session::SessionRecord {
            created_ms: 20,
            ended_ms: Some(7_000),
            ..record
        }),
        events: vec![crate::event(3, "bye")],
        pushes: Vec::new(),
    };
    assert!(store.commit(ended).await.is_ok());
    let open = headers(store, i64::MAX).await;
    assert_eq!(
        ours(&open),
        ["hdr-c", "hdr-b", "hdr-a"],
        "open chats only, oldest first"
    );
    let revs: Vec<u64> = open
        .iter()
        .filter(|h| h.record.chat_id.as_str() == "hdr-a")
        .map(|h| h.rev)
        .collect();
    assert_eq!(revs, [2], "each header comes with its chat's revision");
    assert!(
        open.iter().all(|h| h.record.ended_ms.is_none()),
        "nothing ended is listed past its cutoff"
    );
    assert_eq!(
        ours(&headers(store, 7_000).await),
        ["hdr-c", "hdr-b", "hdr-d", "hdr-a"],
        "a chat ended at the cutoff is listed, in its creation place (ties by chat id)"
    );
    assert_eq!(
        ours(&headers(store, 7_001).await),
        ["hdr-c", "hdr-b", "hdr-a"]
    );
    let live = store
        .load_live(7_000)
        .await
        .unwrap_or_else(|e| panic!("load_live failed: {e}"));
    let mut whole: Vec<String> = live
        .sessions
        .iter()
        .map(|s| s.record.chat_id.to_string())
        .collect();
    whole.sort();
    let mut heads: Vec<String> = headers(store, 7_000)
        .await
        .iter()
        .map(|h| h.record.chat_id.to_string())
        .collect();
    heads.sort();
    assert_eq!(heads, whole, "the same chats as load_live");
    for id in ["hdr-a", "hdr-b", "hdr-c", "hdr-d"] {
        let s = store.load(&ChatId::new(id)).await;
        assert!(matches!(s, Ok(Some(_))), "{id} still loads whole");
    }
    let purged = store.purge_ended(7_001).await;
    assert!(purged.is_ok_and(|n| n >= 1), "the ended one purges");
}
