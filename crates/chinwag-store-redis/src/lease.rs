//! Leases on Redis ([`Leases`]): one STRING per lease, `<prefix>:{c}:lease:<name>`, holding
//! `<fence> <holder>` with the lease's TTL as its expiry, and the fence counter
//! `<prefix>:{c}:fence`; both in one slot (tag `{c}`), so each operation is one script run
//! that checks the holder (`lua/lease.lua`). Expiry is Redis's, on Redis's clock.

use crate::RedisStore;
use crate::scripts::LEASE;
use async_trait::async_trait;
use chinwag_core::StoreError;
use chinwag_core::lease::{Fence, Holder, LeaseName, Leases};
use std::time::Duration;

fn ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisStore {
    fn lease_key(&self, name: &LeaseName) -> String {
        self.layout.coord_key(&format!("lease:{}", name.as_str()))
    }

    async fn lease_op<T: redis::FromRedisValue + Send + 'static>(
        &self,
        op: &str,
        name: &LeaseName,
        holder: &Holder,
        ttl: Duration,
    ) -> Result<T, StoreError> {
        let mut inv = LEASE.prepare_invoke();
        inv.key(self.lease_key(name))
            .key(self.layout.coord_key("fence"))
            .arg(op)
            .arg(holder.as_str())
            .arg(ms(ttl));
        self.conn
            .run(self.deadline, |mut c| async move {
                inv.invoke_async(&mut c).await
            })
            .await
    }
}

#[async_trait]
impl Leases for RedisStore {
    async fn acquire(
        &self,
        name: &LeaseName,
        holder: &Holder,
        ttl: Duration,
    ) -> Result<Option<Fence>, StoreError> {
        let fence: Option<u64> = self.lease_op("acquire", name, holder, ttl).await?;
        Ok(fence.map(Fence))
    }

    async fn renew(
        &self,
        name: &LeaseName,
        holder: &Holder,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let done: u8 = self.lease_op("renew", name, holder, ttl).await?;
        Ok(done == 1)
    }

    async fn release(&self, name: &LeaseName, holder: &Holder) -> Result<bool, StoreError> {
        let done: u8 = self
            .lease_op("release", name, holder, Duration::from_millis(1))
            .await?;
        Ok(done == 1)
    }

    async fn holder(&self, name: &LeaseName) -> Result<Option<(Holder, Fence)>, StoreError> {
        let key = self.lease_key(name);
        let value: Option<String> = self
            .conn
            .run(self.deadline, |mut c| async move {
                redis::cmd("GET").arg(key).query_async(&mut c).await
            })
            .await?;
        Ok(value.and_then(|v| {
            let (fence, holder) = v.split_once(' ')?;
            Some((Holder::parse(holder)?, Fence(fence.parse().ok()?)))
        }))
    }
}
