//! Store calls per customer operation on a shared store (each is a round trip to Redis):
//! a refresh with nothing new reads one revision (with a typing preview too); a send on a
//! fresh copy is one commit; a node catching up reads only the events it lacks.

use super::tests_shared_store::{creds_of, open_chat, send, settings};
use super::*;
use crate::memstore::MemoryStore;
use crate::ports::{Loaded, PushOutbox, StoredSession, SystemClock};
use crate::push::PushJob;
use async_trait::async_trait;

/// A shared in-memory store that counts the calls made to it.
#[derive(Default)]
struct Counting {
    inner: MemoryStore,
    calls: Mutex<Vec<&'static str>>,
    /// The `after` of each `load_since`.
    since: Mutex<Vec<u64>>,
}

impl Counting {
    fn note(&self, call: &'static str) {
        lock(&self.calls).push(call);
    }

    fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *lock(&self.calls))
    }
}

#[async_trait]
impl PushOutbox for Counting {
    async fn enqueue(&self, jobs: Vec<PushJob>) -> Result<(), crate::StoreError> {
        self.inner.enqueue(jobs).await
    }
    async fn pending(&self) -> Result<Vec<PushJob>, crate::StoreError> {
        self.inner.pending().await
    }
    async fn update(&self, job: &PushJob) -> Result<(), crate::StoreError> {
        self.inner.update(job).await
    }
    async fn finish(&self, seqs: &[u64]) -> Result<(), crate::StoreError> {
        self.inner.finish(seqs).await
    }
    async fn last_seq(&self) -> Result<u64, crate::StoreError> {
        self.inner.last_seq().await
    }
}

#[async_trait]
impl crate::push::PushClaims for Counting {
    async fn reserve_seqs(&self, n: u64) -> Result<u64, crate::StoreError> {
        self.note("reserve_seqs");
        self.inner.reserve_seqs(n).await
    }
    async fn owners(&self) -> Result<Vec<crate::lease::Holder>, crate::StoreError> {
        self.inner.owners().await
    }
    async fn claim(
        &self,
        from: Option<&crate::lease::Holder>,
        to: &crate::lease::Holder,
    ) -> Result<Vec<PushJob>, crate::StoreError> {
        self.inner.claim(from, to).await
    }
}

#[async_trait]
impl crate::timers::Timers for Counting {
    async fn schedule(
        &self,
        timers: &[(crate::timers::TimerKey, i64)],
        mode: crate::timers::Schedule,
    ) -> Result<(), crate::StoreError> {
        self.note("timers_schedule");
        self.inner.schedule(timers, mode).await
    }
    async fn cancel(&self, keys: &[crate::timers::TimerKey]) -> Result<(), crate::StoreError> {
        self.note("timers_cancel");
        self.inner.cancel(keys).await
    }
    async fn due(&self, key: &crate::timers::TimerKey) -> Result<Option<i64>, crate::StoreError> {
        self.inner.due(key).await
    }
    async fn claim_due(
        &self,
        now_ms: i64,
        holder: &crate::lease::Holder,
        max: usize,
        claim_ms: i64,
    ) -> Result<Vec<crate::timers::DueTimer>, crate::StoreError> {
        self.inner.claim_due(now_ms, holder, max, claim_ms).await
    }
    async fn complete(&self, timer: &crate::timers::DueTimer) -> Result<bool, crate::StoreError> {
        self.inner.complete(timer).await
    }
    async fn reschedule(
        &self,
        timer: &crate::timers::DueTimer,
        due_ms: i64,
    ) -> Result<bool, crate::StoreError> {
        self.inner.reschedule(timer, due_ms).await
    }
}

#[async_trait]
impl ChatStore for Counting {
    async fn commit(&self, commit: Commit) -> Result<(), crate::StoreError> {
        self.note("commit");
        self.inner.commit(commit).await
    }
    async fn load_live(&self, since: i64) -> Result<Loaded, crate::StoreError> {
        self.inner.load_live(since).await
    }
    async fn load_headers(
        &self,
        since: i64,
        sink: &mut crate::ports::HeaderSink<'_>,
    ) -> Result<(), crate::StoreError> {
        self.inner.load_headers(since, sink).await
    }
    async fn load(&self, chat_id: &ChatId) -> Result<Option<StoredSession>, crate::StoreError> {
        self.note("load");
        self.inner.load(chat_id).await
    }
    async fn load_since(
        &self,
        chat_id: &ChatId,
        after: crate::ids::EventIndex,
    ) -> Result<Option<StoredSession>, crate::StoreError> {
        self.note("load_since");
        lock(&self.since).push(after.0);
        self.inner.load_since(chat_id, after).await
    }
    async fn revision(&self, chat_id: &ChatId) -> Result<Option<u64>, crate::StoreError> {
        self.note("revision");
        self.inner.revision(chat_id).await
    }
    async fn purge_ended(&self, before: i64) -> Result<u64, crate::StoreError> {
        self.inner.purge_ended(before).await
    }
    fn shared(&self) -> bool {
        true
    }
    async fn record_seen(
        &self,
        seen: &[(ChatId, crate::ports::Seen)],
    ) -> Result<(), crate::StoreError> {
        self.inner.record_seen(seen).await
    }
    async fn seen_record(
        &self,
        chat_id: &ChatId,
    ) -> Result<Option<crate::ports::Seen>, crate::StoreError> {
        self.inner.seen_record(chat_id).await
    }
}

#[tokio::test]
async fn a_refresh_reads_one_revision_and_a_send_is_one_commit() -> Result<(), CoreError> {
    let store = Arc::new(Counting::default());
    let e = ChatEngine::open(settings(1), store.clone(), Arc::new(SystemClock)).await?;
    let view = open_chat(&e, Selection::Nothing).await?;
    store.take();
    e.read(creds_of(&view), None, Selection::Nothing).await?;
    assert_eq!(store.take(), ["revision"], "a refresh with nothing new");
    e.customer(creds_of(&view), send("hi"), Selection::Nothing)
        .await?;
    assert_eq!(store.take(), ["commit"], "a send on a fresh copy");
    Ok(())
}

#[tokio::test]
async fn a_refresh_with_a_typing_preview_is_one_revision_read_too() -> Result<(), CoreError> {
    let store = Arc::new(Counting::default());
    let e = ChatEngine::open(settings(1), store.clone(), Arc::new(SystemClock)).await?;
    let view = open_chat(&e, Selection::Nothing).await?;
    store.take();
    let all = Selection::From(crate::ids::EventIndex(1));
    let customers = e.customers();
    let read = customers
        .read_typing(creds_of(&view), "typing…", all)
        .await?;
    assert_eq!(read.events.len(), 1);
    assert_eq!(store.take(), ["revision"], "a preview is shown, not stored");
    customers.read(creds_of(&view), all).await?;
    assert_eq!(store.take(), ["revision"], "a plain read");
    Ok(())
}

#[tokio::test]
async fn catching_up_reads_only_the_events_not_held() -> Result<(), CoreError> {
    let store = Arc::new(Counting::default());
    let a = ChatEngine::open(settings(1), store.clone(), Arc::new(SystemClock)).await?;
    let b = ChatEngine::open(settings(2), store.clone(), Arc::new(SystemClock)).await?;
    let view = open_chat(&a, Selection::Nothing).await?;
    for i in 0..5 {
        a.customer(creds_of(&view), send(&format!("m{i}")), Selection::Nothing)
            .await?;
    }
    // B reads the chat (6 events), then A writes one more; B catches up.
    let seen = b
        .read(
            creds_of(&view),
            None,
            Selection::From(crate::ids::EventIndex(1)),
        )
        .await?;
    assert_eq!(seen.events.len(), 6);
    a.customer(creds_of(&view), send("new"), Selection::Nothing)
        .await?;
    store.take();
    lock(&store.since).clear();
    let rev = store.inner.revision(&view.chat_id).await?.unwrap_or(0);
    b.catch_up(&view.chat_id, rev).await?;
    assert_eq!(store.take(), ["load_since"], "one read");
    assert_eq!(
        *lock(&store.since),
        [6],
        "from the event after the last one held"
    );
    let after = b
        .read(
            creds_of(&view),
            None,
            Selection::From(crate::ids::EventIndex(7)),
        )
        .await?;
    let texts: Vec<&str> = after
        .events
        .iter()
        .filter_map(|e| e.text.as_deref())
        .collect();
    assert_eq!(texts, ["new"], "the new event is served");
    Ok(())
}
