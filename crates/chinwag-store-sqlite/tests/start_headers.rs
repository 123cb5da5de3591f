//! A node restarted on a SQLite file holding many open chats opens from their headers alone
//! (no transcript held until a chat is used) and serves every chat as before; a chat whose
//! events row is corrupt is quarantined when first used, and the others serve
//! (`chinwag_store_conformance::restart` says what is checked).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_store_conformance::restart::{self, ManualClock};
use chinwag_store_sqlite::{SqliteOptions, SqliteStore};
use std::sync::Arc;

const CHATS: usize = 40;
const SPOILED: usize = 5;

#[tokio::test]
async fn a_restart_reads_headers_only_and_every_chat_answers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let clock = ManualClock::new();
    let store = Arc::new(SqliteStore::open(&path, &SqliteOptions::default()).unwrap());
    let chats = restart::fill(store, &clock, CHATS).await;
    let store = Arc::new(SqliteStore::open(&path, &SqliteOptions::default()).unwrap());
    restart::check(store, &clock, &chats, None, 0).await;
}

#[tokio::test]
async fn a_chat_with_a_corrupt_event_is_quarantined_when_first_used() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let clock = ManualClock::new();
    let store = Arc::new(SqliteStore::open(&path, &SqliteOptions::default()).unwrap());
    let chats = restart::fill(store, &clock, CHATS).await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    let n = conn
        .execute(
            "UPDATE events SET body = '{\"index\": 2, ' WHERE chat_id = ?1 AND idx = 2",
            [chats[SPOILED].chat_id.as_str()],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(conn);
    let store = Arc::new(SqliteStore::open(&path, &SqliteOptions::default()).unwrap());
    restart::check(store, &clock, &chats, Some(SPOILED), 0).await;
}
