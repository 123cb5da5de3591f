//! The ports the engine needs from the outside world. Backends implement these; the engine
//! only ever sees the traits. The shared routing state has its own file (`routing.rs`), the
//! store of uploaded files' bytes too (`blobs.rs`), and the optional scan of uploads (`scan.rs`).

mod blobs;
mod routing;
mod scan;
mod seen;

pub use blobs::{BlobError, BlobRead, BlobStore, ByteStream, CapCounter, StoredBlob, chat_segment};
pub use routing::{RoutingNews, RoutingSnapshot, RoutingStore};
pub use scan::{FileScanner, ScanError, ScanVerdict};
pub use seen::{Seen, WATCH_FRESH_MS};

use crate::error::StoreError;
use crate::event::Event;
use crate::ids::{ChatId, EventIndex};
use crate::push::PushJob;
use crate::session::SessionRecord;
use async_trait::async_trait;

/// One atomic write: new transcript events, the push jobs announcing them, and, when it
/// changed, the session header.
///
/// Writes to one chat are ordered by the store, not by the writer: each commit names the
/// revision it was computed from (`base_rev`), and the store applies it only if that is still
/// the chat's revision, which then becomes `base_rev + 1`. Two writers that read the same
/// revision (two nodes, say) cannot both append: the second gets
/// [`StoreError::Conflict`], reloads and computes its change again.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The chat written to.
    pub chat_id: ChatId,
    /// The chat's revision this change was computed from: 0 for a chat not stored yet.
    pub base_rev: u64,
    /// The new header, if it changed.
    pub record: Option<SessionRecord>,
    /// New events, in index order.
    pub events: Vec<Event>,
    /// Push jobs for those events (written to the outbox in the same transaction).
    pub pushes: Vec<PushJob>,
}

/// A stored session as loaded back: header and whole transcript.
#[derive(Debug, Clone)]
pub struct StoredSession {
    /// The header.
    pub record: SessionRecord,
    /// All events, in index order.
    pub events: Vec<Event>,
    /// How many commits the chat has had (the `base_rev` of the next one).
    pub rev: u64,
}

/// What [`ChatStore::load_live`] found.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The sessions read back whole.
    pub sessions: Vec<StoredSession>,
    /// Chats whose stored header or events could not be read: left as they are in the store
    /// (for an operator to look at) and not served, with why.
    pub quarantined: Vec<(ChatId, String)>,
}

/// A stored chat's header without its transcript, as read at start.
#[derive(Debug, Clone)]
pub struct StoredHeader {
    /// The header (participants, with their agent ids and leave times, say where it routes).
    pub record: SessionRecord,
    /// How many commits the chat has had.
    pub rev: u64,
}

/// One batch of what [`ChatStore::load_headers`] found.
#[derive(Debug, Clone, Default)]
pub struct Headers {
    /// Readable headers.
    pub headers: Vec<StoredHeader>,
    /// Chats whose stored header could not be read, with why (left as they are in the store).
    pub quarantined: Vec<(ChatId, String)>,
}

/// Takes [`ChatStore::load_headers`]' batches as they are read (it must not call the store).
pub type HeaderSink<'a> = dyn FnMut(Headers) + Send + 'a;

/// Durable storage of sessions and transcripts (and, through [`PushOutbox`], of push jobs;
/// through [`Timers`](crate::timers::Timers), of the chats' timers).
///
/// Contract (checked by `chinwag-store-conformance`):
/// - `commit` is atomic and durable against process death once it returns `Ok`.
/// - A commit whose `base_rev` is not the chat's stored revision (0 when the chat is not
///   stored) fails with [`StoreError::Conflict`] and changes nothing; of commits sent at once
///   with the same base, exactly one succeeds.
/// - Events are never lost, reordered or duplicated; committing an event whose
///   `(chat_id, index)` already exists is an error and changes nothing.
/// - `load_live` returns every session without `ended_ms` and every session that ended at or
///   after its cutoff, with events in index order; one unreadable session is reported in
///   `quarantined` and never fails the load of the others.
/// - `load_headers` hands its sink the same chats as `load_live`, headers only (no event is
///   read), each exactly once, in batches in no particular order; one unreadable header is
///   reported in `quarantined` and never fails the others (unreadable events are not
///   noticed: `load` of that chat reports them).
/// - `load` of a chat that is stored but unreadable fails with [`StoreError::Corrupt`].
#[async_trait]
pub trait ChatStore: crate::push::PushClaims + crate::timers::Timers {
    /// Writes one commit atomically.
    async fn commit(&self, commit: Commit) -> Result<(), StoreError>;
    /// Loads every open session and every session that ended at or after
    /// `ended_since_ms` (still readable by its customer), whole: for tools and tests (the
    /// engine starts from [`ChatStore::load_headers`]).
    async fn load_live(&self, ended_since_ms: i64) -> Result<Loaded, StoreError>;
    /// The headers (no transcript) of every open session and of every session that ended at
    /// or after `ended_since_ms`, handed to `sink` in batches as they are read (so what is
    /// held at once stays small): what the engine reads at start, so a node with many stored
    /// chats holds none of their transcripts, nor all their headers, until they are used.
    async fn load_headers(
        &self,
        ended_since_ms: i64,
        sink: &mut HeaderSink<'_>,
    ) -> Result<(), StoreError>;
    /// Loads one session, open or ended.
    async fn load(&self, chat_id: &ChatId) -> Result<Option<StoredSession>, StoreError>;
    /// The chat's header and revision with only the events after index `after`: what a
    /// reader holding the events up to `after` lacks (`None`: not stored). The default loads
    /// the whole chat and drops the rest; a networked store reads only the new events.
    async fn load_since(
        &self,
        chat_id: &ChatId,
        after: EventIndex,
    ) -> Result<Option<StoredSession>, StoreError> {
        Ok(self.load(chat_id).await?.map(|mut s| {
            s.events.retain(|e| e.index > after);
            s
        }))
    }
    /// The chat's stored revision (`None`: not stored): what a reader compares with its
    /// cached copy to know whether another process wrote to the chat.
    async fn revision(&self, chat_id: &ChatId) -> Result<Option<u64>, StoreError>;
    /// Whether other processes write to this store too (a shared Redis): the engine then
    /// checks [`ChatStore::revision`] before serving a chat from its cache.
    fn shared(&self) -> bool {
        false
    }
    /// Records what this process saw of each chat's customer since it last recorded (when
    /// seen, how far it fetched, when a live CometD client watched it), on a store other
    /// processes share, so the node that would end a chat for its customer's silence counts
    /// the requests other nodes served, and a node deciding a push knows what the customer
    /// fetched and whether it watches the chat through another node. Keeps, field by field,
    /// the largest value per chat; ignores chats not stored. The default (a store one process
    /// owns, whose own memory is the whole truth) records nothing.
    async fn record_seen(&self, seen: &[(ChatId, Seen)]) -> Result<(), StoreError> {
        let _ = seen;
        Ok(())
    }
    /// The largest values any process recorded with [`ChatStore::record_seen`] for
    /// `chat_id` (`None`: never, or the default store).
    async fn seen_record(&self, chat_id: &ChatId) -> Result<Option<Seen>, StoreError> {
        let _ = chat_id;
        Ok(None)
    }
    /// When any process last saw `chat_id`'s customer ([`ChatStore::seen_record`]'s
    /// `at_ms`; `None`: never, or the default store).
    async fn last_seen(&self, chat_id: &ChatId) -> Result<Option<i64>, StoreError> {
        Ok(self
            .seen_record(chat_id)
            .await?
            .map(|s| s.at_ms)
            .filter(|t| *t > 0))
    }
    /// Deletes sessions that ended before `ended_before_ms`; returns how many.
    async fn purge_ended(&self, ended_before_ms: i64) -> Result<u64, StoreError>;
    /// Checks that the store answers, as cheaply as the backend allows, going the way real
    /// work goes (the SQLite store asks its writer thread; a networked store makes one round
    /// trip). `/health` calls it periodically and times it. Changes nothing. The default,
    /// for stores that cannot fail (in memory), answers at once.
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The durable push outbox. Jobs arrive with a [`Commit`] (or [`PushOutbox::enqueue`]) and
/// stay until the delivery side finishes them.
///
/// Contract (checked by `chinwag-store-conformance`):
/// - a job written by a commit that returned `Ok` is returned by `pending` until `finish`;
/// - `pending` lists jobs in `seq` order, with the latest `update` applied;
/// - `finish` of an unknown `seq` is not an error.
#[async_trait]
pub trait PushOutbox: Send + Sync + 'static {
    /// Adds jobs outside a transcript commit (the shutdown notice).
    async fn enqueue(&self, jobs: Vec<PushJob>) -> Result<(), StoreError>;
    /// Every job not finished, in `seq` order.
    async fn pending(&self) -> Result<Vec<PushJob>, StoreError>;
    /// Records a job's new attempt count, due time and sent flag.
    async fn update(&self, job: &PushJob) -> Result<(), StoreError>;
    /// Removes jobs: delivered, acknowledged, given up on, or dropped.
    async fn finish(&self, seqs: &[u64]) -> Result<(), StoreError>;
    /// The highest `seq` ever written (0 when none), so new jobs continue after it.
    async fn last_seq(&self) -> Result<u64, StoreError>;
}

/// What a [`ChangeFeed`] announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEvent {
    /// Revision `rev` of `chat_id` was committed (by any process sharing the store).
    Changed {
        /// The chat.
        chat_id: ChatId,
        /// Its revision after that commit.
        rev: u64,
    },
    /// Announcements may have been lost (the feed reconnected): check every chat held.
    Resync,
}

/// Announcements of the commits to a store that several processes share, so each engine
/// catches up on the chats it holds (and publishes their new events on its own bus).
///
/// At most once, like the pub/sub under it: a lost announcement is made up for by
/// [`FeedEvent::Resync`] or by the receiver lagging, after which the engine compares every
/// chat it holds with the store.
pub trait ChangeFeed: Send + Sync + 'static {
    /// A receiver of every announcement from now on.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<FeedEvent>;
}

/// Wall-clock time, so tests and timers can agree on "now".
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// Whether a chat's customer is connected right now through a live push channel of the
/// transport (a CometD client watching it). The engine asks it before ending a silent chat.
pub trait Presence: Send + Sync + 'static {
    /// A live client watches `chat`.
    fn is_watched(&self, chat: &ChatId) -> bool;
}
