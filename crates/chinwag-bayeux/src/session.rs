//! One Bayeux client session: its id, its outbound queue (with ack-extension batches), and
//! the state of its `/meta/connect` (held or not, by which transport, superseded or not).

use crate::config::Transport;
use crate::counts::TransportCounts;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
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
    /// The 128 bits an id generated here stands for (the registry's key); `None` for text
    /// that is not 32 lowercase hex digits, which no session has.
    pub(crate) fn key(text: &str) -> Option<u128> {
        let b = text.as_bytes();
        if b.len() != 32 || !b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        u128::from_str_radix(text, 16).ok()
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

/// A browser (its `BAYEUX_BROWSER` id) with the count of long-poll connects its sessions
/// hold, one counter shared by all of them (see [`crate::registry::Registry::browser`] and
/// [`BrowserSlot`]).
#[derive(Debug, Clone)]
pub(crate) struct Browser {
    /// The cookie value.
    pub id: Arc<str>,
    /// Connects held by its sessions.
    pub held: Arc<AtomicU32>,
}

/// One held connect counted against its browser, counted back when dropped (however the
/// hold ends, a dropped request included).
#[derive(Debug)]
pub(crate) struct BrowserSlot(Arc<AtomicU32>);

impl BrowserSlot {
    /// Counts one more held connect on `held`; `None` when `max` are already held, unless
    /// `replacing` (the session's own previous connect is being answered and gives its
    /// count back).
    pub(crate) fn take(held: Arc<AtomicU32>, max: u32, replacing: bool) -> Option<Self> {
        // (Built only on success: a slot dropped here would count back what it never took.)
        held.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max || replacing).then_some(n + 1)
        })
        .is_ok()
        .then(|| Self(held))
    }
}

impl Drop for BrowserSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The client sent `/meta/disconnect`, or the application disconnected it.
    Disconnected,
    /// No `/meta/connect` within `maxInterval`.
    Expired,
    /// Its queue passed `max_queue` or `max_queue_bytes`.
    Overflow,
    /// The server is shutting down.
    Shutdown,
    /// Another node took the session over (a cluster's directory names it the owner now).
    Moved,
}

/// What [`Session::mark_removed`] leaves for the registry to clean up.
#[derive(Debug, Default)]
pub(crate) struct Removed {
    /// Its broadcast subscriptions.
    pub subscriptions: Vec<Arc<str>>,
    /// The transport it was counted under, if it was.
    pub counted: Option<Transport>,
}

/// Mutable state of a session.
#[derive(Debug)]
pub(crate) struct State {
    /// Encoded messages waiting for the client (taken only through [`State::drain_queue`]
    /// and [`State::take_for_connect`], which keep `bytes`).
    pub queue: VecDeque<Arc<str>>,
    /// Ack extension: messages sent in connect replies but not yet acknowledged, by batch.
    pub unacked: VecDeque<(u64, Arc<str>)>,
    /// Bytes of the messages in `queue` and `unacked`.
    pub bytes: usize,
    /// The ack extension is on.
    pub ack: bool,
    /// Last ack batch number handed out.
    pub batch: u64,
    /// Transport of the latest connect.
    pub transport: Transport,
    /// Counted in the registry's sessions per transport (from its insertion until removed).
    pub counted: bool,
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
    /// Application state kept for a take-over by another node (clustered servers only).
    pub saved: crate::cluster::Saved,
    /// Subscriptions or saved state changed since the directory last had them.
    pub dirty: bool,
    /// How the directory has the session (clustered servers only, once recorded).
    pub recorded: Option<crate::cluster::Recorded>,
}

/// One client session.
#[derive(Debug)]
pub struct Session {
    /// Its id.
    pub(crate) id: ClientId,
    /// The browser it was created under (HTTP transports).
    pub(crate) browser: Option<Browser>,
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
    pub(crate) fn new(id: ClientId, browser: Option<Browser>, transport: Transport) -> Self {
        Self {
            id,
            browser,
            wake: Notify::new(),
            release: AtomicBool::new(false),
            state: Mutex::new(State {
                queue: VecDeque::new(),
                unacked: VecDeque::new(),
                bytes: 0,
                ack: false,
                batch: 0,
                transport,
                counted: false,
                connected: false,
                last_active: Instant::now(),
                parked: 0,
                connect_gen: 0,
                removed: None,
                subscriptions: Vec::new(),
                saved: crate::cluster::Saved::default(),
                dirty: false,
                recorded: None,
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

    /// Queues an encoded message and wakes whoever delivers it; `Full` when the messages
    /// held for the client (queued and unacknowledged) would pass `max` messages or
    /// `max_bytes` bytes.
    pub(crate) fn enqueue(&self, msg: Arc<str>, max: usize, max_bytes: usize) -> Queued {
        {
            let mut s = self.state();
            if s.removed.is_some() {
                return Queued::Gone;
            }
            let bytes = s.bytes + msg.len();
            if s.queue.len() + s.unacked.len() >= max || bytes > max_bytes {
                return Queued::Full;
            }
            s.bytes = bytes;
            s.queue.push_back(msg);
        }
        self.wake.notify_waiters();
        Queued::Ok
    }

    /// Marks the session removed and wakes its held connect.
    pub(crate) fn mark_removed(&self, why: Removal) -> Removed {
        let removed = {
            let mut s = self.state();
            if s.removed.is_some() {
                return Removed::default();
            }
            s.removed = Some(why);
            s.queue.clear();
            s.unacked.clear();
            s.bytes = 0;
            Removed {
                subscriptions: std::mem::take(&mut s.subscriptions),
                counted: std::mem::take(&mut s.counted).then_some(s.transport),
            }
        };
        self.wake.notify_waiters();
        removed
    }

    /// Asks a held callback-polling connect to return now.
    pub(crate) fn release_held(&self) {
        self.release.store(true, Ordering::Release);
        self.wake.notify_waiters();
    }
}

impl State {
    /// Records the transport of a new connect, moving the session's count with it.
    pub(crate) fn set_transport(&mut self, t: Transport, counts: &TransportCounts) {
        if self.counted && self.removed.is_none() && self.transport != t {
            counts.sub(self.transport);
            counts.add(t);
        }
        self.transport = t;
    }

    /// Whether pushes go straight to the client (WebSocket without acks) instead of waiting
    /// for a connect reply.
    pub(crate) fn direct(&self) -> bool {
        self.transport == Transport::WebSocket && !self.ack
    }

    /// Hands `take` what a connect reply carries: with acks, everything unacknowledged
    /// (re-sent) plus the queue as a new batch, and returns the batch number; without, just
    /// the queue.
    pub(crate) fn take_for_connect(&mut self, mut take: impl FnMut(Arc<str>)) -> Option<u64> {
        if !self.ack {
            self.drain_queue(take);
            return None;
        }
        self.batch += 1;
        let batch = self.batch;
        while let Some(m) = self.queue.pop_front() {
            self.unacked.push_back((batch, m));
        }
        self.unacked.iter().for_each(|(_, m)| take(m.clone()));
        Some(batch)
    }

    /// Hands `take` the whole queue (sent without acks).
    pub(crate) fn drain_queue(&mut self, take: impl FnMut(Arc<str>)) {
        self.bytes = if self.unacked.is_empty() {
            // Nothing else is held: no need to add up what leaves.
            0
        } else {
            let sent: usize = self.queue.iter().map(|m| m.len()).sum();
            self.bytes.saturating_sub(sent)
        };
        self.queue.drain(..).for_each(take);
    }

    /// Drops messages acknowledged up to `batch`.
    pub(crate) fn acknowledge(&mut self, batch: u64) {
        while self.unacked.front().is_some_and(|(b, _)| *b <= batch) {
            if let Some((_, m)) = self.unacked.pop_front() {
                self.bytes = self.bytes.saturating_sub(m.len());
            }
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
        st.bytes += 1;
        let mut first = Vec::new();
        let b1 = st.take_for_connect(|m| first.push(m));
        assert_eq!((first.len(), b1), (1, Some(1)));
        st.queue.push_back("b".into());
        st.bytes += 1;
        // The client never saw batch 1: both are sent again with batch 2.
        let mut second = Vec::new();
        let b2 = st.take_for_connect(|m| second.push(m));
        assert_eq!((second.len(), b2), (2, Some(2)));
        st.acknowledge(2);
        assert!(st.unacked.is_empty());
        assert_eq!(st.bytes, 0);
    }

    #[test]
    fn generated_ids_have_keys_and_nothing_else_does() -> Result<(), getrandom::Error> {
        for _ in 0..100 {
            let id = ClientId::generate()?;
            assert!(ClientId::key(id.as_str()).is_some(), "{id}");
        }
        let upper = "ABCDEF0123456789abcdef0123456789";
        for bad in [
            "",
            "c",
            "+bcdef0123456789abcdef012345678",
            upper,
            "0123456789abcdef0123456789abcdef0",
        ] {
            assert_eq!(ClientId::key(bad), None, "{bad}");
        }
        assert_eq!(ClientId::key("000000000000000000000000000000ff"), Some(255));
        Ok(())
    }

    #[test]
    fn a_browser_holds_up_to_its_quota_unless_replacing() {
        let held = Arc::new(AtomicU32::new(0));
        let first = BrowserSlot::take(held.clone(), 1, false);
        assert!(first.is_some());
        assert!(BrowserSlot::take(held.clone(), 1, false).is_none());
        let replacing = BrowserSlot::take(held.clone(), 1, true);
        assert!(replacing.is_some());
        assert_eq!(held.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_full_queue_is_reported() {
        let s = Session::new(ClientId::new("c"), None, Transport::LongPolling);
        assert_eq!(s.enqueue("a".into(), 1, 100), Queued::Ok);
        assert_eq!(s.enqueue("b".into(), 1, 100), Queued::Full);
        s.mark_removed(Removal::Disconnected);
        assert_eq!(s.enqueue("c".into(), 1, 100), Queued::Gone);
    }

    #[test]
    fn queued_and_unacknowledged_bytes_are_bounded_and_given_back() {
        let s = Session::new(ClientId::new("c"), None, Transport::LongPolling);
        assert_eq!(s.enqueue("abcd".into(), 100, 10), Queued::Ok);
        assert_eq!(s.enqueue("efgh".into(), 100, 10), Queued::Ok);
        assert_eq!(s.enqueue("ijk".into(), 100, 10), Queued::Full, "11 > 10");
        assert_eq!(s.enqueue("ij".into(), 100, 10), Queued::Ok, "10 fits");
        let mut taken = 0;
        s.state().drain_queue(|_| taken += 1);
        assert_eq!((taken, s.state().bytes), (3, 0));
        // With acks, sent messages count until acknowledged.
        s.state().ack = true;
        assert_eq!(s.enqueue("0123456".into(), 100, 10), Queued::Ok);
        let batch = s.state().take_for_connect(|_| {});
        assert_eq!(s.state().bytes, 7);
        assert_eq!(
            s.enqueue("0123".into(), 100, 10),
            Queued::Full,
            "unacked count"
        );
        assert_eq!(s.enqueue("x".into(), 2, 10), Queued::Ok);
        assert_eq!(
            s.enqueue("y".into(), 2, 10),
            Queued::Full,
            "messages count too"
        );
        s.state().acknowledge(batch.unwrap_or(0));
        assert_eq!(s.state().bytes, 1);
        s.mark_removed(Removal::Overflow);
        assert_eq!(s.state().bytes, 0);
    }
}
