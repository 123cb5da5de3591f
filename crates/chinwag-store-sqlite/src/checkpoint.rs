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
//! which steady writes can keep from happening, so past the hard mark (eight soft marks; with
//! a quota, the WAL's share) the writer checkpoints itself, as SQLite would have: the WAL
//! stays bounded and the stall, when the background cannot keep up, comes that many times
//! less often. Such a required checkpoint (and the quota's truncation, `quota.rs`) waits for
//! a background one in progress to end (`turn`) rather than be refused by it.

use crate::quota::WalBound;
use crate::schema::err;
use chinwag_core::StoreError;
use rusqlite::Connection;
use rusqlite::wal::CheckpointMode;
use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// WAL frames after which the background checkpoints without a quota (SQLite's default
/// `wal_autocheckpoint`, about 4 MiB of 4 KiB pages).
pub(crate) const DEFAULT_SOFT: u64 = 1000;
/// Without a quota, how many soft marks the WAL may reach before the writer checkpoints.
pub(crate) const HARD_OVER_SOFT: u64 = 8;

/// Who checkpoints: held by the checkpoint thread for each pass and by the writer for a
/// required checkpoint.
type Turn = Arc<Mutex<()>>;

fn take(turn: &Mutex<()>) -> MutexGuard<'_, ()> {
    turn.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The writer's side: the frame count its commits leave and the nudge to the checkpointer.
#[derive(Debug)]
pub(crate) struct Checkpoints {
    frames: Arc<AtomicI32>,
    soft: i32,
    hard: i32,
    nudge: SyncSender<()>,
    turn: Turn,
    /// A checkpoint by the writer failed and has not succeeded since (to log once).
    failing: Cell<bool>,
}

impl Checkpoints {
    /// Turns off `conn`'s automatic checkpoint (the hook replaces it), and starts the
    /// checkpointer on its own connection to `path`, checkpointing past `soft` frames; the
    /// writer checkpoints itself past `hard`. The thread ends when this is dropped (with the
    /// writer).
    pub(crate) fn start(
        conn: &mut Connection,
        path: &Path,
        soft: u64,
        hard: u64,
    ) -> Result<Self, StoreError> {
        let (me, nudges) = Self::hook(conn, soft, hard)?;
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
        let turn = me.turn.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&own, &nudges, &turn))
            .map_err(|e| StoreError::Backend(format!("cannot start checkpoint thread: {e}")))?;
        Ok(me)
    }

    /// The writer's side alone: the hook on `conn` and the nudges it will send.
    fn hook(
        conn: &mut Connection,
        soft: u64,
        hard: u64,
    ) -> Result<(Self, Receiver<()>), StoreError> {
        let frames_at = |n: u64| i32::try_from(n.max(1)).unwrap_or(i32::MAX);
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
            soft: frames_at(soft),
            hard: frames_at(hard.max(soft)),
            nudge,
            turn: Turn::default(),
            failing: Cell::new(false),
        };
        Ok((me, nudges))
    }

    /// After a write: past the hard mark, or with the WAL file over its quota share,
    /// checkpoint here (after a background pass in progress); past the soft mark, nudge the
    /// checkpointer (a nudge already waiting stands for this one).
    pub(crate) fn after_write(&self, conn: &Connection, quota: Option<&WalBound>) {
        let frames = self.frames.load(Ordering::Relaxed);
        let over_share = quota.is_some_and(WalBound::over);
        if frames >= self.hard || over_share {
            let _turn = take(&self.turn);
            match quota {
                Some(q) if over_share => q.enforce(conn),
                _ => self.checkpoint_here(conn, frames),
            }
        } else if frames >= self.soft {
            match self.nudge.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => {
                    if !self.failing.replace(true) {
                        tracing::error!("the store's checkpoint thread is gone");
                    }
                }
            }
        }
    }

    fn checkpoint_here(&self, conn: &Connection, frames: i32) {
        match conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
            Ok(_) => {
                self.frames.store(0, Ordering::Relaxed);
                self.failing.set(false);
            }
            Err(e) => {
                if !self.failing.replace(true) {
                    tracing::warn!(%e, frames, "store WAL checkpoint by the writer failed (tried after each write)");
                }
            }
        }
    }
}

/// The `sqlite-checkpoint` thread: one `PASSIVE` checkpoint per nudge, until the writer goes.
fn run(conn: &Connection, nudges: &Receiver<()>, turn: &Mutex<()>) {
    let mut failing = false;
    while nudges.recv().is_ok() {
        let result = {
            let _turn = take(turn);
            conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE)
        };
        match result {
            Ok(_) => failing = false,
            Err(e) => {
                if !std::mem::replace(&mut failing, true) {
                    tracing::warn!(%e, "store WAL checkpoint failed (tried after the next write)");
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "checkpoint_tests.rs"]
mod tests;
