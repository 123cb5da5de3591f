//! Checks for a store holding chats its test spoiled in backend-specific ways (the test does
//! the spoiling; these check what every backend must then do): `load_live` loads every
//! readable chat whole and quarantines each spoiled one with its reason; `load` of a spoiled
//! chat is an error ([`StoreError::Corrupt`]), never a panic; `load_headers` lists every chat
//! whose header reads (its events are not read, so a chat with spoiled events is listed) and
//! quarantines each spoiled header; and the store goes on writing.

use chinwag_core::StoreError;
use chinwag_core::ids::ChatId;
use chinwag_core::ports::ChatStore;
use std::collections::BTreeMap;

/// `good`: chats of 4 events at revision 1, untouched. `spoiled`: each chat id with the start
/// of the reason it must be quarantined with.
pub async fn check_load_live(store: &dyn ChatStore, good: &[&str], spoiled: &[(&str, &str)]) {
    let loaded = store
        .load_live(0)
        .await
        .unwrap_or_else(|e| panic!("load_live must not fail on spoiled chats: {e}"));
    let mut loaded_ids: Vec<String> = loaded
        .sessions
        .iter()
        .map(|s| s.record.chat_id.to_string())
        .collect();
    loaded_ids.sort();
    assert_eq!(loaded_ids, good, "every readable chat loads");
    for s in &loaded.sessions {
        let idx: Vec<u64> = s.events.iter().map(|e| e.index.0).collect();
        assert_eq!(idx, [1, 2, 3, 4], "{} loads whole", s.record.chat_id);
        assert_eq!(s.rev, 1, "{} loads with its revision", s.record.chat_id);
    }
    let why: BTreeMap<String, String> = loaded
        .quarantined
        .iter()
        .map(|(id, why)| (id.to_string(), why.clone()))
        .collect();
    assert_eq!(why.len(), spoiled.len(), "{why:?}");
    for (id, reason) in spoiled {
        let got = why
            .get(*id)
            .unwrap_or_else(|| panic!("{id} not quarantined: {why:?}"));
        assert!(
            got.starts_with(reason),
            "{id}: {got:?} should start with {reason:?}"
        );
    }
}

/// Loading a spoiled chat alone is an error naming it; the good ones load; a new commit
/// succeeds and the spoiled chats are still there, still quarantined.
pub async fn check_load_one(store: &dyn ChatStore, good: &[&str], spoiled: &[&str]) {
    for id in spoiled {
        let e = match store.load(&ChatId::new(*id)).await {
            Err(e) => e,
            Ok(_) => panic!("a corrupt chat ({id}) fails to load"),
        };
        assert!(
            matches!(&e, StoreError::Corrupt { chat, .. } if chat.as_str() == *id),
            "a corrupt chat is reported as such: {e:?}"
        );
        assert!(e.to_string().contains(&format!("corrupt chat {id}")), "{e}");
    }
    for id in good {
        let s = store.load(&ChatId::new(*id)).await.ok().flatten();
        assert_eq!(s.map(|s| s.events.len()), Some(4), "{id} loads");
    }
    let (commit, _) = crate::sample("after", 1);
    assert!(
        store.commit(commit).await.is_ok(),
        "the store keeps writing"
    );
    let left = store.load_live(0).await.map(|l| l.quarantined.len()).ok();
    assert_eq!(left, Some(spoiled.len()), "spoiled chats are left in place");
}

/// `listed`: every chat whose header is readable (the good ones and those with spoiled
/// events), in id order. `spoiled`: each chat whose header is spoiled, with the start of the
/// reason it must be quarantined with.
pub async fn check_load_headers(store: &dyn ChatStore, listed: &[&str], spoiled: &[(&str, &str)]) {
    let found = crate::headers::collect(store, 0).await;
    let mut ids: Vec<String> = found
        .headers
        .iter()
        .map(|h| h.record.chat_id.to_string())
        .collect();
    ids.sort();
    assert_eq!(
        ids, listed,
        "every readable header is listed, events unread"
    );
    assert!(
        found.headers.iter().all(|h| h.rev == 1),
        "with its revision"
    );
    let why: BTreeMap<String, String> = found
        .quarantined
        .iter()
        .map(|(id, why)| (id.to_string(), why.clone()))
        .collect();
    assert_eq!(why.len(), spoiled.len(), "{why:?}");
    for (id, reason) in spoiled {
        let got = why
            .get(*id)
            .unwrap_or_else(|| panic!("{id} not quarantined: {why:?}"));
        assert!(
            got.starts_with(reason),
            "{id}: {got:?} should start with {reason:?}"
        );
    }
}
