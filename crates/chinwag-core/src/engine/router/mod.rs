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

mod news;
mod shared;

pub use news::{MAX_NEWS_BYTES, RoutingNewsWorker};

use super::{ChatEngine, lock};
use crate::bus::BusEvent;
use crate::error::CoreError;
use crate::ports::RoutingStore;
use crate::routing::RouterState;
use crate::settings::EngineSettings;
use std::sync::{Arc, Mutex};

/// The engine's router: its own, or a cached copy of the shared one.
pub(crate) enum Router {
    /// This process alone routes.
    Local(Mutex<RouterState>),
    /// Every node sharing the store routes on one state.
    Shared(shared::SharedRouter),
}

impl Router {
    /// The router for `built` (the state rebuilt from the stored chats): this process's own,
    /// or, with `shared`, the shared state — which `built` only becomes when nothing was ever
    /// saved there (the first node to start wins; later ones take what is stored and do not
    /// queue again the chats it already routes).
    pub(crate) async fn open(
        settings: &EngineSettings,
        built: RouterState,
        shared: Option<Arc<dyn RoutingStore>>,
    ) -> Result<Self, CoreError> {
        match shared {
            None => Ok(Self::Local(Mutex::new(built))),
            Some(store) => Ok(Self::Shared(
                shared::SharedRouter::join(store, settings, built).await?,
            )),
        }
    }
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
