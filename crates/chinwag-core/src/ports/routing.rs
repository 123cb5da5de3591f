//! The [`RoutingStore`] port: the routing state (queues, agents, offers) that every node
//! sharing a store reads and writes, kept as one versioned snapshot with compare-and-set
//! saves, and the announcements of what each save changed.
//!
//! The snapshot is opaque bytes to the store (the engine encodes it, see
//! `routing/snapshot.rs`); so is what a save announces. The store only orders the saves:
//! a save names the version it was computed from and lands only if that is still the stored
//! version, which then becomes one more. Of saves racing from one version exactly one lands;
//! the others get [`StoreError::Conflict`], and their engines reload and compute again.

use crate::error::StoreError;
use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::broadcast;

/// The stored routing state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutingSnapshot {
    /// Saves so far: 0 when nothing was ever saved (then `state` is `None`).
    pub version: u64,
    /// The state as last saved.
    pub state: Option<Vec<u8>>,
}

/// What a [`RoutingStore`] announces to its subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutingNews {
    /// A save produced `version` and announced `news` (the bytes given to
    /// [`RoutingStore::save`]).
    Saved {
        /// The version the save produced.
        version: u64,
        /// What the saver announced.
        news: Arc<[u8]>,
    },
    /// Announcements may have been lost (the subscription was rebuilt, or the receiver
    /// lagged): the state itself is always read from the store.
    Resync,
}

/// Routing state shared by every engine using one store (several nodes on one Redis).
///
/// Contract (checked by `chinwag-store-conformance`, `routing` module):
/// - a store where nothing was saved answers version 0 and no state;
/// - `save(base, …)` lands only if the stored version is `base` (then it is `base + 1` and
///   `load` returns the saved bytes exactly); otherwise it fails with
///   [`StoreError::Conflict`] and changes nothing;
/// - of saves sent at once from one version exactly one lands; the version never goes back;
/// - a save that lands with non-empty `news` announces it, with its new version, to every
///   receiver of [`RoutingStore::subscribe`] (in every process sharing the store) **at
///   most once**: a lost announcement is not repeated, and the store sends
///   [`RoutingNews::Resync`] when it knows some may be lost. Empty news is not announced.
#[async_trait]
pub trait RoutingStore: Send + Sync + 'static {
    /// The stored version and state.
    async fn load(&self) -> Result<RoutingSnapshot, StoreError>;
    /// The stored version alone (cheaper than [`RoutingStore::load`]).
    async fn version(&self) -> Result<u64, StoreError>;
    /// Replaces the state if the stored version is still `base_version`, and announces
    /// `news` (unless empty) in the same atomic step.
    async fn save(&self, base_version: u64, state: &[u8], news: &[u8]) -> Result<(), StoreError>;
    /// A receiver of every announcement from now on.
    fn subscribe(&self) -> broadcast::Receiver<RoutingNews>;
}
