//! Chinwag's embedded durable store: SQLite (bundled) in WAL mode behind the core's
//! [`ChatStore`] port.
//!
//! One writer thread owns the connection. Commits queue on a channel; the writer takes
//! everything queued, runs each commit under its own savepoint inside one transaction, and
//! answers every caller after that transaction commits (group commit). With
//! `synchronous=NORMAL` a committed transaction survives the death of the process; the WAL is
//! synced at checkpoints, so a power cut can lose the last moments (see the operator guide).
//! Checkpoints run on a thread of their own (`checkpoint.rs`), so commits do not wait for them
//! unless they fall far behind.
//! A size quota covers the database and its WAL together (`quota.rs`); an online backup
//! copies a running store into one file (`backup.rs`); `ping` checks the writer, the database
//! and that the file at the path is still the open one (`ping.rs`). The chats' timers are a
//! table too (`timers.rs`), so they survive a restart.

mod backup;
mod checkpoint;
mod group;
mod load;
mod outbox;
mod ping;
mod quota;
mod schema;
mod timers;
mod writer;

pub use quota::{MAX_WAL_SHARE, QuotaSplit};

use async_trait::async_trait;
use chinwag_core::StoreError;
use chinwag_core::ids::ChatId;
use chinwag_core::lease::Holder;
use chinwag_core::ports::{ChatStore, Commit, HeaderSink, Loaded, PushOutbox, StoredSession};
use chinwag_core::push::PushJob;
use chinwag_core::timers::{DueTimer, Schedule, TimerKey, Timers};
use std::path::Path;
use std::sync::mpsc;
use timers::TimerJob;
use tokio::sync::oneshot;
use writer::{Job, Write};

/// Tuning of the SQLite store.
#[derive(Debug, Clone, Default)]
pub struct SqliteOptions {
    /// Upper bound in bytes on the database file and its WAL together (split as
    /// [`QuotaSplit::of`] says); writes beyond it fail and change nothing.
    pub max_size_bytes: Option<u64>,
}

/// The SQLite-backed store. Dropping it stops the writer thread after queued work.
#[derive(Debug)]
pub struct SqliteStore {
    jobs: mpsc::Sender<Job>,
    /// Push seqs, counted in this process (it alone writes the database).
    seqs: chinwag_core::push::LocalSeqs,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path, options: &SqliteOptions) -> Result<Self, StoreError> {
        let mut opened = schema::open(path, options)?;
        let checkpoints = checkpoint::Checkpoints::start(
            &mut opened.conn,
            path,
            opened.checkpoint_at,
            opened.writer_checkpoint_at,
        )?;
        let file = ping::FileIdentity::of(path);
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer::run(opened.conn, opened.wal, &checkpoints, &file, &rx))
            .map_err(|e| StoreError::Backend(format!("cannot start writer thread: {e}")))?;
        Ok(Self {
            jobs: tx,
            seqs: chinwag_core::push::LocalSeqs::default(),
        })
    }

    /// Copies the database at `src` (a store's file, possibly in use by a running server) into
    /// a new single-file database at `dest`, consistent as of one moment. Refuses an existing
    /// `dest`; leaves nothing at `dest` when it fails.
    pub fn backup_file(src: &Path, dest: &Path) -> Result<(), StoreError> {
        backup::copy(src, dest)
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Job,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(make(tx))
            .map_err(|_| StoreError::Unavailable)?;
        rx.await.map_err(|_| StoreError::Unavailable)?
    }
}

#[async_trait]
impl ChatStore for SqliteStore {
    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        self.ask(|reply| Job::Write(Write::Commit(Box::new(commit)), reply))
            .await
    }

    async fn load_live(&self, ended_since_ms: i64) -> Result<Loaded, StoreError> {
        self.ask(|reply| Job::LoadLive(ended_since_ms, reply)).await
    }

    /// Read by the writer thread, which sends batches as it goes (and waits for this reader
    /// meanwhile: a start-up read, before any write).
    async fn load_headers(
        &self,
        ended_since_ms: i64,
        sink: &mut HeaderSink<'_>,
    ) -> Result<(), StoreError> {
        let (tx, mut rx) = tokio::sync::mpsc::channel(2);
        self.jobs
            .send(Job::LoadHeaders(ended_since_ms, tx))
            .map_err(|_| StoreError::Unavailable)?;
        while let Some(batch) = rx.recv().await {
            match batch? {
                Some(batch) => sink(batch),
                None => return Ok(()),
            }
        }
        Err(StoreError::Unavailable) // the writer thread stopped before the end
    }

    async fn load(&self, chat_id: &ChatId) -> Result<Option<StoredSession>, StoreError> {
        let id = chat_id.clone();
        self.ask(|reply| Job::Load(id, reply)).await
    }

    async fn revision(&self, chat_id: &ChatId) -> Result<Option<u64>, StoreError> {
        let id = chat_id.clone();
        self.ask(|reply| Job::Revision(id, reply)).await
    }

    async fn purge_ended(&self, ended_before_ms: i64) -> Result<u64, StoreError> {
        self.ask(|reply| Job::Purge(ended_before_ms, reply)).await
    }

    /// Through the writer thread (so a stuck or dead writer is noticed): one cheap read and
    /// a check that the database file at the path is still the open one (see `ping.rs`).
    async fn ping(&self) -> Result<(), StoreError> {
        self.ask(Job::Ping).await
    }
}

/// One process writes the database: seqs are counted here, and every job is this
/// process's (owners are not stored).
#[async_trait]
impl chinwag_core::push::PushClaims for SqliteStore {
    async fn reserve_seqs(&self, n: u64) -> Result<u64, StoreError> {
        self.seqs.reserve(n, self.last_seq()).await
    }

    async fn owners(&self) -> Result<Vec<chinwag_core::lease::Holder>, StoreError> {
        Ok(Vec::new())
    }

    async fn claim(
        &self,
        from: Option<&chinwag_core::lease::Holder>,
        _to: &chinwag_core::lease::Holder,
    ) -> Result<Vec<PushJob>, StoreError> {
        match from {
            None => self.pending().await,
            Some(_) => Ok(Vec::new()),
        }
    }
}

#[async_trait]
impl Timers for SqliteStore {
    async fn schedule(&self, timers: &[(TimerKey, i64)], mode: Schedule) -> Result<(), StoreError> {
        let timers = timers.to_vec();
        self.ask(|r| Job::Timer(TimerJob::Schedule(timers, mode, r)))
            .await
    }

    async fn cancel(&self, keys: &[TimerKey]) -> Result<(), StoreError> {
        let keys = keys.to_vec();
        self.ask(|r| Job::Timer(TimerJob::Cancel(keys, r))).await
    }

    async fn due(&self, key: &TimerKey) -> Result<Option<i64>, StoreError> {
        let key = key.clone();
        self.ask(|r| Job::Timer(TimerJob::Due(key, r))).await
    }

    async fn claim_due(
        &self,
        now_ms: i64,
        holder: &Holder,
        max: usize,
        claim_ms: i64,
    ) -> Result<Vec<DueTimer>, StoreError> {
        let holder = holder.clone();
        self.ask(|reply| {
            Job::Timer(TimerJob::Claim {
                now_ms,
                holder,
                max,
                claim_ms,
                reply,
            })
        })
        .await
    }

    async fn complete(&self, timer: &DueTimer) -> Result<bool, StoreError> {
        let timer = timer.clone();
        self.ask(|r| Job::Timer(TimerJob::Settle(timer, None, r)))
            .await
    }

    async fn reschedule(&self, timer: &DueTimer, due_ms: i64) -> Result<bool, StoreError> {
        let timer = timer.clone();
        self.ask(|r| Job::Timer(TimerJob::Settle(timer, Some(due_ms), r)))
            .await
    }
}

#[async_trait]
impl PushOutbox for SqliteStore {
    async fn enqueue(&self, jobs: Vec<PushJob>) -> Result<(), StoreError> {
        self.ask(|reply| Job::Write(Write::Enqueue(jobs), reply))
            .await
    }

    async fn pending(&self) -> Result<Vec<PushJob>, StoreError> {
        self.ask(Job::Pending).await
    }

    async fn update(&self, job: &PushJob) -> Result<(), StoreError> {
        let job = job.clone();
        self.ask(|reply| Job::Write(Write::Update(job), reply))
            .await
    }

    async fn finish(&self, seqs: &[u64]) -> Result<(), StoreError> {
        let seqs = seqs.to_vec();
        self.ask(|reply| Job::Write(Write::Finish(seqs), reply))
            .await
    }

    async fn last_seq(&self) -> Result<u64, StoreError> {
        self.ask(Job::LastSeq).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passes_the_conformance_suite() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Backend(e.to_string()))?;
        let store = SqliteStore::open(&dir.path().join("c.db"), &SqliteOptions::default())?;
        chinwag_store_conformance::run_suite(&store).await;
        Ok(())
    }

    #[tokio::test]
    async fn data_survives_reopening() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Backend(e.to_string()))?;
        let path = dir.path().join("r.db");
        let store = SqliteStore::open(&path, &SqliteOptions::default())?;
        let (commit, _) = chinwag_store_conformance::sample("reopen", 3);
        store.commit(commit).await?;
        drop(store);
        let store = SqliteStore::open(&path, &SqliteOptions::default())?;
        let open = store.load_live(0).await?.sessions;
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].events.len(), 3);
        Ok(())
    }

    #[tokio::test]
    async fn a_size_quota_makes_writes_fail_cleanly() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Backend(e.to_string()))?;
        let opts = SqliteOptions {
            max_size_bytes: Some(64 * 1024),
        };
        let store = SqliteStore::open(&dir.path().join("q.db"), &opts)?;
        let mut failed = false;
        for i in 0..2000 {
            let (commit, _) = chinwag_store_conformance::sample(&format!("q{i}"), 5);
            if store.commit(commit).await.is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "a 64 KiB quota must be exceeded by 2000 sessions");
        // The store is still usable for reads after a failed write.
        assert!(!store.load_live(0).await?.sessions.is_empty());
        Ok(())
    }
}
