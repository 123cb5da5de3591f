//! The size quota covers the database file and its WAL together: filling a small store until
//! writes fail leaves both within the quota, and the store still reads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::ids::ChatId;
use chinwag_core::ports::{ChatStore, Commit};
use chinwag_store_sqlite::{QuotaSplit, SqliteOptions, SqliteStore};
use std::path::Path;

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

fn commit(id: &str) -> Commit {
    let (mut c, _) = chinwag_store_conformance::sample(id, 4);
    for e in &mut c.events {
        e.text = Some("t".repeat(1500).into());
    }
    c
}

#[tokio::test]
async fn database_and_wal_stay_within_the_quota_when_it_is_full() {
    const QUOTA: u64 = 512 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.db");
    let wal = dir.path().join("q.db-wal");
    let store = std::sync::Arc::new(
        SqliteStore::open(
            &db,
            &SqliteOptions {
                max_size_bytes: Some(QUOTA),
            },
        )
        .unwrap(),
    );
    let mut stored = 0usize;
    let mut full = false;
    'fill: for round in 0..200 {
        // Bursts of concurrent commits, so groups hold many writes.
        let mut tasks = Vec::new();
        for i in 0..16 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.commit(commit(&format!("c{round}-{i}"))).await
            }));
        }
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => stored += 1,
                Err(e) => {
                    assert!(e.to_string().contains("full"), "{e}");
                    full = true;
                }
            }
        }
        if full {
            break 'fill;
        }
    }
    assert!(full, "a 512 KiB quota must fill up");
    // A read is served after the writer's upkeep of the failed group.
    let loaded = store.load_live(0).await.unwrap();
    assert_eq!(
        loaded.sessions.len(),
        stored,
        "every acknowledged commit reads back"
    );
    assert!(loaded.quarantined.is_empty());
    assert!(loaded.sessions.iter().all(|s| s.events.len() == 4));
    let (db_size, wal_size) = (size(&db), size(&wal));
    assert!(
        db_size + wal_size <= QUOTA,
        "database {db_size} + WAL {wal_size} bytes exceed the quota of {QUOTA}"
    );
    let split = QuotaSplit::of(QUOTA, 4096);
    assert!(
        db_size <= split.db_pages * 4096,
        "database {db_size} over its share"
    );
    assert!(wal_size <= split.wal_bytes, "WAL {wal_size} over its share");
    // Reopening keeps it within the quota too.
    drop(loaded);
    let store = std::sync::Arc::into_inner(store).unwrap();
    drop(store);
    let store = SqliteStore::open(
        &db,
        &SqliteOptions {
            max_size_bytes: Some(QUOTA),
        },
    )
    .unwrap();
    assert_eq!(store.load_live(0).await.unwrap().sessions.len(), stored);
    assert!(
        size(&db) + size(&wal) <= QUOTA,
        "still within the quota after reopening"
    );
}

#[tokio::test]
async fn an_oversized_commit_sent_with_others_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(
        &dir.path().join("g.db"),
        &SqliteOptions {
            max_size_bytes: Some(256 * 1024),
        },
    )
    .unwrap();
    let mut big = commit("big");
    big.events[1].text = Some("x".repeat(1 << 20).into());
    // Sent together without awaiting each, so they share a group.
    let (a, b, c, d, e) = tokio::join!(
        store.commit(commit("a")),
        store.commit(commit("b")),
        store.commit(big),
        store.commit(commit("d")),
        store.commit(commit("e")),
    );
    assert!(c.is_err(), "the oversized commit fails");
    for (id, r) in [("a", a), ("b", b), ("d", d), ("e", e)] {
        assert!(r.is_ok(), "{id}: {r:?}");
        let s = store.load(&ChatId::new(id)).await.unwrap().unwrap();
        assert_eq!(s.events.len(), 4, "{id} reads back whole");
    }
    assert!(store.load(&ChatId::new("big")).await.unwrap().is_none());
}
