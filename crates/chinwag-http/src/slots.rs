//! Connection accounting: a cap on open connections in all and per client address, taken
//! at accept and given back when the connection (including its lingering close) is over.
//! Trusted proxies are counted only in the total, since every client behind them shares
//! their address.

use crate::client_ip::TrustedProxies;
use chinwag_limits::AddrKey;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The server holds `max_connections`.
    Full,
    /// The address holds `max_per_ip`.
    PerAddress,
}

/// Counters for `/health`.
#[derive(Debug, Default)]
pub struct ConnStats {
    /// Connections open now.
    pub open: AtomicUsize,
    /// Refused because the server was full, since start.
    pub refused_full: AtomicU64,
    /// Refused because their address held its share, since start.
    pub refused_per_address: AtomicU64,
    /// Closed for idling or for sending a request too slowly, since start.
    pub timed_out: AtomicU64,
}

/// The caps and their counts.
#[derive(Debug)]
pub(crate) struct Slots {
    max: usize,
    max_per_ip: usize,
    trusted: Arc<TrustedProxies>,
    per_ip: Mutex<HashMap<AddrKey, u32>>,
    pub(crate) stats: Arc<ConnStats>,
}

/// One open connection's place; given back on drop.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<Slots>,
    key: Option<AddrKey>,
}

impl Slots {
    pub(crate) fn new(max: usize, max_per_ip: usize, trusted: Arc<TrustedProxies>) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            max_per_ip: max_per_ip.max(1),
            trusted,
            per_ip: Mutex::new(HashMap::new()),
            stats: Arc::new(ConnStats::default()),
        })
    }

    /// Takes a place for a connection from `ip`, or says why not.
    pub(crate) fn take(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refusal> {
        let open = &self.stats.open;
        if open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_err()
        {
            self.stats.refused_full.fetch_add(1, Ordering::Relaxed);
            return Err(Refusal::Full);
        }
        let key = (!self.trusted.contains(ip)).then(|| AddrKey::from(ip));
        if let Some(k) = key {
            let mut per = self.per_ip.lock().unwrap_or_else(PoisonError::into_inner);
            let n = per.entry(k).or_insert(0);
            if *n as usize >= self.max_per_ip {
                drop(per);
                open.fetch_sub(1, Ordering::AcqRel);
                self.stats
                    .refused_per_address
                    .fetch_add(1, Ordering::Relaxed);
                return Err(Refusal::PerAddress);
            }
            *n += 1;
        }
        Ok(Slot {
            slots: self.clone(),
            key,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(k) = self.key {
            let mut per = self
                .slots
                .per_ip
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(n) = per.get_mut(&k) {
                *n -= 1;
                if *n == 0 {
                    per.remove(&k);
                }
            }
        }
        self.slots.stats.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn caps_in_all_and_per_address_and_places_come_back() {
        let trusted =
            Arc::new(TrustedProxies::parse(&["192.0.2.100".to_owned()]).unwrap_or_default());
        let slots = Slots::new(4, 2, trusted);
        let a1 = slots.take(ip(1));
        let a2 = slots.take(ip(1));
        assert!(a1.is_ok() && a2.is_ok());
        assert_eq!(slots.take(ip(1)).err(), Some(Refusal::PerAddress));
        let b = slots.take(ip(2));
        let proxy = slots.take(ip(100));
        assert!(b.is_ok() && proxy.is_ok());
        assert_eq!(slots.take(ip(3)).err(), Some(Refusal::Full));
        drop(a1);
        assert!(slots.take(ip(1)).is_ok(), "a place came back");
        drop((a2, b, proxy));
        assert_eq!(slots.stats.open.load(Ordering::Relaxed), 0);
        assert!(slots.per_ip.lock().map(|m| m.is_empty()).unwrap_or(false));
        assert_eq!(slots.stats.refused_full.load(Ordering::Relaxed), 1);
        assert_eq!(slots.stats.refused_per_address.load(Ordering::Relaxed), 1);
    }
}
