//! [`ChatEngine`]: the Chat Server role. It owns the open sessions in memory (write-through to
//! the [`ChatStore`]), the router, and the bus. Every change is committed to the store before
//! it is applied in memory, published, or answered.
//!
//! Concurrency: each session has a `gate` (async mutex) that serialises its writers across the
//! store commit, and a `state` (short std mutex) that readers take briefly, so reads never wait
//! for the disk.

mod agent;
mod customer;
mod lifecycle;
mod push;
mod service;
mod view;
mod workers;

pub use agent::{AgentChatView, AgentOp, AgentStatus, OfferView};
pub use customer::{Credentials, CustomerOp, NewChat};
pub use lifecycle::{ABANDONED, NO_AGENT};
pub use push::PushView;
pub use view::{ChatView, Selection, page};
pub use workers::{LifecycleWorker, RetentionWorker, RoutingWorker};

use crate::bus::{BusEvent, LocalBus};
use crate::error::CoreError;
use crate::ids::{ChatId, ServiceName};
use crate::ports::{ChatStore, Clock, Commit};
use crate::routing::RouterState;
use crate::session::{Change, Session};
use crate::settings::{EngineSettings, ServiceSettings};
use service::ServiceState;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use tokio::sync::Notify;

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
    /// The customer's last request (epoch ms), for `flex-push-timeout`.
    client_seen_ms: AtomicI64,
    /// First transcript position the customer has not fetched yet (0: unknown), which
    /// acknowledges reliable pushes.
    client_next: AtomicU64,
    /// A push device the provider called unregistered: the subscription is ignored while
    /// it still names this device (a new device id subscribes again).
    push_gone: Mutex<Option<String>>,
}

impl Slot {
    fn new(session: Session, now_ms: i64) -> Arc<Self> {
        Arc::new(Self {
            gate: tokio::sync::Mutex::new(()),
            state: Mutex::new(session),
            client_seen_ms: AtomicI64::new(now_ms),
            client_next: AtomicU64::new(0),
            push_gone: Mutex::new(None),
        })
    }
}

/// The chat engine. Cheap to share behind an `Arc`.
pub struct ChatEngine {
    settings: EngineSettings,
    services: HashMap<ServiceName, ServiceState>,
    store: Arc<dyn ChatStore>,
    clock: Arc<dyn Clock>,
    bus: LocalBus,
    sessions: RwLock<HashMap<ChatId, Arc<Slot>>>,
    router: Mutex<RouterState>,
    router_wake: Notify,
    draining: AtomicBool,
    pushes: push::Feed,
    /// Chats found unreadable at start (see [`ChatEngine::open`]).
    quarantined: usize,
    presence: std::sync::OnceLock<Arc<dyn crate::ports::Presence>>,
}

impl std::fmt::Debug for ChatEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatEngine")
            .field("alias", &self.settings.alias)
            .finish_non_exhaustive()
    }
}

impl ChatEngine {
    /// Opens the engine: loads every open session (and every ended one still within its
    /// retention) from the store and rebuilds routing (chats with an agent stay with that
    /// agent; the others queue again in creation order). A chat the store cannot read is
    /// quarantined: logged, counted, not served; the others load.
    pub async fn open(
        settings: EngineSettings,
        store: Arc<dyn ChatStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, CoreError> {
        let now = clock.now_ms();
        let loaded = store
            .load_live(now.saturating_sub(settings.ended_retention_ms))
            .await?;
        for (chat, why) in &loaded.quarantined {
            tracing::error!(chat = %chat.as_str(), %why, "unreadable chat quarantined: left in the store, not served");
        }
        let quarantined = loaded.quarantined.len();
        let mut stored = loaded.sessions;
        let pushes = push::Feed::new(store.last_seq().await?);
        stored.sort_by_key(|s| s.record.created_ms);
        let services: HashMap<ServiceName, ServiceState> = settings
            .services
            .iter()
            .map(|s| (s.name.clone(), ServiceState::new(s.clone())))
            .collect();
        let mut router = RouterState::new(&settings.queues, &settings.agents);
        let mut sessions = HashMap::with_capacity(stored.len());
        for s in stored {
            let session = Session::new(s.record, s.events);
            let chat_id = session.record.chat_id.clone();
            if let Some(svc) = services
                .get(&session.record.service)
                .filter(|_| !session.ended())
            {
                svc.open.fetch_add(1, Ordering::Relaxed);
                let agents = session.present_agents();
                if agents.is_empty() {
                    router.enqueue(
                        &svc.settings.queue,
                        chat_id.clone(),
                        svc.settings.name.clone(),
                        session.record.created_ms,
                    );
                }
                for a in agents {
                    router.restore_assignment(&a, chat_id.clone());
                }
            }
            sessions.insert(chat_id, Slot::new(session, now));
        }
        tracing::info!(sessions = sessions.len(), quarantined, "chat engine opened");
        Ok(Arc::new(Self {
            settings,
            services,
            store,
            clock,
            bus: LocalBus::new(4096),
            sessions: RwLock::new(sessions),
            router: Mutex::new(router),
            router_wake: Notify::new(),
            draining: AtomicBool::new(false),
            pushes,
            quarantined,
            presence: std::sync::OnceLock::new(),
        }))
    }

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
        self.services
            .get(&ServiceName::new(name))
            .map(|s| &s.settings)
    }

    /// Number of open sessions held by this node.
    pub fn open_sessions(&self) -> usize {
        self.services
            .values()
            .map(|s| s.open.load(Ordering::Relaxed))
            .sum()
    }

    /// Chats found unreadable in the store at start and not served.
    pub fn quarantined(&self) -> usize {
        self.quarantined
    }

    /// Stops accepting work (new chats and operations answer "unavailable").
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    fn check_serving(&self) -> Result<(), CoreError> {
        if self.draining.load(Ordering::Relaxed) {
            Err(CoreError::Unavailable)
        } else {
            Ok(())
        }
    }

    fn slot(&self, chat_id: &ChatId) -> Option<Arc<Slot>> {
        self.sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(chat_id)
            .cloned()
    }

    /// Settings of the service `name` (every stored chat names a configured one, except
    /// after a service was removed from the configuration).
    fn service_state(&self, name: &ServiceName) -> Result<&ServiceState, CoreError> {
        self.services.get(name).ok_or(CoreError::UnknownService)
    }

    /// Commits a change computed from the current state (refused if it takes the transcript
    /// past the service's bounds), then applies and publishes it. Returns what `after`
    /// makes of the session afterwards.
    async fn write<T>(
        &self,
        slot: &Slot,
        compute: impl FnOnce(&Session) -> Result<Change, CoreError>,
        after: impl FnOnce(&Session) -> T,
    ) -> Result<T, CoreError> {
        let _gate = slot.gate.lock().await;
        let (chat_id, change, agents_before, pushes) = {
            let s = lock(&slot.state);
            let change = compute(&s)?;
            self.service_state(&s.record.service)?
                .check_growth(&s, &change)?;
            let record = change.record.as_ref().unwrap_or(&s.record);
            let pushes = self.plan_pushes(slot, record, &change.events);
            (s.record.chat_id.clone(), change, s.present_agents(), pushes)
        };
        if change.record.is_some() || !change.events.is_empty() {
            let commit = Commit {
                chat_id: chat_id.clone(),
                record: change.record.clone(),
                events: change.events.clone(),
                pushes: pushes.clone(),
            };
            self.store.commit(commit).await?;
            self.pushes.send(pushes);
        }
        // Applied under the state lock; published after it (still under the gate, so the
        // chat's events reach the bus in index order).
        let (value, published) = {
            let mut s = lock(&slot.state);
            let first_new = s.events.len();
            s.apply(change);
            // Agents present before or after: an agent who just left still sees its own leave.
            let mut agents = s.present_agents();
            for a in agents_before {
                if !agents.contains(&a) {
                    agents.push(a);
                }
            }
            let agents: Arc<[_]> = agents.into();
            let (ended, monitored) = (s.ended(), s.monitored());
            let published: Vec<BusEvent> = s.events[first_new..]
                .iter()
                .map(|event| BusEvent::Transcript {
                    chat_id: chat_id.clone(),
                    agents: agents.clone(),
                    event: Arc::new(event.clone()),
                    ended,
                    monitored,
                })
                .collect();
            (after(&s), published)
        };
        for e in published {
            self.bus.publish(e);
        }
        Ok(value)
    }

    /// Runs `f` on the router, publishes what it returns, and wakes the routing worker.
    fn route<T>(&self, f: impl FnOnce(&mut RouterState, i64) -> (T, Vec<BusEvent>)) -> T {
        let value = self.route_quietly(f);
        self.router_wake.notify_one();
        value
    }

    /// [`Self::route`] without waking the routing worker (used by the worker itself, which
    /// would otherwise wake itself forever).
    fn route_quietly<T>(&self, f: impl FnOnce(&mut RouterState, i64) -> (T, Vec<BusEvent>)) -> T {
        let now = self.now_ms();
        let (value, events) = {
            let mut r = lock(&self.router);
            let (value, mut events) = f(&mut r, now);
            events.extend(r.dispatch(now));
            (value, events)
        };
        for e in events {
            self.bus.publish(e);
        }
        value
    }

    /// A session ended: update counters and routing, tell agents.
    fn on_ended(&self, service: &ServiceName, chat_id: &ChatId, agents: Vec<crate::ids::AgentId>) {
        if let Some(svc) = self.services.get(service) {
            svc.open.fetch_sub(1, Ordering::Relaxed);
        }
        self.route(|r, now| ((), r.chat_ended(chat_id, now)));
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
