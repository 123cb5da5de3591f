//! Leases: a named right held by one holder for a time-to-live, so several processes
//! sharing a store can agree on who does a piece of work (a node's liveness, its push
//! jobs). The port ([`Leases`]) is implemented in process ([`LocalLeases`]) and by shared
//! stores (Redis); every implementation passes `chinwag-store-conformance`'s lease suite.
//!
//! A lease expires by its TTL unless its holder renews it; each new grant of a name carries
//! a [`Fence`] larger than every earlier grant of any name in the store, so work stamped
//! with a fence can be told apart from an older holder's. [`NodeLease`] keeps this node's
//! liveness lease (`node/<holder>`) and says how long the node may still act on it.

mod local;
mod node;

pub use local::LocalLeases;
pub use node::{Keeper, NodeLease, NodeLeaseWorker};

use crate::error::StoreError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Most bytes in a lease name or holder.
pub const MAX_NAME: usize = 128;

fn valid(s: &str, extra: &[char]) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._~-".contains(c) || extra.contains(&c))
}

/// Who holds a lease: one process (one run of a node). Letters, digits and `._~-` only, so
/// it can be embedded in stored text and scripts without escaping.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Holder(String);

impl Holder {
    /// `None` unless `s` is 1..=128 characters of `[A-Za-z0-9._~-]`.
    pub fn parse(s: &str) -> Option<Self> {
        valid(s, &[]).then(|| Self(s.to_owned()))
    }

    /// A holder for one run of node `node_id`: `n<id>-<16 random hex digits>` (a node that
    /// restarts is another holder; what its earlier run held is taken over).
    pub fn for_run(node_id: u32) -> Self {
        let mut r = [0u8; 8];
        if getrandom::fill(&mut r).is_err() {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            r = (t as u64).to_le_bytes();
        }
        Self(format!("n{node_id}-{:016x}", u64::from_le_bytes(r)))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name of this holder's liveness lease: `node/<holder>`.
    pub fn liveness(&self) -> LeaseName {
        LeaseName(format!("node/{}", self.0))
    }
}

impl TryFrom<String> for Holder {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("not a lease holder: {s:?}"))
    }
}

impl From<Holder> for String {
    fn from(h: Holder) -> String {
        h.0
    }
}

/// A lease's name: like a [`Holder`], `/` allowed too.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LeaseName(String);

impl LeaseName {
    /// `None` unless `s` is 1..=128 characters of `[A-Za-z0-9._~/-]`.
    pub fn parse(s: &str) -> Option<Self> {
        valid(s, &['/']).then(|| Self(s.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A fencing token: every grant of a lease gets one larger than any earlier grant in the
/// store; renewals keep it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fence(pub u64);

/// Named leases with a time-to-live.
///
/// Contract (checked by `chinwag-store-conformance`, `lease::run_suite`):
/// - `acquire` grants a free (never held, expired or released) name and returns a new fence,
///   larger than every fence granted before; for the name's current holder it extends the
///   lease and returns the fence it has; for anyone else it returns `None` and changes
///   nothing. Of holders acquiring a free name at once, exactly one gets it.
/// - `renew` extends the lease by `ttl` from now only for its current holder (`false`
///   otherwise: expired, released or held by another).
/// - `release` frees the lease only for its current holder.
/// - `holder` names the current holder and its fence (`None` when free).
/// - A lease not renewed is free `ttl` after its grant or last renewal.
#[async_trait]
pub trait Leases: Send + Sync + 'static {
    /// Takes `name` for `holder` for `ttl` (see the contract).
    async fn acquire(
        &self,
        name: &LeaseName,
        holder: &Holder,
        ttl: Duration,
    ) -> Result<Option<Fence>, StoreError>;
    /// Extends `holder`'s lease on `name` to `ttl` from now; `false` if it does not hold it.
    async fn renew(
        &self,
        name: &LeaseName,
        holder: &Holder,
        ttl: Duration,
    ) -> Result<bool, StoreError>;
    /// Frees `name` if `holder` holds it; `false` otherwise.
    async fn release(&self, name: &LeaseName, holder: &Holder) -> Result<bool, StoreError>;
    /// The current holder of `name` and its fence.
    async fn holder(&self, name: &LeaseName) -> Result<Option<(Holder, Fence)>, StoreError>;
}
