//! [`LocalLeases`]: the lease table of one process (a store no other process shares:
//! SQLite, memory). Expiry follows this process's monotonic clock.

use super::{Fence, Holder, LeaseName, Leases};
use crate::error::StoreError;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct Table {
    held: HashMap<LeaseName, (Holder, Fence, Instant)>,
    fence: u64,
}

impl Table {
    /// The live grant of `name`, dropping it if expired.
    fn live(&mut self, name: &LeaseName, now: Instant) -> Option<&mut (Holder, Fence, Instant)> {
        if self
            .held
            .get(name)
            .is_some_and(|(_, _, until)| *until <= now)
        {
            self.held.remove(name);
        }
        self.held.get_mut(name)
    }
}

/// Leases held in this process's memory.
#[derive(Debug, Default)]
pub struct LocalLeases {
    table: Mutex<Table>,
}

#[async_trait]
impl Leases for LocalLeases {
    async fn acquire(
        &self,
        name: &LeaseName,
        holder: &Holder,
        ttl: Duration,
    ) -> Result<Option<Fence>, StoreError> {
        let now = Instant::now();
        let mut t = crate::engine::lock(&self.table);
        if let Some((h, fence, until)) = t.live(name, now) {
            if h != holder {
                return Ok(None);
            }
            *until = now + ttl;
            return Ok(Some(*fence));
        }
        t.fence += 1;
        let fence = Fence(t.fence);
        t.held
            .insert(name.clone(), (holder.clone(), fence, now + ttl));
        Ok(Some(fence))
    }

    async fn renew(
        &self,
        name: &LeaseName,
        holder: &Holder,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut t = crate::engine::lock(&self.table);
        match t.live(name, now) {
            Some((h, _, until)) if h == holder => {
                *until = now + ttl;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release(&self, name: &LeaseName, holder: &Holder) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut t = crate::engine::lock(&self.table);
        let mine = t.live(name, now).is_some_and(|(h, _, _)| h == holder);
        if mine {
            t.held.remove(name);
        }
        Ok(mine)
    }

    async fn holder(&self, name: &LeaseName) -> Result<Option<(Holder, Fence)>, StoreError> {
        let now = Instant::now();
        let mut t = crate::engine::lock(&self.table);
        Ok(t.live(name, now).map(|(h, f, _)| (h.clone(), *f)))
    }
}
