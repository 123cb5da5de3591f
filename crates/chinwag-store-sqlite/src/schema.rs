//! Opening the database: pragmas (WAL, sync, the size quota's split) and schema. Tables
//! added by later versions (`timers`) are created when an older database is opened.

use crate::SqliteOptions;
use crate::checkpoint::{DEFAULT_SOFT, HARD_OVER_SOFT};
use crate::quota::{BUSY_TIMEOUT, QuotaSplit, WalBound};
use chinwag_core::StoreError;
use rusqlite::Connection;
use std::path::Path;

pub(crate) fn err(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    chat_id  TEXT PRIMARY KEY,
    ended_ms INTEGER,
    record   TEXT NOT NULL,
    rev      INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_ended ON sessions(ended_ms) WHERE ended_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS events (
    chat_id TEXT NOT NULL,
    idx     INTEGER NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (chat_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS push_outbox (
    seq     INTEGER PRIMARY KEY,
    device  TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    idx     INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    due_ms  INTEGER NOT NULL,
    sent    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS push_seq (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS timers (
    kind     TEXT NOT NULL,
    chat_id  TEXT NOT NULL,
    due_ms   INTEGER NOT NULL,
    ready_ms INTEGER NOT NULL,
    holder   TEXT,
    until_ms INTEGER,
    PRIMARY KEY (kind, chat_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS timers_ready ON timers(ready_ms);
";

/// Stores written before chats had revisions get the column; each existing chat starts at
/// revision 1 (any value above 0 works: the engine reads it back before its next commit).
fn add_revisions(conn: &Connection) -> Result<(), StoreError> {
    let has: bool = conn
        .query_row(
            "SELECT count(*) FROM pragma_table_info('sessions') WHERE name = 'rev'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(err)?
        > 0;
    if !has {
        conn.execute_batch("ALTER TABLE sessions ADD COLUMN rev INTEGER NOT NULL DEFAULT 1")
            .map_err(err)?;
    }
    Ok(())
}

/// The writer's connection, and with a size quota what keeps the WAL within its share.
pub(crate) struct Opened {
    pub(crate) conn: Connection,
    pub(crate) wal: Option<WalBound>,
    /// WAL frames past which the background checkpoints…
    pub(crate) checkpoint_at: u64,
    /// …and past which the writer does.
    pub(crate) writer_checkpoint_at: u64,
}

/// Opens the connection with WAL, NORMAL sync and the schema in place; with a size quota,
/// also what keeps the WAL within its share.
pub(crate) fn open(path: &Path, options: &SqliteOptions) -> Result<Opened, StoreError> {
    let conn = Connection::open(path).map_err(err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    conn.pragma_update(None, "foreign_keys", "OFF")
        .map_err(err)?;
    conn.execute_batch(SCHEMA).map_err(err)?;
    add_revisions(&conn)?;
    let Some(bytes) = options.max_size_bytes else {
        return Ok(Opened {
            conn,
            wal: None,
            checkpoint_at: DEFAULT_SOFT,
            writer_checkpoint_at: DEFAULT_SOFT * HARD_OVER_SOFT,
        });
    };
    let page: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .map_err(err)?;
    let split = QuotaSplit::of(bytes, u64::try_from(page).unwrap_or(4096));
    split.apply(&conn)?;
    let wal = WalBound::new(path, split.wal_bytes);
    wal.enforce(&conn);
    Ok(Opened {
        conn,
        wal: Some(wal),
        checkpoint_at: split.autocheckpoint,
        // The soft mark is half the WAL's share: the writer steps in at the share.
        writer_checkpoint_at: split.autocheckpoint * 2,
    })
}
