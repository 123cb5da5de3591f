//! The checkpoint hand-off: nudges past the soft mark, the writer's own checkpoint past the
//! hard mark, and the checkpoint thread's copy into the database file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const PAGE: u64 = 4096;
const FRAME: u64 = PAGE + 24;

fn wal_db(dir: &tempfile::TempDir) -> (Connection, std::path::PathBuf) {
    let path = dir.path().join("c.db");
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.execute_batch("CREATE TABLE t (v BLOB)").unwrap();
    (conn, path)
}

/// One commit of about `pages` pages.
fn write(conn: &Connection, pages: usize) {
    conn.execute("INSERT INTO t VALUES (zeroblob(?1))", [pages as i64 * 4000])
        .unwrap();
}

/// `n` commits of 4+ pages, each followed by the writer's upkeep.
fn commits(conn: &Connection, ckpt: &Checkpoints, n: usize) {
    for _ in 0..n {
        write(conn, 4);
        ckpt.after_write(conn, None);
    }
}

fn wal_size(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map_or(0, |m| m.len())
}

#[test]
fn past_the_soft_mark_the_writer_only_nudges() {
    let dir = tempfile::tempdir().unwrap();
    let (mut conn, path) = wal_db(&dir);
    let (ckpt, nudges) = Checkpoints::hook(&mut conn, 20, 160).unwrap();
    commits(&conn, &ckpt, 10);
    assert!(nudges.try_recv().is_ok(), "a nudge past 20 frames");
    assert!(nudges.try_recv().is_err(), "nudges coalesce into one");
    // No checkpoint ran: the WAL holds every frame written.
    assert!(wal_size(&path) >= 40 * FRAME, "{}", wal_size(&path));
}

#[test]
fn with_no_checkpointer_the_writer_bounds_the_wal_at_the_hard_mark() {
    let dir = tempfile::tempdir().unwrap();
    let (mut conn, path) = wal_db(&dir);
    // A checkpointer that never runs: only the writer's own checkpoint can restart the WAL.
    let (ckpt, _nudges) = Checkpoints::hook(&mut conn, 10, 80).unwrap();
    commits(&conn, &ckpt, 200);
    // 200 commits of 4+ pages are over 800 frames; the WAL restarts once past 80.
    let bound = (80 + 2 * 8) * FRAME + 32;
    assert!(
        wal_size(&path) <= bound,
        "WAL {} over {bound}",
        wal_size(&path)
    );
}

#[test]
fn the_checkpointer_copies_the_wal_into_the_database_while_it_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let (mut conn, path) = wal_db(&dir);
    let ckpt = Checkpoints::start(&mut conn, &path, 40, 320).unwrap();
    commits(&conn, &ckpt, 30);
    // SQLite's automatic checkpoint is off (the hook replaced it) and the writer stays
    // below its hard mark: only the checkpoint thread can grow the database file.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let db = || std::fs::metadata(&path).map_or(0, |m| m.len());
    while db() < 100 * PAGE && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(db() >= 100 * PAGE, "database file {} bytes", db());
}
