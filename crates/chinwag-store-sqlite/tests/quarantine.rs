//! Unreadable stored chats (corrupt header JSON, corrupt event JSON, nesting past serde_json's
//! recursion limit, text that is not UTF-8) are quarantined by `load_live` with a reason while
//! every other chat loads whole; `load_headers` quarantines only the corrupt header (it reads
//! no event); `load` of one is an error, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::ports::ChatStore;
use chinwag_store_conformance::quarantine;
use chinwag_store_sqlite::{SqliteOptions, SqliteStore};
use rusqlite::Connection;
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
async fn only_an_unreadable_header_is_quarantined_when_headers_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    spoiled_store(&path).await;
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    let listed = ["bad-event", "deep-event", "good1", "good2", "not-utf8"];
    let spoiled = [("bad-header", "session header: EOF")];
    quarantine::check_load_headers(&store, &listed, &spoiled).await;
}

#[tokio::test]
async fn unreadable_chats_are_quarantined_and_the_others_load_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    spoiled_store(&path).await;
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    let spoiled = [
        ("bad-header", "session header: EOF"),
        ("bad-event", "event 2: EOF"),
        ("deep-event", "event 3: recursion limit exceeded"),
        ("not-utf8", "event 4: not UTF-8"),
    ];
    quarantine::check_load_live(&store, &GOOD, &spoiled).await;
}

#[tokio::test]
async fn loading_one_unreadable_chat_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    spoiled_store(&path).await;
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    quarantine::check_load_one(&store, &GOOD, &BAD).await;
}
