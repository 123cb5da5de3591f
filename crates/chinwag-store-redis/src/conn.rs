//! The store's view of the shared connection layer (`chinwag-redis-conn`): the connection
//! opened with the store's timeouts, and every call's failure mapped to a [`StoreError`] in
//! one place — what a retry later can cure (unreachable, timed out, loading, failing over) is
//! [`StoreError::Unavailable`], the rest [`StoreError::Backend`].

use crate::RedisOptions;
use chinwag_core::StoreError;
use chinwag_redis_conn::{RedisCallError, Timeouts};
use std::future::Future;
use std::time::Duration;

pub use chinwag_redis_conn::Target;

/// Parses a store URL (`redis://…` or `redis+cluster://[user:pass@]h:p[,h:p…]`).
pub(crate) fn parse(url: &str) -> Result<Target, StoreError> {
    Target::parse(url).map_err(|e| StoreError::Backend(format!("store url: {}", e.0)))
}

/// A cheap-to-clone handle on the connection.
#[derive(Clone)]
pub(crate) struct Conn(chinwag_redis_conn::Conn);

impl Conn {
    pub(crate) async fn open(target: &Target, o: &RedisOptions) -> Result<Self, StoreError> {
        let timeouts = Timeouts {
            connect: o.connect_timeout,
            response: o.response_timeout,
            overall: o.deadline,
            open: o.deadline,
        };
        chinwag_redis_conn::Conn::open(target, &timeouts)
            .await
            .map(Self)
            .map_err(store_error)
    }

    /// Runs `call` on this connection under `deadline`.
    pub(crate) async fn run<T, F, Fut>(&self, deadline: Duration, call: F) -> Result<T, StoreError>
    where
        F: FnOnce(chinwag_redis_conn::Conn) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        self.0.run(deadline, call).await.map_err(store_error)
    }

    pub(crate) fn is_cluster(&self) -> bool {
        self.0.is_cluster()
    }
}

/// Redis's failure in the store's terms.
fn store_error(e: RedisCallError) -> StoreError {
    match e {
        RedisCallError::Unavailable(_) => StoreError::Unavailable,
        RedisCallError::Failed(why) => StoreError::Backend(format!("redis: {why}")),
    }
}
