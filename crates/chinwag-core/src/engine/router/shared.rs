//! The shared router: a cached copy of the routing state every node sharing the store works
//! on, kept in step with the [`RoutingStore`] by version.
//!
//! An operation (under this node's async gate, so the node's own operations do not race each
//! other) takes a copy of the cached state, applies the rule and dispatch, and saves the result
//! with the cached version as its base. When the stored version moved on, the save is refused
//! as a conflict: the node reloads and computes again, after a short random pause once it has
//! lost twice (so nodes racing for the state spread out instead of colliding in step), for at
//! most [`APPLY_WITHIN`]; then the operation answers "unavailable". An operation that changes nothing saves nothing; it
//! checks instead that the stored version is still the cached one (one round trip), since
//! "nothing to do" computed from a stale copy may be wrong.
//!
//! Cost: a save writes the whole snapshot and a reload reads it, so each routing operation on
//! the shared store is O(routing state) in bytes and CPU (see `docs/cluster.md`).

use super::news;
use crate::bus::{BusEvent, LocalBus};
use crate::engine::lock;
use crate::error::{CoreError, StoreError};
use crate::ports::{ChatStore, Clock, RoutingStore};
use crate::routing::RouterState;
use crate::settings::{AgentAccount, EngineSettings, QueueSettings};
use std::sync::{Arc, Mutex};

/// How long an operation keeps trying to save while other nodes' saves come first.
pub(super) const APPLY_WITHIN: std::time::Duration = std::time::Duration::from_secs(3);
/// Longest random pause between two tries (ms); the pause's bound doubles from 1 ms.
const MAX_PAUSE_MS: u64 = 64;

/// A random pause before try `attempt` (0-based) after conflicts: none for the first two,
/// then up to 1, 2, 4 … [`MAX_PAUSE_MS`] ms.
fn pause_before(attempt: u32) -> std::time::Duration {
    if attempt < 2 {
        return std::time::Duration::ZERO;
    }
    let bound = (1u64 << (attempt - 2).min(16)).min(MAX_PAUSE_MS);
    let mut r = [0u8; 2];
    let r = if getrandom::fill(&mut r).is_ok() {
        u64::from(u16::from_le_bytes(r))
    } else {
        u64::from(attempt)
    };
    std::time::Duration::from_micros(r % (bound * 1000 + 1))
}
/// Versions remembered whose save had an unknown outcome (timed out).
const UNSURE: usize = 16;

/// The cached state, the version and epoch it is, and its bytes (to tell an unchanged state).
struct Cached {
    version: u64,
    epoch: String,
    state: RouterState,
    bytes: Vec<u8>,
}

/// This node's view of the shared routing state.
pub(crate) struct SharedRouter {
    store: Arc<dyn RoutingStore>,
    queues: Vec<QueueSettings>,
    accounts: Vec<AgentAccount>,
    /// The stored chats and the settings, to rebuild the state if the store loses it.
    chats: Arc<dyn ChatStore>,
    settings: EngineSettings,
    /// Marks this node's announcements (it skips them: it published their events itself).
    pub(super) origin: u64,
    gate: tokio::sync::Mutex<()>,
    cache: Mutex<Cached>,
    /// Versions this node saved with an unknown outcome (the store timed out): if their
    /// announcement comes, this node publishes it too, since it did not.
    unsure: Mutex<Vec<u64>>,
}

impl SharedRouter {
    /// Joins the shared state: stores `built` if nothing was ever saved (first node wins),
    /// else takes what is stored.
    pub(super) async fn join(
        store: Arc<dyn RoutingStore>,
        settings: &EngineSettings,
        built: RouterState,
        chats: Arc<dyn ChatStore>,
    ) -> Result<Self, CoreError> {
        let mut origin = [0u8; 8];
        getrandom::fill(&mut origin).map_err(|_| CoreError::Random)?;
        let bytes = built.snapshot();
        let epoch = super::epoch::fresh().map_err(|_| CoreError::Random)?;
        let me = Self {
            store,
            queues: settings.queues.clone(),
            accounts: settings.agents.clone(),
            chats,
            settings: settings.clone(),
            origin: u64::from_le_bytes(origin),
            gate: tokio::sync::Mutex::new(()),
            cache: Mutex::new(Cached {
                version: 0,
                epoch,
                state: built,
                bytes,
            }),
            unsure: Mutex::new(Vec::new()),
        };
        if me.store.version().await? == 0 {
            let first = {
                let c = lock(&me.cache);
                super::epoch::seal(&c.epoch, &c.bytes)
            };
            match me.store.save(0, &first, &[]).await {
                Ok(()) => {
                    lock(&me.cache).version = 1;
                    tracing::info!("shared routing state created from the stored chats");
                    return Ok(me);
                }
                Err(StoreError::Conflict) => {} // another node was first
                Err(e) => return Err(e.into()),
            }
        }
        me.reload().await?;
        Ok(me)
    }

    /// Applies `f` and dispatch to the current shared state, saves it, and publishes its
    /// events on `bus` (still under the gate, so in the order of the saves).
    pub(super) async fn apply<T>(
        &self,
        clock: &dyn Clock,
        bus: &LocalBus,
        mut f: impl FnMut(&mut RouterState, i64) -> (T, Vec<BusEvent>),
    ) -> Result<T, CoreError> {
        let _gate = self.gate.lock().await;
        let mut fresh = false;
        let deadline = tokio::time::Instant::now() + APPLY_WITHIN;
        let mut attempt = 0u32;
        while tokio::time::Instant::now() < deadline {
            let pause = pause_before(attempt);
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
            attempt += 1;
            let (base, epoch, mut next) = {
                let c = lock(&self.cache);
                (c.version, c.epoch.clone(), c.state.clone())
            };
            let now = clock.now_ms();
            let (value, mut events) = f(&mut next, now);
            events.extend(next.dispatch(now));
            let bytes = next.snapshot();
            let unchanged = {
                let c = lock(&self.cache);
                c.version == base && c.bytes == bytes
            };
            if unchanged {
                if fresh || self.store.version().await? == base {
                    return Ok(value);
                }
                self.reload().await?;
                fresh = true;
                continue;
            }
            let news = news::encode(self.origin, &events);
            match self
                .store
                .save(base, &super::epoch::seal(&epoch, &bytes), &news)
                .await
            {
                Ok(()) => {
                    self.install(base + 1, epoch, next, bytes);
                    for e in events {
                        bus.publish(e);
                    }
                    return Ok(value);
                }
                Err(StoreError::Conflict) => {
                    self.reload().await?;
                    fresh = true;
                }
                Err(e) => {
                    if !news.is_empty() {
                        let mut unsure = lock(&self.unsure);
                        if unsure.len() >= UNSURE {
                            unsure.remove(0);
                        }
                        unsure.push(base + 1);
                    }
                    return Err(e.into());
                }
            }
        }
        tracing::warn!(tries = attempt, "shared routing: every save conflicted");
        Err(CoreError::Unavailable)
    }

    /// Reads the state, brought up to the stored version first.
    pub(super) async fn read<T>(&self, f: impl FnOnce(&RouterState) -> T) -> Result<T, CoreError> {
        let cached = lock(&self.cache).version;
        if self.store.version().await? != cached {
            self.reload().await?;
        }
        Ok(self.cached(f))
    }

    /// A receiver of the store's announcements from now on.
    pub(super) fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::ports::RoutingNews> {
        self.store.subscribe()
    }

    /// Reads the cached state as it is.
    pub(super) fn cached<T>(&self, f: impl FnOnce(&RouterState) -> T) -> T {
        f(&lock(&self.cache).state)
    }

    /// Whether an announcement of `version` from this node must be published here: only if
    /// its save's outcome was unknown (the node published nothing then).
    pub(super) fn take_unsure(&self, version: u64) -> bool {
        let mut unsure = lock(&self.unsure);
        let found = unsure.iter().position(|v| *v == version);
        found.map(|i| unsure.remove(i)).is_some()
    }

    /// Replaces the cache with the stored state.
    ///
    /// A stored version older than the cached one, in the same epoch, means the store lost
    /// writes (Redis back from an older append-only file, or without one, or flushed): the
    /// state is rebuilt from the stored chats, as at a first start, in a new epoch, and saved
    /// over what is stored (one node wins; the others take its result, another epoch).
    async fn reload(&self) -> Result<(), CoreError> {
        let stored = self.store.load().await?;
        let (epoch, snapshot) = match &stored.state {
            Some(bytes) => {
                let (e, s) = super::epoch::open(bytes);
                (e, Some(s))
            }
            None => (String::new(), None),
        };
        let (cached_version, cached_epoch) = {
            let c = lock(&self.cache);
            (c.version, c.epoch.clone())
        };
        let went_back = stored.version < cached_version;
        if went_back && (snapshot.is_none() || epoch == cached_epoch) {
            return self.rebuild(stored.version, cached_version).await;
        }
        let state = match snapshot {
            None => RouterState::new(&self.queues, &self.accounts),
            Some(bytes) => RouterState::restore(&self.queues, &self.accounts, bytes).map_err(|why| {
                tracing::error!(%why, version = stored.version, "shared routing state unreadable");
                StoreError::Backend(format!("shared routing state unreadable: {why}"))
            })?,
        };
        // This node's own encoding, so that "unchanged" compares like with like.
        let bytes = state.snapshot();
        if went_back {
            // Another node rebuilt it (another epoch): what is stored is the truth now.
            *lock(&self.cache) = Cached {
                version: stored.version,
                epoch,
                state,
                bytes,
            };
        } else {
            self.install(stored.version, epoch, state, bytes);
        }
        Ok(())
    }

    /// Rebuilds the state from the stored chats in a new epoch and saves it over version
    /// `base` (a node that saves first wins; the others then take what it saved).
    async fn rebuild(&self, base: u64, cached: u64) -> Result<(), CoreError> {
        tracing::error!(
            stored = base,
            cached,
            "the shared routing state went back (the store lost writes): rebuilt from the stored chats"
        );
        let rebuilt = super::rebuild(self.chats.as_ref(), &self.settings).await?;
        let epoch = super::epoch::fresh().map_err(|_| CoreError::Random)?;
        let bytes = rebuilt.snapshot();
        match self
            .store
            .save(base, &super::epoch::seal(&epoch, &bytes), &[])
            .await
        {
            Ok(()) => {
                *lock(&self.cache) = Cached {
                    version: base + 1,
                    epoch,
                    state: rebuilt,
                    bytes,
                };
                Ok(())
            }
            // Another node rebuilt it first: take its state.
            Err(StoreError::Conflict) => Box::pin(self.reload()).await,
            Err(e) => Err(e.into()),
        }
    }

    /// Caches `state` as `version`, unless a newer one is cached already (a reader may have
    /// loaded it meanwhile).
    fn install(&self, version: u64, epoch: String, state: RouterState, bytes: Vec<u8>) {
        let mut c = lock(&self.cache);
        if version >= c.version {
            *c = Cached {
                version,
                epoch,
                state,
                bytes,
            };
        }
    }
}
