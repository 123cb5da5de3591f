//! The writer thread: owns the one connection, folds queued writes into group commits
//! (`group.rs`), serves reads and purges between groups, and after every write asks for a
//! checkpoint when the WAL has grown (`checkpoint.rs`) and keeps it within its quota share.

use crate::checkpoint::Checkpoints;
use crate::group::flush;
use crate::ping::FileIdentity;
use crate::quota::WalBound;
use crate::schema::err;
use chinwag_core::StoreError;
use chinwag_core::ids::ChatId;
use chinwag_core::ports::{Commit, Loaded, StoredSession};
use chinwag_core::push::PushJob;
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::mpsc::Receiver;
use tokio::sync::oneshot;

pub(crate) type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A write folded into the group transaction.
pub(crate) enum Write {
    Commit(Box<Commit>),
    Enqueue(Vec<PushJob>),
    Update(PushJob),
    Finish(Vec<u64>),
}

/// Work for the writer thread.
pub(crate) enum Job {
    Write(Write, Reply<()>),
    LoadLive(i64, Reply<Loaded>),
    LoadHeaders(i64, tokio::sync::mpsc::Sender<crate::load::HeaderBatch>),
    Pending(Reply<Vec<PushJob>>),
    LastSeq(Reply<u64>),
    Load(ChatId, Reply<Option<StoredSession>>),
    Revision(ChatId, Reply<Option<u64>>),
    Purge(i64, Reply<u64>),
    Ping(Reply<()>),
    Timer(crate::timers::TimerJob),
}

/// Most commits folded into one transaction.
const MAX_BATCH: usize = 512;

pub(crate) fn run(
    mut conn: Connection,
    wal: Option<WalBound>,
    checkpoints: &Checkpoints,
    file: &FileIdentity,
    jobs: &Receiver<Job>,
) {
    let upkeep = |conn: &Connection| checkpoints.after_write(conn, wal.as_ref());
    while let Ok(first) = jobs.recv() {
        let mut commits = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Write(c, reply) => commits.push((c, reply)),
                other => {
                    if !commits.is_empty() {
                        flush(&mut conn, std::mem::take(&mut commits));
                        upkeep(&conn);
                    }
                    let wrote = matches!(other, Job::Purge(..) | Job::Timer(..));
                    serve(&conn, file, other);
                    if wrote {
                        upkeep(&conn);
                    }
                }
            }
            if commits.len() < MAX_BATCH {
                next = jobs.try_recv().ok();
            }
        }
        if !commits.is_empty() {
            flush(&mut conn, commits);
            upkeep(&conn);
        }
    }
}

fn serve(conn: &Connection, file: &FileIdentity, job: Job) {
    match job {
        Job::Ping(reply) => {
            let _ = reply.send(crate::ping::ping(conn, file));
        }
        Job::LoadLive(since, reply) => {
            let _ = reply.send(crate::load::load_live(conn, since));
        }
        Job::LoadHeaders(since, tx) => crate::load::send_headers(conn, since, &tx),
        Job::Load(id, reply) => {
            let _ = reply.send(crate::load::load(conn, &id));
        }
        Job::Revision(id, reply) => {
            let r = conn
                .query_row(
                    "SELECT rev FROM sessions WHERE chat_id = ?1",
                    [id.as_str()],
                    |r| r.get::<_, i64>(0),
                )
                .optional()
                .map(|r| r.map(|r| u64::try_from(r).unwrap_or(0)))
                .map_err(err);
            let _ = reply.send(r);
        }
        Job::Purge(before, reply) => {
            let r = conn
                .execute("DELETE FROM events WHERE chat_id IN (SELECT chat_id FROM sessions WHERE ended_ms < ?1)", [before])
                .and_then(|_| conn.execute("DELETE FROM sessions WHERE ended_ms < ?1", [before]))
                .map(|n| n as u64)
                .map_err(err);
            let _ = reply.send(r);
        }
        Job::Pending(reply) => {
            let _ = reply.send(crate::outbox::pending(conn));
        }
        Job::LastSeq(reply) => {
            let _ = reply.send(crate::outbox::last_seq(conn));
        }
        Job::Timer(job) => crate::timers::serve(conn, job),
        Job::Write(..) => {}
    }
}

/// Writes one commit if the chat is still at its `base_rev`: header (when given, else the
/// session must exist), the new revision, events, pushes.
pub(crate) fn apply(conn: &Connection, commit: &Commit) -> Result<(), StoreError> {
    let id = commit.chat_id.as_str();
    let stored: Option<i64> = conn
        .query_row("SELECT rev FROM sessions WHERE chat_id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()
        .map_err(err)?;
    if stored.map_or(0, |r| u64::try_from(r).unwrap_or(u64::MAX)) != commit.base_rev {
        return Err(StoreError::Conflict);
    }
    let rev = i64::try_from(commit.base_rev + 1)
        .map_err(|_| StoreError::Backend("revision overflow".into()))?;
    match &commit.record {
        Some(record) => {
            let json =
                serde_json::to_string(record).map_err(|e| StoreError::Backend(e.to_string()))?;
            conn.execute(
                "INSERT INTO sessions (chat_id, ended_ms, record, rev) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(chat_id) DO UPDATE SET ended_ms = excluded.ended_ms,
                   record = excluded.record, rev = excluded.rev",
                params![id, record.ended_ms, json, rev],
            )
            .map_err(err)?;
        }
        None if stored.is_none() => {
            return Err(StoreError::Backend(format!(
                "events for unknown session {id}"
            )));
        }
        None => {
            conn.execute(
                "UPDATE sessions SET rev = ?2 WHERE chat_id = ?1",
                params![id, rev],
            )
            .map_err(err)?;
        }
    }
    let mut stmt = conn
        .prepare_cached("INSERT INTO events (chat_id, idx, body) VALUES (?1, ?2, ?3)")
        .map_err(err)?;
    for e in &commit.events {
        let body = serde_json::to_string(e).map_err(|e| StoreError::Backend(e.to_string()))?;
        let idx =
            i64::try_from(e.index.0).map_err(|_| StoreError::Backend("index overflow".into()))?;
        stmt.execute(params![id, idx, body]).map_err(err)?;
    }
    crate::outbox::insert(conn, &commit.pushes)
}
