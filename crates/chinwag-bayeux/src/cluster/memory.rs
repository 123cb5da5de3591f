//! [`MemoryDirectory`]: the session directory in one process's memory, and [`MemoryNodes`]:
//! node liveness in memory — for several servers in one process (tests, and the reference
//! the conformance suite pins).

use super::{DirectoryError, Entry, Lease, Liveness, Owner, Renewal, SessionDirectory};
use crate::session::ClientId;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

#[derive(Debug)]
struct Stored {
    entry: Entry,
    expires: Instant,
}

/// A session directory in memory.
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    entries: Mutex<HashMap<ClientId, Stored>>,
}

impl MemoryDirectory {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<ClientId, Stored>) -> T) -> T {
        let mut map = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        map.retain(|_, s| s.expires > now);
        f(&mut map)
    }
}

#[async_trait::async_trait]
impl SessionDirectory for MemoryDirectory {
    async fn create(
        &self,
        client: &ClientId,
        owner: &Owner,
        ack: bool,
        lease: Lease,
    ) -> Result<(), DirectoryError> {
        let stored = Stored {
            entry: Entry {
                owner: owner.clone(),
                ack,
                subscriptions: Vec::new(),
                state: Default::default(),
            },
            expires: Instant::now() + lease.ttl(),
        };
        self.with(|m| m.insert(client.clone(), stored));
        Ok(())
    }

    async fn get(&self, client: &ClientId) -> Result<Option<Entry>, DirectoryError> {
        Ok(self.with(|m| m.get(client).map(|s| s.entry.clone())))
    }

    async fn take_over(
        &self,
        client: &ClientId,
        from: &str,
        to: &Owner,
        lease: Lease,
    ) -> Result<Option<Entry>, DirectoryError> {
        Ok(self.with(|m| {
            let s = m.get_mut(client).filter(|s| s.entry.owner.node == from)?;
            let before = s.entry.clone();
            s.entry.owner = to.clone();
            s.expires = Instant::now() + lease.ttl();
            Some(before)
        }))
    }

    async fn renew(
        &self,
        owner: &Owner,
        sessions: Vec<Renewal>,
        lease: Lease,
    ) -> Result<Vec<ClientId>, DirectoryError> {
        Ok(self.with(|m| {
            let mut lost = Vec::new();
            for r in sessions {
                match m.get_mut(&r.client) {
                    Some(s) if s.entry.owner.node == owner.node => {
                        if let Some(subs) = r.subscriptions {
                            s.entry.subscriptions = subs;
                        }
                        if let Some(state) = r.state {
                            s.entry.state = state;
                        }
                        s.expires = Instant::now() + lease.ttl();
                    }
                    _ => lost.push(r.client),
                }
            }
            lost
        }))
    }

    async fn remove(&self, client: &ClientId, owner: &str) -> Result<(), DirectoryError> {
        self.with(|m| {
            if m.get(client).is_some_and(|s| s.entry.owner.node == owner) {
                m.remove(client);
            }
        });
        Ok(())
    }
}

/// The live nodes of a cluster in one process: a node is alive from [`MemoryNodes::join`]
/// until [`MemoryNodes::kill`].
#[derive(Debug, Default, Clone)]
pub struct MemoryNodes {
    alive: Arc<Mutex<HashSet<String>>>,
}

impl MemoryNodes {
    fn with<T>(&self, f: impl FnOnce(&mut HashSet<String>) -> T) -> T {
        f(&mut self.alive.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Node `name`, alive, as the [`Liveness`] its server uses.
    pub fn join(&self, name: &str) -> Arc<dyn Liveness> {
        self.with(|a| a.insert(name.to_owned()));
        Arc::new(MemoryNode {
            nodes: self.clone(),
            name: name.to_owned(),
        })
    }

    /// Node `name` is dead from now on.
    pub fn kill(&self, name: &str) {
        self.with(|a| a.remove(name));
    }
}

#[derive(Debug)]
struct MemoryNode {
    nodes: MemoryNodes,
    name: String,
}

#[async_trait::async_trait]
impl Liveness for MemoryNode {
    fn me(&self) -> String {
        self.name.clone()
    }

    async fn alive(&self, node: &str) -> Result<bool, DirectoryError> {
        Ok(self.nodes.with(|a| a.contains(node)))
    }
}
