//! Who is connected and who listens where: sessions by id, broadcast subscriptions by
//! pattern (exact names and trailing globs), and held long-poll connects per browser.

use crate::channel::patterns_for;
use crate::counts::TransportCounts;
use crate::session::{Browser, ClientId, Removal, Session};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};

type Subscribers = HashMap<ClientId, Arc<Session>>;

/// Hashes a session key by folding its 128 bits: they are random and chosen by the server,
/// so they need no keyed hash (a client can look up any key, but cannot place one).
#[derive(Debug, Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u128(&mut self, n: u128) {
        // Truncation intended: the low and high halves folded together.
        self.0 ^= (n as u64) ^ ((n >> 64) as u64);
    }
}

type Sessions = HashMap<u128, Arc<Session>, BuildHasherDefault<KeyHasher>>;

/// Why a session was not added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotAdded {
    /// Its id is not one [`ClientId::generate`] makes.
    BadId,
    /// The server holds its maximum of sessions.
    Full,
}

/// Why a subscription was not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotSubscribed {
    /// The session is gone.
    Gone,
    /// The session holds its maximum of subscriptions.
    Full,
}

/// The server's tables.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    sessions: RwLock<Sessions>,
    subs: RwLock<HashMap<Arc<str>, Subscribers>>,
    /// Each browser's held-connect counter, alive while one of its sessions is.
    browsers: Mutex<HashMap<Arc<str>, Weak<AtomicU32>>>,
    /// Live sessions per transport.
    pub(crate) transports: TransportCounts,
}

impl Registry {
    /// Adds a session, unless `max` are live or its id is not one [`ClientId::generate`]
    /// makes.
    pub(crate) fn insert(&self, session: Arc<Session>, max: usize) -> Result<(), NotAdded> {
        let key = ClientId::key(session.id.as_str()).ok_or(NotAdded::BadId)?;
        let mut sessions = self
            .sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if sessions.len() >= max {
            return Err(NotAdded::Full);
        }
        sessions.insert(key, session.clone());
        drop(sessions);
        // Counted once in, unless already removed (then never counted).
        let mut st = session.state();
        if st.removed.is_none() && !st.counted {
            st.counted = true;
            self.transports.add(st.transport);
        }
        Ok(())
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Session>> {
        let key = ClientId::key(id)?;
        self.sessions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned()
    }

    pub(crate) fn len(&self) -> usize {
        self.sessions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub(crate) fn all(&self) -> Vec<Arc<Session>> {
        self.sessions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// Removes a session and its subscriptions; false if it was already gone.
    pub(crate) fn remove(&self, session: &Session, why: Removal) -> bool {
        let removed = ClientId::key(session.id.as_str()).is_some_and(|key| {
            self.sessions
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&key)
                .is_some()
        });
        let gone = session.mark_removed(why);
        if let Some(t) = gone.counted {
            self.transports.sub(t);
        }
        let patterns = gone.subscriptions;
        if !patterns.is_empty() {
            let mut subs = self.subs.write().unwrap_or_else(PoisonError::into_inner);
            for p in patterns {
                if let Some(set) = subs.get_mut(&p) {
                    set.remove(&session.id);
                    if set.is_empty() {
                        subs.remove(&p);
                    }
                }
            }
        }
        removed
    }

    /// Records a subscription, unless the session is gone or holds `max` others.
    pub(crate) fn subscribe(
        &self,
        session: &Arc<Session>,
        pattern: &str,
        max: usize,
    ) -> Result<(), NotSubscribed> {
        let key: Arc<str> = pattern.into();
        {
            let mut st = session.state();
            if st.removed.is_some() {
                return Err(NotSubscribed::Gone);
            }
            if !st.subscriptions.contains(&key) {
                if st.subscriptions.len() >= max {
                    return Err(NotSubscribed::Full);
                }
                st.subscriptions.push(key.clone());
                st.dirty = true;
            }
        }
        self.subs
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default()
            .insert(session.id.clone(), session.clone());
        Ok(())
    }

    pub(crate) fn unsubscribe(&self, session: &Session, pattern: &str) {
        {
            let mut st = session.state();
            let before = st.subscriptions.len();
            st.subscriptions.retain(|s| s.as_ref() != pattern);
            st.dirty |= st.subscriptions.len() != before;
        }
        let mut subs = self.subs.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = subs.get_mut(pattern) {
            set.remove(&session.id);
            if set.is_empty() {
                subs.remove(pattern);
            }
        }
    }

    /// Every session subscribed to a pattern matching the concrete `channel`, once each.
    pub(crate) fn subscribers(&self, channel: &str) -> Vec<Arc<Session>> {
        let subs = self.subs.read().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<Arc<Session>> = Vec::new();
        let mut first = true;
        for p in patterns_for(channel) {
            if let Some(set) = subs.get(p.as_str()) {
                if first {
                    out.extend(set.values().cloned());
                    first = false;
                } else {
                    for s in set.values() {
                        if !out.iter().any(|o| Arc::ptr_eq(o, s)) {
                            out.push(s.clone());
                        }
                    }
                }
            }
        }
        out
    }

    /// The browser named `id`, with the held-connect counter its sessions share.
    pub(crate) fn browser(&self, id: &Arc<str>) -> Browser {
        let mut b = self.browsers.lock().unwrap_or_else(PoisonError::into_inner);
        let held = match b.get(id).and_then(Weak::upgrade) {
            Some(held) => held,
            None => {
                let held = Arc::new(AtomicU32::new(0));
                b.insert(id.clone(), Arc::downgrade(&held));
                held
            }
        };
        Browser {
            id: id.clone(),
            held,
        }
    }

    /// Forgets browsers none of whose sessions is left.
    pub(crate) fn prune_browsers(&self) {
        self.browsers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, held| held.strong_count() > 0);
    }

    #[cfg(test)]
    pub(crate) fn browser_count(&self) -> usize {
        self.browsers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Transport;

    type Res = Result<(), Box<dyn std::error::Error>>;

    fn session(reg: &Registry, browser: &str) -> Result<Arc<Session>, getrandom::Error> {
        let id = ClientId::generate()?;
        let b = reg.browser(&Arc::from(browser));
        let s = Arc::new(Session::new(id, Some(b), Transport::LongPolling));
        assert_eq!(reg.insert(s.clone(), 100), Ok(()));
        Ok(s)
    }

    #[test]
    fn sessions_are_counted_by_transport_from_insertion_to_removal() -> Res {
        let reg = Registry::default();
        let count = |t: Transport| {
            reg.transports
                .snapshot()
                .iter()
                .find(|(x, _)| *x == t)
                .map_or(0, |(_, n)| *n)
        };
        let (a, b) = (session(&reg, "b1")?, session(&reg, "b2")?);
        assert_eq!(count(Transport::LongPolling), 2);
        a.state()
            .set_transport(Transport::WebSocket, &reg.transports);
        assert_eq!(
            (count(Transport::WebSocket), count(Transport::LongPolling)),
            (1, 1)
        );
        assert!(reg.remove(&a, Removal::Disconnected));
        assert!(!reg.remove(&a, Removal::Expired), "removed once");
        a.state()
            .set_transport(Transport::CallbackPolling, &reg.transports);
        assert_eq!(count(Transport::WebSocket), 0);
        assert_eq!(
            count(Transport::CallbackPolling),
            0,
            "a removed session never moves"
        );
        // Removed before it was inserted: never counted.
        let early = Arc::new(Session::new(
            ClientId::generate()?,
            None,
            Transport::LongPolling,
        ));
        early.mark_removed(Removal::Disconnected);
        assert_eq!(reg.insert(early.clone(), 100), Ok(()));
        assert_eq!(count(Transport::LongPolling), 1);
        assert!(reg.remove(&b, Removal::Disconnected));
        assert!(reg.remove(&early, Removal::Disconnected));
        assert_eq!(reg.transports.snapshot().map(|(_, n)| n), [0, 0, 0]);
        Ok(())
    }

    #[test]
    fn sessions_are_found_by_their_id_text_only() -> Res {
        let reg = Registry::default();
        let s = session(&reg, "b1")?;
        let found = reg.get(s.id.as_str()).ok_or("not found")?;
        assert!(Arc::ptr_eq(&found, &s));
        assert!(reg.get(&s.id.as_str().to_uppercase()).is_none());
        assert!(reg.get("nope").is_none());
        let bad = Arc::new(Session::new(
            ClientId::new("c"),
            None,
            Transport::LongPolling,
        ));
        assert_eq!(reg.insert(bad, 100), Err(NotAdded::BadId));
        assert!(reg.remove(&s, Removal::Disconnected));
        assert!(reg.get(s.id.as_str()).is_none());
        Ok(())
    }

    #[test]
    fn a_browser_counter_is_shared_by_its_sessions_and_forgotten_with_them() -> Res {
        let reg = Registry::default();
        let (a, b) = (session(&reg, "b1")?, session(&reg, "b1")?);
        let other = session(&reg, "b2")?;
        let held = |s: &Session| s.browser.as_ref().map(|b| b.held.clone());
        assert!(
            held(&a)
                .zip(held(&b))
                .is_some_and(|(x, y)| Arc::ptr_eq(&x, &y))
        );
        assert!(
            held(&a)
                .zip(held(&other))
                .is_some_and(|(x, y)| !Arc::ptr_eq(&x, &y))
        );
        for s in [&a, &b, &other] {
            reg.remove(s, Removal::Disconnected);
        }
        drop((a, b));
        reg.prune_browsers();
        assert_eq!(reg.browser_count(), 1, "b2 still has a live session");
        drop(other);
        reg.prune_browsers();
        assert_eq!(reg.browser_count(), 0);
        Ok(())
    }

    #[test]
    fn sessions_and_subscriptions_are_capped() -> Res {
        let reg = Registry::default();
        let a = session(&reg, "b1")?;
        let extra = Arc::new(Session::new(
            ClientId::generate()?,
            None,
            Transport::LongPolling,
        ));
        assert_eq!(reg.insert(extra, 1), Err(NotAdded::Full));
        assert_eq!(reg.len(), 1);
        assert_eq!(reg.subscribe(&a, "/a", 2), Ok(()));
        assert_eq!(reg.subscribe(&a, "/b", 2), Ok(()));
        assert_eq!(reg.subscribe(&a, "/a", 2), Ok(()), "already held");
        assert_eq!(reg.subscribe(&a, "/c", 2), Err(NotSubscribed::Full));
        assert!(reg.subscribers("/c").is_empty());
        reg.remove(&a, Removal::Disconnected);
        assert_eq!(reg.subscribe(&a, "/d", 2), Err(NotSubscribed::Gone));
        Ok(())
    }
}
