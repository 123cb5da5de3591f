//! The chats' timers ([`Timers`]) in table `timers`: one row per (kind, chat), with its due
//! time, its claim when claimed, and `ready_ms` — when it can next be claimed (the due time,
//! or the claim's end) — indexed, so a claim reads only what is ready. Every operation runs
//! on the writer thread in its own transaction; one process owns the database, so claims
//! never race, but the rules are the port's all the same.

use crate::schema::err;
use crate::writer::Reply;
use chinwag_core::StoreError;
use chinwag_core::ids::ChatId;
use chinwag_core::lease::Holder;
use chinwag_core::timers::{Claim, DueTimer, MAX_CLAIM, Schedule, TimerKey, TimerKind};
use rusqlite::{Connection, OptionalExtension, params};

/// A timers operation for the writer thread.
pub(crate) enum TimerJob {
    Schedule(Vec<(TimerKey, i64)>, Schedule, Reply<()>),
    Cancel(Vec<TimerKey>, Reply<()>),
    Due(TimerKey, Reply<Option<i64>>),
    Claim {
        now_ms: i64,
        holder: Holder,
        max: usize,
        claim_ms: i64,
        reply: Reply<Vec<DueTimer>>,
    },
    /// Complete (`None`) or reschedule (`Some(due)`) under a claim.
    Settle(DueTimer, Option<i64>, Reply<bool>),
}

pub(crate) fn serve(conn: &Connection, job: TimerJob) {
    match job {
        TimerJob::Schedule(timers, mode, reply) => {
            let _ = reply.send(in_tx(conn, |c| schedule(c, &timers, mode)));
        }
        TimerJob::Cancel(keys, reply) => {
            let _ = reply.send(in_tx(conn, |c| cancel(c, &keys)));
        }
        TimerJob::Due(key, reply) => {
            let _ = reply.send(due(conn, &key));
        }
        TimerJob::Claim {
            now_ms,
            holder,
            max,
            claim_ms,
            reply,
        } => {
            let _ = reply.send(in_tx(conn, |c| claim(c, now_ms, &holder, max, claim_ms)));
        }
        TimerJob::Settle(timer, again, reply) => {
            let _ = reply.send(in_tx(conn, |c| settle(c, &timer, again)));
        }
    }
}

fn in_tx<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = conn.unchecked_transaction().map_err(err)?;
    let out = f(&tx)?;
    tx.commit().map_err(err)?;
    Ok(out)
}

fn schedule(
    conn: &Connection,
    timers: &[(TimerKey, i64)],
    mode: Schedule,
) -> Result<(), StoreError> {
    let sql = match mode {
        Schedule::Replace => {
            "INSERT INTO timers (kind, chat_id, due_ms, ready_ms) VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT(kind, chat_id) DO UPDATE SET due_ms = excluded.due_ms,
               ready_ms = excluded.due_ms, holder = NULL, until_ms = NULL"
        }
        Schedule::KeepExisting => {
            "INSERT INTO timers (kind, chat_id, due_ms, ready_ms) VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT(kind, chat_id) DO NOTHING"
        }
    };
    let mut stmt = conn.prepare_cached(sql).map_err(err)?;
    for (key, at) in timers {
        stmt.execute(params![key.kind.as_str(), key.chat.as_str(), at])
            .map_err(err)?;
    }
    Ok(())
}

fn cancel(conn: &Connection, keys: &[TimerKey]) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached("DELETE FROM timers WHERE kind = ?1 AND chat_id = ?2")
        .map_err(err)?;
    for key in keys {
        stmt.execute(params![key.kind.as_str(), key.chat.as_str()])
            .map_err(err)?;
    }
    Ok(())
}

fn due(conn: &Connection, key: &TimerKey) -> Result<Option<i64>, StoreError> {
    conn.prepare_cached("SELECT due_ms FROM timers WHERE kind = ?1 AND chat_id = ?2")
        .and_then(|mut s| {
            s.query_row(params![key.kind.as_str(), key.chat.as_str()], |r| r.get(0))
                .optional()
        })
        .map_err(err)
}

fn claim(
    conn: &Connection,
    now_ms: i64,
    holder: &Holder,
    max: usize,
    claim_ms: i64,
) -> Result<Vec<DueTimer>, StoreError> {
    let until_ms = now_ms.saturating_add(claim_ms);
    let limit = i64::try_from(max.min(MAX_CLAIM)).unwrap_or(0);
    let rows: Vec<(String, String, i64)> = conn
        .prepare_cached(
            "SELECT kind, chat_id, due_ms FROM timers WHERE ready_ms <= ?1
             ORDER BY ready_ms LIMIT ?2",
        )
        .and_then(|mut s| {
            s.query_map(params![now_ms, limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect()
        })
        .map_err(err)?;
    let mut mark = conn
        .prepare_cached(
            "UPDATE timers SET holder = ?3, until_ms = ?4, ready_ms = ?4
             WHERE kind = ?1 AND chat_id = ?2",
        )
        .map_err(err)?;
    let mut out = Vec::with_capacity(rows.len());
    for (kind, chat, due_ms) in rows {
        mark.execute(params![kind, chat, holder.as_str(), until_ms])
            .map_err(err)?;
        // A kind this version does not know (a newer one wrote it) stays, claimed, for a
        // node that knows it once this claim lapses.
        let Some(kind) = TimerKind::parse(&kind) else {
            tracing::warn!(%kind, %chat, "timer of an unknown kind left alone");
            continue;
        };
        out.push(DueTimer {
            key: TimerKey::new(kind, ChatId::new(chat)),
            due_ms,
            claim: Claim {
                holder: holder.clone(),
                until_ms,
            },
        });
    }
    Ok(out)
}

fn settle(conn: &Connection, timer: &DueTimer, again: Option<i64>) -> Result<bool, StoreError> {
    let (k, c) = (timer.key.kind.as_str(), timer.key.chat.as_str());
    let (h, u) = (timer.claim.holder.as_str(), timer.claim.until_ms);
    let n = match again {
        None => conn
            .prepare_cached(
                "DELETE FROM timers WHERE kind = ?1 AND chat_id = ?2
                 AND holder = ?3 AND until_ms = ?4",
            )
            .and_then(|mut s| s.execute(params![k, c, h, u])),
        Some(at) => conn
            .prepare_cached(
                "UPDATE timers SET due_ms = ?5, ready_ms = ?5, holder = NULL, until_ms = NULL
                 WHERE kind = ?1 AND chat_id = ?2 AND holder = ?3 AND until_ms = ?4",
            )
            .and_then(|mut s| s.execute(params![k, c, h, u, at])),
    }
    .map_err(err)?;
    Ok(n > 0)
}
