//! Which jobs this node's worker delivers when several nodes share the outbox: the jobs its
//! own commits queue (owned by its node lease's holder), the jobs without owner (stored by
//! an older version, or by a store one process uses) at start, and the jobs of nodes whose
//! liveness lease is gone, claimed atomically (each goes to one claimer) by the periodic
//! scan. A node whose lease lapsed stops delivering until it renews it; one that lost it
//! drops what it held (someone, maybe itself under its new holder, takes it over).

use chinwag_core::lease::{Holder, Keeper, NodeLease};
use chinwag_core::push::{PushClaims, PushJob};
use chinwag_core::roles::Customers;
use std::sync::Arc;
use std::time::Duration;

/// Longest time between two scans for dead nodes' jobs.
const SCAN_AT_MOST: Duration = Duration::from_secs(1);

pub(crate) struct Takeover {
    customers: Customers,
    claims: Arc<dyn PushClaims>,
    lease: Option<Arc<NodeLease>>,
    /// The lease generation the worker's jobs belong to.
    generation: u64,
    /// Keeps the node lease through the worker's drain.
    _keeper: Option<Keeper>,
}

impl Takeover {
    pub(crate) fn new(customers: Customers) -> Self {
        let lease = customers.push_owner().cloned();
        Self {
            claims: customers.push_claims(),
            generation: lease.as_ref().map_or(0, |l| l.generation()),
            _keeper: lease.as_ref().map(NodeLease::keep),
            lease,
            customers,
        }
    }

    /// Who this node delivers for (`None`: no lease, every job is its own).
    pub(crate) fn me(&self) -> Option<Holder> {
        self.lease.as_ref().map(|l| l.holder())
    }

    /// Whether the node may deliver now (its lease is current).
    pub(crate) fn may_act(&self) -> bool {
        self.lease.as_ref().is_none_or(|l| l.may_act())
    }

    /// How often to scan.
    pub(crate) fn every(&self) -> Duration {
        self.lease
            .as_ref()
            .map_or(SCAN_AT_MOST, |l| (l.ttl() / 3).min(SCAN_AT_MOST))
    }

    /// Whether `job` (from the engine's feed) is this node's to deliver.
    pub(crate) fn is_mine(&self, job: &PushJob) -> bool {
        job.owner.is_none() || job.owner == self.me()
    }

    /// The lease was lost since the last call: what the worker holds is no longer its own.
    pub(crate) fn lost(&mut self) -> bool {
        let now = self.lease.as_ref().map_or(0, |l| l.generation());
        std::mem::replace(&mut self.generation, now) != now
    }

    /// The jobs to start with: those without owner (claimed, so one node gets them).
    pub(crate) async fn at_start(&self) -> Vec<PushJob> {
        let me = self.me().unwrap_or_else(|| Holder::for_run(0));
        match self.claims.claim(None, &me).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::error!(%e, "push worker: cannot read the outbox");
                Vec::new()
            }
        }
    }

    /// Claims the jobs of every owner whose liveness lease is gone.
    pub(crate) async fn scan(&self) -> Vec<PushJob> {
        let (Some(lease), Some(me)) = (&self.lease, self.me()) else {
            return Vec::new();
        };
        if !lease.may_act() {
            return Vec::new();
        }
        let owners = match self.claims.owners().await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(%e, "push takeover: cannot list owners");
                return Vec::new();
            }
        };
        let mut taken = Vec::new();
        for owner in owners.into_iter().filter(|o| *o != me) {
            match lease.leases().holder(&owner.liveness()).await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(%e, "push takeover: cannot read a node lease");
                    return taken;
                }
            }
            match self.claims.claim(Some(&owner), &me).await {
                Ok(jobs) => {
                    if !jobs.is_empty() {
                        tracing::info!(
                            from = owner.as_str(),
                            jobs = jobs.len(),
                            "push jobs taken over"
                        );
                    }
                    taken.extend(jobs);
                }
                Err(e) => tracing::warn!(%e, from = owner.as_str(), "push takeover: claim failed"),
            }
        }
        // A reliable push already sent waits for the customer's refresh, which this node
        // can only see for a chat it holds: load it (its fetch position starts unknown).
        for j in taken.iter().filter(|j| j.sent) {
            let _ = self.customers.push_view(&j.chat_id, j.index).await;
        }
        taken
    }
}
