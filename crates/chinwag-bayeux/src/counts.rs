//! Live sessions by transport (the transport of their latest handshake or connect), kept as
//! counters so `/metrics` reads them without walking the sessions.
//!
//! Every change happens under the session's state lock, or (the decrement of a removed
//! session) after the lock that marked it removed, when nothing can move it any more: so
//! each decrement follows its increment and the counts never go below zero.

use crate::config::Transport;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Sessions per transport.
#[derive(Debug, Default)]
pub(crate) struct TransportCounts([AtomicUsize; 3]);

const ALL: [Transport; 3] = [
    Transport::WebSocket,
    Transport::LongPolling,
    Transport::CallbackPolling,
];

fn slot(t: Transport) -> usize {
    match t {
        Transport::WebSocket => 0,
        Transport::LongPolling => 1,
        Transport::CallbackPolling => 2,
    }
}

impl TransportCounts {
    pub(crate) fn add(&self, t: Transport) {
        self.0[slot(t)].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn sub(&self, t: Transport) {
        self.0[slot(t)].fetch_sub(1, Ordering::Relaxed);
    }

    /// Every transport with its count.
    pub(crate) fn snapshot(&self) -> [(Transport, usize); 3] {
        ALL.map(|t| (t, self.0[slot(t)].load(Ordering::Relaxed)))
    }
}
