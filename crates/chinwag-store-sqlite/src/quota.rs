//! The size quota (`[store] max_size_mb`) split between the database file and its WAL, and
//! the upkeep that keeps the WAL inside its share.
//!
//! The WAL gets a quarter of the quota, at most [`MAX_WAL_SHARE`]; the database gets the rest
//! as `max_page_count`. The background checkpoint (`checkpoint.rs`) starts at half the WAL
//! share in frames (at most SQLite's default 1000 pages), so the group that crosses it still
//! fits, and `journal_size_limit` is the share. After every write, a WAL file larger than its
//! share is checkpointed and truncated at once (never waiting for a reader: a busy checkpoint
//! is retried after the next write). At rest, database + WAL therefore stay within the quota;
//! only while one group transaction is being written, or while a reader (an online backup)
//! pins the WAL, can the WAL briefly exceed its share.

use crate::schema::err;
use chinwag_core::StoreError;
use rusqlite::Connection;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Largest WAL share of a quota, in bytes.
pub const MAX_WAL_SHARE: u64 = 16 * 1024 * 1024;
/// How long a statement waits for a lock held by another connection.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// SQLite's default `wal_autocheckpoint`, kept as the ceiling.
const DEFAULT_AUTOCHECKPOINT: u64 = crate::checkpoint::DEFAULT_SOFT;
/// Bytes of a WAL frame beyond its page.
const FRAME_HEADER: u64 = 24;
/// Bytes of the WAL file header.
const WAL_HEADER: u64 = 32;

/// How a quota of `total` bytes is split, for pages of `page` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaSplit {
    /// Bytes the WAL file may keep at rest (`journal_size_limit`).
    pub wal_bytes: u64,
    /// WAL frames after which the background checkpoints (`checkpoint.rs`).
    pub autocheckpoint: u64,
    /// Pages the database file may have (`max_page_count`).
    pub db_pages: u64,
}

impl QuotaSplit {
    /// The split of `total` bytes for pages of `page` bytes.
    pub fn of(total: u64, page: u64) -> Self {
        let page = page.max(512);
        let wal_bytes = (total / 4).min(MAX_WAL_SHARE);
        let frames = wal_bytes.saturating_sub(WAL_HEADER) / (page + FRAME_HEADER);
        Self {
            wal_bytes,
            autocheckpoint: (frames / 2).clamp(1, DEFAULT_AUTOCHECKPOINT),
            db_pages: ((total - wal_bytes) / page).max(1),
        }
    }

    /// Sets the pragmas on `conn`.
    pub(crate) fn apply(&self, conn: &Connection) -> Result<(), StoreError> {
        let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        conn.pragma_update(None, "max_page_count", int(self.db_pages))
            .map_err(err)?;
        conn.pragma_update(None, "journal_size_limit", int(self.wal_bytes))
            .map_err(err)
    }
}

/// Keeps the WAL file of a quota'd database within its share.
#[derive(Debug)]
pub(crate) struct WalBound {
    path: PathBuf,
    max_bytes: u64,
    /// A truncation was refused by a reader and not yet done (to log once per episode).
    blocked: Cell<bool>,
}

impl WalBound {
    pub(crate) fn new(db: &Path, max_bytes: u64) -> Self {
        let mut path = db.as_os_str().to_owned();
        path.push("-wal");
        Self {
            path: PathBuf::from(path),
            max_bytes,
            blocked: Cell::new(false),
        }
    }

    /// Whether the WAL file is larger than its share.
    pub(crate) fn over(&self) -> bool {
        self.size() > self.max_bytes
    }

    fn size(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// Checkpoints and truncates the WAL when it is larger than its share. Never waits for a
    /// reader: one still using old frames makes the checkpoint stop short (tried again after
    /// the next write). The caller holds the checkpoint turn (`checkpoint.rs`), so the
    /// background checkpoint cannot refuse it.
    pub(crate) fn enforce(&self, conn: &Connection) {
        let size = self.size();
        if size <= self.max_bytes {
            return;
        }
        let result = conn.busy_timeout(Duration::ZERO).and_then(|()| {
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            })
        });
        if let Err(e) = conn.busy_timeout(BUSY_TIMEOUT) {
            tracing::error!(%e, "cannot restore the store's busy timeout");
        }
        match result {
            Ok(0) => {
                if self.blocked.replace(false) {
                    tracing::info!("store WAL truncated back within its share");
                }
            }
            Ok(_) => {
                if !self.blocked.replace(true) {
                    tracing::warn!(
                        wal_bytes = size,
                        share = self.max_bytes,
                        "store WAL over its share: a reader (backup?) holds it; retrying after the next write"
                    );
                }
            }
            Err(e) => tracing::error!(%e, "store WAL checkpoint failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_fills_the_quota_and_no_more() {
        for total in [64 * 1024, 1 << 20, 100 << 20, 10 << 30] {
            let s = QuotaSplit::of(total, 4096);
            assert!(s.db_pages * 4096 + s.wal_bytes <= total, "{total}: {s:?}");
            assert!(s.wal_bytes <= MAX_WAL_SHARE);
            let frames = s.autocheckpoint * (4096 + FRAME_HEADER) + WAL_HEADER;
            assert!(frames <= s.wal_bytes.max(4096 + 56), "{total}: {s:?}");
        }
        assert_eq!(
            QuotaSplit::of(1 << 20, 4096),
            QuotaSplit {
                wal_bytes: 256 * 1024,
                autocheckpoint: 31,
                db_pages: 192,
            }
        );
        assert_eq!(QuotaSplit::of(1 << 30, 4096).autocheckpoint, 1000);
    }
}
