//! Online backup of a store's database into one new file, with SQLite's backup API.
//!
//! The source is opened read-only on its own connection (safe beside a running server: in WAL
//! mode a reader never blocks the writer) and copied in one step, so the copy is the database
//! as of one committed moment, WAL included. The copy is switched to a rollback journal so it
//! rests as a single file, checked with `quick_check`, and synced. An existing destination is
//! refused; a failed backup removes what it created.

use crate::quota::BUSY_TIMEOUT;
use crate::schema::err;
use chinwag_core::StoreError;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a busy or locked source is retried before giving up.
const BUSY_DEADLINE: Duration = Duration::from_secs(30);

fn fail(what: String) -> StoreError {
    StoreError::Backend(what)
}

/// Copies `src` into a new database at `dest`.
pub(crate) fn copy(src: &Path, dest: &Path) -> Result<(), StoreError> {
    if !src.is_file() {
        return Err(fail(format!("no database at {}", src.display())));
    }
    let source = Connection::open_with_flags(
        src,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| fail(format!("cannot open {}: {e}", src.display())))?;
    source.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    let tables: i64 = source
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('sessions', 'events')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| fail(format!("cannot read {}: {e}", src.display())))?;
    if tables != 2 {
        return Err(fail(format!("{} is not a Chinwag store", src.display())));
    }
    // Claim the destination first: `create_new` refuses an existing file atomically.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(fail(format!(
                "{} already exists: refusing to overwrite it",
                dest.display()
            )));
        }
        Err(e) => return Err(fail(format!("cannot create {}: {e}", dest.display()))),
    }
    let result = write(&source, dest);
    if result.is_err() {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let _ = std::fs::remove_file(with_suffix(dest, suffix));
        }
    }
    result
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Copies every page of `source` into the (empty) database file `dest`.
fn write(source: &Connection, dest: &Path) -> Result<(), StoreError> {
    let mut target =
        Connection::open(dest).map_err(|e| fail(format!("cannot open {}: {e}", dest.display())))?;
    {
        let backup = Backup::new(source, &mut target).map_err(err)?;
        let deadline = Instant::now() + BUSY_DEADLINE;
        loop {
            // All pages in one step: one read transaction, so one consistent snapshot.
            match backup.step(-1).map_err(err)? {
                StepResult::Done => break,
                StepResult::More => {}
                _ if Instant::now() >= deadline => {
                    return Err(fail("the source database stayed busy".into()));
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
    target
        .pragma_update(None, "journal_mode", "DELETE")
        .map_err(err)?;
    let check: String = target
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(err)?;
    if check != "ok" {
        return Err(fail(format!(
            "the copy failed its integrity check: {check}"
        )));
    }
    target.close().map_err(|(_, e)| err(e))?;
    std::fs::File::open(dest)
        .and_then(|f| f.sync_all())
        .map_err(|e| fail(format!("cannot sync {}: {e}", dest.display())))
}
