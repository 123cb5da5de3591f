//! [`MeteredStore`]: the store as the engine sees it, timed. Every call is recorded in
//! `chinwag_store_operation_duration_seconds{op}`, failures in `chinwag_store_errors_total{op}`
//! (conflicts, which are normal between nodes, in `chinwag_store_conflicts_total`), and each
//! committed commit's events in `chinwag_transcript_events_total{kind}`.
//!
//! Why a wrapper in the binary rather than timers in the engine: it measures every call
//! (engine, push worker, retention, the health probe) for any backend the binary opens,
//! and keeps timing out of the core. Every method of the port must be forwarded here,
//! including those with a default (`ping`), or the default would answer for the backend.

use async_trait::async_trait;
use chinwag_core::StoreError;
use chinwag_core::ids::ChatId;
use chinwag_core::lease::Holder;
use chinwag_core::ports::{ChatStore, Commit, HeaderSink, Loaded, PushOutbox, StoredSession};
use chinwag_core::push::PushClaims;
use chinwag_core::push::PushJob;
use chinwag_core::timers::{DueTimer, Schedule, TimerKey, Timers};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

/// A store whose calls are measured.
#[derive(Debug)]
pub(crate) struct MeteredStore<S: ?Sized>(Arc<S>);

impl<S: ChatStore + ?Sized> MeteredStore<S> {
    pub(crate) fn wrap(inner: Arc<S>) -> Arc<Self> {
        Arc::new(Self(inner))
    }
}

async fn timed<T>(
    op: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let started = Instant::now();
    let result = call.await;
    metrics::histogram!("chinwag_store_operation_duration_seconds", "op" => op)
        .record(started.elapsed().as_secs_f64());
    match &result {
        Ok(_) => {}
        Err(StoreError::Conflict) => {
            metrics::counter!("chinwag_store_conflicts_total").increment(1)
        }
        Err(_) => metrics::counter!("chinwag_store_errors_total", "op" => op).increment(1),
    }
    result
}

/// Event counts of one commit by kind, without allocating: slots indexed by the kind's
/// discriminant (a fieldless enum), each with the kind's name.
struct KindCounts([(&'static str, u64); 32]);

impl KindCounts {
    fn of(commit: &Commit) -> Self {
        let mut counts = [("", 0); 32];
        for e in &commit.events {
            if let Some(slot) = counts.get_mut(e.kind as usize) {
                *slot = (e.kind.as_str(), slot.1 + 1);
            }
        }
        Self(counts)
    }

    fn record(&self) {
        for &(kind, n) in self.0.iter().filter(|(_, n)| *n > 0) {
            metrics::counter!("chinwag_transcript_events_total", "kind" => kind).increment(n);
        }
    }
}

#[async_trait]
impl<S: ChatStore + ?Sized> ChatStore for MeteredStore<S> {
    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        let kinds = KindCounts::of(&commit);
        timed("commit", self.0.commit(commit)).await?;
        kinds.record();
        Ok(())
    }

    async fn load_live(&self, ended_since_ms: i64) -> Result<Loaded, StoreError> {
        timed("load_live", self.0.load_live(ended_since_ms)).await
    }

    async fn load_headers(
        &self,
        ended_since_ms: i64,
        sink: &mut HeaderSink<'_>,
    ) -> Result<(), StoreError> {
        timed("load_headers", self.0.load_headers(ended_since_ms, sink)).await
    }

    async fn load(&self, chat_id: &ChatId) -> Result<Option<StoredSession>, StoreError> {
        timed("load", self.0.load(chat_id)).await
    }

    async fn purge_ended(&self, ended_before_ms: i64) -> Result<u64, StoreError> {
        timed("purge_ended", self.0.purge_ended(ended_before_ms)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        timed("ping", self.0.ping()).await
    }

    async fn load_since(
        &self,
        chat_id: &ChatId,
        after: chinwag_core::ids::EventIndex,
    ) -> Result<Option<StoredSession>, StoreError> {
        timed("load_since", self.0.load_since(chat_id, after)).await
    }

    async fn revision(&self, chat_id: &ChatId) -> Result<Option<u64>, StoreError> {
        timed("revision", self.0.revision(chat_id)).await
    }

    async fn record_seen(
        &self,
        seen: &[(ChatId, chinwag_core::ports::Seen)],
    ) -> Result<(), StoreError> {
        timed("record_seen", self.0.record_seen(seen)).await
    }

    async fn seen_record(
        &self,
        chat_id: &ChatId,
    ) -> Result<Option<chinwag_core::ports::Seen>, StoreError> {
        timed("seen_record", self.0.seen_record(chat_id)).await
    }

    fn shared(&self) -> bool {
        self.0.shared()
    }
}

#[async_trait]
impl<S: ChatStore + ?Sized> PushClaims for MeteredStore<S> {
    async fn reserve_seqs(&self, n: u64) -> Result<u64, StoreError> {
        timed("outbox_reserve_seqs", self.0.reserve_seqs(n)).await
    }

    async fn owners(&self) -> Result<Vec<Holder>, StoreError> {
        timed("outbox_owners", self.0.owners()).await
    }

    async fn claim(&self, from: Option<&Holder>, to: &Holder) -> Result<Vec<PushJob>, StoreError> {
        timed("outbox_claim", self.0.claim(from, to)).await
    }
}

#[async_trait]
impl<S: ChatStore + ?Sized> Timers for MeteredStore<S> {
    async fn schedule(&self, timers: &[(TimerKey, i64)], mode: Schedule) -> Result<(), StoreError> {
        timed("timers_schedule", self.0.schedule(timers, mode)).await
    }

    async fn cancel(&self, keys: &[TimerKey]) -> Result<(), StoreError> {
        timed("timers_cancel", self.0.cancel(keys)).await
    }

    async fn due(&self, key: &TimerKey) -> Result<Option<i64>, StoreError> {
        timed("timers_due", self.0.due(key)).await
    }

    async fn claim_due(
        &self,
        now_ms: i64,
        holder: &Holder,
        max: usize,
        claim_ms: i64,
    ) -> Result<Vec<DueTimer>, StoreError> {
        timed(
            "timers_claim",
            self.0.claim_due(now_ms, holder, max, claim_ms),
        )
        .await
    }

    async fn complete(&self, timer: &DueTimer) -> Result<bool, StoreError> {
        timed("timers_complete", self.0.complete(timer)).await
    }

    async fn reschedule(&self, timer: &DueTimer, due_ms: i64) -> Result<bool, StoreError> {
        timed("timers_reschedule", self.0.reschedule(timer, due_ms)).await
    }
}

#[async_trait]
impl<S: ChatStore + ?Sized> PushOutbox for MeteredStore<S> {
    async fn enqueue(&self, jobs: Vec<PushJob>) -> Result<(), StoreError> {
        timed("outbox_enqueue", self.0.enqueue(jobs)).await
    }

    async fn pending(&self) -> Result<Vec<PushJob>, StoreError> {
        timed("outbox_pending", self.0.pending()).await
    }

    async fn update(&self, job: &PushJob) -> Result<(), StoreError> {
        timed("outbox_update", self.0.update(job)).await
    }

    async fn finish(&self, seqs: &[u64]) -> Result<(), StoreError> {
        timed("outbox_finish", self.0.finish(seqs)).await
    }

    async fn last_seq(&self) -> Result<u64, StoreError> {
        timed("outbox_last_seq", self.0.last_seq()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chinwag_core::memstore::MemoryStore;

    #[tokio::test]
    async fn the_wrapped_store_passes_the_conformance_suite() {
        let store = MeteredStore::wrap(Arc::new(MemoryStore::default()));
        chinwag_store_conformance::run_suite(store.as_ref()).await;
        // Shared: what only a shared store does must reach it too.
        let store = MeteredStore::wrap(Arc::new(MemoryStore::new_shared()));
        chinwag_store_conformance::run_suite(store.as_ref()).await;
    }
}
