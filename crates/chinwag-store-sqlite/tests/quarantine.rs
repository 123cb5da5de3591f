//! Unreadable stored chats (corrupt header JSON, corrupt event JSON, nesting past serde_json's
//! recursion limit, text that is not UTF-8) are quarantined by `load_live` with a reason while
//! every other chat loads whole; `load` of one is an error, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::ids::ChatId;
use chinwag_core::ports::ChatStore;
use chinwag_store_sqlite::{SqliteOptions, SqliteStore};
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::path::Path;

const GOOD: [&str; 2] = ["good1", "good2"];
const BAD: [&str; 4] = ["bad-header", "bad-event", "deep-event", "not-utf8"];

/// A store holding every chat of `GOOD` and `BAD` (4 events each), then the `BAD` rows
/// spoiled directly in the database.
async fn spoiled_store(path: &Path) {
    let store = SqliteStore::open(path, &SqliteOptions::default()).unwrap();
    for id in GOOD.iter().chain(&BAD) {
        let (commit, _) = chinwag_store_conformance::sample(id, 4);
        store.commit(commit).await.unwrap();
    }
    drop(store);
    let conn = Connection::open(path).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn.execute(
        "UPDATE sessions SET record = '{\"chat_id\": \"bad-header\", ' WHERE chat_id = 'bad-header'",
        [],
    )
    .unwrap();
    conn.execute(
        "UPDATE events SET body = '{\"index\": 2, ' WHERE chat_id = 'bad-event' AND idx = 2",
        [],
    )
    .unwrap();
    // A real event whose eventAttributes nest 200 levels deep.
    let body: String = conn
        .query_row(
            "SELECT body FROM events WHERE chat_id = 'deep-event' AND idx = 3",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut event: serde_json::Value = serde_json::from_str(&body).unwrap();
    let field = event
        .as_object()
        .unwrap()
        .keys()
        .find(|k| k.to_lowercase().contains("attributes"))
        .cloned()
        .expect("events store their attributes");
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    event[field.as_str()] = serde_json::Value::Null;
    let body = serde_json::to_string(&event)
        .unwrap()
        .replace(&format!("\"{field}\":null"), &format!("\"{field}\":{deep}"));
    assert!(body.contains(&deep));
    conn.execute(
        "UPDATE events SET body = ?1 WHERE chat_id = 'deep-event' AND idx = 3",
        [body],
    )
    .unwrap();
    conn.execute(
        "UPDATE events SET body = CAST(X'7B22696E646578FF' AS TEXT) WHERE chat_id = 'not-utf8' AND idx = 4",
        [],
    )
    .unwrap();
}

#[tokio::test]
async fn unreadable_chats_are_quarantined_and_the_others_load_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    spoiled_store(&path).await;
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    let loaded = store.load_live(0).await.unwrap();
    let mut loaded_ids: Vec<String> = loaded
        .sessions
        .iter()
        .map(|s| s.record.chat_id.to_string())
        .collect();
    loaded_ids.sort();
    assert_eq!(loaded_ids, GOOD, "every readable chat loads");
    for s in &loaded.sessions {
        let idx: Vec<u64> = s.events.iter().map(|e| e.index.0).collect();
        assert_eq!(idx, [1, 2, 3, 4], "{} loads whole", s.record.chat_id);
    }
    let why: BTreeMap<String, String> = loaded
        .quarantined
        .iter()
        .map(|(id, why)| (id.to_string(), why.clone()))
        .collect();
    assert_eq!(why.len(), BAD.len(), "{why:?}");
    let expect = [
        ("bad-header", "session header: EOF"),
        ("bad-event", "event 2: EOF"),
        ("deep-event", "event 3: recursion limit exceeded"),
        ("not-utf8", "event 4: not UTF-8"),
    ];
    for (id, reason) in expect {
        let got = why
            .get(id)
            .unwrap_or_else(|| panic!("{id} not quarantined: {why:?}"));
        assert!(
            got.starts_with(reason),
            "{id}: {got:?} should start with {reason:?}"
        );
    }
}

#[tokio::test]
async fn loading_one_unreadable_chat_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    spoiled_store(&path).await;
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    for id in BAD {
        let e = store
            .load(&ChatId::new(id))
            .await
            .expect_err("a corrupt chat fails to load");
        assert!(e.to_string().contains(&format!("corrupt chat {id}")), "{e}");
    }
    for id in GOOD {
        let s = store.load(&ChatId::new(id)).await.unwrap().unwrap();
        assert_eq!(s.events.len(), 4);
    }
    // Quarantined rows are left in place, and the store keeps writing.
    let (commit, _) = chinwag_store_conformance::sample("after", 1);
    store.commit(commit).await.unwrap();
    assert_eq!(
        store.load_live(0).await.unwrap().quarantined.len(),
        BAD.len()
    );
}
