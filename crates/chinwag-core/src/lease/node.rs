//! [`NodeLease`]: this node's liveness lease `node/<holder>`, renewed by the `node-lease`
//! worker, and how long the node may still act on what it owns (push jobs).
//!
//! Fencing by time: the lease is good for `ttl` from when a renewal was *sent*; the node
//! acts only until `ttl - ttl/5` after that (the margin covers the time of its next step
//! and a small difference in clock rates between this host and the store's; clocks need
//! not agree on the time of day, but a host whose clock runs more than ~20% slow, or a
//! process paused past its lease, can act after another node took its work over). A lease
//! found lost (expired while the node could not renew it) is never taken back: the node
//! gets a new holder (a new `generation`), and what the old holder owned is taken over
//! like a dead node's.
//!
//! On a graceful stop the lease is renewed until every [`Keeper`] is dropped (the push
//! worker keeps it through its drain), then released, so other nodes take over at once.

use super::{Holder, Leases};
use crate::engine::lock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Longest a stopping node keeps its lease for its keepers.
const KEEP_AT_MOST: Duration = Duration::from_secs(40);

/// This node's liveness lease.
pub struct NodeLease {
    leases: Arc<dyn Leases>,
    node_id: u32,
    ttl: Duration,
    holder: Mutex<Holder>,
    generation: AtomicU64,
    /// Until when the node may act (`None`: not now).
    valid_until: Mutex<Option<Instant>>,
    keepers: AtomicUsize,
    kept: Notify,
}

impl std::fmt::Debug for NodeLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeLease")
            .field("holder", &*lock(&self.holder))
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Holds the lease through a graceful stop while it lives.
#[derive(Debug)]
pub struct Keeper(Arc<NodeLease>);

impl Drop for Keeper {
    fn drop(&mut self) {
        self.0.keepers.fetch_sub(1, Ordering::AcqRel);
        self.0.kept.notify_one();
    }
}

impl NodeLease {
    /// Takes a liveness lease for a new run of node `node_id`.
    pub async fn acquire(
        leases: Arc<dyn Leases>,
        node_id: u32,
        ttl: Duration,
    ) -> Result<Arc<Self>, crate::StoreError> {
        let lease = Arc::new(Self {
            leases,
            node_id,
            ttl,
            holder: Mutex::new(Holder::for_run(node_id)),
            generation: AtomicU64::new(0),
            valid_until: Mutex::new(None),
            keepers: AtomicUsize::new(0),
            kept: Notify::new(),
        });
        lease.take_new().await?;
        Ok(lease)
    }

    /// Grants the current holder's lease (a fresh holder: nobody else has its name).
    async fn take_new(&self) -> Result<(), crate::StoreError> {
        let holder = self.holder();
        let sent = Instant::now();
        match self
            .leases
            .acquire(&holder.liveness(), &holder, self.ttl)
            .await?
        {
            Some(_) => {
                self.valid_from(sent);
                tracing::info!(holder = holder.as_str(), "node lease taken");
                Ok(())
            }
            None => Err(crate::StoreError::Backend(format!(
                "lease {} is held by another process",
                holder.liveness().as_str()
            ))),
        }
    }

    fn valid_from(&self, sent: Instant) {
        *lock(&self.valid_until) = Some(sent + self.ttl - self.ttl / 5);
    }

    /// The holder this node acts as now.
    pub fn holder(&self) -> Holder {
        lock(&self.holder).clone()
    }

    /// Changes each time the lease was lost and the node took a new holder.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The lease's time-to-live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Whether the node may act on what its holder owns right now.
    pub fn may_act(&self) -> bool {
        lock(&self.valid_until).is_some_and(|t| Instant::now() < t)
    }

    /// The leases it is kept in (to look at other nodes' liveness).
    pub fn leases(&self) -> &Arc<dyn Leases> {
        &self.leases
    }

    /// Keeps the lease through a graceful stop until the returned guard is dropped.
    pub fn keep(self: &Arc<Self>) -> Keeper {
        self.keepers.fetch_add(1, Ordering::AcqRel);
        Keeper(self.clone())
    }

    /// One renewal; on finding the lease lost, a new holder.
    async fn renew(&self) {
        let holder = self.holder();
        let sent = Instant::now();
        match self
            .leases
            .renew(&holder.liveness(), &holder, self.ttl)
            .await
        {
            Ok(true) => self.valid_from(sent),
            Ok(false) => {
                *lock(&self.valid_until) = None;
                tracing::error!(
                    holder = holder.as_str(),
                    "node lease lost (not renewed in time): its work is taken over; continuing as a new holder"
                );
                *lock(&self.holder) = Holder::for_run(self.node_id);
                self.generation.fetch_add(1, Ordering::AcqRel);
                if let Err(e) = self.take_new().await {
                    tracing::warn!(%e, "node lease: cannot take a new one yet");
                }
            }
            Err(e) => tracing::warn!(%e, "node lease: cannot renew (the store did not answer)"),
        }
    }

    /// Frees the lease: other nodes take over what its holder owns at once.
    async fn release(&self) {
        let holder = self.holder();
        *lock(&self.valid_until) = None;
        match self.leases.release(&holder.liveness(), &holder).await {
            Ok(_) => tracing::info!(holder = holder.as_str(), "node lease released"),
            Err(e) => tracing::warn!(%e, "node lease: cannot release (it expires by its TTL)"),
        }
    }
}

/// The `node-lease` worker: renews the lease every third of its TTL; on stop, keeps renewing
/// until its keepers are done, then releases it.
#[derive(Debug)]
pub struct NodeLeaseWorker(Arc<NodeLease>);

impl NodeLeaseWorker {
    /// The worker of `lease`.
    pub fn new(lease: Arc<NodeLease>) -> Self {
        Self(lease)
    }

    /// Its name for the supervisor.
    pub fn name(&self) -> &'static str {
        "node-lease"
    }

    /// Runs until `stop` and the keepers' end.
    pub async fn run(self, stop: CancellationToken) {
        let lease = self.0;
        let every = (lease.ttl / 3).max(Duration::from_millis(10));
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(every) => lease.renew().await,
            }
        }
        let give_up = tokio::time::Instant::now() + KEEP_AT_MOST;
        while lease.keepers.load(Ordering::Acquire) > 0 {
            tokio::select! {
                () = lease.kept.notified() => {}
                () = tokio::time::sleep(every) => lease.renew().await,
                () = tokio::time::sleep_until(give_up) => break,
            }
        }
        lease.release().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::LocalLeases;

    #[tokio::test]
    async fn a_lost_lease_is_not_taken_back_and_a_stop_releases_after_the_keepers()
    -> Result<(), crate::StoreError> {
        let leases: Arc<dyn Leases> = Arc::new(LocalLeases::default());
        let ttl = Duration::from_millis(300);
        let lease = NodeLease::acquire(leases.clone(), 7, ttl).await?;
        let first = lease.holder();
        assert!(first.as_str().starts_with("n7-"));
        assert!(lease.may_act());
        assert!(leases.holder(&first.liveness()).await?.is_some());
        // Lost (as if it expired while the node could not renew): a new holder, a new
        // generation; the old name stays free for others to take the work over.
        assert!(leases.release(&first.liveness(), &first).await?);
        lease.renew().await;
        assert_eq!(lease.generation(), 1);
        assert_ne!(lease.holder(), first);
        assert!(leases.holder(&first.liveness()).await?.is_none());
        assert!(lease.may_act());
        // A stop keeps the lease while a keeper lives, renewing it past its TTL.
        let keeper = lease.keep();
        let stop = CancellationToken::new();
        let worker = tokio::spawn(NodeLeaseWorker::new(lease.clone()).run(stop.clone()));
        stop.cancel();
        tokio::time::sleep(ttl * 3).await;
        let now = lease.holder();
        assert!(leases.holder(&now.liveness()).await?.is_some(), "kept");
        drop(keeper);
        let _ = tokio::time::timeout(Duration::from_secs(5), worker).await;
        assert!(leases.holder(&now.liveness()).await?.is_none(), "released");
        assert!(!lease.may_act());
        Ok(())
    }
}
