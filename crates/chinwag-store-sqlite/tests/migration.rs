//! A database written before chats had revisions (no `rev` column) opens, its chats load at
//! revision 1, and the next commit at that revision succeeds while a stale one conflicts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::StoreError;
use chinwag_core::ids::ChatId;
use chinwag_core::ports::{ChatStore, Commit};
use chinwag_store_sqlite::{SqliteOptions, SqliteStore};
use rusqlite::Connection;

#[tokio::test]
async fn a_store_without_revisions_gets_them_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    let (first, _) = chinwag_store_conformance::sample("old", 2);
    store.commit(first).await.unwrap();
    drop(store);
    // Back to the old layout: the same table without its `rev` column.
    let conn = Connection::open(&path).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn.execute_batch(
        "CREATE TABLE s2 (chat_id TEXT PRIMARY KEY, ended_ms INTEGER, record TEXT NOT NULL) WITHOUT ROWID;
         INSERT INTO s2 SELECT chat_id, ended_ms, record FROM sessions;
         DROP TABLE sessions; ALTER TABLE s2 RENAME TO sessions;",
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    let id = ChatId::new("old");
    let loaded = store.load(&id).await.unwrap().unwrap();
    assert_eq!((loaded.rev, loaded.events.len()), (1, 2));
    let live = store.load_live(0).await.unwrap();
    assert_eq!(live.sessions.iter().map(|s| s.rev).collect::<Vec<_>>(), [1]);
    let (mut next, _) = chinwag_store_conformance::sample("old", 3);
    next.record = None;
    next.events.drain(..2);
    let stale = Commit {
        base_rev: 0,
        ..next.clone()
    };
    assert!(matches!(
        store.commit(stale).await,
        Err(StoreError::Conflict)
    ));
    next.base_rev = 1;
    store.commit(next).await.unwrap();
    assert_eq!(store.load(&id).await.unwrap().unwrap().rev, 2);
}
