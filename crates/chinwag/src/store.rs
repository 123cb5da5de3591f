//! Opening the store `[store]` names: the embedded SQLite database in the data directory, or
//! Redis (a single server or a cluster) when `store.url` is set. Redis also gives its change
//! feed (and the feed's worker), which the serve command hands to the engine's catch-up
//! worker, its leases, and the shared routing state every node routes on; SQLite has no feed,
//! leases in process and no shared routing (one process owns it, and routes alone).

use crate::config::Config;
use anyhow::Context;
use chinwag_core::lease::{Leases, LocalLeases};
use chinwag_core::ports::{ChatStore, RoutingStore};
use chinwag_store_redis::{FeedOptions, FeedWorker, RedisFeed, RedisStore};
use chinwag_store_sqlite::{SqliteOptions, SqliteStore};
use std::sync::Arc;

/// The store, and its change feed and shared routing state when other processes share it.
pub(crate) struct Opened {
    pub(crate) store: Arc<dyn ChatStore>,
    /// Leases: Redis's when nodes share it, else this process's own.
    pub(crate) leases: Arc<dyn Leases>,
    pub(crate) feed: Option<(RedisFeed, FeedWorker)>,
    pub(crate) routing: Option<Arc<dyn RoutingStore>>,
}

/// Opens the configured store.
pub(crate) async fn open(cfg: &Config) -> anyhow::Result<Opened> {
    if cfg.store.is_redis() {
        let store = RedisStore::connect(&cfg.store.url, cfg.store.redis_options())
            .await
            .context("while connecting to the Redis store (store.url)")?;
        tracing::info!(?store, "store: Redis");
        let feed = store.feed(FeedOptions::default());
        let routing: Arc<dyn RoutingStore> = Arc::new(store.routing(&feed.0));
        let store = Arc::new(store);
        return Ok(Opened {
            leases: store.clone(),
            store,
            feed: Some(feed),
            routing: Some(routing),
        });
    }
    let db = cfg.server.data_dir.join("chinwag.db");
    let options = SqliteOptions {
        max_size_bytes: (cfg.store.max_size_mb > 0).then(|| cfg.store.max_size_mb * 1024 * 1024),
    };
    let store = SqliteStore::open(&db, &options)
        .with_context(|| format!("while opening store {}", db.display()))?;
    Ok(Opened {
        store: Arc::new(store),
        leases: Arc::new(LocalLeases::default()),
        feed: None,
        routing: None,
    })
}
