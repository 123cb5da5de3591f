//! [`PushClaims`]: what several processes sharing one push outbox need beyond
//! [`PushOutbox`]: job numbers no other process hands out, and which node delivers each
//! job (its owner) with an atomic hand-over of a dead node's jobs. [`LocalSeqs`] numbers
//! jobs for a store only one process uses.

use super::PushJob;
use crate::error::StoreError;
use crate::lease::Holder;
use crate::ports::PushOutbox;
use async_trait::async_trait;
use std::sync::Mutex;

/// Numbering and ownership of push jobs.
///
/// Contract (checked by `chinwag-store-conformance`, `claims::run_suite`):
/// - `reserve_seqs(n)` returns the first of `n` consecutive seqs above every seq written to
///   the outbox and every seq reserved before, by any process sharing the store;
/// - on a store several processes share (`ChatStore::shared`), each job keeps its `owner`;
///   `owners` lists every owner of a pending job (it may list more); `claim(from, to)`
///   gives `to` every pending job owned by `from` (`None`: jobs without an owner) and returns
///   them as now stored: of claims made at once, each job goes to exactly one claimer;
/// - on a store one process uses, owners need not be stored: `claim(None, to)` returns
///   every pending job, and `owners` may be empty.
#[async_trait]
pub trait PushClaims: PushOutbox {
    /// Reserves `n` (≥ 1) seqs; returns the first.
    async fn reserve_seqs(&self, n: u64) -> Result<u64, StoreError>;
    /// The owners of pending jobs.
    async fn owners(&self) -> Result<Vec<Holder>, StoreError>;
    /// Moves `from`'s pending jobs to `to`; returns them, in `seq` order.
    async fn claim(&self, from: Option<&Holder>, to: &Holder) -> Result<Vec<PushJob>, StoreError>;
}

/// Seqs counted in process, above the outbox's highest (a store no other process writes).
#[derive(Debug, Default)]
pub struct LocalSeqs(Mutex<u64>);

impl LocalSeqs {
    /// Reserves `n` seqs above both those reserved before and `last` (the outbox's highest).
    pub async fn reserve<F>(&self, n: u64, last: F) -> Result<u64, StoreError>
    where
        F: Future<Output = Result<u64, StoreError>> + Send,
    {
        let floor = last.await?;
        let mut cur = crate::engine::lock(&self.0);
        let first = (*cur).max(floor) + 1;
        *cur = first + n.max(1) - 1;
        Ok(first)
    }
}
