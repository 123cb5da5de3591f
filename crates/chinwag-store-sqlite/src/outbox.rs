//! The push outbox table: jobs written with their transcript commit, read back in `seq`
//! order, updated and deleted by the delivery worker (always inside the writer's group
//! transaction).

use crate::schema::err;
use chinwag_core::StoreError;
use chinwag_core::ids::{ChatId, EventIndex};
use chinwag_core::push::{JobKind, PushJob};
use rusqlite::{Connection, OptionalExtension, params};

fn int(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Backend("number out of range".into()))
}

pub(crate) fn insert(conn: &Connection, jobs: &[PushJob]) -> Result<(), StoreError> {
    let Some(max) = jobs.iter().map(|j| j.seq).max() else {
        return Ok(());
    };
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO push_outbox (seq, device, chat_id, idx, kind, attempt, due_ms, sent)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(err)?;
    for j in jobs {
        stmt.execute(params![
            int(j.seq)?,
            j.device,
            j.chat_id.as_str(),
            int(j.index.0)?,
            j.kind.as_str(),
            j.attempt,
            j.due_ms,
            j.sent
        ])
        .map_err(err)?;
    }
    let max = int(max)?;
    conn.prepare_cached(
        "INSERT INTO push_seq (id, last) VALUES (1, ?1)
         ON CONFLICT(id) DO UPDATE SET last = max(last, excluded.last)",
    )
    .and_then(|mut s| s.execute([max]))
    .map_err(err)?;
    Ok(())
}

pub(crate) fn update(conn: &Connection, j: &PushJob) -> Result<(), StoreError> {
    let seq = int(j.seq)?;
    conn.prepare_cached(
        "UPDATE push_outbox SET attempt = ?2, due_ms = ?3, sent = ?4 WHERE seq = ?1",
    )
    .and_then(|mut s| s.execute(params![seq, j.attempt, j.due_ms, j.sent]))
    .map_err(err)?;
    Ok(())
}

pub(crate) fn finish(conn: &Connection, seqs: &[u64]) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached("DELETE FROM push_outbox WHERE seq = ?1")
        .map_err(err)?;
    for s in seqs {
        stmt.execute([int(*s)?]).map_err(err)?;
    }
    Ok(())
}

pub(crate) fn pending(conn: &Connection) -> Result<Vec<PushJob>, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT seq, device, chat_id, idx, kind, attempt, due_ms, sent
             FROM push_outbox ORDER BY seq",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, u32>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, bool>(7)?,
            ))
        })
        .map_err(err)?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, device, chat, idx, kind, attempt, due_ms, sent) = row.map_err(err)?;
        let bad = || StoreError::Backend("corrupt push_outbox row".into());
        out.push(PushJob {
            seq: u64::try_from(seq).map_err(|_| bad())?,
            device,
            chat_id: ChatId::new(chat),
            index: EventIndex(u64::try_from(idx).map_err(|_| bad())?),
            kind: JobKind::parse(&kind).ok_or_else(bad)?,
            attempt,
            due_ms,
            sent,
            owner: None,
        });
    }
    Ok(out)
}

pub(crate) fn last_seq(conn: &Connection) -> Result<u64, StoreError> {
    let last: Option<i64> = conn
        .query_row("SELECT last FROM push_seq WHERE id = 1", [], |r| r.get(0))
        .optional()
        .map_err(err)?;
    Ok(last.and_then(|l| u64::try_from(l).ok()).unwrap_or(0))
}
