//! A [`RoutingStore`] in memory: what several engines of one process share in tests (as
//! nodes share Redis), and the in-process implementation the conformance suite checks.

use crate::error::StoreError;
use crate::ports::{RoutingNews, RoutingSnapshot, RoutingStore};
use async_trait::async_trait;
use std::sync::Mutex;
use tokio::sync::broadcast;

/// The routing snapshot in a mutex, announcements on a broadcast channel.
#[derive(Debug)]
pub struct MemoryRoutingStore {
    inner: Mutex<RoutingSnapshot>,
    tx: broadcast::Sender<RoutingNews>,
}

impl Default for MemoryRoutingStore {
    fn default() -> Self {
        Self {
            inner: Mutex::new(RoutingSnapshot::default()),
            tx: broadcast::channel(1024).0,
        }
    }
}

impl MemoryRoutingStore {
    /// Forgets the state, as a Redis that lost the key would (restarted without its
    /// append-only file, flushed).
    pub fn lose(&self) {
        *crate::engine::lock(&self.inner) = RoutingSnapshot::default();
    }

    /// Tells every subscriber that announcements may have been lost.
    pub fn announce_resync(&self) {
        let _ = self.tx.send(RoutingNews::Resync);
    }
}

#[async_trait]
impl RoutingStore for MemoryRoutingStore {
    async fn load(&self) -> Result<RoutingSnapshot, StoreError> {
        Ok(crate::engine::lock(&self.inner).clone())
    }

    async fn version(&self) -> Result<u64, StoreError> {
        Ok(crate::engine::lock(&self.inner).version)
    }

    async fn save(&self, base_version: u64, state: &[u8], news: &[u8]) -> Result<(), StoreError> {
        let version = {
            let mut s = crate::engine::lock(&self.inner);
            if s.version != base_version {
                return Err(StoreError::Conflict);
            }
            s.version += 1;
            s.state = Some(state.to_vec());
            s.version
        };
        if !news.is_empty() {
            let _ = self.tx.send(RoutingNews::Saved {
                version,
                news: news.into(),
            });
        }
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<RoutingNews> {
        self.tx.subscribe()
    }
}
