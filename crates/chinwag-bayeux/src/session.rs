//! One Bayeux client session: its id, its outbound queue (with ack-extension batches), and
//! the state of its `/meta/connect` (held or not, by which transport, superseded or not).

use crate::config::Transport;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;
use tokio::sync::Notify;

/// A Bayeux `clientId`: 128 random bits as 32 hex digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(Arc<str>);

impl ClientId {
    /// Wraps an id received from a client.
    pub fn new(value: &str) -> Self {
        Self(value.into())
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// A fresh random id.
    pub(crate) fn generate() -> Result<Self, getrandom::Error> {
        Ok(Self(random_hex::<16>()?.into()))
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({})", self.0)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `N` random bytes from the OS generator, as lowercase hex.
pub(crate) fn random_hex<const N: usize>() -> Result<String, getrandom::Error> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The client sent `/meta/disconnect`, or the application disconnected it.
    Disconnected,
    /// No `/meta/connect` within `maxInterval`.
    Expired,
    /// Its queue passed `max_queue`.
    Overflow,
    /// The server is shutting down.
    Shutdown,
}

/// Mutable state of a session.
#[derive(Debug)]
pub(crate) struct State {
    /// Encoded messages waiting for the client.
    pub queue: VecDeque<Arc<str>>,
    /// Ack extension: messages sent in connect replies but not yet acknowledged, by batch.
    pub unacked: VecDeque<(u64, Arc<str>)>,
    /// The ack extension is on.
    pub ack: bool,
    /// Last ack batch number handed out.
    pub batch: u64,
    /// Transport of the latest connect.
    pub transport: Transport,
    /// A connect has been answered at least once.
    pub connected: bool,
    /// End of the last connect, or the handshake.
    pub last_active: Instant,
    /// Connects currently held.
    pub parked: u32,
    /// Bumped by each new connect; a held connect with an older number is superseded.
    pub connect_gen: u64,
    /// Set once the session is gone.
    pub removed: Option<Removal>,
    /// Broadcast subscriptions, for cleanup.
    pub subscriptions: Vec<Arc<str>>,
}

/// One client session.
#[derive(Debug)]
pub struct Session {
    /// Its id.
    pub(crate) id: ClientId,
    /// The browser cookie it was created under (HTTP transports).
    pub(crate) browser: Option<Arc<str>>,
    /// Woken when a message is queued, a connect arrives, or the session ends.
    pub(crate) wake: Notify,
    /// A callback-polling request asked the held connect to return now.
    pub(crate) release: AtomicBool,
    state: Mutex<State>,
}

/// The outcome of queueing a message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Queued {
    /// Queued.
    Ok,
    /// The session is gone.
    Gone,
    /// The queue is full: the session must be dropped.
    Full,
}

impl Session {
    pub(crate) fn new(id: ClientId, browser: Option<Arc<str>>, transport: Transport) -> Self {
        Self {
            id,
            browser,
            wake: Notify::new(),
            release: AtomicBool::new(false),
            state: Mutex::new(State {
                queue: VecDeque::new(),
                unacked: VecDeque::new(),
                ack: false,
                batch: 0,
                transport,
                connected: false,
                last_active: Instant::now(),
                parked: 0,
                connect_gen: 0,
                removed: None,
                subscriptions: Vec::new(),
            }),
        }
    }

    /// The session id.
    pub fn id(&self) -> &ClientId {
        &self.id
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an encoded message and wakes whoever delivers it.
    pub(crate) fn enqueue(&self, msg: Arc<str>, max: usize) -> Queued {
        {
            let mut s = self.state();
            if s.removed.is_some() {
                return Queued::Gone;
            }
            if s.queue.len() >= max {
                return Queued::Full;
            }
            s.queue.push_back(msg);
        }
        self.wake.notify_waiters();
        Queued::Ok
    }

    /// Marks the session removed and wakes its held connect.
    pub(crate) fn mark_removed(&self, why: Removal) -> Vec<Arc<str>> {
        let subs = {
            let mut s = self.state();
            if s.removed.is_some() {
                return Vec::new();
            }
            s.removed = Some(why);
            s.queue.clear();
            s.unacked.clear();
            std::mem::take(&mut s.subscriptions)
        };
        self.wake.notify_waiters();
        subs
    }

    /// Asks a held callback-polling connect to return now.
    pub(crate) fn release_held(&self) {
        self.release.store(true, Ordering::Release);
        self.wake.notify_waiters();
    }
}

impl State {
    /// Whether pushes go straight to the client (WebSocket without acks) instead of waiting
    /// for a connect reply.
    pub(crate) fn direct(&self) -> bool {
        self.transport == Transport::WebSocket && !self.ack
    }

    /// Takes what a connect reply carries: with acks, everything unacknowledged (re-sent) plus
    /// the queue as a new batch, and the batch number; without, just the queue.
    pub(crate) fn take_for_connect(&mut self) -> (Vec<Arc<str>>, Option<u64>) {
        if !self.ack {
            return (self.queue.drain(..).collect(), None);
        }
        self.batch += 1;
        let batch = self.batch;
        while let Some(m) = self.queue.pop_front() {
            self.unacked.push_back((batch, m));
        }
        (
            self.unacked.iter().map(|(_, m)| m.clone()).collect(),
            Some(batch),
        )
    }

    /// Drops messages acknowledged up to `batch`.
    pub(crate) fn acknowledge(&mut self, batch: u64) {
        while self.unacked.front().is_some_and(|(b, _)| *b <= batch) {
            self.unacked.pop_front();
        }
    }
}

/// Counts a held connect on its session for as long as it lives, so the sweeper leaves the
/// session alone; dropping it (answered, or the request went away) restarts the idle clock.
#[derive(Debug)]
pub(crate) struct Parked(pub(crate) Arc<Session>);

impl Parked {
    pub(crate) fn new(session: Arc<Session>) -> Self {
        session.state().parked += 1;
        Self(session)
    }
}

impl Drop for Parked {
    fn drop(&mut self) {
        let mut st = self.0.state();
        st.parked = st.parked.saturating_sub(1);
        st.last_active = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acked_batches_are_dropped_and_the_rest_resent() {
        let s = Session::new(ClientId::new("c"), None, Transport::LongPolling);
        let mut st = s.state();
        st.ack = true;
        st.queue.push_back("a".into());
        let (first, b1) = st.take_for_connect();
        assert_eq!((first.len(), b1), (1, Some(1)));
        st.queue.push_back("b".into());
        // The client never saw batch 1: both are sent again with batch 2.
        let (second, b2) = st.take_for_connect();
        assert_eq!((second.len(), b2), (2, Some(2)));
        st.acknowledge(2);
        assert!(st.unacked.is_empty());
    }

    #[test]
    fn a_full_queue_is_reported() {
        let s = Session::new(ClientId::new("c"), None, Transport::LongPolling);
        assert_eq!(s.enqueue("a".into(), 1), Queued::Ok);
        assert_eq!(s.enqueue("b".into(), 1), Queued::Full);
        s.mark_removed(Removal::Disconnected);
        assert_eq!(s.enqueue("c".into(), 1), Queued::Gone);
    }
}
