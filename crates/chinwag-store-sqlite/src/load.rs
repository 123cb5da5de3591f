//! Reading sessions back: every live session's header at start (one query over the header
//! table, no event read, streamed to the reader in batches; quarantining the unreadable ones), every live session whole (tools
//! and tests), and one session on demand (an error, never a panic, when it is unreadable).

use crate::schema::err;
use chinwag_core::StoreError;
use chinwag_core::event::Event;
use chinwag_core::ids::ChatId;
use chinwag_core::ports::{Headers, Loaded, StoredHeader, StoredSession};
use chinwag_core::session::SessionRecord;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Row};
use std::collections::HashMap;

/// Decodes stored JSON (serde_json's recursion limit stops hostile nesting).
fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// Column `i` as UTF-8 text, or why it is not.
fn text(row: &Row<'_>, i: usize) -> rusqlite::Result<Result<String, String>> {
    Ok(match row.get_ref(i)? {
        ValueRef::Text(b) => std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|e| format!("not UTF-8: {e}")),
        other => Err(format!("stored as {} instead of text", other.data_type())),
    })
}

/// Column `i` as a display string, whatever its type (for naming a chat or an index).
fn lossy(row: &Row<'_>, i: usize) -> rusqlite::Result<String> {
    Ok(match row.get_ref(i)? {
        ValueRef::Text(b) | ValueRef::Blob(b) => String::from_utf8_lossy(b).into_owned(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Null => "NULL".to_owned(),
    })
}

/// Headers sent to the reader at once.
const HEADER_BATCH: usize = 512;

/// What the writer thread sends a reader of headers: a batch, `None` when all were sent, or
/// the failure that stopped the read.
pub(crate) type HeaderBatch = Result<Option<Headers>, StoreError>;

/// Sends the header of every live session (open, or ended at or after `since`) to `tx` in
/// batches of [`HEADER_BATCH`], without reading an event; an unreadable header is
/// quarantined. Blocks the writer thread while the reader is behind (start-up only); stops
/// when the reader is gone.
pub(crate) fn send_headers(
    conn: &Connection,
    since: i64,
    tx: &tokio::sync::mpsc::Sender<HeaderBatch>,
) {
    let done = match headers_into(conn, since, tx) {
        Ok(true) => Ok(None),
        Ok(false) => return,
        Err(e) => Err(e),
    };
    let _ = tx.blocking_send(done);
}

/// `false`: the reader went away.
fn headers_into(
    conn: &Connection,
    since: i64,
    tx: &tokio::sync::mpsc::Sender<HeaderBatch>,
) -> Result<bool, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT chat_id, record, rev FROM sessions WHERE ended_ms IS NULL OR ended_ms >= ?1",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map([since], |r| {
            Ok((lossy(r, 0)?, text(r, 1)?, r.get::<_, i64>(2)?))
        })
        .map_err(err)?;
    let mut batch = Headers::default();
    for row in rows {
        let (id, record, rev) = row.map_err(err)?;
        match record.and_then(|r| decode::<SessionRecord>(&r)) {
            Ok(record) => batch.headers.push(StoredHeader {
                record,
                rev: u64::try_from(rev).unwrap_or(0),
            }),
            Err(e) => batch
                .quarantined
                .push((ChatId::new(id), format!("session header: {e}"))),
        }
        if batch.headers.len() + batch.quarantined.len() >= HEADER_BATCH
            && tx
                .blocking_send(Ok(Some(std::mem::take(&mut batch))))
                .is_err()
        {
            return Ok(false);
        }
    }
    Ok(tx.blocking_send(Ok(Some(batch))).is_ok())
}

/// Every live session: open, or ended at or after `since`. A session whose header or one of
/// whose events cannot be read or decoded is quarantined (reported, logged by the engine,
/// left in the database) and the others load as usual.
pub(crate) fn load_live(conn: &Connection, since: i64) -> Result<Loaded, StoreError> {
    let mut sessions: HashMap<String, StoredSession> = HashMap::new();
    let mut bad: HashMap<String, String> = HashMap::new();
    let live = "ended_ms IS NULL OR ended_ms >= ?1";
    let mut stmt = conn
        .prepare(&format!(
            "SELECT chat_id, record, rev FROM sessions WHERE {live}"
        ))
        .map_err(err)?;
    let rows = stmt
        .query_map([since], |r| {
            Ok((lossy(r, 0)?, text(r, 1)?, r.get::<_, i64>(2)?))
        })
        .map_err(err)?;
    for row in rows {
        let (id, record, rev) = row.map_err(err)?;
        match record.and_then(|r| decode::<SessionRecord>(&r)) {
            Ok(record) => {
                let events = Vec::new();
                let rev = u64::try_from(rev).unwrap_or(0);
                sessions.insert(
                    id,
                    StoredSession {
                        record,
                        events,
                        rev,
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
        .query_map([since], |r| Ok((lossy(r, 0)?, lossy(r, 1)?, text(r, 2)?)))
        .map_err(err)?;
    for row in rows {
        let (id, idx, body) = row.map_err(err)?;
        if bad.contains_key(&id) {
            continue;
        }
        match body.and_then(|b| decode::<Event>(&b)) {
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

/// One session, open or ended; an unreadable one is an error.
pub(crate) fn load(conn: &Connection, id: &ChatId) -> Result<Option<StoredSession>, StoreError> {
    let corrupt = |why: String| StoreError::Corrupt {
        chat: id.clone(),
        why,
    };
    let record = conn
        .query_row(
            "SELECT record, rev FROM sessions WHERE chat_id = ?1",
            [id.as_str()],
            |r| Ok((text(r, 0)?, r.get::<_, i64>(1)?)),
        )
        .optional()
        .map_err(err)?;
    let Some((record, rev)) = record else {
        return Ok(None);
    };
    let rev = u64::try_from(rev).unwrap_or(0);
    let record = record
        .and_then(|r| decode::<SessionRecord>(&r))
        .map_err(|e| corrupt(format!("session header: {e}")))?;
    let mut stmt = conn
        .prepare("SELECT idx, body FROM events WHERE chat_id = ?1 ORDER BY idx")
        .map_err(err)?;
    let rows = stmt
        .query_map([id.as_str()], |r| Ok((lossy(r, 0)?, text(r, 1)?)))
        .map_err(err)?;
    let mut events = Vec::new();
    for row in rows {
        let (idx, body) = row.map_err(err)?;
        let event = body
            .and_then(|b| decode::<Event>(&b))
            .map_err(|e| corrupt(format!("event {idx}: {e}")))?;
        events.push(event);
    }
    Ok(Some(StoredSession {
        record,
        events,
        rev,
    }))
}
