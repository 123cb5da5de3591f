//! `load_headers`: the chats `load_live` would return, headers only, each exactly once (in
//! batches, in no particular order), open ones always and ended ones from the cutoff on, each
//! with its revision.

use chinwag_core::ids::ChatId;
use chinwag_core::ports::{ChatStore, Commit, Headers, StoredHeader};

/// Every batch `load_headers(since)` hands over, put together.
pub async fn collect(store: &dyn ChatStore, since: i64) -> Headers {
    let mut all = Headers::default();
    let mut take = |batch: Headers| {
        all.headers.extend(batch.headers);
        all.quarantined.extend(batch.quarantined);
    };
    store
        .load_headers(since, &mut take)
        .await
        .unwrap_or_else(|e| panic!("load_headers failed: {e}"));
    all
}

/// The headers `load_headers(since)` returns, asserting nothing was quarantined and nothing
/// came twice.
async fn headers(store: &dyn ChatStore, since: i64) -> Vec<StoredHeader> {
    let found = collect(store, since).await;
    assert!(
        found.quarantined.is_empty(),
        "well-formed headers are never quarantined"
    );
    let mut ids: Vec<&ChatId> = found.headers.iter().map(|h| &h.record.chat_id).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "each chat's header comes once");
    found.headers
}

/// Ids of `headers` that start with `hdr-`, sorted.
fn ours(headers: &[StoredHeader]) -> Vec<String> {
    let mut ids: Vec<String> = headers
        .iter()
        .map(|h| h.record.chat_id.to_string())
        .filter(|id| id.starts_with("hdr-"))
        .collect();
    ids.sort();
    ids
}

/// Open chats, one with a later commit, one ended.
pub(crate) async fn headers_list_live_chats(store: &dyn ChatStore) {
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
    assert_eq!(ours(&open), ["hdr-a", "hdr-b", "hdr-c"], "open chats only");
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
        ["hdr-a", "hdr-b", "hdr-c", "hdr-d"],
        "a chat ended at the cutoff is listed"
    );
    assert_eq!(
        ours(&headers(store, 7_001).await),
        ["hdr-a", "hdr-b", "hdr-c"]
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
