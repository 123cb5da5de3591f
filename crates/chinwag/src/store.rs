//! Opening the store `[store]` names: the embedded SQLite database in the data directory, or
//! Redis (a single server or a cluster) when `store.url` is set.

use crate::config::Config;
use anyhow::Context;
use chinwag_core::ports::ChatStore;
use chinwag_store_redis::RedisStore;
use chinwag_store_sqlite::{SqliteOptions, SqliteStore};
use std::sync::Arc;

/// Opens the configured store.
pub(crate) async fn open(cfg: &Config) -> anyhow::Result<Arc<dyn ChatStore>> {
    if cfg.store.is_redis() {
        let store = RedisStore::connect(&cfg.store.url, cfg.store.redis_options())
            .await
            .context("while connecting to the Redis store (store.url)")?;
        tracing::info!(?store, "store: Redis");
        return Ok(Arc::new(store));
    }
    let db = cfg.server.data_dir.join("chinwag.db");
    let options = SqliteOptions {
        max_size_bytes: (cfg.store.max_size_mb > 0).then(|| cfg.store.max_size_mb * 1024 * 1024),
    };
    let store = SqliteStore::open(&db, &options)
        .with_context(|| format!("while opening store {}", db.display()))?;
    Ok(Arc::new(store))
}
