//! Tests of group commit's failure isolation, driving `flush` directly so the writes are
//! certain to share one group.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::flush;
use crate::SqliteOptions;
use crate::writer::Write;
use chinwag_core::StoreError;
use chinwag_core::ids::{ChatId, EventIndex};
use chinwag_core::ports::Commit;
use chinwag_core::push::{JobKind, PushJob};
use chinwag_store_conformance::sample;
use rusqlite::Connection;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::oneshot;

fn quota_db(dir: &tempfile::TempDir, bytes: u64) -> Connection {
    let opts = SqliteOptions {
        max_size_bytes: Some(bytes),
    };
    crate::schema::open(&dir.path().join("g.db"), &opts)
        .unwrap()
        .conn
}

fn small(id: &str) -> Commit {
    let (mut c, _) = sample(id, 2);
    c.pushes = vec![PushJob {
        seq: 0,
        device: "customhttp:x".into(),
        chat_id: ChatId::new(id),
        index: EventIndex(2),
        kind: JobKind::Event,
        attempt: 0,
        due_ms: 0,
        sent: false,
        owner: None,
    }];
    c
}

/// A first commit whose second event is larger than the whole quota.
fn oversized(id: &str) -> Commit {
    let (mut c, _) = sample(id, 2);
    c.events[1].text = Some("x".repeat(1 << 20).into());
    c
}

/// Runs `commits` as one group; returns each caller's answer.
fn group(conn: &mut Connection, commits: Vec<Commit>) -> Vec<Result<(), StoreError>> {
    let mut writes = Vec::new();
    let mut answers = Vec::new();
    static SEQ: AtomicU64 = AtomicU64::new(1);
    for mut c in commits {
        for p in &mut c.pushes {
            p.seq = SEQ.fetch_add(1, Ordering::Relaxed);
        }
        let (tx, rx) = oneshot::channel();
        writes.push((Write::Commit(Box::new(c)), tx));
        answers.push(rx);
    }
    flush(conn, writes);
    answers
        .into_iter()
        .map(|mut rx| rx.try_recv().expect("every caller is answered"))
        .collect()
}

fn stored(conn: &Connection, id: &str) -> (bool, i64) {
    let s = crate::load::load(conn, &ChatId::new(id)).unwrap();
    let events: i64 = conn
        .query_row(
            "SELECT count(*) FROM events WHERE chat_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    (s.is_some(), events)
}

#[test]
fn one_oversized_commit_fails_alone_and_its_neighbours_commit() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = quota_db(&dir, 256 * 1024);
    // Oversized at the start, the middle and the end of the group.
    let ids = ["big0", "s1", "s2", "big3", "s4", "s5", "big6"];
    let commits = ids
        .iter()
        .map(|id| {
            if id.starts_with("big") {
                oversized(id)
            } else {
                small(id)
            }
        })
        .collect();
    let answers = group(&mut conn, commits);
    for (id, answer) in ids.iter().zip(&answers) {
        if id.starts_with("big") {
            let e = answer.as_ref().expect_err("an oversized commit fails");
            assert!(e.to_string().contains("full"), "{id}: {e}");
            assert_eq!(stored(&conn, id), (false, 0), "{id}: nothing half-written");
        } else {
            assert!(answer.is_ok(), "{id}: {answer:?}");
            let s = crate::load::load(&conn, &ChatId::new(*id))
                .unwrap()
                .unwrap();
            assert_eq!(s.events.len(), 2, "{id} is readable whole");
        }
    }
    let pending: Vec<String> = crate::outbox::pending(&conn)
        .unwrap()
        .into_iter()
        .map(|j| j.chat_id.to_string())
        .collect();
    assert_eq!(
        pending,
        ["s1", "s2", "s4", "s5"],
        "only the committed pushes"
    );
}

#[test]
fn failures_of_both_kinds_in_one_group_are_each_answered() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = quota_db(&dir, 256 * 1024);
    assert!(group(&mut conn, vec![small("dup")])[0].is_ok());
    // A duplicate index fails inside its savepoint; an oversized commit fails the transaction.
    let (mut again, _) = sample("dup", 1);
    again.record = None;
    again.base_rev = 1;
    let answers = group(
        &mut conn,
        vec![
            small("a"),
            again,
            oversized("big"),
            small("b"),
            oversized("big2"),
            small("c"),
        ],
    );
    let ok: Vec<bool> = answers.iter().map(Result::is_ok).collect();
    assert_eq!(ok, [true, false, false, true, false, true], "{answers:?}");
    assert!(
        answers[1]
            .as_ref()
            .is_err_and(|e| e.to_string().contains("UNIQUE")),
        "the duplicate gets its own error: {answers:?}"
    );
    for id in ["a", "b", "c"] {
        assert_eq!(stored(&conn, id), (true, 2), "{id}");
    }
    assert_eq!(
        stored(&conn, "dup"),
        (true, 2),
        "the duplicate changed nothing"
    );
    assert_eq!(stored(&conn, "big"), (false, 0));
}

#[test]
fn a_group_without_failures_commits_in_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = quota_db(&dir, 1 << 20);
    let answers = group(&mut conn, vec![small("x"), small("y")]);
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert!(conn.is_autocommit(), "no transaction left open");
}
