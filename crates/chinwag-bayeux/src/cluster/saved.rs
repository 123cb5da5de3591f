//! Application state a session keeps for a take-over ([`Saved`]): what the application
//! saved, and the part of it the client has confirmed receiving (by coming back with a
//! later `/meta/connect`), which is the part written to the directory.
//!
//! Why the lag: state such as "the highest event index sent" describes messages queued for
//! the client, which die with the node if it dies before they are delivered. A message
//! queued before connect *n* arrived goes out in the reply to connect *n* at the latest
//! (long-polling and callback-polling), or is pushed before that reply on the same socket
//! (WebSocket); the client's connect *n + 1* shows it has that reply. So the state as it was
//! when connect *n* arrived becomes confirmed when connect *n + 1* arrives. A node taking
//! the session over starts from confirmed state: at least once, never lost.

use std::collections::BTreeMap;

/// Key → value state of one session.
pub type State = BTreeMap<String, String>;

/// A session's saved state, in its three stages.
#[derive(Debug, Default)]
pub struct Saved {
    /// As the application last saved it.
    current: State,
    /// As it was when the latest connect arrived.
    at_connect: State,
    /// As it was when the connect before that arrived: what the directory holds.
    confirmed: State,
}

impl Saved {
    /// Starts from state restored by a take-over (all of it confirmed).
    pub(crate) fn restored(state: State) -> Self {
        Self {
            current: state.clone(),
            at_connect: state.clone(),
            confirmed: state,
        }
    }

    /// Saves `value` under `key` (`None` removes it). `now`: the value is safe to hand to
    /// a node taking over at once (it describes nothing still in flight, e.g. a position
    /// from which nothing was sent yet), so it is confirmed at once. Returns whether the
    /// confirmed state changed.
    pub(crate) fn set(&mut self, key: &str, value: Option<String>, now: bool) -> bool {
        put(&mut self.current, key, value.clone());
        if !now {
            return false;
        }
        put(&mut self.at_connect, key, value.clone());
        let before = self.confirmed.get(key).cloned();
        put(&mut self.confirmed, key, value.clone());
        before != value
    }

    /// A connect arrived: the state at the previous connect is now confirmed. Returns
    /// whether the confirmed state changed.
    pub(crate) fn on_connect(&mut self) -> bool {
        if self.current.is_empty() && self.at_connect.is_empty() && self.confirmed.is_empty() {
            return false;
        }
        let at_connect = std::mem::replace(&mut self.at_connect, self.current.clone());
        let changed = at_connect != self.confirmed;
        self.confirmed = at_connect;
        changed
    }

    /// The confirmed state.
    pub(crate) fn confirmed(&self) -> &State {
        &self.confirmed
    }
}

fn put(map: &mut State, key: &str, value: Option<String>) {
    match value {
        Some(v) => {
            map.insert(key.to_owned(), v);
        }
        None => {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_confirmed_one_connect_late_unless_saved_now() {
        let mut s = Saved::default();
        assert!(
            s.set("w", Some("0".into()), true),
            "a fresh position is confirmed at once"
        );
        assert!(!s.set("w", Some("5".into()), false));
        assert_eq!(s.confirmed().get("w").map(String::as_str), Some("0"));
        assert!(!s.on_connect(), "connect n: 5 is only at connect");
        assert!(s.on_connect(), "connect n + 1 confirms it");
        assert_eq!(s.confirmed().get("w").map(String::as_str), Some("5"));
        assert!(s.set("w", None, true));
        assert!(s.confirmed().is_empty());
        assert!(!s.on_connect());
    }
}
