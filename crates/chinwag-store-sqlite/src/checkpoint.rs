//! Checkpoints off the writer thread. SQLite's own automatic checkpoint runs inside the commit
//! that crosses `wal_autocheckpoint`, on the writer's thread: with `synchronous=NORMAL` it is
//! the only place a commit waits for the disk (it `fsync`s the WAL, copies it into the
//! database and `fsync`s that), and every commit queued behind it waits too. On a disk slow
//! to sync (4 MiB/s of writes, `chinwag-bench web` under a `blkio` throttle) that held one
//! commit in twenty for 0.5–2.5 s.
//!
//! Here the writer's connection has no automatic checkpoint; a WAL hook records how many
//! frames the WAL holds after each commit, and past the soft mark the writer nudges the
//! `sqlite-checkpoint` thread, which runs a `PASSIVE` checkpoint on its own connection while
//! commits go on. A WAL restarts from its start only after a checkpoint has copied all of it,
//! which steady writes can keep from happening, so past the hard mark (several soft marks)
//! the writer checkpoints itself, as SQLite would have: the WAL stays bounded and the
//! stall, when the background cannot keep up, comes that many times less often.

use crate::schema::err;
use chinwag_core::StoreError;
use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, ErrorCode};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

/// WAL frames after which the background checkpoints without a quota (SQLite's default
/// `wal_autocheckpoint`, about 4 MiB of 4 KiB pages).
pub(crate) const DEFAULT_SOFT: u64 = 1000;
/// How many soft marks the WAL may reach before the writer checkpoints itself.
const HARD_OVER_SOFT: i32 = 8;

/// The writer's side: the frame count its commits leave and the nudge to the checkpointer.
#[derive(Debug)]
pub(crate) struct Checkpoints {
    frames: Arc<AtomicI32>,
    soft: i32,
    hard: i32,
    nudge: SyncSender<()>,
}

impl Checkpoints {
    /// Turns off `conn`'s automatic checkpoint (the hook replaces it), and starts the
    /// checkpointer on its own connection to `path`, checkpointing past `soft` frames. The
    /// thread ends when this is dropped (with the writer).
    pub(crate) fn start(conn: &mut Connection, path: &Path, soft: u64) -> Result<Self, StoreError> {
        let (me, nudges) = Self::hook(conn, soft)?;
        let own = Connection::open(path).map_err(err)?;
        // A connection learns that the database is in WAL mode when it first reads it; until
        // then a checkpoint on it does nothing (and answers -1 frames).
        let mode: String = own
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "the checkpoint connection sees journal mode {mode}, not WAL"
            )));
        }
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&own, &nudges))
            .map_err(|e| StoreError::Backend(format!("cannot start checkpoint thread: {e}")))?;
        Ok(me)
    }

    /// The writer's side alone: the hook on `conn` and the nudges it will send.
    fn hook(conn: &mut Connection, soft: u64) -> Result<(Self, Receiver<()>), StoreError> {
        let soft = i32::try_from(soft.max(1)).unwrap_or(i32::MAX / HARD_OVER_SOFT);
        let frames = Arc::new(AtomicI32::new(0));
        let seen = frames.clone();
        conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages| {
            seen.store(pages, Ordering::Relaxed);
            Ok(())
        }))
        .map_err(err)?;
        let (nudge, nudges) = sync_channel(1);
        let me = Self {
            frames,
            soft,
            hard: soft.saturating_mul(HARD_OVER_SOFT),
            nudge,
        };
        Ok((me, nudges))
    }

    /// After a write: past the soft mark, nudge the checkpointer (a nudge already waiting
    /// stands for this one); past the hard mark, checkpoint here.
    pub(crate) fn after_write(&self, conn: &Connection) {
        let frames = self.frames.load(Ordering::Relaxed);
        if frames >= self.hard {
            match conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
                Ok(_) => self.frames.store(0, Ordering::Relaxed),
                Err(e) if busy(&e) => {} // the checkpointer is at it: tried after the next write
                Err(e) => tracing::warn!(%e, frames, "store WAL checkpoint by the writer failed"),
            }
        } else if frames >= self.soft {
            match self.nudge.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => {
                    tracing::error!("the store's checkpoint thread is gone");
                }
            }
        }
    }
}

fn busy(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
}

/// The `sqlite-checkpoint` thread: one `PASSIVE` checkpoint per nudge, until the writer goes.
fn run(conn: &Connection, nudges: &Receiver<()>) {
    while nudges.recv().is_ok() {
        match conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
            Ok(_) => {}
            Err(e) if busy(&e) => {} // the writer's own checkpoint, or a backup's truncation
            Err(e) => {
                tracing::warn!(%e, "store WAL checkpoint failed (tried after the next write)")
            }
        }
    }
}

#[cfg(test)]
#[path = "checkpoint_tests.rs"]
mod tests;
