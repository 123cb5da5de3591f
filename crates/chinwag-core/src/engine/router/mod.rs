//! Routing as the engine runs it. On a store of its own (SQLite, memory) the router is this
//! process's, in a mutex, as it always was. With a shared [`RoutingStore`] (several nodes on
//! one Redis) every node works on the one shared state: an operation brings the node's
//! cached copy up to date, applies the pure [`RouterState`] rule and the dispatch that follows,
//! and saves the result with a compare-and-set; another node's save in between makes it
//! reload and compute again (`shared.rs`). What a save changed is announced to the other
//! nodes, which publish it on their own bus (`news.rs`), so an agent connected to any node
//! hears its offers.
//!
//! Events are published on the bus only after the state that produced them is stored, and
//! never under a std lock.

mod epoch;
mod news;
mod shared;

pub use news::{MAX_NEWS_BYTES, RoutingNewsWorker};

use super::{ChatEngine, lock};
use crate::bus::BusEvent;
use crate::error::CoreError;
use crate::ids::ChatId;
use crate::ports::{ChatStore, RoutingStore};
use crate::routing::RouterState;
use crate::session::SessionRecord;
use crate::settings::EngineSettings;
use std::sync::{Arc, Mutex};

/// The engine's router: its own, or a cached copy of the shared one.
pub(crate) enum Router {
    /// This process alone routes.
    Local(Mutex<RouterState>),
    /// Every node sharing the store routes on one state.
    Shared(Box<shared::SharedRouter>),
}

impl Router {
    /// The router for `built` (the state rebuilt from the stored chats): this process's own,
    /// or, with `shared`, the shared state — which `built` only becomes when nothing was ever
    /// saved there (the first node to start wins; later ones take what is stored and do not
    /// queue again the chats it already routes).
    ///
    /// `chats` is read again to rebuild the shared state if it is ever found to have gone
    /// back (the store lost writes).
    pub(crate) async fn open(
        settings: &EngineSettings,
        built: RouterState,
        shared: Option<Arc<dyn RoutingStore>>,
        chats: Arc<dyn ChatStore>,
    ) -> Result<Self, CoreError> {
        match shared {
            None => Ok(Self::Local(Mutex::new(built))),
            Some(store) => Ok(Self::Shared(Box::new(
                shared::SharedRouter::join(store, settings, built, chats).await?,
            ))),
        }
    }
}

/// Routing rebuilt from stored headers arriving in any order, as a node builds it at start:
/// chats with agents stay with them at once; the others wait in their queues, queued at the
/// end in creation order (ties by chat id).
pub(super) struct Rebuild {
    state: RouterState,
    /// (created, chat, its service's place in the settings).
    waiting: Vec<(i64, ChatId, usize)>,
}

impl Rebuild {
    pub(super) fn new(settings: &EngineSettings) -> Self {
        Self {
            state: RouterState::new(&settings.queues, &settings.agents),
            waiting: Vec::new(),
        }
    }

    /// Routes a stored open chat of the `svc`-th configured service as it stands: with its
    /// agents when it has some, else waiting in the service's queue since it was created.
    pub(super) fn add(&mut self, svc: usize, record: &SessionRecord) {
        let agents = record.present_agents();
        if agents.is_empty() {
            self.waiting
                .push((record.created_ms, record.chat_id.clone(), svc));
        }
        for a in agents {
            self.state.restore_assignment(&a, record.chat_id.clone());
        }
    }

    /// The state, the waiting chats queued oldest first.
    pub(super) fn finish(mut self, settings: &EngineSettings) -> RouterState {
        self.waiting.sort_unstable();
        for (since, chat, svc) in self.waiting {
            if let Some(svc) = settings.services.get(svc) {
                self.state
                    .enqueue(&svc.queue, chat, svc.name.clone(), since);
            }
        }
        self.state
    }
}

/// The routing state the stored open chats call for, as a node builds it at start (see
/// [`Rebuild`]). Reads headers only (no transcript).
pub(super) async fn rebuild(
    chats: &dyn ChatStore,
    settings: &EngineSettings,
) -> Result<RouterState, CoreError> {
    let mut built = Rebuild::new(settings);
    let mut take = |batch: crate::ports::Headers| {
        for h in batch.headers.iter().filter(|h| h.record.ended_ms.is_none()) {
            let svc = settings
                .services
                .iter()
                .position(|v| v.name == h.record.service);
            if let Some(svc) = svc {
                built.add(svc, &h.record);
            }
        }
    };
    // Nothing ended since the end of time: open chats only.
    chats.load_headers(i64::MAX, &mut take).await?;
    Ok(built.finish(settings))
}

impl ChatEngine {
    /// Runs `f` on the router (then dispatch), publishes what it returns, and wakes the
    /// routing worker. On a shared router `f` may run more than once (after another node's
    /// save, on the newer state): only the last run's value and events count.
    pub(super) async fn route<T>(
        &self,
        f: impl FnMut(&mut RouterState, i64) -> (T, Vec<BusEvent>),
    ) -> Result<T, CoreError> {
        let value = self.route_quietly(f).await;
        self.router_wake.notify_one();
        value
    }

    /// [`Self::route`] without waking the routing worker (used by the worker itself, which
    /// would otherwise wake itself forever).
    pub(super) async fn route_quietly<T>(
        &self,
        mut f: impl FnMut(&mut RouterState, i64) -> (T, Vec<BusEvent>),
    ) -> Result<T, CoreError> {
        match &self.router {
            Router::Local(router) => {
                let now = self.now_ms();
                let (value, events) = {
                    let mut r = lock(router);
                    let (value, mut events) = f(&mut r, now);
                    events.extend(r.dispatch(now));
                    (value, events)
                };
                for e in events {
                    self.bus.publish(e);
                }
                Ok(value)
            }
            Router::Shared(shared) => shared.apply(&*self.clock, &self.bus, f).await,
        }
    }

    /// Reads the routing state; a shared one is brought up to the stored version first (one
    /// version read when nothing changed).
    pub(super) async fn read_routing<T>(
        &self,
        f: impl FnOnce(&RouterState) -> T,
    ) -> Result<T, CoreError> {
        match &self.router {
            Router::Local(router) => Ok(f(&lock(router))),
            Router::Shared(shared) => shared.read(f).await,
        }
    }

    /// The earliest routing deadline this node knows of, without asking the store.
    pub(super) fn known_routing_deadline(&self) -> Option<i64> {
        match &self.router {
            Router::Local(router) => lock(router).next_deadline(),
            Router::Shared(shared) => shared.cached(RouterState::next_deadline),
        }
    }

    /// Whether routing is shared with other nodes.
    pub fn routing_is_shared(&self) -> bool {
        matches!(self.router, Router::Shared(_))
    }
}
