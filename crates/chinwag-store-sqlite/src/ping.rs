//! `ping`: the writer thread answers, the database reads, and the file at the store's path is
//! still the one this connection writes to.
//!
//! Why the file check: SQLite keeps an open database's file descriptor, so a database deleted
//! or replaced under a running server (a wrong cleanup job, a restore copied over it) goes on
//! "working", and everything committed from then on is gone at the next start. A read cannot
//! notice that; comparing the path's device and inode with those found at open can, for the
//! price of one `stat`.

use crate::schema::err;
use chinwag_core::StoreError;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// The database file as found at open.
#[derive(Debug)]
pub(crate) struct FileIdentity {
    path: PathBuf,
    /// Device and inode (Unix only; elsewhere only the file's presence is checked).
    id: Option<(u64, u64)>,
}

impl FileIdentity {
    /// The identity of the file at `path` now.
    pub(crate) fn of(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            id: std::fs::metadata(path).ok().and_then(|m| file_id(&m)),
        }
    }

    /// Fails when the path names no file, or another file than at open.
    fn check(&self) -> Result<(), StoreError> {
        let now = std::fs::metadata(&self.path).map_err(|e| {
            StoreError::Backend(format!(
                "database file {} is gone ({e}): writes go to a deleted file",
                self.path.display()
            ))
        })?;
        if self.id.is_some() && file_id(&now) != self.id {
            return Err(StoreError::Backend(format!(
                "database file {} was replaced: writes go to the old file",
                self.path.display()
            )));
        }
        Ok(())
    }
}

#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// One cheap read (the schema table, a page SQLite keeps cached) and the file check.
pub(crate) fn ping(conn: &Connection, file: &FileIdentity) -> Result<(), StoreError> {
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(err)?;
    file.check()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_or_replaced_file_fails_the_check() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("p.db");
        let conn = Connection::open(&path)?;
        conn.execute_batch("CREATE TABLE t (x)")?;
        let file = FileIdentity::of(&path);
        assert!(ping(&conn, &file).is_ok());
        std::fs::rename(&path, dir.path().join("moved.db"))?;
        let gone = ping(&conn, &file).err().map(|e| e.to_string());
        assert!(gone.is_some_and(|e| e.contains("is gone")));
        std::fs::write(&path, b"another file")?;
        let replaced = ping(&conn, &file).err().map(|e| e.to_string());
        assert!(replaced.is_some_and(|e| e.contains("was replaced")));
        Ok(())
    }
}
