//! Who is connected and who listens where: sessions by id, broadcast subscriptions by
//! pattern (exact names and trailing globs), and held long-poll connects per browser.

use crate::channel::patterns_for;
use crate::session::{ClientId, Removal, Session};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

type Subscribers = HashMap<ClientId, Arc<Session>>;

/// The server's tables.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    sessions: RwLock<HashMap<ClientId, Arc<Session>>>,
    subs: RwLock<HashMap<Arc<str>, Subscribers>>,
    browsers: Mutex<HashMap<Arc<str>, u32>>,
}

impl Registry {
    pub(crate) fn insert(&self, session: Arc<Session>) {
        self.sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(session.id.clone(), session);
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.sessions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&ClientId::new(id))
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
        let removed = self
            .sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&session.id)
            .is_some();
        let patterns = session.mark_removed(why);
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

    /// Records a subscription; false if the session is gone.
    pub(crate) fn subscribe(&self, session: &Arc<Session>, pattern: &str) -> bool {
        let key: Arc<str> = pattern.into();
        {
            let mut st = session.state();
            if st.removed.is_some() {
                return false;
            }
            if !st.subscriptions.contains(&key) {
                st.subscriptions.push(key.clone());
            }
        }
        self.subs
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default()
            .insert(session.id.clone(), session.clone());
        true
    }

    pub(crate) fn unsubscribe(&self, session: &Session, pattern: &str) {
        session
            .state()
            .subscriptions
            .retain(|s| s.as_ref() != pattern);
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

    /// Counts a held connect for `browser`; false when the browser already holds `max`
    /// (unless `replacing`: the session's own previous connect is being answered and is about
    /// to give its count back).
    pub(crate) fn hold(&self, browser: &Arc<str>, max: u32, replacing: bool) -> bool {
        let mut b = self.browsers.lock().unwrap_or_else(PoisonError::into_inner);
        let n = b.entry(browser.clone()).or_insert(0);
        if *n >= max && !replacing {
            return false;
        }
        *n += 1;
        true
    }

    pub(crate) fn unhold(&self, browser: &Arc<str>) {
        let mut b = self.browsers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = b.get_mut(browser) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                b.remove(browser);
            }
        }
    }
}
