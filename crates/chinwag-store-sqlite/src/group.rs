//! Group commit with failure isolation: every queued write runs under its own savepoint in one
//! transaction, and each caller is answered with its own result once that transaction commits.
//!
//! A write that fails with the transaction still open is rolled back to its savepoint and
//! answered with its error. A write whose failure makes SQLite roll back the whole
//! transaction (`SQLITE_FULL` at the size quota, some I/O errors) is answered with its error
//! and the group is redone in a new transaction without it; each pass removes at least one
//! write, so a group of `n` takes at most `n + 1` passes. Only a failure of `BEGIN` or
//! `COMMIT` itself, which no single write can be blamed for, fails every write still pending.

use crate::schema::err;
use crate::writer::{Reply, Write};
use chinwag_core::StoreError;
use rusqlite::Connection;

/// How one pass over the group ended.
enum Pass {
    /// The transaction committed: every write run in it is answered by `outcomes`.
    Committed(Vec<(usize, Result<(), StoreError>)>),
    /// Write `.0` failed and took the transaction with it; the writes that failed before it
    /// (rolled back to their savepoints) are in `.2` and keep their answers.
    Aborted(usize, StoreError, Vec<(usize, Result<(), StoreError>)>),
    /// The transaction itself could not begin or commit.
    Failed(StoreError),
}

/// Runs `writes` as one group and answers every caller.
pub(crate) fn flush(conn: &mut Connection, writes: Vec<(Write, Reply<()>)>) {
    if writes.is_empty() {
        return;
    }
    let (writes, replies): (Vec<_>, Vec<_>) = writes.into_iter().unzip();
    let mut answers: Vec<Option<Result<(), StoreError>>> = writes.iter().map(|_| None).collect();
    for _ in 0..=writes.len() {
        match pass(conn, &writes, &answers) {
            Pass::Committed(outcomes) => {
                for (i, r) in outcomes {
                    answers[i] = Some(r);
                }
                break;
            }
            Pass::Aborted(culprit, e, failed) => {
                tracing::warn!(%e, "a store write failed and rolled back its group: redoing the others");
                answers[culprit] = Some(Err(e));
                for (i, r) in failed {
                    answers[i] = Some(r);
                }
            }
            Pass::Failed(e) => {
                tracing::error!(%e, "store transaction failed");
                let e = e.to_string();
                for a in answers.iter_mut().filter(|a| a.is_none()) {
                    *a = Some(Err(StoreError::Backend(e.clone())));
                }
                break;
            }
        }
    }
    for (reply, answer) in replies.into_iter().zip(answers) {
        let answer =
            answer.unwrap_or_else(|| Err(StoreError::Backend("group commit gave up".into())));
        let _ = reply.send(answer);
    }
}

/// One transaction over the writes not yet answered.
fn pass(conn: &Connection, writes: &[Write], answers: &[Option<Result<(), StoreError>>]) -> Pass {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        return Pass::Failed(err(e));
    }
    let mut outcomes = Vec::new();
    for (i, write) in writes.iter().enumerate() {
        if answers[i].is_some() {
            continue;
        }
        let r = conn
            .execute_batch("SAVEPOINT w")
            .map_err(err)
            .and_then(|()| run(conn, write))
            .and_then(|()| conn.execute_batch("RELEASE w").map_err(err));
        let Err(e) = r else {
            outcomes.push((i, Ok(())));
            continue;
        };
        if conn.is_autocommit() {
            return Pass::Aborted(i, e, failures(outcomes));
        }
        match conn.execute_batch("ROLLBACK TO w; RELEASE w") {
            Ok(()) => outcomes.push((i, Err(e))),
            Err(_) if conn.is_autocommit() => return Pass::Aborted(i, e, failures(outcomes)),
            Err(rollback) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Pass::Failed(err(rollback));
            }
        }
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => Pass::Committed(outcomes),
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            Pass::Failed(err(e))
        }
    }
}

/// The failed outcomes only (the successful ones were lost with the transaction).
fn failures(
    outcomes: Vec<(usize, Result<(), StoreError>)>,
) -> Vec<(usize, Result<(), StoreError>)> {
    outcomes.into_iter().filter(|(_, r)| r.is_err()).collect()
}

fn run(conn: &Connection, write: &Write) -> Result<(), StoreError> {
    match write {
        Write::Commit(c) => crate::writer::apply(conn, c),
        Write::Enqueue(jobs) => crate::outbox::insert(conn, jobs),
        Write::Update(job) => crate::outbox::update(conn, job),
        Write::Finish(seqs) => crate::outbox::finish(conn, seqs),
    }
}

#[cfg(test)]
#[path = "group_tests.rs"]
mod tests;
