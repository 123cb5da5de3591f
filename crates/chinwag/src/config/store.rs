//! `[store]`: which store holds the chats — the embedded SQLite database (default) or Redis
//! (`url`) — and each one's settings.

use anyhow::ensure;
use serde::Deserialize;

/// `[store]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct StoreConfig {
    /// Empty: the embedded SQLite store in `server.data_dir`. `redis://host:port` or
    /// `redis+cluster://host:port[,host:port…]`: Redis, shared by every node using it.
    pub(crate) url: String,
    /// SQLite: largest database size in MiB (0 = no limit). Writes beyond it fail with GMS
    /// code 500.
    pub(crate) max_size_mb: u64,
    /// Redis: prefix of every key.
    pub(crate) redis_prefix: String,
    /// Redis: partitions chats are folded into (fixed when the store is first used).
    pub(crate) redis_partitions: u16,
    /// The node's liveness lease's time-to-live (ms): renewed every third of it; a node
    /// that stops renewing it (dead, cut off) has its push jobs taken over this long after
    /// its last renewal. See docs/cluster.md, "Leases".
    pub(crate) lease_ttl_ms: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        let r = chinwag_store_redis::RedisOptions::default();
        Self {
            url: String::new(),
            max_size_mb: 0,
            redis_prefix: r.prefix,
            redis_partitions: r.partitions,
            lease_ttl_ms: 1500,
        }
    }
}

impl StoreConfig {
    /// Whether the chats live in Redis.
    pub(crate) fn is_redis(&self) -> bool {
        !self.url.is_empty()
    }

    /// The Redis store's options.
    pub(crate) fn redis_options(&self) -> chinwag_store_redis::RedisOptions {
        chinwag_store_redis::RedisOptions {
            prefix: self.redis_prefix.clone(),
            partitions: self.redis_partitions,
            ..chinwag_store_redis::RedisOptions::default()
        }
    }

    /// The node lease's TTL.
    pub(crate) fn lease_ttl(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.lease_ttl_ms)
    }

    /// Checks the settings (not whether Redis answers).
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        if self.is_redis() {
            chinwag_store_redis::Target::parse(&self.url)
                .map_err(|e| anyhow::anyhow!("store.url: {e}"))?;
        }
        ensure!(
            (1..=chinwag_store_redis::MAX_PARTITIONS).contains(&self.redis_partitions),
            "store.redis_partitions must be between 1 and {}",
            chinwag_store_redis::MAX_PARTITIONS
        );
        ensure!(
            !self.redis_prefix.is_empty() && !self.redis_prefix.contains(['{', '}']),
            "store.redis_prefix must be non-empty and contain no braces"
        );
        ensure!(
            (500..=600_000).contains(&self.lease_ttl_ms),
            "store.lease_ttl_ms must be between 500 and 600000"
        );
        Ok(())
    }
}
