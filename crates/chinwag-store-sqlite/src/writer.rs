//! The writer thread: group commit of queued jobs on the one connection.

use crate::schema::err;
use chinwag_core::StoreError;
use chinwag_core::event::Event;
use chinwag_core::ids::ChatId;
use chinwag_core::ports::{Commit, Loaded, StoredSession};
use chinwag_core::push::PushJob;
use chinwag_core::session::SessionRecord;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::sync::mpsc::Receiver;
use tokio::sync::oneshot;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

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
    Pending(Reply<Vec<PushJob>>),
    LastSeq(Reply<u64>),
    Load(ChatId, Reply<Option<StoredSession>>),
    Purge(i64, Reply<u64>),
}

/// Most commits folded into one transaction.
const MAX_BATCH: usize = 512;

pub(crate) fn run(mut conn: Connection, jobs: &Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut commits = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Write(c, reply) => commits.push((c, reply)),
                other => {
                    flush(&mut conn, std::mem::take(&mut commits));
                    serve(&conn, other);
                }
            }
            if commits.len() < MAX_BATCH {
                next = jobs.try_recv().ok();
            }
        }
        flush(&mut conn, commits);
    }
}

fn serve(conn: &Connection, job: Job) {
    match job {
        Job::LoadLive(since, reply) => {
            let _ = reply.send(load_live(conn, since));
        }
        Job::Load(id, reply) => {
            let _ = reply.send(load(conn, &id));
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
        Job::Write(..) => {}
    }
}

/// Runs every commit under its own savepoint in one transaction, then answers all callers.
fn flush(conn: &mut Connection, commits: Vec<(Write, Reply<()>)>) {
    if commits.is_empty() {
        return;
    }
    let mut results = Vec::with_capacity(commits.len());
    let outcome = (|| -> Result<(), StoreError> {
        let mut tx = conn.transaction().map_err(err)?;
        for (commit, _) in &commits {
            let mut sp = tx.savepoint().map_err(err)?;
            let r = match commit {
                Write::Commit(c) => apply(&sp, c),
                Write::Enqueue(jobs) => crate::outbox::insert(&sp, jobs),
                Write::Update(job) => crate::outbox::update(&sp, job),
                Write::Finish(seqs) => crate::outbox::finish(&sp, seqs),
            };
            if r.is_ok() {
                sp.commit().map_err(err)?;
            } else {
                sp.rollback().map_err(err)?;
            }
            results.push(r);
        }
        tx.set_drop_behavior(rusqlite::DropBehavior::Commit);
        tx.commit().map_err(err)
    })();
    match outcome {
        Ok(()) => {
            for ((_, reply), r) in commits.into_iter().zip(results) {
                let _ = reply.send(r);
            }
        }
        Err(e) => {
            tracing::error!(%e, "store transaction failed");
            for (_, reply) in commits {
                let _ = reply.send(Err(StoreError::Backend(e.to_string())));
            }
        }
    }
}

fn apply(conn: &Connection, commit: &Commit) -> Result<(), StoreError> {
    let id = commit.chat_id.as_str();
    match &commit.record {
        Some(record) => {
            let json =
                serde_json::to_string(record).map_err(|e| StoreError::Backend(e.to_string()))?;
            conn.execute(
                "INSERT INTO sessions (chat_id, ended_ms, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT(chat_id) DO UPDATE SET ended_ms = excluded.ended_ms, record = excluded.record",
                params![id, record.ended_ms, json],
            )
            .map_err(err)?;
        }
        None => {
            let known: Option<i64> = conn
                .query_row("SELECT 1 FROM sessions WHERE chat_id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(err)?;
            if known.is_none() {
                return Err(StoreError::Backend(format!(
                    "events for unknown session {id}"
                )));
            }
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

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Backend(format!("corrupt row: {e}")))
}

/// Every live session: open, or ended at or after `since`. A session whose header or one of
/// whose events cannot be decoded is quarantined (reported, logged, left in the database) and
/// the others load as usual.
fn load_live(conn: &Connection, since: i64) -> Result<Loaded, StoreError> {
    let mut sessions: HashMap<String, StoredSession> = HashMap::new();
    let mut bad: HashMap<String, String> = HashMap::new();
    let live = "ended_ms IS NULL OR ended_ms >= ?1";
    let mut stmt = conn
        .prepare(&format!(
            "SELECT chat_id, record FROM sessions WHERE {live}"
        ))
        .map_err(err)?;
    let rows = stmt
        .query_map([since], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(err)?;
    for row in rows {
        let (id, record) = row.map_err(err)?;
        match decode::<SessionRecord>(&record) {
            Ok(record) => {
                sessions.insert(
                    id,
                    StoredSession {
                        record,
                        events: Vec::new(),
                    },
                );
            }
            Err(e) => {
                bad.insert(id, format!("session header: {e}"));
            }
        }
    }
    let mut stmt = conn
        .prepare(&format!(
            "SELECT e.chat_id, e.idx, e.body FROM events e JOIN sessions s ON s.chat_id = e.chat_id
             WHERE s.{live} ORDER BY e.chat_id, e.idx"
        ))
        .map_err(err)?;
    let rows = stmt
        .query_map([since], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(err)?;
    for row in rows {
        let (id, idx, body) = row.map_err(err)?;
        if bad.contains_key(&id) {
            continue;
        }
        match decode::<Event>(&body) {
            Ok(event) => {
                if let Some(s) = sessions.get_mut(&id) {
                    s.events.push(event);
                }
            }
            Err(e) => {
                sessions.remove(&id);
                bad.insert(id, format!("event {idx}: {e}"));
            }
        }
    }
    Ok(Loaded {
        sessions: sessions.into_values().collect(),
        quarantined: bad
            .into_iter()
            .map(|(id, why)| (ChatId::new(id), why))
            .collect(),
    })
}

fn load(conn: &Connection, id: &ChatId) -> Result<Option<StoredSession>, StoreError> {
    let record: Option<String> = conn
        .query_row(
            "SELECT record FROM sessions WHERE chat_id = ?1",
            [id.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(err)?;
    let Some(record) = record else {
        return Ok(None);
    };
    let mut stmt = conn
        .prepare("SELECT body FROM events WHERE chat_id = ?1 ORDER BY idx")
        .map_err(err)?;
    let events = stmt
        .query_map([id.as_str()], |r| r.get::<_, String>(0))
        .map_err(err)?
        .map(|b| b.map_err(err).and_then(|b| decode::<Event>(&b)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(StoredSession {
        record: decode(&record)?,
        events,
    }))
}
