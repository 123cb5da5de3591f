//! Online backup: a copy taken while the store keeps writing is one consistent, single-file
//! database; an existing destination, a missing source and a foreign database are refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::ids::ChatId;
use chinwag_core::ports::{ChatStore, Commit};
use chinwag_store_sqlite::{SqliteOptions, SqliteStore};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const CHATS: usize = 8;

#[tokio::test]
async fn a_backup_taken_during_writes_is_consistent_and_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("chinwag.db");
    let store = Arc::new(SqliteStore::open(&src, &SqliteOptions::default()).unwrap());
    let (first, _) = chinwag_store_conformance::sample("c0", 1);
    let template = first.events[0].clone();
    for i in 0..CHATS {
        let (commit, _) = chinwag_store_conformance::sample(&format!("c{i}"), 1);
        store.commit(commit).await.unwrap();
    }
    // Appends to every chat keep going while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut next = 2u64;
            while !stop.load(Ordering::Relaxed) {
                for i in 0..CHATS {
                    let mut e = template.clone();
                    e.index.0 = next;
                    let c = Commit {
                        chat_id: ChatId::new(format!("c{i}")),
                        base_rev: next - 1,
                        record: None,
                        events: vec![e],
                        pushes: Vec::new(),
                    };
                    store.commit(c).await.unwrap();
                }
                next += 1;
            }
            next - 1
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let dest = dir.path().join("copy.db");
    let (s, d) = (src.clone(), dest.clone());
    tokio::task::spawn_blocking(move || SqliteStore::backup_file(&s, &d))
        .await
        .unwrap()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let last = writer.await.unwrap();
    assert!(last > 2, "writes went on around the backup");

    for suffix in ["-wal", "-shm", "-journal"] {
        let p = dir.path().join(format!("copy.db{suffix}"));
        assert!(!p.exists(), "the backup is one file ({suffix} left)");
    }
    let copy = SqliteStore::open(&dest, &SqliteOptions::default()).unwrap();
    let loaded = copy.load_live(0).await.unwrap();
    assert!(loaded.quarantined.is_empty());
    assert_eq!(loaded.sessions.len(), CHATS);
    let mut lens: Vec<usize> = Vec::new();
    for s in &loaded.sessions {
        let idx: Vec<u64> = s.events.iter().map(|e| e.index.0).collect();
        let want: Vec<u64> = (1..=idx.len() as u64).collect();
        assert_eq!(idx, want, "each transcript is a gapless prefix");
        lens.push(idx.len());
    }
    // One snapshot: chats were appended round-robin, so lengths differ by at most one.
    let (min, max) = (lens.iter().min().unwrap(), lens.iter().max().unwrap());
    assert!(max - min <= 1, "one consistent moment: {lens:?}");
    assert!(
        *min >= 2,
        "writes committed before the backup are in it: {lens:?}"
    );
}

#[tokio::test]
async fn a_backup_refuses_to_overwrite_and_names_bad_sources() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("chinwag.db");
    let store = SqliteStore::open(&src, &SqliteOptions::default()).unwrap();
    let (commit, _) = chinwag_store_conformance::sample("x", 2);
    store.commit(commit).await.unwrap();

    let dest = dir.path().join("exists.db");
    std::fs::write(&dest, b"keep me").unwrap();
    let e = SqliteStore::backup_file(&src, &dest).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"keep me", "left untouched");

    let fresh = dir.path().join("fresh.db");
    let e = SqliteStore::backup_file(&dir.path().join("missing.db"), &fresh).unwrap_err();
    assert!(e.to_string().contains("no database at"), "{e}");
    assert!(!fresh.exists());

    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let e = SqliteStore::backup_file(&foreign, &fresh).unwrap_err();
    assert!(e.to_string().contains("not a Chinwag store"), "{e}");
    assert!(!fresh.exists());

    let e = SqliteStore::backup_file(&src, &dir.path().join("no/such/dir.db")).unwrap_err();
    assert!(e.to_string().contains("cannot create"), "{e}");
}

#[tokio::test]
async fn a_backup_of_a_crashed_store_includes_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.db");
    let store = SqliteStore::open(&live, &SqliteOptions::default()).unwrap();
    for i in 0..3 {
        let (commit, _) = chinwag_store_conformance::sample(&format!("w{i}"), 2);
        store.commit(commit).await.unwrap();
    }
    // What a kill -9 leaves: the database and its WAL (no -shm), committed rows in the WAL.
    let crashed = dir.path().join("crashed");
    std::fs::create_dir(&crashed).unwrap();
    std::fs::copy(&live, crashed.join("chinwag.db")).unwrap();
    std::fs::copy(
        dir.path().join("live.db-wal"),
        crashed.join("chinwag.db-wal"),
    )
    .unwrap();
    let dest = dir.path().join("copy.db");
    SqliteStore::backup_file(&crashed.join("chinwag.db"), &dest).unwrap();
    let copy = SqliteStore::open(&dest, &SqliteOptions::default()).unwrap();
    assert_eq!(copy.load_live(0).await.unwrap().sessions.len(), 3);
}
