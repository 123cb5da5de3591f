//! The chats' timers on SQLite: they survive closing and reopening the database (claims
//! included: a claim taken before a restart still lapses, and the timer is claimed again), and
//! a database written before timers existed gets the table when opened.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::ids::ChatId;
use chinwag_core::lease::Holder;
use chinwag_core::ports::ChatStore;
use chinwag_core::timers::{Schedule, TimerKey, TimerKind, Timers};
use chinwag_store_sqlite::{SqliteOptions, SqliteStore};
use rusqlite::Connection;

fn key(chat: &str) -> TimerKey {
    TimerKey::new(TimerKind::Abandon, ChatId::new(chat))
}

#[tokio::test]
async fn timers_and_their_claims_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    store
        .schedule(&[(key("a"), 100), (key("b"), 200)], Schedule::Replace)
        .await
        .unwrap();
    let who = Holder::parse("n1-before").unwrap();
    let claimed = store.claim_due(100, &who, 10, 1_000).await.unwrap();
    assert_eq!(claimed.len(), 1);
    drop(store);
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    assert_eq!(store.due(&key("a")).await.unwrap(), Some(100));
    assert_eq!(store.due(&key("b")).await.unwrap(), Some(200));
    let after = Holder::parse("n1-after").unwrap();
    let got = store.claim_due(500, &after, 10, 1_000).await.unwrap();
    assert_eq!(got.len(), 1, "a is still claimed, b is due: {got:?}");
    assert_eq!(got[0].key, key("b"));
    let got = store.claim_due(1_100, &after, 10, 1_000).await.unwrap();
    assert_eq!(got.len(), 1, "a's claim from before the restart lapsed");
    assert_eq!((got[0].key.clone(), got[0].due_ms), (key("a"), 100));
    assert!(!store.complete(&claimed[0]).await.unwrap());
    assert!(store.complete(&got[0]).await.unwrap());
}

#[tokio::test]
async fn a_database_from_before_timers_gets_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    let (first, _) = chinwag_store_conformance::sample("old", 2);
    store.commit(first).await.unwrap();
    drop(store);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("DROP INDEX timers_ready; DROP TABLE timers;")
        .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    assert_eq!(store.load_live(0).await.unwrap().sessions.len(), 1);
    store
        .schedule(&[(key("old"), 5)], Schedule::KeepExisting)
        .await
        .unwrap();
    assert_eq!(store.due(&key("old")).await.unwrap(), Some(5));
}
