//! [`MemoryDirectory`]: the session directory in one process's memory, for several servers
//! in one process (tests, and the reference the conformance suite pins).

use super::{DirectoryError, Entry, Lease, Owner, Renewal, SessionDirectory};
use crate::session::ClientId;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

#[derive(Debug)]
struct Stored {
    entry: Entry,
    lease_until: Instant,
    expires: Instant,
}

impl Stored {
    fn stamp(&mut self, lease: Lease) {
        let now = Instant::now();
        self.lease_until = now + lease.lease;
        self.expires = self.lease_until + lease.keep;
    }
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
        let now = Instant::now();
        let mut stored = Stored {
            entry: Entry {
                owner: owner.clone(),
                live: true,
                ack,
                subscriptions: Vec::new(),
                state: Default::default(),
            },
            lease_until: now,
            expires: now,
        };
        stored.stamp(lease);
        self.with(|m| m.insert(client.clone(), stored));
        Ok(())
    }

    async fn get(&self, client: &ClientId) -> Result<Option<Entry>, DirectoryError> {
        Ok(self.with(|m| {
            m.get(client).map(|s| Entry {
                live: s.lease_until > Instant::now(),
                ..s.entry.clone()
            })
        }))
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
            let before = Entry {
                live: s.lease_until > Instant::now(),
                ..s.entry.clone()
            };
            s.entry.owner = to.clone();
            s.stamp(lease);
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
                        s.stamp(lease);
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
