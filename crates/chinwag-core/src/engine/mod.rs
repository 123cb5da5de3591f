//! [`ChatEngine`]: the Chat Server role. It owns the sessions in use in memory (write-through
//! to the [`ChatStore`]; the others are read back when used), the router, and the bus. Every change is committed to the store before
//! it is applied in memory, published, or answered.
//!
//! Concurrency: the store orders the writes of a chat (each commit names the revision it was
//! computed from; a stale one is refused with a conflict, and the engine reloads the chat and
//! computes again), so several engines may share one store. Within this engine each session
//! has a `gate` (async mutex) that lines its writers up so they rarely conflict, and a `state`
//! (short std mutex) that readers take briefly, so reads never wait for the disk. A chat not
//! in memory is loaded from the store when first asked for.

mod abandon;
mod agent;
mod cache;
mod customer;
mod desk;
mod files;
mod idle;
mod inactivity;
mod lifecycle;
mod push;
mod router;
mod seen;
mod service;
mod start;
mod supervise;
mod transfer;
mod view;
mod workers;

#[cfg(test)]
use crate::roles::agents::AgentOp;
#[cfg(test)]
use crate::roles::customers::{Credentials, CustomerOp, NewChat};
pub use abandon::CLAIM_MS;
pub use files::{FileBody, SCAN_TIMEOUT, StagedFile};
pub use lifecycle::{ABANDONED, NO_AGENT};
pub use push::PushView;
pub use router::{MAX_NEWS_BYTES, RoutingNewsWorker};
pub use view::{ChatView, Selection, page};
pub use workers::{
    CatchUpWorker, LifecycleWorker, RetentionWorker, RoutingWorker, SHARED_POLL, TimersWorker,
};

use crate::bus::{BusEvent, LocalBus};
use crate::error::CoreError;
use crate::ids::{ChatId, ServiceName};
use crate::ports::{ChatStore, Clock, Commit};
use crate::session::{Change, Session};
use crate::settings::{EngineSettings, ServiceSettings};
use service::ServiceState;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use tokio::sync::Notify;

/// Bus events for the events of `s` from position `first` on (0-based), as seen by `agents`.
/// A chat ends with its last event: only that one says so (a close records several events,
/// and the ones before the last must not end a watcher's stream before it has them all).
fn transcript_events(
    s: &Session,
    first: usize,
    agents: &Arc<[crate::ids::AgentId]>,
) -> Vec<BusEvent> {
    let (ended, monitored) = (s.ended(), s.monitored());
    let last = s.events.len().saturating_sub(1);
    s.events
        .get(first..)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, event)| BusEvent::Transcript {
            chat_id: s.record.chat_id.clone(),
            agents: agents.clone(),
            event: Arc::new(event.clone()),
            ended: ended && first + i == last,
            monitored,
        })
        .collect()
}

/// How long an ended chat stays in memory after it ended (its last readers are usually
/// within seconds); later reads load it from the store, until its retention is over.
pub const EVICT_ENDED_AFTER_MS: i64 = 60_000;

/// Locks a std mutex, recovering the data if a holder panicked (the data is still consistent:
/// every mutation under these locks is a single assignment or push).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One session in memory.
#[derive(Debug)]
pub(crate) struct Slot {
    gate: tokio::sync::Mutex<()>,
    state: Mutex<Session>,
    /// The stored revision `state` reflects (changed only under `gate`).
    rev: AtomicU64,
    /// This node counts the chat among its open chats (it created it, or restored it open at
    /// start), for its service's `max_sessions`. A chat loaded on demand (another node's, on
    /// a shared store) is not counted. (Abandonment does not depend on it: any node may fire
    /// a chat's abandon timer.)
    counted: AtomicBool,
    /// The customer's last request (epoch ms), for `flex-push-timeout`.
    client_seen_ms: AtomicI64,
    /// The latest `client_seen_ms` recorded in (or learned from) a shared store: a request
    /// seen here after it is recorded by the next lifecycle pass (see `seen.rs`).
    seen_shared_ms: AtomicI64,
    /// First transcript position the customer has not fetched yet (0: unknown), which
    /// acknowledges reliable pushes.
    client_next: AtomicU64,
    /// The latest `client_next` recorded in (or learned from) a shared store (see `seen.rs`).
    fetched_shared: AtomicU64,
    /// A push device the provider called unregistered: the subscription is ignored while
    /// it still names this device (a new device id subscribes again).
    push_gone: Mutex<Option<String>>,
    /// When this node last looked the chat up (epoch ms): idle chats leave memory (`idle.rs`).
    used_ms: AtomicI64,
}

impl Slot {
    fn new(session: Session, rev: u64, counted: bool, now_ms: i64) -> Arc<Self> {
        Arc::new(Self {
            gate: tokio::sync::Mutex::new(()),
            state: Mutex::new(session),
            rev: AtomicU64::new(rev),
            counted: AtomicBool::new(counted),
            client_seen_ms: AtomicI64::new(now_ms),
            seen_shared_ms: AtomicI64::new(now_ms),
            client_next: AtomicU64::new(0),
            fetched_shared: AtomicU64::new(0),
            push_gone: Mutex::new(None),
            used_ms: AtomicI64::new(now_ms),
        })
    }
}

/// The chat engine. Cheap to share behind an `Arc`.
///
/// Memory: a live chat nobody uses costs only its small entry in `evicted` (from start on:
/// the engine opens from the stored headers); a chat in use is held whole in `sessions`.
pub struct ChatEngine {
    settings: EngineSettings,
    services: HashMap<ServiceName, ServiceState>,
    store: Arc<dyn ChatStore>,
    clock: Arc<dyn Clock>,
    bus: LocalBus,
    sessions: RwLock<HashMap<ChatId, Arc<Slot>>>,
    router: router::Router,
    router_wake: Notify,
    draining: AtomicBool,
    pushes: push::Feed,
    /// Chats found unreadable (a header at start, events when first loaded; see
    /// [`ChatEngine::open`]): never loaded again.
    quarantined: Mutex<std::collections::HashSet<ChatId>>,
    /// Chats that left memory but are still stored: ended ones with their end time, idle
    /// open ones with what their slot knew beyond the store (`idle.rs`). On a store no other
    /// process writes to, this map and `sessions` name every stored chat, so a request for
    /// any other id is answered without reading the store (a flood of made-up chat ids costs
    /// no disk reads).
    evicted: Mutex<HashMap<ChatId, idle::Evicted>>,
    presence: std::sync::OnceLock<Arc<dyn crate::ports::Presence>>,
    /// Who this engine claims due timers as (new at every start).
    timer_holder: crate::lease::Holder,
    /// Where uploaded files are kept (`files/`; unset: file transfer is off).
    blobs: std::sync::OnceLock<Arc<dyn crate::ports::BlobStore>>,
    /// The scan uploads pass before they are announced (unset: none).
    scanner: std::sync::OnceLock<Arc<dyn crate::ports::FileScanner>>,
}

impl std::fmt::Debug for ChatEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatEngine")
            .field("alias", &self.settings.alias)
            .finish_non_exhaustive()
    }
}

impl ChatEngine {
    /// This node's alias.
    pub fn alias(&self) -> crate::ids::NodeAlias {
        self.settings.alias
    }

    /// The outbound event bus.
    pub fn bus(&self) -> &LocalBus {
        &self.bus
    }

    /// Current time from the engine's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Settings of a service.
    pub fn service(&self, name: &str) -> Option<&ServiceSettings> {
        self.services.get(name).map(|s| &s.settings)
    }

    /// Number of open sessions held by this node.
    pub fn open_sessions(&self) -> usize {
        self.services
            .values()
            .map(|s| s.open.load(Ordering::Relaxed))
            .sum()
    }

    /// Chats held in memory (open ones until they are idle, and ended ones for a minute after
    /// they ended).
    pub fn cached_chats(&self) -> usize {
        self.sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Chats found unreadable in the store (at start, or when first loaded) and not served.
    pub fn quarantined(&self) -> usize {
        lock(&self.quarantined).len()
    }

    /// Stops accepting work (new chats and operations answer "unavailable").
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether [`Self::start_draining`] was called (the node is shutting down).
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    fn check_serving(&self) -> Result<(), CoreError> {
        if self.draining.load(Ordering::Relaxed) {
            Err(CoreError::Unavailable)
        } else {
            Ok(())
        }
    }

    /// The chat's slot if this engine holds it, marked used now.
    fn slot(&self, chat_id: &ChatId) -> Option<Arc<Slot>> {
        let slot = self
            .sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(chat_id)
            .cloned()?;
        slot.used_ms.fetch_max(self.now_ms(), Ordering::Relaxed);
        Some(slot)
    }

    /// Settings of the service `name` (every stored chat names a configured one, except
    /// after a service was removed from the configuration).
    fn service_state(&self, name: &ServiceName) -> Result<&ServiceState, CoreError> {
        self.services.get(name).ok_or(CoreError::UnknownService)
    }

    /// Commits a change computed from the current state (refused if it takes the transcript
    /// past the service's bounds), then applies and publishes it. Returns what `after`
    /// makes of the session afterwards.
    ///
    /// When another writer committed to the chat first, the chat is reloaded and `compute`
    /// runs again on what it wrote (a few times; then the chat is busy: `Unavailable`).
    async fn write<T>(
        &self,
        slot: &Slot,
        mut compute: impl FnMut(&Session) -> Result<Change, CoreError>,
        after: impl FnOnce(&Session) -> T,
    ) -> Result<T, CoreError> {
        const TRIES: usize = 8;
        let _gate = slot.gate.lock().await;
        let mut tries = 0;
        let (change, agents_before) = loop {
            tries += 1;
            let (chat_id, change, agents_before, mut pushes) = {
                let s = lock(&slot.state);
                let change = compute(&s)?;
                self.service_state(&s.record.service)?
                    .check_growth(&s, &change)?;
                let record = change.record.as_ref().unwrap_or(&s.record);
                let pushes = self.plan_pushes(slot, record, &change.events);
                (
                    s.record.chat_id.clone(),
                    change,
                    s.present_accounts(),
                    pushes,
                )
            };
            if change.record.is_none() && change.events.is_empty() {
                break (change, agents_before);
            }
            self.stamp_pushes(&mut pushes).await?;
            let base_rev = slot.rev.load(Ordering::Acquire);
            let commit = Commit {
                chat_id: chat_id.clone(),
                base_rev,
                record: change.record.clone(),
                events: change.events.clone(),
                pushes: pushes.clone(),
            };
            match self.store.commit(commit).await {
                Ok(()) => {
                    slot.rev.store(base_rev + 1, Ordering::Release);
                    self.pushes.send(pushes);
                    break (change, agents_before);
                }
                Err(crate::StoreError::Conflict) if tries < TRIES => {
                    self.reload(slot, &chat_id).await?;
                }
                Err(crate::StoreError::Conflict) => return Err(CoreError::Unavailable),
                Err(e) => return Err(e.into()),
            }
        };
        // Applied under the state lock; published after it (still under the gate, so the
        // chat's events reach the bus in index order).
        let (value, published) = {
            let mut s = lock(&slot.state);
            let first_new = s.events.len();
            s.apply(change);
            // Agents present before or after: an agent who just left still sees its own leave.
            let mut agents = s.present_accounts();
            for a in agents_before {
                if !agents.contains(&a) {
                    agents.push(a);
                }
            }
            let published = transcript_events(&s, first_new, &agents.into());
            (after(&s), published)
        };
        for e in published {
            self.bus.publish(e);
        }
        Ok(value)
    }

    /// A session ended: update counters and routing, tell agents.
    async fn on_ended(
        &self,
        service: &ServiceName,
        chat_id: &ChatId,
        agents: Vec<crate::ids::AgentId>,
    ) {
        metrics::counter!("chinwag_chats_ended_total").increment(1);
        self.cancel_timers(chat_id).await;
        self.settle_ended(service, chat_id, agents).await;
    }

    /// What follows the end of a chat this node holds, wherever it ended: one open chat
    /// less, routing forgets it, its agents are told.
    async fn settle_ended(
        &self,
        service: &ServiceName,
        chat_id: &ChatId,
        agents: Vec<crate::ids::AgentId>,
    ) {
        let counted = self
            .slot(chat_id)
            .is_some_and(|s| s.counted.swap(false, Ordering::AcqRel));
        if counted && let Some(svc) = self.services.get(service) {
            let _ = svc
                .open
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        }
        // Routing that fails here (shared store unreachable) leaves the chat waiting or offered:
        // an offer of it fails (the chat ended) and forgets it then.
        if let Err(err) = self.route(|r, now| ((), r.chat_ended(chat_id, now))).await {
            tracing::warn!(chat = %chat_id.as_str(), %err, "routing did not forget an ended chat");
        }
        self.bus.publish(BusEvent::ChatEnded {
            chat_id: chat_id.clone(),
            agents: agents.into(),
        });
    }
}

#[cfg(test)]
mod limits_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cache;
#[cfg(test)]
mod tests_catch_up;
#[cfg(test)]
mod tests_files;
#[cfg(test)]
mod tests_files_access;
#[cfg(test)]
mod tests_files_kit;
#[cfg(test)]
mod tests_idle;
#[cfg(test)]
mod tests_inactivity;
#[cfg(test)]
mod tests_inactivity_wire;
#[cfg(test)]
mod tests_push_nodes;
#[cfg(test)]
mod tests_round_trips;
#[cfg(test)]
mod tests_routing_contention;
#[cfg(test)]
mod tests_seen;
#[cfg(test)]
mod tests_shared_routing;
#[cfg(test)]
mod tests_shared_store;
#[cfg(test)]
mod tests_timers;
#[cfg(test)]
mod tests_transfer;
